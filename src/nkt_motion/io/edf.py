"""EDF/EDF+/BDF/BDF+ files: reading any of them, writing BDF+.

Signal labels follow the conventions of :mod:`nkt_motion.vocab`
(``EMG GMED L``, ``ACC X pelvis``, ``FORCE load``) and units sit in the
physical-dimension field. Channels are grouped into one stream per kind group
and rate (see :func:`~nkt_motion.io._common.group_streams`). Annotations whose
text starts with ``BAD_gap`` are gap rows (see :mod:`nkt_motion.io._common`);
the others must be conventional event labels, and those that are not are kept in
``meta["other_annotations"]`` and logged.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyedflib
from numpy.typing import NDArray

from nkt_motion.errors import FileFormatError, NktMotionError
from nkt_motion.io._common import apply_gaps, group_streams, parse_gap_label
from nkt_motion.model import Channel, Session, Stream, channel_from_label, make_events, make_gaps

__all__ = ["read_edf"]

logger = logging.getLogger(__name__)

#: Digital range of a 24-bit BDF sample.
BDF_DIGITAL = (-(2**23), 2**23 - 1)
#: Data-record durations tried, in seconds, until every rate fits a whole number.
_RECORD_SECONDS = (1.0, 0.5, 0.25, 0.2, 0.1, 2.0, 4.0, 5.0, 10.0, 20.0, 50.0, 60.0)
#: Longest annotation text EDFlib stores.
ANNOTATION_CHARS = 40


@dataclass(frozen=True, slots=True)
class EdfContent:
    """Everything read from an EDF/BDF file, before grouping into streams.

    Attributes
    ----------
    labels, units : list of str
        Label and physical dimension of each signal.
    rates : list of float
        Sampling rate of each signal in Hz.
    signals : list of ndarray
        Physical samples of each signal (1-D, float64).
    annotations : pandas.DataFrame
        Columns onset, duration (s, >= 0) and text.
    subject : str
        Patient code from the header ('' when absent).
    """

    labels: list[str]
    units: list[str]
    rates: list[float]
    signals: list[NDArray[np.float64]]
    annotations: pd.DataFrame
    subject: str


def read_edf_content(path: str | Path) -> EdfContent:
    """Read the signals and annotations of an EDF/BDF file.

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    EdfContent
        Raw content; no vocabulary checks yet.

    Raises
    ------
    FileFormatError
        If the file is missing or pyedflib cannot read it.

    Examples
    --------
    >>> read_edf_content("missing.bdf")
    Traceback (most recent call last):
    ...
    nkt_motion.errors.FileFormatError: missing.bdf: file does not exist
    """
    p = Path(path)
    if not p.is_file():
        raise FileFormatError("file does not exist", path=p)
    try:
        reader = pyedflib.EdfReader(str(p))
    except OSError as exc:
        raise FileFormatError(f"not a readable EDF/BDF file ({exc})", path=p) from None
    try:
        n = reader.signals_in_file
        onsets, durations, texts = reader.readAnnotations()
        return EdfContent(
            labels=[str(x).strip() for x in reader.getSignalLabels()],
            units=[str(reader.getPhysicalDimension(i)).strip() for i in range(n)],
            rates=[float(reader.getSampleFrequency(i)) for i in range(n)],
            signals=[np.asarray(reader.readSignal(i), dtype=np.float64) for i in range(n)],
            annotations=pd.DataFrame(
                {
                    "onset": np.asarray(onsets, dtype=float),
                    "duration": np.clip(np.asarray(durations, dtype=float), 0.0, None),
                    "text": [str(t).strip() for t in texts],
                }
            ),
            subject=str(reader.getPatientCode()).strip(),
        )
    finally:
        reader.close()


def channels_from_labels(
    labels: Sequence[str], units: Sequence[str], *, path: str | Path
) -> list[Channel]:
    """Build channels from conventional labels, naming the file and channel on error.

    Parameters
    ----------
    labels, units : sequence of str, shape (n_channels,)
        Labels and units.
    path : str or Path
        File for messages.

    Returns
    -------
    list of Channel
        One per label.

    Raises
    ------
    FileFormatError
        If a label breaks the conventions or a unit does not fit its kind.

    Examples
    --------
    >>> [c.kind for c in channels_from_labels(["EMG TA R"], ["uV"], path="x.bdf")]
    ['emg']
    """
    out = []
    for label, unit in zip(labels, units, strict=True):
        try:
            out.append(channel_from_label(label, unit))
        except NktMotionError as exc:
            raise FileFormatError(str(exc), path=path, channel=label) from None
    return out


def split_annotations(
    annotations: pd.DataFrame, *, path: str | Path
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Split annotation rows into events, gaps and unconventional texts.

    Parameters
    ----------
    annotations : pandas.DataFrame
        Columns onset, duration (s) and text.
    path : str or Path
        File for messages.

    Returns
    -------
    events : pandas.DataFrame
        Events table of the conventional labels.
    gaps : pandas.DataFrame
        Gap table of the ``BAD_gap`` rows.
    other : list of str
        Texts that are neither (also logged).

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame({"onset": [1.0, 2.0], "duration": [1.0, 0.5],
    ...                   "text": ["rest", "BAD_gap emg||loss"]})
    >>> ev, gp, other = split_annotations(a, path="x.bdf")
    >>> len(ev), len(gp), other
    (1, 1, [])
    """
    gap_rows, ev_idx, other = [], [], []
    for i, text in enumerate(annotations["text"]):
        parsed = parse_gap_label(text)
        if parsed is not None:
            gap_rows.append((i, *parsed))
        elif _is_event_label(text):
            ev_idx.append(i)
        else:
            other.append(text)
    if other:
        logger.warning("%s: kept %d unconventional annotations in meta", path, len(other))
    ev = annotations.iloc[ev_idx]
    events = make_events(ev["onset"].to_numpy(), ev["duration"].to_numpy(), ev["text"].tolist())
    gi = [r[0] for r in gap_rows]
    gaps = make_gaps(
        [r[1] for r in gap_rows],
        [r[2] for r in gap_rows],
        annotations["onset"].to_numpy()[gi],
        annotations["duration"].to_numpy()[gi],
        [r[3] for r in gap_rows],
    )
    return events, gaps, other


