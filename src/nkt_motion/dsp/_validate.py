"""Checks shared by the EMG array functions (messages name the parameter and the value)."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from nkt_motion.errors import SignalError, ValidationError

__all__ = [
    "FloatArray",
    "as_signal",
    "bridge_nans",
    "check_length",
    "map_rows",
    "validate_choice",
    "validate_cutoff",
    "validate_fs",
    "validate_positive",
]

FloatArray = NDArray[np.float64]

logger = logging.getLogger(__name__)

#: Longest run of missing samples that is bridged by linear interpolation, in seconds.
MAX_NAN_GAP: float = 0.010


def validate_fs(fs: float) -> float:
    """Return ``fs`` as a float, or raise if it is not a finite rate > 0 Hz."""
    try:
        value = float(fs)
    except (TypeError, ValueError):
        raise ValidationError(f"fs must be a number, got {fs!r}", parameter="fs") from None
    if not math.isfinite(value) or value <= 0:
        raise ValidationError(f"fs must be > 0, got {fs}", parameter="fs")
    return value


def validate_positive(value: float, *, name: str, allow_zero: bool = False) -> float:
    """Return ``value`` as a float, or raise if it is not finite and > 0 (or >= 0)."""
    v = float(value)
    bad = v < 0 if allow_zero else v <= 0
    if not math.isfinite(v) or bad:
        rel = ">= 0" if allow_zero else "> 0"
        raise ValidationError(f"{name} must be {rel}, got {value}", parameter=name)
    return v


def validate_cutoff(value: float, *, name: str, fs: float) -> float:
    """Return a cut-off in Hz, or raise if it is not strictly between 0 and fs / 2."""
    v = float(value)
    nyq = fs / 2.0
    if not math.isfinite(v) or not 0.0 < v < nyq:
        raise ValidationError(
            f"{name}={value} Hz must be between 0 and the Nyquist frequency fs/2 = {nyq:g} Hz "
            f"(fs={fs:g} Hz); use a lower {name} or record at a higher rate",
            parameter=name,
        )
    return v


def validate_choice(value: str, *, name: str, allowed: Sequence[str]) -> str:
    """Return ``value``, or raise if it is not one of ``allowed``."""
    if value not in allowed:
        raise ValidationError(
            f"{name} must be one of {', '.join(map(repr, allowed))}, got {value!r}",
            parameter=name,
        )
    return value


def as_signal(x: ArrayLike, *, axis: int) -> FloatArray:
    """Return ``x`` as float64 with time moved to the last axis (integers are converted)."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise ValidationError(f"x must hold real numbers, got dtype {arr.dtype}", parameter="x")
    if arr.ndim == 0:
        raise ValidationError("x must have at least one dimension (time)", parameter="x")
    if not -arr.ndim <= axis < arr.ndim:
        raise ValidationError(
            f"axis {axis} is out of range for x with shape {arr.shape}", parameter="axis"
        )
    out = np.moveaxis(arr.astype(np.float64, copy=False), axis, -1)
    if not _all_finite(out) and np.isinf(out).any():
        raise SignalError("x holds infinite values; use NaN for missing samples")
    return out


