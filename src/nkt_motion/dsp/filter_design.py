"""Filter design: Butterworth band-, high- and low-pass and mains notches as second-order sections.

Surface EMG is band-passed 20-450 Hz by default (De Luca et al., J Biomech
2010;43:1573 recommend a 20 Hz high-pass; 450-500 Hz low-pass); the mains notch
(50 or 60 Hz and optionally its harmonics) is for recordings with line noise.
Applying the sections is :mod:`nkt_motion.dsp.filters`.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numpy.typing import ArrayLike
from scipy import signal

from nkt_motion.dsp._validate import FloatArray, validate_cutoff, validate_fs, validate_positive
from nkt_motion.errors import ValidationError

__all__ = [
    "bandpass_notch_sos",
    "bandpass_sos",
    "highpass_sos",
    "lowpass_sos",
    "min_length",
    "notch_sos",
    "settle_length",
]


@functools.lru_cache(maxsize=64)
def _butter(order: int, cutoff: float | tuple[float, float], btype: str, fs: float) -> FloatArray:
    """Butterworth sections, designed once per set of arguments (read-only)."""
    sos: FloatArray = signal.butter(order, cutoff, btype=btype, output="sos", fs=fs)
    sos.flags.writeable = False
    return sos


@functools.lru_cache(maxsize=64)
def _notches(fs: float, f0: float, q: float, n: int) -> FloatArray:
    """Notch sections at ``f0`` and its first ``n - 1`` multiples (read-only)."""
    sections = []
    for k in range(1, n + 1):
        b, a = signal.iirnotch(k * f0, q, fs=fs)
        sections.append(signal.tf2sos(b, a))
    sos = np.vstack(sections)
    sos.flags.writeable = False
    return sos


def _check_order(order: int) -> int:
    if int(order) != order or order < 1:
        raise ValidationError(f"order must be an integer >= 1, got {order}", parameter="order")
    return int(order)


def bandpass_sos(
    fs: float, *, low: float = 20.0, high: float = 450.0, order: int = 4
) -> FloatArray:
    """Design a Butterworth band-pass filter.

    Parameters
    ----------
    fs : float
        Sampling rate in Hz.
    low, high : float
        Pass-band edges in Hz, ``0 < low < high < fs / 2``.
    order : int
        Butterworth order of each edge (the band-pass has ``2 * order`` poles).

    Returns
    -------
    ndarray, shape (order, 6)
        Second-order sections.

    Raises
    ------
    ValidationError
        If an edge is not below the Nyquist frequency or ``low >= high``.

    Examples
    --------
    >>> bandpass_sos(2000.0).shape
    (4, 6)
    """
    fs = validate_fs(fs)
    lo = validate_cutoff(low, name="low", fs=fs)
    hi = validate_cutoff(high, name="high", fs=fs)
    if lo >= hi:
        raise ValidationError(
            f"low must be < high, got low={low} and high={high}", parameter="low"
        )
    return _butter(_check_order(order), (lo, hi), "bandpass", fs).copy()


def highpass_sos(fs: float, *, cutoff: float = 20.0, order: int = 4) -> FloatArray:
    """Design a Butterworth high-pass filter.

    Parameters
    ----------
    fs : float
        Sampling rate in Hz.
    cutoff : float
        -3 dB frequency in Hz, ``0 < cutoff < fs / 2``.
    order : int
        Butterworth order.

    Returns
    -------
    ndarray, shape (ceil(order / 2), 6)
        Second-order sections.

    Examples
    --------
    >>> highpass_sos(1000.0, cutoff=10.0, order=2).shape
    (1, 6)
    """
    fs = validate_fs(fs)
    fc = validate_cutoff(cutoff, name="cutoff", fs=fs)
    return _butter(_check_order(order), fc, "highpass", fs).copy()


def lowpass_sos(fs: float, *, cutoff: float = 6.0, order: int = 4) -> FloatArray:
    """Design a Butterworth low-pass filter.

    Parameters
    ----------
    fs : float
        Sampling rate in Hz.
    cutoff : float
        -3 dB frequency in Hz, ``0 < cutoff < fs / 2``.
    order : int
        Butterworth order.

    Returns
    -------
    ndarray, shape (ceil(order / 2), 6)
        Second-order sections.

    Examples
    --------
    >>> lowpass_sos(2000.0).shape
    (2, 6)
    """
    fs = validate_fs(fs)
    fc = validate_cutoff(cutoff, name="cutoff", fs=fs)
    return _butter(_check_order(order), fc, "lowpass", fs).copy()


def notch_sos(
    fs: float, *, freq: float = 50.0, quality: float = 30.0, harmonics: bool = False
) -> FloatArray:
    """Design a mains notch (IIR, second order per notched frequency).

    Parameters
    ----------
    fs : float
        Sampling rate in Hz.
    freq : float
        Mains frequency in Hz (50 in most of the world, 60 in the Americas).
    quality : float
        Quality factor ``freq / bandwidth`` (30 gives a 1.7 Hz wide notch at 50 Hz).
    harmonics : bool
        Also notch every multiple of ``freq`` below the Nyquist frequency.

    Returns
    -------
    ndarray, shape (n_notches, 6)
        Second-order sections, one per notched frequency.

    Examples
    --------
    >>> notch_sos(2000.0, freq=60.0, harmonics=True).shape
    (16, 6)
    """
    fs = validate_fs(fs)
    f0 = validate_cutoff(freq, name="freq", fs=fs)
    q = validate_positive(quality, name="quality")
    n = int(np.ceil(fs / 2.0 / f0)) - 1 if harmonics else 1
    return _notches(fs, f0, q, n).copy()


def bandpass_notch_sos(
    fs: float,
    *,
    low: float = 20.0,
    high: float = 450.0,
    order: int = 4,
    mains: float | None = 50.0,
    quality: float = 30.0,
    harmonics: bool = False,
) -> FloatArray:
    """Design the EMG band-pass followed by the mains notch, as one cascade.

    Parameters
    ----------
    fs : float
        Sampling rate in Hz.
    low, high : float
        Pass-band edges in Hz (see :func:`bandpass_sos`).
    order : int
        Butterworth order of each edge.
    mains : float or None
        Mains frequency in Hz, or None for the band-pass alone.
    quality : float
        Quality factor of each notch (see :func:`notch_sos`).
    harmonics : bool
        Also notch the multiples of ``mains`` below the Nyquist frequency.

    Returns
    -------
    ndarray, shape (order + n_notches, 6)
        The band-pass sections, then the notch sections.

    Examples
    --------
    >>> bandpass_notch_sos(2000.0).shape
    (5, 6)
    """
    sos = bandpass_sos(fs, low=low, high=high, order=order)
    if mains is None:
        return sos
    return np.vstack([sos, notch_sos(fs, freq=mains, quality=quality, harmonics=harmonics)])


def settle_length(sos: ArrayLike, *, tol: float = 1e-18) -> int:
    """Return the samples after which a filter's free response has decayed by ``tol``.

    Parameters
    ----------
    sos : array_like, shape (n_sections, 6)
        Second-order sections of a stable filter.
    tol : float
        Decay factor, in (0, 1).

    Returns
    -------
    int
        ``ceil(log(tol) / log(rho))`` where ``rho`` is the largest pole magnitude:
        a transient started at an edge (or any initial-state error) is below
        ``tol`` times its size that many samples later.

    Raises
    ------
    ValidationError
        If a pole lies on or outside the unit circle.

    Examples
    --------
    >>> settle_length(lowpass_sos(2000.0, cutoff=50.0, order=2))
    374
    """
    s = np.atleast_2d(np.asarray(sos, dtype=np.float64))
    a1, a2 = s[:, 4] / s[:, 3], s[:, 5] / s[:, 3]  # poles: roots of z**2 + a1 z + a2
    disc = a1**2 - 4.0 * a2
    root = np.sqrt(np.abs(disc))
    real = np.maximum(np.abs(-a1 + root), np.abs(-a1 - root)) / 2.0
    rho = float(np.where(disc < 0, np.sqrt(np.abs(a2)), real).max())
    if rho == 0.0:  # FIR: no memory beyond its taps
        return 2 * len(s)
    if rho >= 1.0:
        raise ValidationError(
            f"sos must be stable (poles inside the unit circle), got a pole of magnitude {rho:g}",
            parameter="sos",
        )
    return math.ceil(math.log(tol) / math.log(rho))


def min_length(sos: ArrayLike) -> int:
    """Return the fewest samples zero-phase filtering with ``sos`` accepts.

    Parameters
    ----------
    sos : array_like, shape (n_sections, 6)
        Second-order sections.

    Returns
    -------
    int
        ``padlen + 1`` where ``padlen`` is the odd-extension length used by
        :func:`scipy.signal.sosfiltfilt` by default.

    Examples
    --------
    >>> min_length(bandpass_sos(2000.0))
    28
    """
    s = np.asarray(sos)
    zeros = min(int((s[:, 2] == 0).sum()), int((s[:, 5] == 0).sum()))
    return 3 * (2 * len(s) + 1 - zeros) + 1
