"""Test signal of the Hodges & Bui and TKEO detectors: low-pass, then a centred moving mean.

``T = mean_w(lowpass(r))`` with ``r`` = ``|x|`` or ``|psi|``, the low-pass zero-phase
(forward, then backward). Both steps are linear and time-invariant, so away
from the ends T also equals ``backward(mean_w(forward(r)))``, and a moving mean
is a running sum differenced ``w`` samples apart. The running sum rides along
the forward pass as one more second-order section (``y[n] = x[n] + y[n - 1]``,
a pole at 1), so T costs the two passes of the low-pass and one subtraction,
instead of the low-pass and a windowed sum on top.

The running sum is taken of ``r`` minus its mean, so it wanders instead of
growing with the recording; its rounding error, relative to T, stays near
``1e-16 * (running sum / w) / T``, about 1e-12 on long EMG recordings. The
first and last ``settle_length + w`` samples, where the edge handling of the
two orders differs, are computed the direct way on a piece of signal long
enough for the piece's own cut to have died out.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from nkt_motion.dsp._kernels import sosfilt_rows
from nkt_motion.dsp._validate import FloatArray
from nkt_motion.dsp.envelope import _moving_mean
from nkt_motion.dsp.filters import _filtfilt, _steady_state, min_length, settle_length

__all__ = ["against_baseline", "smoothed"]

#: Running-sum section: y[n] = x[n] + y[n - 1].
_RUNNING_SUM = np.array([[1.0, 0.0, 0.0, 1.0, -1.0, 0.0]])


def _direct(r: FloatArray, sos: FloatArray, w: int) -> FloatArray:
    """T the direct way: zero-phase low-pass, then the centred moving mean."""
    return _moving_mean(_filtfilt(sos, r), w, centred=True)


def smoothed(r: FloatArray, sos: FloatArray, w: int) -> FloatArray:
    """T of ``r`` (rows, n): centred mean over ``w`` samples of ``r`` low-passed with ``sos``.

    Equals :func:`_direct` to about 1e-12 relative (see the module notes).
    ``r`` is used as work space (overwritten). Returns an array or a view of one.
    """
    n = r.shape[-1]
    settle = settle_length(sos)
    edge = settle + w + min_length(sos)
    piece = w * math.ceil((edge + settle + w) / w)
    if n < 4 * piece:
        return _direct(r, sos, w)
    first = (n - piece) // w * w  # the moving mean adds in blocks of w from the start
    head, tail = _direct(r[:, :piece], sos, w)[:, :edge], _direct(r[:, first:], sos, w)[:, -edge:]
    level = r.mean(axis=-1, keepdims=True)
    r -= level
    zi = np.zeros((len(sos) + 1, r.shape[0], 2))
    zi[:-1] = _steady_state(sos)[:, None, :] * r[None, :, :1]
    run, _ = sosfilt_rows(np.vstack([sos, _RUNNING_SUM]), r, zi)
    left, right = w // 2, w - 1 - w // 2
    inner = slice(left + 1, n - right)  # samples whose window lies inside the signal
    mean = r  # reused
    np.subtract(run[:, left + right + 1 :], run[:, : n - left - right - 1], out=mean[:, inner])
    del run
    mean[:, inner] /= w
    mean[:, inner] += level
    mean[:, : inner.start] = mean[:, inner.start : inner.start + 1]  # replaced below
    mean[:, inner.stop :] = mean[:, inner.stop - 1 : inner.stop]
    zi = _steady_state(sos)[:, None, :] * mean[None, :, -1:]
    test = mean
    sosfilt_rows(sos, mean[:, ::-1], zi, out=mean[:, ::-1])  # in place, backwards in time
    test[:, :edge] = head
    test[:, n - edge :] = tail
    return test


def against_baseline(test: FloatArray, base: slice, k: float) -> NDArray[np.bool_]:
    """Active where ``test`` >= mean + k SD of ``test`` over the baseline samples."""
    ref = test[..., base]
    mu = ref.mean(axis=-1, keepdims=True)
    sd = ref.std(axis=-1, keepdims=True)
    active: NDArray[np.bool_] = test >= mu + k * sd
    return active
