"""Applying second-order sections: offline (zero-phase) or causal band-, high-, low-pass and notch.

The designs are in :mod:`nkt_motion.dsp.filter_design` (re-exported here).
Zero-phase filtering is the default for offline analysis; the causal form
(``sosfilt``) equals the streaming filters of :mod:`nkt_motion.dsp.streaming`
fed block by block.

The zero-phase filter is the forward-backward scheme of
:func:`scipy.signal.sosfiltfilt` (odd extension of ``3 * (2 * n_sections + 1)``
samples at each end, each pass started in the steady state of the first
sample) and equals it to rounding. The extensions are filtered apart from the
signal with the filter state carried across, so no extended copy of the
signal is made: a row needs two filtered copies at most.

The sample loops of cascades up to five sections are compiled
(:mod:`nkt_motion.dsp._kernels`, same arithmetic as ``sosfilt``, results equal
to rounding); longer cascades run in :func:`scipy.signal.sosfilt`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike
from scipy import signal

from nkt_motion.dsp._kernels import sosfilt_rows
from nkt_motion.dsp._validate import (
    FloatArray,
    as_signal,
    bridge_nans,
    check_length,
    map_rows,
    validate_fs,
)
from nkt_motion.dsp.filter_design import (
    bandpass_notch_sos,
    bandpass_sos,
    highpass_sos,
    lowpass_sos,
    min_length,
    notch_sos,
    settle_length,
)
from nkt_motion.errors import ValidationError

__all__ = [
    "apply_sos",
    "bandpass",
    "bandpass_notch",
    "bandpass_notch_sos",
    "bandpass_sos",
    "highpass",
    "highpass_sos",
    "lowpass",
    "lowpass_sos",
    "min_length",
    "notch",
    "notch_sos",
    "settle_length",
]


@functools.lru_cache(maxsize=64)
def _zi_of(key: bytes, n_sections: int) -> FloatArray:
    zi: FloatArray = signal.sosfilt_zi(np.frombuffer(key).reshape(n_sections, 6))
    zi.flags.writeable = False
    return zi


def _steady_state(sos: FloatArray) -> FloatArray:
    """:func:`scipy.signal.sosfilt_zi` of ``sos``, computed once per filter (read-only)."""
    return _zi_of(np.ascontiguousarray(sos, dtype=np.float64).tobytes(), len(sos))


def _filtfilt(sos: FloatArray, x: FloatArray, *, rectify: bool = False) -> FloatArray:
    """Zero-phase filtering of a 2-D array along its last axis (see the module notes).

    The odd extensions are filtered on their own and the state carried into and
    out of the signal, so ``x`` is never copied into an extended array; the
    arithmetic is that of one pass over the extended signal. The result, back
    in time order, goes into the forward pass's array, which is returned. With
    ``rectify``, that of ``|x|`` (without a rectified copy of ``x``).
    """
    pad = min_length(sos) - 1
    zi = _steady_state(sos)[:, None, :]
    head, end = (np.abs(x[:, : pad + 1]), np.abs(x[:, -pad - 2 :])) if rectify else (x, x)
    left = 2 * head[:, :1] - head[:, pad:0:-1]
    _, z = sosfilt_rows(sos, left, zi * left[None, :, :1])
    fwd, z = sosfilt_rows(sos, x, z, rectify=rectify)
    right = 2 * end[:, -1:] - end[:, -2 : -pad - 2 : -1]
    tail, _ = sosfilt_rows(sos, right, z)
    _, z = sosfilt_rows(sos, tail[:, ::-1], zi * tail[None, :, -1:])
    back = fwd[:, ::-1]
    sosfilt_rows(sos, back, z, out=back)  # in place, backwards in time
    return fwd


def _filtfilt_after(first: FloatArray, second: FloatArray, x: FloatArray) -> FloatArray:
    """Zero-phase ``second`` applied to zero-phase ``first`` of ``x``, a 2-D array.

    Away from the ends, where the two filters' edge transients have died out,
    that is one zero-phase pass of the joint cascade; the first and last
    ``settle_length`` samples are then recomputed by the two passes on a piece
    of signal long enough for the transients of its artificial cut to die out as
    well, so the whole result equals the two passes to rounding. Signals
    shorter than four such pieces take the two passes, which then cost less.
    """
    both = np.vstack([first, second])
    edge = settle_length(both)
    piece = edge + settle_length(second) + settle_length(first) + min_length(both)
    n = x.shape[-1]
    if n < 4 * piece:  # the two recomputed ends would cost more than the second pass
        return _filtfilt(second, _filtfilt(first, x))
    y = _filtfilt(both, x)
    ends = _filtfilt(second, _filtfilt(first, np.concatenate([x[:, :piece], x[:, n - piece :]])))
    rows = x.shape[0]
    y[:, :edge] = ends[:rows, :edge]
    y[:, n - edge :] = ends[rows:, -edge:]
    return y


def _filter_rows(
    sos: FloatArray,
    x: FloatArray,
    *,
    zero_phase: bool,
    pre: Callable[[FloatArray], FloatArray] | None,
) -> FloatArray:
    """Filter a (..., n) array along the last axis, a few rows at a time."""

    def run(block: FloatArray) -> FloatArray:
        if zero_phase and pre is np.abs:  # the envelope: rectified inside the filter loop
            return _filtfilt(sos, block, rectify=True)
        if pre is not None:
            block = pre(block)
        if zero_phase:
            return _filtfilt(sos, block)
        return sosfilt_rows(sos, block, np.zeros((len(sos), block.shape[0], 2)))[0]

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


def bandpass_notch(
    x: ArrayLike,
    fs: float,
    *,
    low: float = 20.0,
    high: float = 450.0,
    order: int = 4,
    mains: float = 50.0,
    quality: float = 30.0,
    harmonics: bool = False,
    zero_phase: bool = True,
    axis: int = -1,
) -> FloatArray:
    """Band-pass then mains notch, ``notch(bandpass(x))``, in about the time of one filter.

    Parameters
    ----------
    x : array_like, shape (n_channels, n_samples)
        Raw EMG in any unit; integers are converted to float64.
    fs : float
        Sampling rate in Hz.
    low, high : float
        Pass band in Hz (see :func:`bandpass`).
    order : int
        Butterworth order of each edge.
    mains : float
        Mains frequency in Hz (see :func:`notch`).
    quality : float
        Quality factor of each notch.
    harmonics : bool
        Also notch the multiples of ``mains`` below the Nyquist frequency.
    zero_phase : bool
        Zero-phase (offline, default) or causal.
    axis : int
        Time axis.

    Returns
    -------
    ndarray, same shape as x, float64
        Equals ``notch(bandpass(x, fs, ...), fs, ...)`` to rounding: the causal
        form is the same cascade; the zero-phase form runs the joint cascade once
        and recomputes the ends, where edge transients differ, by the two passes.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(2, 200_000))
    >>> two = notch(bandpass(x, 2000.0), 2000.0)
    >>> bool(np.allclose(bandpass_notch(x, 2000.0), two, rtol=0, atol=1e-12))
    True
    """
    fs = validate_fs(fs)
    bp = bandpass_sos(fs, low=low, high=high, order=order)
    hum = notch_sos(fs, freq=mains, quality=quality, harmonics=harmonics)
    if not zero_phase:
        return apply_sos(x, fs, np.vstack([bp, hum]), zero_phase=False, axis=axis)
    sig = as_signal(x, axis=axis)
    minimum = max(min_length(bp), min_length(hum))
    check_length(sig, minimum, axis=axis, what="zero-phase filtering")
    sig, _ = bridge_nans(sig, fs)
    y = map_rows(lambda block: _filtfilt_after(bp, hum, block), sig)
    return np.moveaxis(y, -1, axis)


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