def _is_event_label(text: str) -> bool:
    from nkt_motion.vocab import parse_event_label

    try:
        parse_event_label(text)
    except NktMotionError:
        return False
    return True


def read_edf(path: str | Path) -> Session:
    """Read an EDF, EDF+, BDF or BDF+ file into a Session.

    Parameters
    ----------
    path : str or Path
        The file. Signal labels must follow the conventions (``EMG GMED L``,
        ``ACC X pelvis``, ``FORCE load``, ...); signals may have different rates.

    Returns
    -------
    Session
        One stream per kind group and rate (``emg``, ``imu``, ``force``,
        ``angle``; a second EMG rate gives ``emg_<rate>``), all starting at t0 = 0;
        events and gaps from the annotations (samples inside gaps are NaN);
        subject from the patient code when it is a BIDS label.

    Raises
    ------
    FileFormatError
        If the file is missing or unreadable, a label breaks the conventions, a
        unit does not fit, or a gap names an unknown stream or channel.

    Examples
    --------
    >>> read_edf("nothing_here.edf")
    Traceback (most recent call last):
    ...
    nkt_motion.errors.FileFormatError: nothing_here.edf: file does not exist
    """
    content = read_edf_content(path)
    channels = channels_from_labels(content.labels, content.units, path=path)
    streams = group_streams(channels, content.signals, content.rates)
    events, gaps, other = split_annotations(content.annotations, path=path)
    streams = apply_gaps(streams, gaps, path=path)
    meta: dict[str, object] = {"source": str(path)}
    if other:
        meta["other_annotations"] = other
    subject = content.subject if content.subject.isalnum() else "01"
    return Session(streams, events=events, gaps=gaps, subject=subject, meta=meta)


