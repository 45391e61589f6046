"""Per-trial measurement uncertainty of the rule checks, and probabilities from it.

See :mod:`nkt_motion.assess.trials` for how these make a trial's compensation
score. The floors keep a session with nearly identical trials from claiming
certainty its instruments do not have: 0.05 in log-ratio (the RMS of a few
seconds of sEMG has a sampling error of a few per cent), 15 ms (the SD of a
good onset detector, Bonato et al. 1998) and 2 deg (magnetometer-free IMU
angles err by less than 2.4 deg, Teufl et al. 2018).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.special import ndtr

__all__ = [
    "SD_FLOORS",
    "any_probability",
    "exceed_probability",
    "max_probability",
    "pooled_sd",
    "spread",
]

FloatArray = NDArray[np.float64]

#: Smallest trial-to-trial spread assumed per check (log-ratio, ms, deg).
SD_FLOORS: Final = {"ratio": 0.05, "onset": 15.0, "kinematic": 2.0}


def pooled_sd(values: FloatArray, groups: Sequence[Any]) -> tuple[float, int]:
    """Pooled within-group standard deviation of the finite values, and its degrees of freedom.

    Parameters
    ----------
    values : ndarray, shape (n,)
        Values (NaN ignored).
    groups : sequence, shape (n,)
        Group of each value (e.g. the phase).

    Returns
    -------
    sd : float
        ``sqrt(sum of squared deviations from each group's mean / df)``; NaN when df is 0.
    df : int
        Finite values minus groups with a finite value.

    Examples
    --------
    >>> sd, df = pooled_sd(np.array([1.0, 3.0, 10.0, 12.0, np.nan]), ["a", "a", "b", "b", "b"])
    >>> round(sd, 3), df
    (1.414, 2)
    """
    frame = pd.DataFrame({"v": values, "g": list(groups)}).dropna(subset=["v"])
    dev = frame["v"] - frame.groupby("g")["v"].transform("mean")
    df = len(frame) - frame["g"].nunique()
    sd = math.sqrt(float((dev**2).sum()) / df) if df > 0 else float("nan")
    return sd, int(df)


def exceed_probability(value: FloatArray, threshold: float | FloatArray, sd: float) -> FloatArray:
    """Probability that a value measured with normal error ``sd`` truly exceeds a threshold.

    Parameters
    ----------
    value : ndarray
        Measured values (NaN stays NaN).
    threshold : float or ndarray
        Threshold(s), broadcast against ``value``.
    sd : float
        Standard deviation of the measurement error, > 0.

    Returns
    -------
    ndarray
        ``Phi((value - threshold) / sd)``, in [0, 1].

    Examples
    --------
    >>> exceed_probability(np.array([0.0, 1.0, np.nan]), 0.0, 1.0).round(3).tolist()
    [0.5, 0.841, nan]
    """
    out: FloatArray = ndtr((np.asarray(value, dtype=float) - threshold) / sd)
    return out


def spread(values: FloatArray, phases: Sequence[str], kind: str) -> tuple[float, bool]:
    """Trial-to-trial spread of one check's values: pooled within-phase SD, floored.

    Parameters
    ----------
    values : ndarray, shape (n,)
        The check's value per trial (NaN ignored).
    phases : sequence of str, shape (n,)
        Phase of each trial.
    kind : {"ratio", "onset", "kinematic"}
        Which floor of :data:`SD_FLOORS` applies.

    Returns
    -------
    sd : float
        ``max(pooled SD, floor)``, or the floor alone without a degree of freedom.
    estimated : bool
        Whether the spread could be estimated (at least one degree of freedom).

    Examples
    --------
    >>> spread(np.log([0.5, 0.6, 1.2, 1.0]), ["pre", "pre", "post", "post"], "ratio")[1]
    True
    >>> spread(np.array([-80.0, 40.0]), ["pre", "post"], "onset")
    (15.0, False)
    """
    sd, df = pooled_sd(values, phases)
    floor = SD_FLOORS[kind]
    return (max(sd, floor), True) if df > 0 else (floor, False)


def any_probability(*ps: FloatArray) -> FloatArray:
    """Probability that any of several independent checks fires, per trial.

    Parameters
    ----------
    *ps : ndarray, shape (n,)
        Each check's probability per trial (NaN: check not made, left out).

    Returns
    -------
    ndarray, shape (n,)
        ``1 - prod(1 - p)`` over the finite ``p``; NaN where none is finite.

    Examples
    --------
    >>> any_probability(np.array([0.5, np.nan]), np.array([0.5, np.nan])).tolist()
    [0.75, nan]
    """
    stack = np.stack(ps)
    out: FloatArray = 1.0 - np.prod(np.where(np.isfinite(stack), 1.0 - stack, 1.0), axis=0)
    return np.where(np.isfinite(stack).any(axis=0), out, np.nan)


def max_probability(*ps: FloatArray, n: int) -> FloatArray:
    """Largest of several checks' probabilities per trial (checks reading one measurement).

    Parameters
    ----------
    *ps : ndarray, shape (n,)
        Each check's probability per trial (NaN ignored).
    n : int
        Number of trials (for no check at all).

    Returns
    -------
    ndarray, shape (n,)
        The largest finite ``p`` per trial; NaN where none is finite.

    Examples
    --------
    >>> max_probability(np.array([0.2, np.nan]), np.array([0.7, np.nan]), n=2).tolist()
    [0.7, nan]
    """
    if not ps:
        return np.full(n, np.nan)
    stack = np.stack(ps)
    best = np.max(np.where(np.isfinite(stack), stack, -np.inf), axis=0)
    return np.where(np.isfinite(best), best, np.nan)
