"""Mean and median frequency per window (Welch) and the median-frequency slope (fatigue).

During a sustained contraction the EMG spectrum shifts to lower frequencies as
the muscle fatigues; the slope of the median frequency over time (Hz/s, negative
with fatigue) summarises that shift.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike
from scipy import signal

from nkt_motion.dsp._validate import (
    FloatArray,
    as_signal,
    bridge_nans,
    check_length,
    validate_fs,
    validate_positive,
)
from nkt_motion.dsp.envelope import window_samples

__all__ = ["SpectralFrequencies", "median_frequency_slope", "spectral_frequencies"]


class SpectralFrequencies(NamedTuple):
    """Mean and median frequency per window.

    Attributes
    ----------
    times : ndarray, shape (n_windows,)
        Centre of each window in seconds from the first sample.
    mean : ndarray, shape (n_channels, n_windows)
        Mean (power-weighted) frequency in Hz.
    median : ndarray, shape (n_channels, n_windows)
        Frequency splitting the power in two halves, in Hz.
    """

    times: FloatArray
    mean: FloatArray
    median: FloatArray


def _median_freq(f: FloatArray, p: FloatArray) -> FloatArray:
    """Median frequency of spectra ``p`` (..., n_f) by linear interpolation of the CDF."""
    c = np.cumsum(p, axis=-1)
    half = c[..., -1:] / 2.0
    i = np.clip(np.argmax(c >= half, axis=-1), 1, len(f) - 1)[..., None]
    c_lo, c_hi = np.take_along_axis(c, i - 1, -1), np.take_along_axis(c, i, -1)
    frac = np.divide(half - c_lo, c_hi - c_lo, out=np.zeros_like(half), where=c_hi > c_lo)
    out: FloatArray = (f[i - 1] + frac * (f[i] - f[i - 1]))[..., 0]
    return out


def spectral_frequencies(
    x: ArrayLike,
    fs: float,
    *,
    window: float = 1.0,
    step: float | None = None,
    nperseg: int = 256,
    axis: int = -1,
) -> SpectralFrequencies:
    """Mean and median frequency of the power spectrum in successive windows.

    Parameters
    ----------
    x : array_like, shape (n_channels, n_samples)
        Band-passed EMG.
    fs : float
        Sampling rate in Hz.
    window : float
        Analysis window in seconds (default 1 s).
    step : float, optional
        Hop between windows in seconds (default: ``window``, no overlap).
    nperseg : int
        Welch segment length in samples (Hann window, 50 % overlap), capped at the
        window length.
    axis : int
        Time axis.

    Returns
    -------
    SpectralFrequencies
        ``times`` (s), ``mean`` and ``median`` (Hz) per channel and window.

    Examples
    --------
    >>> t = np.arange(4000) / 2000.0
    >>> sf = spectral_frequencies(np.sin(2 * np.pi * 100.0 * t)[None], 2000.0, nperseg=2000)
    >>> sf.mean.round(1).tolist()
    [[100.0, 100.0]]
    """
    fs = validate_fs(fs)
    w = window_samples(window, fs)
    hop = w if step is None else window_samples(step, fs)
    sig = as_signal(x, axis=axis)
    check_length(sig, w, axis=axis, what=f"a {window:g} s spectral window")
    sig, _ = bridge_nans(sig, fs)
    frames = sliding_window_view(sig, w, axis=-1)[..., ::hop, :]
    seg = min(int(validate_positive(nperseg, name="nperseg")), w)
    f, p = signal.welch(frames, fs=fs, nperseg=seg, axis=-1)
    total = p.sum(axis=-1)
    mean = np.divide((p * f).sum(axis=-1), total, out=np.zeros_like(total), where=total > 0)
    times = ((np.arange(frames.shape[-2]) * hop + w / 2.0) / fs).astype(np.float64)
    return SpectralFrequencies(times, mean, _median_freq(f, p))


def median_frequency_slope(
    x: ArrayLike, fs: float, *, window: float = 1.0, nperseg: int = 256, axis: int = -1
) -> FloatArray:
    """Least-squares slope of the median frequency over time (fatigue index).

    Parameters
    ----------
    x : array_like, shape (n_channels, n_samples)
        Band-passed EMG of one sustained contraction, at least two windows long.
    fs : float
        Sampling rate in Hz.
    window : float
        Analysis window in seconds (non-overlapping).
    nperseg : int
        Welch segment length in samples.
    axis : int
        Time axis.

    Returns
    -------
    ndarray, shape (n_channels,)
        Slope in Hz/s (negative when the spectrum shifts down with fatigue).

    Examples
    --------
    >>> t = np.arange(8000) / 2000.0
    >>> chirp = np.sin(2 * np.pi * (150.0 * t - 5.0 * t**2))  # 150 Hz falling 10 Hz/s
    >>> median_frequency_slope(chirp[None], 2000.0, nperseg=2000).round(0)
    array([-10.])
    """
    fs = validate_fs(fs)
    check_length(
        as_signal(x, axis=axis),
        2 * window_samples(window, fs),
        axis=axis,
        what="a median-frequency slope (two windows)",
    )
    sf = spectral_frequencies(x, fs, window=window, nperseg=nperseg, axis=axis)
    t = sf.times - sf.times.mean()
    slope: FloatArray = ((sf.median - sf.median.mean(axis=-1, keepdims=True)) * t).sum(
        axis=-1
    ) / np.square(t).sum()
    return slope