def record_seconds(rates: Sequence[float], *, path: str | Path) -> float:
    """Choose a BDF data-record duration in which every rate has whole samples.

    Parameters
    ----------
    rates : sequence of float
        Sampling rates in Hz.
    path : str or Path
        File for messages.

    Returns
    -------
    float
        Record duration in seconds.

    Raises
    ------
    FileFormatError
        If no candidate duration fits all rates.

    Examples
    --------
    >>> record_seconds([2000.0, 148.5], path="x.bdf")
    2.0
    """
    for d in _RECORD_SECONDS:
        spr = np.asarray(rates, dtype=float) * d
        if np.allclose(spr, np.round(spr), rtol=0, atol=1e-6) and (spr >= 1).all():
            return d
    raise FileFormatError(
        f"rates {list(rates)} Hz fit no BDF data-record duration in {_RECORD_SECONDS} s",
        path=path,
    )


def physical_bound(x: NDArray[np.float64]) -> float:
    """Return a symmetric physical range bound that covers ``x`` and fits 8 characters.

    Parameters
    ----------
    x : ndarray
        Samples (NaN ignored).

    Returns
    -------
    float
        Bound ``b`` > 0: the range ``[-b, b]`` covers ``|x|`` with a 5 % margin,
        rounded up to two significant digits.

    Examples
    --------
    >>> physical_bound(np.array([-3.0, 1234.5]))
    1300.0
    """
    finite = np.abs(x[np.isfinite(x)])
    m = 1.05 * float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    e = math.floor(math.log10(m))
    step = 10.0 ** (e - 1)
    return float(f"{math.ceil(m / step - 1e-9) * step:.{max(0, 1 - e)}f}")


def to_digital(x: NDArray[np.float64], bound: float) -> NDArray[np.int32]:
    """Convert physical samples to 24-bit BDF integers, rounding to the nearest step.

    EDFlib truncates when it converts; rounding here keeps the error within half
    a step. The reader's inverse is ``phys = step * (offset + digital)`` with
    ``step = 2 * bound / (dmax - dmin)`` and ``offset = bound / step - dmax``.

    Parameters
    ----------
    x : ndarray, shape (n_samples,)
        Physical samples, all within ``[-bound, bound]``.
    bound : float
        Physical maximum (the minimum is ``-bound``).

    Returns
    -------
    ndarray of int32, shape (n_samples,)
        Digital samples.

    Examples
    --------
    >>> to_digital(np.array([-1.0, 0.0, 1.0]), 1.0).tolist()
    [-8388608, 0, 8388607]
    """
    dmin, dmax = BDF_DIGITAL
    step = 2 * bound / (dmax - dmin)
    offset = bound / step - dmax
    digital = np.rint(x / step - offset)
    return np.clip(digital, dmin, dmax).astype(np.int32)


def _signal_header(
    ch: Channel, fs: float, x: NDArray[np.float64], path: Path
) -> dict[str, str | int | float | None]:
    bound = physical_bound(x)
    value: float | int = int(bound) if bound.is_integer() else bound
    if len(str(-value)) > 8 or "e" in str(value) or len(ch.name) > 16 or len(ch.unit) > 8:
        raise FileFormatError(
            f"values up to {bound:g} {ch.unit}, a label over 16 characters or a unit over 8 "
            "do not fit a BDF header; rescale the channel or shorten its name",
            path=path,
            channel=ch.name,
        )
    return {
        "label": ch.name,
        "dimension": ch.unit,
        "sample_frequency": fs,
        "physical_min": -value,
        "physical_max": value,
        "digital_min": BDF_DIGITAL[0],
        "digital_max": BDF_DIGITAL[1],
        "transducer": "",
        "prefilter": "",
    }


