"""Bootstrap pieces shared by the rules, the side-to-side comparison and the verdict."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["expand", "mean_resamples", "ratio_interval"]

FloatArray = NDArray[np.float64]


def expand(boot: FloatArray, point: float, n: int, ci: float) -> FloatArray:
    """Widen bootstrap means for a small sample (Hesterberg's expanded percentile interval).

    The deviations of the resampled means from the point estimate are scaled by
    ``sqrt(n / (n - 1)) * t(n - 1) / z``, the ratio of the Student-t interval to
    the normal one, so that a percentile interval from few trials is not too narrow.

    Parameters
    ----------
    boot : ndarray, shape (n_boot,)
        Resampled means.
    point : float
        The mean of the sample.
    n : int
        Sample size, >= 2.
    ci : float
        Coverage in (0, 1).

    Returns
    -------
    ndarray, shape (n_boot,)
        The widened resampled means.

    Examples
    --------
    >>> expand(np.array([0.9, 1.1]), 1.0, 3, 0.95).round(3).tolist()
    [0.731, 1.269]
    """
    from scipy import stats

    q = 0.5 + ci / 2
    factor = np.sqrt(n / (n - 1)) * stats.t.ppf(q, n - 1) / stats.norm.ppf(q)
    out: FloatArray = point + factor * (boot - point)
    return out


def mean_resamples(values: FloatArray, n_boot: int, rng: np.random.Generator) -> FloatArray:
    """Means of ``n_boot`` resamples (with replacement) of finite values.

    Parameters
    ----------
    values : ndarray, shape (n,)
        Finite values, n >= 1.
    n_boot : int
        Resamples.
    rng : numpy.random.Generator
        Source of the resampling.

    Returns
    -------
    ndarray, shape (n_boot,)
        Resampled means.

    Examples
    --------
    >>> m = mean_resamples(np.array([1.0, 3.0]), 500, np.random.default_rng(0))
    >>> m.shape, set(np.unique(m).tolist()) <= {1.0, 2.0, 3.0}
    ((500,), True)
    """
    idx = rng.integers(0, len(values), size=(n_boot, len(values)))
    out: FloatArray = values[idx].mean(axis=-1)
    return out


def ratio_interval(boot_logs: FloatArray, logs: FloatArray, ci: float) -> tuple[float, float]:
    """Return the expanded percentile interval of a geometric-mean ratio.

    Parameters
    ----------
    boot_logs : ndarray, shape (n_boot,)
        Resampled means of the log-ratios (NaN entries are dropped).
    logs : ndarray, shape (n,)
        The finite per-trial log-ratios.
    ci : float
        Coverage in (0, 1).

    Returns
    -------
    (float, float)
        Interval of ``exp(mean(logs))``; NaN with fewer than 2 trials.

    Examples
    --------
    >>> logs = np.log([0.5, 0.55, 0.45])
    >>> lo, hi = ratio_interval(mean_resamples(logs, 500, np.random.default_rng(0)), logs, 0.95)
    >>> bool(lo < 0.5 < hi)
    True
    """
    if len(logs) < 2:
        return float("nan"), float("nan")
    wide = expand(boot_logs[np.isfinite(boot_logs)], float(np.mean(logs)), len(logs), ci)
    q = np.percentile(wide, [50 * (1 - ci), 50 * (1 + ci)])
    return float(np.exp(q[0])), float(np.exp(q[1]))
