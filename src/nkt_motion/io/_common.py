"""Shared helpers of the readers and writers: stream grouping, gaps, units.

Gap convention on disk
----------------------
Missing samples (NaN in a :class:`~nkt_motion.Stream`) cannot be stored in a
BDF file, so they are written as 0 and every row of ``Session.gaps`` is written
as an annotation (BDF+) and an ``_events.tsv`` row whose text is::

    BAD_gap <stream>|<channel>|<reason>

``<channel>`` is empty when the whole stream is missing. Stream and channel
names must not contain ``|``; the reason is free text (the BDF+ copy is cut to
the 40 characters EDFlib stores, the ``_events.tsv`` copy is complete). MNE
treats ``BAD_`` annotations as bad segments. On reading, these rows become
``Session.gaps`` again and the samples they cover become NaN.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from nkt_motion.errors import FileFormatError
from nkt_motion.model import Channel, Stream, make_gaps

__all__ = [
    "DEFAULT_UNITS",
    "GAP_PREFIX",
    "IMU_KINDS",
    "apply_gaps",
    "format_gap_label",
    "group_streams",
    "nan_gaps",
    "parse_gap_label",
    "stream_group",
]

#: Prefix of the annotation / ``trial_type`` text of a gap row.
GAP_PREFIX: Final = "BAD_gap "
#: Channel kinds stored in an IMU (``motion``) stream.
IMU_KINDS: Final = frozenset({"acc", "gyr", "mag", "quat"})
#: Unit assumed per channel kind when a file does not say.
DEFAULT_UNITS: Final[dict[str, str]] = {
    "emg": "uV",
    "acc": "m/s^2",
    "gyr": "deg/s",
    "mag": "uT",
    "quat": "1",
    "angle": "deg",
    "force": "N",
}


def stream_group(kind: str) -> str:
    """Return the stream name a channel kind belongs to.

    Parameters
    ----------
    kind : str
        Channel kind (``emg``, ``acc``, ``gyr``, ``mag``, ``quat``, ``angle``, ``force``).

    Returns
    -------
    str
        ``"emg"``, ``"imu"``, ``"force"`` or ``"angle"``.

    Examples
    --------
    >>> stream_group("gyr")
    'imu'
    """
    return "imu" if kind in IMU_KINDS else kind


def _rate_text(fs: float) -> str:
    return f"{fs:g}".replace(".", "p")


def group_streams(
    channels: Sequence[Channel],
    rows: Sequence[NDArray[np.float64]],
    rates: Sequence[float],
    *,
    t0: float = 0.0,
) -> dict[str, Stream]:
    """Group channels into one stream per (kind group, rate).

    Parameters
    ----------
    channels : sequence of Channel, shape (n_channels,)
        Channel metadata in file order.
    rows : sequence of ndarray
        Samples of each channel (1-D); channels of one group and rate must have
        the same length.
    rates : sequence of float, shape (n_channels,)
        Sampling rate of each channel in Hz.
    t0 : float
        Start time of every stream in seconds.

    Returns
    -------
    dict of str to Stream
        The first rate seen in a group gets the plain group name (``"emg"``);
        other rates get ``<group>_<rate>`` (``"emg_1000"``).

    Examples
    --------
    >>> import numpy as np
    >>> from nkt_motion import Channel
    >>> chs = [Channel("EMG GMED L", "emg", "uV"), Channel("EMG ADL L", "emg", "uV")]
    >>> sorted(group_streams(chs, [np.zeros(4), np.zeros(2)], [4.0, 2.0]))
    ['emg', 'emg_2']
    """
    order: dict[tuple[str, float], list[int]] = {}
    for i, (ch, fs) in enumerate(zip(channels, rates, strict=True)):
        order.setdefault((stream_group(ch.kind), float(fs)), []).append(i)
    seen: set[str] = set()
    out: dict[str, Stream] = {}
    for (group, fs), idx in order.items():
        name = group if group not in seen else f"{group}_{_rate_text(fs)}"
        seen.add(group)
        data = np.vstack([rows[i] for i in idx])
        out[name] = Stream(name, data, fs, tuple(channels[i] for i in idx), t0=t0)
    return out


def format_gap_label(stream: str, channel: str, reason: str) -> str:
    """Format the annotation text of one gap row.

    Parameters
    ----------
    stream, channel, reason : str
        The gap row's fields; ``channel`` is ``""`` for the whole stream.

    Returns
    -------
    str
        ``"BAD_gap <stream>|<channel>|<reason>"``.

    Raises
    ------
    FileFormatError
        If the stream or channel name contains ``|``.

    Examples
    --------
    >>> format_gap_label("emg", "EMG GMED L", "packet loss")
    'BAD_gap emg|EMG GMED L|packet loss'
    """
    for what, text in (("stream", stream), ("channel", channel)):
        if "|" in text:
            raise FileFormatError(
                f"gap {what} name must not contain '|', got {text!r}", channel=channel or None
            )
    return f"{GAP_PREFIX}{stream}|{channel}|{reason}"


def parse_gap_label(text: str) -> tuple[str, str, str] | None:
    """Parse a gap annotation text.

    Parameters
    ----------
    text : str
        Annotation or ``trial_type`` text.

    Returns
    -------
    tuple of str or None
        ``(stream, channel, reason)``, or None if the text is not a gap label.

    Examples
    --------
    >>> parse_gap_label("BAD_gap emg||disconnect")
    ('emg', '', 'disconnect')
    >>> parse_gap_label("rest") is None
    True
    """
    if not text.startswith(GAP_PREFIX):
        return None
    parts = text[len(GAP_PREFIX) :].split("|", 2)
    if len(parts) < 2 or not parts[0]:
        return None
    stream, channel = parts[0], parts[1]
    return stream, channel, parts[2] if len(parts) == 3 else ""


def _sample_span(stream: Stream, onset: float, duration: float) -> tuple[int, int]:
    lo = round((onset - stream.t0) * stream.fs)
    hi = round((onset + duration - stream.t0) * stream.fs)
    return max(lo, 0), min(max(hi, 0), stream.n_samples)


def apply_gaps(
    streams: dict[str, Stream], gaps: pd.DataFrame, *, path: str | Path
) -> dict[str, Stream]:
    """Set the samples covered by gap rows to NaN.

    Parameters
    ----------
    streams : dict of str to Stream
        Streams read from a file.
    gaps : pandas.DataFrame
        Gap table (stream, channel, onset, duration, reason); bounds are rounded
        to the nearest sample.
    path : str or Path
        File named in error messages.

    Returns
    -------
    dict of str to Stream
        New streams; those without gaps are returned unchanged.

    Raises
    ------
    FileFormatError
        If a gap names a stream or channel that does not exist.

    Examples
    --------
    >>> import numpy as np
    >>> from nkt_motion import Channel, Stream, make_gaps
    >>> s = Stream("emg", np.ones((1, 10)), 10.0, [Channel("EMG TA R", "emg", "uV")])
    >>> g = make_gaps(["emg"], [""], [0.2], [0.3], ["loss"])
    >>> int(np.isnan(apply_gaps({"emg": s}, g, path="x")["emg"].data).sum())
    3
    """
    data = {n: s.data.copy() for n, s in streams.items()}
    cols = (gaps["stream"].astype(str), gaps["channel"].astype(str))
    times = (gaps["onset"].to_numpy(dtype=float), gaps["duration"].to_numpy(dtype=float))
    for name, channel, onset, duration in zip(*cols, *times, strict=True):
        st = streams.get(name)
        if st is None:
            raise FileFormatError(
                f"gap names stream {name!r}; streams are {sorted(streams)}", path=path
            )
        rows = slice(None) if not channel else [_channel_row(st, channel, path)]
        lo, hi = _sample_span(st, float(onset), float(duration))
        data[st.name][rows, lo:hi] = np.nan
    return {
        n: s if np.array_equal(data[n], s.data, equal_nan=True) else s.replace(data=data[n])
        for n, s in streams.items()
    }


def _channel_row(stream: Stream, channel: str, path: str | Path) -> int:
    if channel not in stream.ch_names:
        raise FileFormatError(
            f"gap names a channel missing from stream {stream.name!r} ({stream.ch_names})",
            path=path,
            channel=channel,
        )
    return stream.ch_names.index(channel)


def nan_gaps(stream: Stream, *, reason: str = "missing samples") -> pd.DataFrame:
    """Return one gap row per run of NaN samples in each channel.

    Parameters
    ----------
    stream : Stream
        The stream, data shape (n_channels, n_samples).
    reason : str
        Reason written in every row.

    Returns
    -------
    pandas.DataFrame
        Gap table; onset is the time of the first NaN sample, duration the run
        length divided by ``fs`` (seconds).

    Examples
    --------
    >>> import numpy as np
    >>> from nkt_motion import Channel, Stream
    >>> x = np.array([[1.0, np.nan, np.nan, 4.0]])
    >>> nan_gaps(Stream("emg", x, 2.0, [Channel("EMG TA R", "emg", "uV")]))[["onset", "duration"]]
       onset  duration
    0    0.5       1.0
    """
    bad = np.isnan(stream.data).astype(np.int8)
    edges = np.diff(np.pad(bad, ((0, 0), (1, 1))), axis=1)
    rows, starts = np.nonzero(edges == 1)
    _, ends = np.nonzero(edges == -1)
    names = np.asarray(stream.ch_names, dtype=object)[rows].tolist()
    return make_gaps(
        [stream.name] * len(rows),
        names,
        stream.t0 + starts / stream.fs,
        (ends - starts) / stream.fs,
        [reason] * len(rows),
    )
