"""Applying second-order sections: offline (zero-phase) or causal band-, high-, low-pass and notch.

The designs are in :mod:`nkt_motion.dsp.filter_design` (re-exported here).
Zero-phase filtering is the default for offline analysis; the causal form
(``sosfilt``) equals the streaming filters of :mod:`nkt_motion.dsp.streaming`
fed block by block.

The zero-phase filter is the forward-backward scheme of
:func:`scipy.signal.sosfiltfilt` (odd extension of ``3 * (2 * n_sections + 1)``
samples at each end, each pass started in the steady state of the first
sample) and equals it to rounding; it frees each pass's input as soon as the
pass is done, so a row needs two extended copies at most instead of three.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike
from scipy import signal

from nkt_motion.dsp._validate import (
    FloatArray,
    as_signal,
    bridge_nans,
    check_length,
    map_rows,
    validate_fs,
)
from nkt_motion.dsp.filter_design import (
    bandpass_sos,
    highpass_sos,
    lowpass_sos,
    min_length,
    notch_sos,
)
from nkt_motion.errors import ValidationError

__all__ = [
    "apply_sos",
    "bandpass",
    "bandpass_sos",
    "highpass",
    "highpass_sos",
    "lowpass",
    "lowpass_sos",
    "min_length",
    "notch",
    "notch_sos",
]


def _filtfilt(sos: FloatArray, x: FloatArray) -> FloatArray:
    """Zero-phase filtering of a 2-D array along its last axis (see the module notes)."""
    pad = min_length(sos) - 1
    n = x.shape[-1]
    ext = np.empty((x.shape[0], n + 2 * pad))
    ext[:, pad : pad + n] = x
    ext[:, :pad] = 2 * x[:, :1] - x[:, pad:0:-1]
    ext[:, pad + n :] = 2 * x[:, -1:] - x[:, -2 : -pad - 2 : -1]
    zi = signal.sosfilt_zi(sos)[:, None, :]
    fwd, _ = signal.sosfilt(sos, ext, axis=-1, zi=zi * ext[None, :, :1])
    del ext
    back, _ = signal.sosfilt(sos, fwd[:, ::-1], axis=-1, zi=zi * fwd[None, :, -1:])
    del fwd
    out: FloatArray = back[:, ::-1][:, pad : pad + n]
    return out


def _filter_rows(
    sos: FloatArray,
    x: FloatArray,
    *,
    zero_phase: bool,
    pre: Callable[[FloatArray], FloatArray] | None,
) -> FloatArray:
    """Filter a (..., n) array along the last axis, a few rows at a time."""

    def run(block: FloatArray) -> FloatArray:
        if pre is not None:
            block = pre(block)
        if zero_phase:
            return _filtfilt(sos, block)
        return signal.sosfilt(sos, block, axis=-1)  # type: ignore[no-any-return]

    return map_rows(run, x)


def apply_sos(
    x: ArrayLike,
    fs: float,
    sos: ArrayLike,
    *,
    zero_phase: bool = True,
    pre: Callable[[FloatArray], FloatArray] | None = None,
    axis: int = -1,
) -> FloatArray:
    """Filter along the time axis with second-order sections.

    Parameters
    ----------
    x : array_like, shape (n_channels, n_samples)
        Signal; integers are converted to float64. Inner NaN runs up to 10 ms are
        bridged by linear interpolation (logged), longer ones raise.
    fs : float
        Sampling rate in Hz (used for the NaN check).
    sos : array_like, shape (n_sections, 6)
        Second-order sections.
    zero_phase : bool
        Forward-backward filtering (offline analysis) if True, causal otherwise.
    pre : callable, optional
        Applied to each block of rows before filtering (e.g. :func:`numpy.abs`).
    axis : int
        Time axis.

    Returns
    -------
    ndarray, same shape as x, float64
        The filtered signal.

    Raises
    ------
    SignalError
        If the signal is shorter than :func:`min_length` (zero-phase) or holds a
        long NaN run.

    Examples
    --------
    >>> apply_sos(np.ones((2, 100)), 1000.0, lowpass_sos(1000.0)).shape
    (2, 100)
    """
    fs = validate_fs(fs)
    s = np.asarray(sos, dtype=np.float64)
    if s.ndim != 2 or s.shape[1] != 6 or len(s) == 0:
        raise ValidationError(
            f"sos must have shape (n_sections, 6), got {s.shape}", parameter="sos"
        )
    sig = as_signal(x, axis=axis)
    minimum = min_length(s) if zero_phase else 1
    check_length(
        sig, minimum, axis=axis, what="zero-phase filtering" if zero_phase else "filtering"
    )
    sig, _ = bridge_nans(sig, fs)
    y = _filter_rows(s, sig, zero_phase=zero_phase, pre=pre)
    return np.moveaxis(y, -1, axis)


def bandpass(
    x: ArrayLike,
    fs: float,
    *,
    low: float = 20.0,
    high: float = 450.0,
    order: int = 4,
    zero_phase: bool = True,
    axis: int = -1,
) -> FloatArray:
    """Band-pass filter surface EMG (Butterworth, default 20-450 Hz, 4th order).

    Parameters
    ----------
    x : array_like, shape (n_channels, n_samples)
        Raw EMG in any unit; integers are converted to float64.
    fs : float
        Sampling rate in Hz; ``high`` must be below ``fs / 2``.
    low, high : float
        Pass band in Hz.
    order : int
        Butterworth order of each edge.
    zero_phase : bool
        Zero-phase (offline, default) or causal (as the streaming filter).
    axis : int
        Time axis.

    Returns
    -------
    ndarray, same shape as x, float64
        Filtered EMG in the unit of ``x``.

    Raises
    ------
    ValidationError
        If ``fs`` is too low for the band (``high=450`` needs ``fs > 900``).
    SignalError
        If the signal is too short for zero-phase filtering.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> bandpass(rng.normal(size=(2, 2000)), 2000.0).shape
    (2, 2000)
    """
    sos = bandpass_sos(fs, low=low, high=high, order=order)
    return apply_sos(x, fs, sos, zero_phase=zero_phase, axis=axis)


def highpass(
    x: ArrayLike,
    fs: float,
    *,
    cutoff: float = 20.0,
    order: int = 4,
    zero_phase: bool = True,
    axis: int = -1,
) -> FloatArray:
    """High-pass filter (Butterworth), e.g. to remove movement artefact.

    Parameters
    ----------
    x : array_like, shape (n_channels, n_samples)
        Signal in any unit.
    fs : float
        Sampling rate in Hz.
    cutoff : float
        -3 dB frequency in Hz.
    order : int
        Butterworth order.
    zero_phase : bool
        Zero-phase (default) or causal.
    axis : int
        Time axis.

    Returns
    -------
    ndarray, same shape as x, float64
        Filtered signal.

    Examples
    --------
    >>> float(np.abs(highpass(np.full((1, 500), 3.0), 1000.0)).max()) < 1e-9
    True
    """
    sos = highpass_sos(fs, cutoff=cutoff, order=order)
    return apply_sos(x, fs, sos, zero_phase=zero_phase, axis=axis)


def lowpass(
    x: ArrayLike,
    fs: float,
    *,
    cutoff: float = 6.0,
    order: int = 4,
    zero_phase: bool = True,
    axis: int = -1,
) -> FloatArray:
    """Low-pass filter (Butterworth).

    Parameters
    ----------
    x : array_like, shape (n_channels, n_samples)
        Signal in any unit.
    fs : float
        Sampling rate in Hz.
    cutoff : float
        -3 dB frequency in Hz.
    order : int
        Butterworth order.
    zero_phase : bool
        Zero-phase (default) or causal.
    axis : int
        Time axis.

    Returns
    -------
    ndarray, same shape as x, float64
        Filtered signal.

    Examples
    --------
    >>> lowpass(np.full((1, 500), 2.0), 1000.0)[0, 250].round(6)
    np.float64(2.0)
    """
    sos = lowpass_sos(fs, cutoff=cutoff, order=order)
    return apply_sos(x, fs, sos, zero_phase=zero_phase, axis=axis)


def notch(
    x: ArrayLike,
    fs: float,
    *,
    freq: float = 50.0,
    quality: float = 30.0,
    harmonics: bool = False,
    zero_phase: bool = True,
    axis: int = -1,
) -> FloatArray:
    """Remove mains interference with a notch at ``freq`` (and optionally its harmonics).

    Parameters
    ----------
    x : array_like, shape (n_channels, n_samples)
        Signal in any unit.
    fs : float
        Sampling rate in Hz.
    freq : float
        Mains frequency in Hz (50 or 60).
    quality : float
        Quality factor of each notch.
    harmonics : bool
        Also notch the multiples of ``freq`` below the Nyquist frequency.
    zero_phase : bool
        Zero-phase (default) or causal.
    axis : int
        Time axis.

    Returns
    -------
    ndarray, same shape as x, float64
        Filtered signal.

    Examples
    --------
    >>> t = np.arange(8000) / 2000.0
    >>> y = notch(np.sin(2 * np.pi * 50.0 * t)[None], 2000.0)
    >>> bool(np.abs(y[0, 2000:6000]).max() < 0.01)
    True
    """
    sos = notch_sos(fs, freq=freq, quality=quality, harmonics=harmonics)
    return apply_sos(x, fs, sos, zero_phase=zero_phase, axis=axis)