def write_bdf(
    path: Path,
    streams: Sequence[Stream],
    annotations: pd.DataFrame,
    *,
    origin: float,
    subject: str,
) -> dict[str, int]:
    """Write streams and annotations to a BDF+ file.

    Parameters
    ----------
    path : Path
        Output file.
    streams : sequence of Stream
        Each with data shape (n_channels, n_samples); NaN samples are written as 0.
    annotations : pandas.DataFrame
        Columns onset, duration (s, on the session clock) and text.
    origin : float
        Session time of the file's first sample, in seconds; a stream starting
        later is padded in front with zeros, and every stream is padded at the
        end to whole data records.
    subject : str
        Written as the patient code.

    Returns
    -------
    dict of str to int
        Front padding, in samples, of each stream.

    Examples
    --------
    >>> import tempfile
    >>> from nkt_motion import Channel, Stream
    >>> s = Stream("emg", np.ones((1, 100)), 100.0, [Channel("EMG TA R", "emg", "uV")])
    >>> ann = pd.DataFrame({"onset": [0.1], "duration": [0.2], "text": ["rest"]})
    >>> with tempfile.TemporaryDirectory() as d:
    ...     write_bdf(Path(d) / "x.bdf", [s], ann, origin=0.0, subject="01")
    {'emg': 0}
    """
    rates = [s.fs for s in streams for _ in s.channels]
    d = record_seconds(rates, path=path)
    pads = {s.name: round((s.t0 - origin) * s.fs) for s in streams}
    n_rec = max(math.ceil((pads[s.name] + s.n_samples) / (s.fs * d) - 1e-9) for s in streams)
    headers, signals = [], []
    for s in streams:
        total = round(n_rec * d * s.fs)
        block = np.zeros((s.n_channels, total))
        block[:, pads[s.name] : pads[s.name] + s.n_samples] = np.nan_to_num(s.data, nan=0.0)
        for ch, row in zip(s.channels, block, strict=True):
            header = _signal_header(ch, s.fs, row, path)
            headers.append(header)
            signals.append(to_digital(row, float(header["physical_max"])))  # type: ignore[arg-type]
    _write_file(
        path, headers, signals, annotations, origin=origin, record=d, subject=subject, n_rec=n_rec
    )
    return pads


def _write_file(
    path: Path,
    headers: list[dict[str, str | int | float | None]],
    signals: list[NDArray[np.int32]],
    annotations: pd.DataFrame,
    *,
    origin: float,
    record: float,
    subject: str,
    n_rec: int,
) -> None:
    writer = pyedflib.EdfWriter(str(path), len(headers), file_type=pyedflib.FILETYPE_BDFPLUS)
    try:
        writer.setSignalHeaders(headers)
        writer.setPatientCode(subject)
        # EDFlib stores about one annotation per second per annotation signal
        seconds = max(1, math.floor(n_rec * record))
        n_sig = math.ceil(len(annotations) / seconds) + 1
        if n_sig > 64:
            logger.warning("%s: %d annotations exceed BDF+ capacity", path, len(annotations))
        writer.set_number_of_annotation_signals(min(n_sig, 64))
        with warnings.catch_warnings():
            # pyedflib warns on any explicit record duration; ours is chosen so
            # that every rate has a whole number of samples per record.
            warnings.filterwarnings("ignore", "Forcing a specific record_duration")
            writer.setDatarecordDuration(record)
        writer.writeSamples(signals, digital=True)
        onsets = annotations["onset"].to_numpy(dtype=float) - origin
        durations = annotations["duration"].to_numpy(dtype=float)
        for onset, duration, text in zip(onsets, durations, annotations["text"], strict=True):
            writer.writeAnnotation(float(onset), float(duration), str(text)[:ANNOTATION_CHARS])
    finally:
        writer.close()
