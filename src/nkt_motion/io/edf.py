"""EDF/EDF+/BDF/BDF+ files: reading any of them (writing BDF+ is in ``bdf_write``).

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
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyedflib
from numpy.typing import NDArray

from nkt_motion.errors import FileFormatError, NktMotionError
from nkt_motion.io._common import apply_gaps, group_streams, parse_gap_label
from nkt_motion.model import Channel, Session, channel_from_label, make_events, make_gaps

__all__ = ["read_edf"]

logger = logging.getLogger(__name__)


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
    n_samples : list of int
        Number of samples of each signal in the file.
    """

    labels: list[str]
    units: list[str]
    rates: list[float]
    signals: list[NDArray[np.float64]]
    annotations: pd.DataFrame
    subject: str
    n_samples: list[int] = field(default_factory=list)


def read_edf_content(path: str | Path, *, samples: bool = True) -> EdfContent:
    """Read the signals and annotations of an EDF/BDF file.

    Parameters
    ----------
    path : str or Path
        The file.
    samples : bool
        Read the samples; False reads the header and annotations only and
        leaves ``signals`` empty.

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
            signals=[
                np.asarray(reader.readSignal(i), dtype=np.float64)
                for i in range(n if samples else 0)
            ],
            annotations=pd.DataFrame(
                {
                    "onset": np.asarray(onsets, dtype=float),
                    "duration": np.clip(np.asarray(durations, dtype=float), 0.0, None),
                    "text": [str(t).strip() for t in texts],
                }
            ),
            subject=str(reader.getPatientCode()).strip(),
            n_samples=[int(x) for x in reader.getNSamples()],
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
