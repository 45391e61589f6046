"""Amplitude of surface EMG: rectification, linear envelope, moving RMS and the TKEO.

The linear envelope is the rectified signal low-passed at about 3-10 Hz (6 Hz is
common); the moving RMS uses windows of 50-250 ms (100 ms is common), and its
SNR grows with the square root of the window length. The Teager-Kaiser energy
operator is ``psi[n] = x[n]**2 - x[n+1] * x[n-1]`` (Li, Zhou & Aruin 2007,
Ann Biomed Eng 35:1532).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from nkt_motion.dsp._kernels import window_sums
from nkt_motion.dsp._validate import (
    FloatArray,
    as_signal,
    bridge_nans,
    check_length,
    map_rows,
    validate_choice,
    validate_fs,
    validate_positive,
)
from nkt_motion.dsp.filters import apply_sos, lowpass_sos

__all__ = ["envelope", "moving_rms", "rectify", "tkeo", "window_samples"]


def rectify(x: ArrayLike, *, axis: int = -1) -> FloatArray:
    """Full-wave rectify (absolute value).

    Parameters
    ----------
    x : array_like, shape (n_channels, n_samples)
        Signal; integers are converted to float64.
    axis : int
        Time axis (only checked; rectification is element-wise).

    Returns
    -------
    ndarray, same shape as x, float64
        ``|x|``.

    Examples
    --------
    >>> rectify([[-1, 2]]).tolist()
    [[1.0, 2.0]]
    """
    return np.moveaxis(np.abs(as_signal(x, axis=axis)), -1, axis)


def envelope(
    x: ArrayLike,
    fs: float,
    *,
    cutoff: float = 6.0,
    order: int = 4,
    zero_phase: bool = True,
    axis: int = -1,
) -> FloatArray:
    """Linear envelope: full-wave rectification then a Butterworth low-pass.

    Parameters
    ----------
    x : array_like, shape (n_channels, n_samples)
        Band-passed EMG in any unit (e.g. uV).
    fs : float
        Sampling rate in Hz.
    cutoff : float
        Low-pass cut-off in Hz (default 6 Hz).
    order : int
        Butterworth order (default 4).
    zero_phase : bool
        Zero-phase (offline, default) or causal (equals the streaming envelope).
    axis : int
        Time axis.

    Returns
    -------
    ndarray, same shape as x, float64
        Envelope in the unit of ``x``.

    Examples
    --------
    >>> t = np.arange(4000) / 2000.0
    >>> env = envelope(np.sin(2 * np.pi * 80.0 * t)[None], 2000.0)
    >>> round(float(env[0, 2000]), 2)  # mean of |sin| is 2 / pi
    0.64
    """
    sos = lowpass_sos(fs, cutoff=cutoff, order=order)
    return apply_sos(x, fs, sos, zero_phase=zero_phase, pre=np.abs, axis=axis)


def window_samples(window: float, fs: float) -> int:
    """Return the number of samples in a window of ``window`` seconds (at least 1).

    Parameters
    ----------
    window : float
        Window length in seconds, > 0.
    fs : float
        Sampling rate in Hz.

    Returns
    -------
    int
        ``round(window * fs)``, at least 1.

    Examples
    --------
    >>> window_samples(0.1, 2000.0)
    200
    """
    w = validate_positive(window, name="window") * validate_fs(fs)
    return max(1, round(w))


def _window_sums(v: FloatArray, w: int, *, tail: int = 0, square: bool = False) -> FloatArray:
    """Sum of the last ``w`` values (fewer at the start) along the last axis, O(n).

    The values are ``v``, or ``v**2`` with ``square``, followed by ``tail``
    zeros (``n + tail`` sums are returned). Blocks of ``w`` samples: the window
    ending at sample j of block k is the part of block k-1 after j plus the
    prefix of block k up to j. Both partial sums only ever add samples of that
    window, so the rounding error is relative to the window's own content,
    however loud the rest of the signal is (a compiled loop, one pass).
    """
    return window_sums(v, w, tail=tail, square=square)


def _moving_mean(v: FloatArray, w: int, *, centred: bool, square: bool = False) -> FloatArray:
    """Mean over a window of ``w`` samples (partial windows at the edges), O(n).

    With ``square`` the mean of ``v**2`` (without a squared copy of ``v``).
    """
    n = v.shape[-1]
    left, right = (w // 2, w - 1 - w // 2) if centred else (w - 1, 0)
    mean = _window_sums(v, w, tail=right, square=square)[..., right:]
    mean /= w
    edges = np.unique(np.r_[np.arange(min(left, n)), np.arange(max(n - right, 0), n)])
    if edges.size:  # partial windows: rescale from w to the samples they hold
        count = np.minimum(edges + right, n - 1) - np.maximum(edges - left, 0) + 1
        mean[..., edges] *= w / count
    return mean


def moving_rms(
    x: ArrayLike,
    fs: float,
    *,
    window: float = 0.100,
    mode: Literal["centred", "trailing"] = "centred",
    axis: int = -1,
) -> FloatArray:
    """Compute the moving root-mean-square amplitude, O(n) per channel.

    Parameters
    ----------
    x : array_like, shape (n_channels, n_samples)
        Band-passed EMG in any unit.
    fs : float
        Sampling rate in Hz.
    window : float
        Window length in seconds (default 100 ms), rounded to whole samples.
    mode : {"centred", "trailing"}
        ``"centred"`` (offline, the window has ``w // 2`` samples before the
        current one) or ``"trailing"`` (the current and ``w - 1`` previous
        samples; equals :class:`~nkt_motion.dsp.StreamingRMS`).
    axis : int
        Time axis.

    Returns
    -------
    ndarray, same shape as x, float64
        RMS in the unit of ``x``; near the edges the window holds fewer samples
        and the mean is over those.

    Notes
    -----
    Windowed sums of squares are built from prefix and suffix sums within blocks
    of one window, so rounding error is relative to each window's own content and
    does not grow with the recording length or after loud passages.

    Examples
    --------
    >>> moving_rms(np.full((1, 1000), -3.0), 1000.0)[0, 500]
    np.float64(3.0)
    """
    fs = validate_fs(fs)
    validate_choice(mode, name="mode", allowed=("centred", "trailing"))
    w = window_samples(window, fs)
    sig = as_signal(x, axis=axis)
    check_length(sig, 1, axis=axis, what="moving RMS")
    sig, _ = bridge_nans(sig, fs)
    centred = mode == "centred"

    def run(block: FloatArray) -> FloatArray:
        ms = _moving_mean(block, w, centred=centred, square=True)
        return np.sqrt(ms, out=ms)

    return np.moveaxis(map_rows(run, sig), -1, axis)


def tkeo(x: ArrayLike, *, axis: int = -1) -> FloatArray:
    """Teager-Kaiser energy operator ``psi[n] = x[n]**2 - x[n+1] * x[n-1]``.

    Parameters
    ----------
    x : array_like, shape (n_channels, n_samples)
        Band-passed EMG in unit u.
    axis : int
        Time axis.

    Returns
    -------
    ndarray, same shape as x, float64
        psi in u**2; samples outside the signal count as zero, so
        ``psi[0] = x[0]**2`` and ``psi[-1] = x[-1]**2``.

    Examples
    --------
    >>> tkeo([[1.0, 2.0, 3.0]]).tolist()
    [[1.0, 1.0, 9.0]]
    """
    sig = as_signal(x, axis=axis)
    psi = np.square(sig)
    psi[..., 1:-1] -= sig[..., 2:] * sig[..., :-2]
    return np.moveaxis(psi, -1, axis)
