"""Read a long recording over its event windows only, on a compacted clock.

The analysis of a session uses its ``rest``, ``ref/<CODE>`` and test-trial
events; the stretches between them (the correction, idle time) only cost
memory. :func:`plan_windows` takes each such event with ``pad_s`` seconds
either side, widens it to whole *quanta* (the shortest duration in which every
rate has a whole number of samples, as a BDF data record has) and merges
overlapping windows; :func:`read_windows` reads only those samples of the
chosen channels (partial reads of the EDF/BDF, one pass over a motion TSV) and
joins the windows into one shorter Session:

- each window keeps its length; the stretch cut before it is removed from the
  clock, so samples, events and gaps in window ``j`` move earlier by
  :meth:`Windows.shift` ``(j)`` seconds and the first window does not move;
- events whose onset lies in a window are kept (clipped to its end), the others
  (typically the correction) left out; gap rows are cut to the windows;
- ``meta["analysis_windows"]`` lists the windows as ``[start, stop]`` on the
  original clock.

When the windows merge into one that covers the whole recording the Session
equals the full reader's restricted to those channels, sample for sample. When
stretches are cut, filters see a join between windows, which they have
forgotten ``pad_s`` later; the whole-signal quality checks and onset detection
then describe the analysed windows instead of the whole recording.

Whether to read a recording this way is the choice of
:func:`nkt_motion.features.read_for_analysis` (used by ``nkt-motion analyze``,
``report`` and ``batch``); its options are checked here
(:func:`check_read_options`) so that every caller accepts the same values.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import numpy as np
import pandas as pd
import pyedflib
from numpy.typing import NDArray

from nkt_motion.errors import FileFormatError, ValidationError
from nkt_motion.io._common import apply_gaps
from nkt_motion.io.bdf_write import record_seconds
from nkt_motion.io.header import RecordingHeader, StoredStream
from nkt_motion.io.tidy_csv import _EXACT_FLOATS
from nkt_motion.model import Session, Stream, make_gaps

__all__ = [
    "FULL_READ_MB",
    "PAD_S",
    "READ_MODES",
    "ReadMode",
    "Windows",
    "check_read_options",
    "plan_windows",
    "read_windows",
]

_TSV_CHUNK = 65536

ReadMode = Literal["auto", "full", "windows"]
#: How a recording may be read for its analysis: ``"full"`` (:func:`nkt_motion.read`),
#: ``"windows"`` (:func:`read_windows`), or ``"auto"`` (by windows above a size).
READ_MODES: Final[tuple[ReadMode, ...]] = ("auto", "full", "windows")
#: Default threshold of ``"auto"``: samples above this many MB (10**6 bytes) as
#: float64 are read by windows. Reading and analysing in full peaks at about
#: four times this plus the interpreter.
FULL_READ_MB: Final = 300.0
#: Default seconds of signal kept either side of each event window.
PAD_S: Final = 2.0


def check_read_options(read: object, full_read_mb: object, pad_s: object) -> None:
    """Check the options of a read for analysis.

    Parameters
    ----------
    read : {"auto", "full", "windows"}
        See :data:`READ_MODES`.
    full_read_mb : float
        Threshold of ``"auto"``, MB (10**6 bytes) of samples as float64, > 0.
    pad_s : float
        Seconds kept either side of each event window, >= 0.5 (the zero-phase
        filters settle well within it).

    Raises
    ------
    ValidationError
        Naming the first option that is not acceptable.

    Examples
    --------
    >>> check_read_options("auto", FULL_READ_MB, PAD_S)
    >>> check_read_options("auto", 300.0, 0.1)
    Traceback (most recent call last):
    ...
    nkt_motion.errors.ValidationError: pad_s must be a finite number >= 0.5, got 0.1
    """
    if read not in READ_MODES:
        raise ValidationError(
            f"read must be one of {', '.join(map(repr, READ_MODES))}, got {read!r}",
            parameter="read",
        )
    _number(full_read_mb, "full_read_mb", 0.0, strict=True)
    _number(pad_s, "pad_s", 0.5, strict=False)


def _number(value: object, name: str, low: float, *, strict: bool) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or (value <= low if strict else value < low):  # type: ignore[operator]
        rel = ">" if strict else ">="
        raise ValidationError(
            f"{name} must be a finite number {rel} {low}, got {value!r}", parameter=name
        )


@dataclass(frozen=True, slots=True)
class Windows:
    """Analysed stretches of a recording, in whole quanta from an origin.

    Attributes
    ----------
    quantum : float
        Seconds in which every rate has a whole number of samples.
    origin : float
        Session time of quantum 0, seconds.
    spans : tuple of (int, int)
        ``(first, stop)`` quantum of each window, sorted and disjoint.

    Examples
    --------
    >>> w = Windows(1.0, 0.0, ((0, 10), (50, 60)))
    >>> w.bounds, w.shift(1), w.duration
    (((0.0, 10.0), (50.0, 60.0)), 40.0, 20.0)
    """

    quantum: float
    origin: float
    spans: tuple[tuple[int, int], ...]

    @property
    def bounds(self) -> tuple[tuple[float, float], ...]:
        """``(start, stop)`` of each window on the original clock, seconds."""
        return tuple((self._time(a), self._time(b)) for a, b in self.spans)

    @property
    def duration(self) -> float:
        """Total length of the windows, seconds."""
        return self.quantum * sum(b - a for a, b in self.spans)

    def shift(self, j: int) -> float:
        """Seconds by which times in window ``j`` move earlier on the compacted clock."""
        kept = sum(b - a for a, b in self.spans[:j])
        return self.quantum * (self.spans[j][0] - self.spans[0][0] - kept)

    def _time(self, k: int) -> float:
        return self.origin + k * self.quantum

    def locate(self, t: float) -> int | None:
        """Index of the window holding session time ``t``, or None."""
        for j, (a, b) in enumerate(self.bounds):
            if a - 1e-9 <= t < b - 1e-9:
                return j
        return None


def plan_windows(
    events: pd.DataFrame, streams: Sequence[StoredStream], *, pad_s: float
) -> Windows:
    """Plan the windows of a recording: every non-correction event with padding.

    Parameters
    ----------
    events : pandas.DataFrame
        The session's events (``onset``, ``duration``, ``phase``), seconds.
    streams : sequence of StoredStream
        The streams to be read (their rates fix the quantum).
    pad_s : float
        Seconds kept either side of each event.

    Returns
    -------
    Windows
        Merged windows, clipped to the recording.

    Raises
    ------
    FileFormatError
        If no quantum up to 60 s fits every rate.
    ValidationError
        If the session has no event to analyse.

    Examples
    --------
    >>> from nkt_motion import make_events
    >>> from nkt_motion.io.header import StoredStream
    >>> emg = StoredStream("emg", 2000.0, 0.0, 2000 * 600, (), Path("x.bdf"), "edf", ())
    >>> ev = make_events([10.0, 300.0, 510.0], [3.0, 200.0, 3.0],
    ...                  ["pre/test/GMED", "correction", "post/test/GMED"])
    >>> plan_windows(ev, [emg], pad_s=2.0).spans
    ((8, 15), (508, 515))
    """
    q = record_seconds([s.fs for s in streams], path=streams[0].file)
    origin = min(s.t0 for s in streams)
    end = math.ceil((max(s.stop for s in streams) - origin) / q - 1e-9)
    keep = events[events["phase"] != "correction"]
    spans = []
    for onset, duration in zip(keep["onset"], keep["duration"], strict=True):
        lo = math.floor((float(onset) - pad_s - origin) / q + 1e-9)
        hi = math.ceil((float(onset) + float(duration) + pad_s - origin) / q - 1e-9)
        lo, hi = max(lo, 0), min(hi, end)
        if hi > lo:
            spans.append((lo, hi))
    if not spans:
        raise ValidationError(
            "session has no rest, ref/<CODE> or test event inside its recording to analyse",
            parameter="session",
        )
    merged = [sorted(spans)[0]]
    for lo, hi in sorted(spans)[1:]:
        if lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return Windows(q, origin, tuple(merged))


def _sample_ranges(s: StoredStream, w: Windows) -> list[tuple[int, int]]:
    """Sample ranges of each window in ``s``; the outer edges clipped to the data."""
    base = round((w.origin - s.t0) * s.fs)
    m = round(w.quantum * s.fs)
    out = [(base + a * m, base + b * m) for a, b in w.spans]
    out[0] = (max(out[0][0], 0), out[0][1])
    out[-1] = (out[-1][0], min(out[-1][1], s.n_samples))
    return out


def _fill_edf(
    s: StoredStream, rows: list[int], ranges: list[tuple[int, int]], out: NDArray[np.float64]
) -> None:
    reader = pyedflib.EdfReader(str(s.file))
    try:
        for k, row in enumerate(rows):
            at = 0
            for lo, hi in ranges:
                a, b = max(lo, 0), min(hi, s.n_samples)
                if b > a:
                    x = reader.readSignal(s.columns[row], start=s.offset + a, n=b - a)
                    out[k, at + a - lo : at + b - lo] = x
                at += hi - lo
    finally:
        reader.close()


def _tsv_chunks(path: Path) -> Iterator[pd.DataFrame]:
    try:
        with pd.read_csv(
            path, sep="\t", header=None, na_values=["n/a"], chunksize=_TSV_CHUNK, **_EXACT_FLOATS
        ) as reader:
            yield from reader
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise FileFormatError(f"cannot parse the table ({exc})", path=path) from None


def _fill_tsv(
    s: StoredStream, rows: list[int], ranges: list[tuple[int, int]], out: NDArray[np.float64]
) -> None:
    cols = [s.columns[r] for r in rows]
    starts = np.cumsum([0] + [hi - lo for lo, hi in ranges])
    first = 0
    for chunk in _tsv_chunks(s.file):
        last = first + len(chunk)
        values = chunk.to_numpy(dtype=float)[:, cols].T
        for (lo, hi), at in zip(ranges, starts, strict=False):
            a, b = max(lo, first), min(hi, last)
            if b > a:
                out[:, at + a - lo : at + b - lo] = values[:, a - first : b - first]
        first = last


def _read_stream(s: StoredStream, names: Collection[str], w: Windows) -> Stream | None:
    rows = [i for i, c in enumerate(s.channels) if c.name in names]
    if not rows:
        return None
    ranges = _sample_ranges(s, w)
    data = np.full((len(rows), sum(hi - lo for lo, hi in ranges)), np.nan)
    fill = _fill_edf if s.storage == "edf" else _fill_tsv
    fill(s, rows, ranges, data)
    chans = tuple(s.channels[i] for i in rows)
    t0 = s.t0 + ranges[0][0] / s.fs
    return Stream(s.name, data, s.fs, chans, t0=t0, history=s.history)


def _moved_events(events: pd.DataFrame, w: Windows) -> pd.DataFrame:
    rows = []
    for onset, duration, label in zip(
        events["onset"], events["duration"], events["label"], strict=True
    ):
        j = w.locate(float(onset))
        if j is not None:
            end = w.bounds[j][1]
            kept = duration if onset + duration <= end else end - onset
            rows.append((float(onset) - w.shift(j), float(kept), str(label)))
    return pd.DataFrame(rows, columns=["onset", "duration", "label"])


def _moved_gaps(gaps: pd.DataFrame, w: Windows, streams: dict[str, Stream]) -> pd.DataFrame:
    rows: list[tuple[str, str, float, float, str]] = []
    cols = (gaps[c].astype(str) for c in ("stream", "channel", "reason"))
    times = (gaps[c].to_numpy(dtype=float) for c in ("onset", "duration"))
    for st, ch, reason, onset, duration in zip(*cols, *times, strict=True):
        if st not in streams or (ch and ch not in streams[st].ch_names):
            continue
        for j, (a, b) in enumerate(w.bounds):
            if a <= onset and onset + duration <= b:  # inside: only shifted
                rows.append((st, ch, onset - w.shift(j), duration, reason))
            elif min(onset + duration, b) > max(onset, a):
                lo, hi = max(onset, a), min(onset + duration, b)
                rows.append((st, ch, lo - w.shift(j), hi - lo, reason))
    return make_gaps(
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
        [r[4] for r in rows],
    )


def read_windows(header: RecordingHeader, channels: Collection[str], *, pad_s: float) -> Session:
    """Read some channels of a recording over its event windows (see the module notes).

    Parameters
    ----------
    header : RecordingHeader
        From :func:`nkt_motion.io.read_header`.
    channels : collection of str
        Names of the channels to read; streams without one are left out.
    pad_s : float
        Seconds kept either side of each event.

    Returns
    -------
    Session
        The compacted session; ``meta["analysis_windows"]`` lists the windows
        as ``[start, stop]`` seconds on the original clock.

    Raises
    ------
    FileFormatError
        If a file cannot be read or no quantum fits the rates.
    ValidationError
        If no channel is selected or the session has no event to analyse.

    Examples
    --------
    See :func:`nkt_motion.features.read_for_analysis`.
    """
    chosen = [s for s in header.streams.values() if any(c.name in channels for c in s.channels)]
    if not chosen:
        raise ValidationError("no channel of the recording was selected", parameter="channels")
    w = plan_windows(header.events, chosen, pad_s=pad_s)
    streams = {s.name: st for s in chosen if (st := _read_stream(s, channels, w)) is not None}
    gaps = _moved_gaps(header.gaps, w, streams)
    path = chosen[0].file
    streams = apply_gaps(streams, gaps, path=path)
    meta = {**header.meta, "analysis_windows": [list(b) for b in w.bounds]}
    return Session(
        streams,
        events=_moved_events(header.events, w),
        gaps=gaps,
        subject=header.subject,
        session_id=header.session_id,
        meta=meta,
    )