def _all_finite(x: FloatArray) -> bool:
    """Whether ``x`` holds neither inf nor NaN: one sum, no temporary array.

    A finite sum rules both out; an infinite or NaN sum (overflow included)
    leaves the question to an element-wise check.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(np.add.reduce(x, axis=None)))


def check_length(x: FloatArray, minimum: int, *, axis: int, what: str) -> None:
    """Raise a SignalError when fewer than ``minimum`` samples lie along the time axis."""
    n = x.shape[-1]
    if n < minimum:
        hint = ""
        if x.ndim > 1 and max(x.shape[:-1]) >= minimum:
            hint = "; is time on another axis? pass axis= to say which"
        raise SignalError(
            f"signal has {n} samples along axis {axis} (array shape {x.shape} with time "
            f"last); {what} needs at least {minimum} samples{hint}"
        )


def _runs(mask: NDArray[np.bool_]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Start and stop (exclusive) indices of the True runs of a 1-D mask."""
    edges = np.diff(mask.astype(np.int8), prepend=np.int8(0), append=np.int8(0))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def bridge_nans(
    x: ArrayLike,
    fs: float,
    *,
    max_gap: float = MAX_NAN_GAP,
    ch_names: Sequence[str] | None = None,
    axis: int = -1,
) -> tuple[FloatArray, list[tuple[int, float, float]]]:
    """Fill short runs of missing samples (NaN) by linear interpolation.

    Parameters
    ----------
    x : array_like, shape (n_channels, n_samples)
        Signal in any unit; integers are converted to float64.
    fs : float
        Sampling rate in Hz.
    max_gap : float
        Longest NaN run that is bridged, in seconds (default 10 ms).
    ch_names : sequence of str, optional
        Channel names (rows in order) used in messages.
    axis : int
        Time axis.

    Returns
    -------
    y : ndarray, same shape as x, float64
        ``x`` with the short runs filled (``x`` itself, converted, when it has no NaN).
    bridged : list of (int, float, float)
        One ``(row, onset_s, duration_s)`` per filled run, for the gap table.

    Raises
    ------
    SignalError
        If a run is longer than ``max_gap``, touches the signal edge, or a whole
        row is missing; the message names the channel and the run.

    Examples
    --------
    >>> y, bridged = bridge_nans([[0.0, float("nan"), 2.0]], 1000.0)
    >>> y.tolist(), bridged
    ([[0.0, 1.0, 2.0]], [(0, 0.001, 0.001)])
    """
    fs = validate_fs(fs)
    sig = as_signal(x, axis=axis)
    if _all_finite(sig) or not (nan := np.isnan(sig)).any():
        return np.moveaxis(sig, -1, axis), []
    out = sig.reshape(-1, sig.shape[-1]).copy()
    mask2 = nan.reshape(out.shape)
    limit = math.floor(max_gap * fs + 1e-9)
    bridged: list[tuple[int, float, float]] = []
    for row in np.flatnonzero(mask2.any(axis=1)).tolist():
        name = ch_names[row] if ch_names is not None else f"row {row}"
        starts, stops = _runs(mask2[row])
        lengths = stops - starts
        bad = (lengths > limit) | (starts == 0) | (stops == out.shape[1])
        if bad.any():
            i = int(np.argmax(bad))
            raise SignalError(
                f"holds a run of {lengths[i]} missing samples ({1e3 * lengths[i] / fs:.1f} ms) "
                f"at {starts[i] / fs:.3f} s; only inner runs up to {1e3 * max_gap:.1f} ms are "
                "bridged by linear interpolation: crop the signal around the gap",
                channel=name,
            )
        good = ~mask2[row]
        idx = np.arange(out.shape[1])
        out[row, ~good] = np.interp(idx[~good], idx[good], out[row, good])
        bridged += [
            (int(row), float(a / fs), float(n / fs)) for a, n in zip(starts, lengths, strict=True)
        ]
        logger.warning(
            "channel %s: bridged %d run(s) of missing samples (%d samples) by linear "
            "interpolation",
            name,
            len(starts),
            int(lengths.sum()),
        )
    return np.moveaxis(out.reshape(sig.shape), -1, axis), bridged


#: Row-wise work is done in chunks of about this many samples to bound temporary memory.
CHUNK_SAMPLES = 1 << 20


def map_rows(
    func: Callable[[FloatArray], NDArray[Any]],
    x: FloatArray,
    *,
    width: int | None = None,
    dtype: type = np.float64,
) -> NDArray[Any]:
    """Apply ``func`` to blocks of rows of a (..., n) array, to bound temporary memory.

    The output has x's shape, or (n_rows, width) when ``width`` is given; when
    one block holds every row and ``func`` returns a new C-contiguous array of
    that shape, that array is the output (no copy).
    """
    rows = x.reshape(-1, x.shape[-1])
    shape = (rows.shape[0], rows.shape[1] if width is None else width)
    step = max(1, CHUNK_SAMPLES // max(1, rows.shape[1]))
    if rows.shape[0] <= step:  # one block: func's result is the output if it is a new array
        res = func(rows)
        new = res.flags.c_contiguous and not np.may_share_memory(res, x)
        if new and res.shape == shape and res.dtype == dtype:
            return res.reshape(x.shape) if width is None else res
        out: NDArray[Any] = np.empty(shape, dtype=dtype)
        out[...] = res
    else:
        out = np.empty(shape, dtype=dtype)
        for i in range(0, rows.shape[0], step):
            out[i : i + step] = func(rows[i : i + step])
    return out.reshape(x.shape) if width is None else out
