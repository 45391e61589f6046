"""Writing BDF+ files: 24-bit samples rounded to the nearest step, annotations, padding."""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyedflib
from numpy.typing import NDArray

from nkt_motion.errors import FileFormatError
from nkt_motion.model import Channel, Stream

__all__ = ["physical_bound", "record_seconds", "to_digital", "write_bdf"]

logger = logging.getLogger(__name__)

#: Digital range of a 24-bit BDF sample.
BDF_DIGITAL = (-(2**23), 2**23 - 1)
#: Data-record durations tried, in seconds, until every rate fits a whole number.
_RECORD_SECONDS = (1.0, 0.5, 0.25, 0.2, 0.1, 2.0, 4.0, 5.0, 10.0, 20.0, 50.0, 60.0)
#: Longest annotation text EDFlib stores.
ANNOTATION_CHARS = 40


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
    start: datetime | None = None,
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
    start : datetime, optional
        Date and time of the file's first sample, for the header (an aware
        time is written in UTC; a date outside 1985-2084, which EDF cannot
        hold, is written as 01.01.85, EDF+'s unknown date). Default: the time
        of writing.

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
        path, headers, signals, annotations, origin=origin, record=d, subject=subject,
        n_rec=n_rec, start=start,
    )  # fmt: skip
    return pads


def _header_start(start: datetime, path: Path) -> datetime:
    """Return the header's start: naive UTC for an aware time, 01.01.85 outside EDF's years."""
    when = start.astimezone(UTC).replace(tzinfo=None) if start.tzinfo is not None else start
    if not 1985 <= when.year <= 2084:
        logger.warning("%s: start %s is outside the years EDF holds (1985-2084); the header "
                       "says 01.01.85", path, when.isoformat())  # fmt: skip
        return datetime(1985, 1, 1)
    return when


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
    start: datetime | None,
) -> None:
    writer = pyedflib.EdfWriter(str(path), len(headers), file_type=pyedflib.FILETYPE_BDFPLUS)
    try:
        writer.setSignalHeaders(headers)
        writer.setPatientCode(subject)
        if start is not None:
            writer.setStartdatetime(_header_start(start, path))
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
