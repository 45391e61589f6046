"""Side-to-side rule: the tested side's ratio against the other side's, same session.

When both sides are recorded and their test trials name their side (see
:mod:`nkt_motion.features._context`), each side is a reference for the other:
same person, same session, same task. For one phase and one tested:partner
pair, with ``d = rules.ratio_change_threshold`` (0.2, the low end of the 20-40 %
GMED:ADL differences of Morrissey et al. 2012), the rule fires when

    ``tested-side ratio / other-side ratio < 1 - d``

(both ratios geometric means over their trials), i.e. the tested muscle's share
on this side is at least 20 % lower than on the other side. The rule is
one-sided: a side whose ratio is *higher* than the other's is not flagged by it.
It needs at least ``rules.min_trials`` valid trials on the other side; with
fewer, the figures are reported and the difference is not judged.

Morrissey et al. found no significant side-to-side difference *within* their
patients, so a deficit on both sides does not show here; that is why this rule
adds to the within-side rules and never replaces them.

The interval of the difference is a percentile bootstrap of
``exp(mean tested log-ratio - mean other log-ratio) - 1``, both sides resampled
independently and widened for small samples like every interval here
(:func:`nkt_motion.assess.rules.expand`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from nkt_motion.assess._resample import expand, mean_resamples, ratio_interval
from nkt_motion.protocols import Rules
from nkt_motion.vocab import muscle_name

__all__ = ["SIDE_WORDS", "SideComparison", "compare_sides"]

FloatArray = NDArray[np.float64]

#: Plain words for the sides.
SIDE_WORDS: Final = {"L": "left", "R": "right"}


@dataclass(frozen=True, slots=True)
class SideComparison:
    """The other side's ratio for one phase and pair, and the side-to-side rule.

    Attributes
    ----------
    side : {"L", "R"}
        The other side.
    ratio : float
        Its geometric-mean ratio over its valid trials.
    ci : (float, float)
        Expanded percentile interval of ``ratio`` (NaN with < 2 trials).
    n_trials : int
        Its valid trials.
    difference : float
        Tested-side ratio / other-side ratio - 1 (-0.45: 45 % lower).
    difference_ci : (float, float)
        Interval of ``difference`` (NaN unless both sides have >= 2 trials).
    flag : bool
        Whether the side-to-side rule fires.
    reason : str
        The plain-word reason when it fires, else why it was not judged (or "").
    """

    side: str
    ratio: float
    ci: tuple[float, float]
    n_trials: int
    difference: float
    difference_ci: tuple[float, float]
    flag: bool
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form (NaN left as float; the caller maps it to null).

        Returns
        -------
        dict
            ``side``, ``ratio``, ``ci``, ``n_trials``, ``difference``,
            ``difference_ci``, ``flag``, ``reason``.

        Examples
        --------
        >>> c = SideComparison("R", 0.95, (0.9, 1.0), 5, -0.45, (-0.5, -0.4), True, "x")
        >>> c.to_dict()["ci"], c.to_dict()["difference"]
        ([0.9, 1.0], -0.45)
        """
        return {
            "side": self.side,
            "ratio": self.ratio,
            "ci": [self.ci[0], self.ci[1]],
            "n_trials": self.n_trials,
            "difference": self.difference,
            "difference_ci": [self.difference_ci[0], self.difference_ci[1]],
            "flag": self.flag,
            "reason": self.reason,
        }


def _difference_ci(
    t_boot: FloatArray, t_logs: FloatArray, o_boot: FloatArray, o_logs: FloatArray, ci: float
) -> tuple[float, float]:
    if len(t_logs) < 2 or len(o_logs) < 2:
        return float("nan"), float("nan")
    ok = np.isfinite(t_boot)
    t_wide = expand(t_boot[ok], float(np.mean(t_logs)), len(t_logs), ci)
    o_wide = expand(o_boot[ok], float(np.mean(o_logs)), len(o_logs), ci)
    lo, hi = np.exp(np.percentile(t_wide - o_wide, [50 * (1 - ci), 50 * (1 + ci)])) - 1.0
    return float(lo), float(hi)


def _reason(pair: tuple[str, str], sides: tuple[str, str], t: float, o: float) -> str:
    names = f"{muscle_name(pair[0])} : {muscle_name(pair[1])}"
    here, there = (SIDE_WORDS.get(s, s) for s in sides)
    return (
        f"{names} was {t:.2f} on the {here} vs {o:.2f} on the {there} "
        f"({100 * (1 - t / o):.0f} % lower)"
    )


def compare_sides(
    tested_logs: FloatArray,
    tested_boot: FloatArray,
    other_logs: FloatArray,
    *,
    pair: tuple[str, str],
    sides: tuple[str, str],
    rules: Rules,
    ci: float,
    rng: np.random.Generator,
) -> tuple[SideComparison, NDArray[np.bool_]]:
    """Compare one phase's ratio of the tested side with the other side's.

    Parameters
    ----------
    tested_logs : ndarray, shape (n,)
        Finite per-trial log-ratios of the tested side.
    tested_boot : ndarray, shape (n_boot,)
        Resampled mean log-ratios of the tested side (NaN where a resample had
        no valid trial), the resamples the phase's other rules use.
    other_logs : ndarray, shape (m,)
        Per-trial log-ratios of the other side, same phase and pair (NaN allowed).
    pair : (str, str)
        Tested and partner muscle codes.
    sides : (str, str)
        Tested side and other side, ``"L"`` or ``"R"``.
    rules : Rules
        ``ratio_change_threshold`` and ``min_trials``.
    ci : float
        Interval coverage, in (0, 1).
    rng : numpy.random.Generator
        Source of the other side's resampling.

    Returns
    -------
    comparison : SideComparison
        The other side's figures and the rule.
    fired : ndarray of bool, shape (n_boot,)
        Whether the rule fires in each resample (for the phase's probability).

    Examples
    --------
    >>> import numpy as np
    >>> from nkt_motion.assess.rules import DEFAULT_RULES
    >>> t = np.log([0.5, 0.55, 0.5]); o = np.log([0.95, 1.0, 0.9])
    >>> boot = mean_resamples(t, 200, np.random.default_rng(0))
    >>> c, fired = compare_sides(t, boot, o, pair=("GMED", "ADL"), sides=("L", "R"),
    ...                          rules=DEFAULT_RULES, ci=0.95, rng=np.random.default_rng(1))
    >>> c.flag, round(c.ratio, 2), float(fired.mean())
    (True, 0.95, 1.0)
    >>> c.reason
    'gluteus medius : adductor longus was 0.52 on the left vs 0.95 on the right (46 % lower)'
    """
    o_logs = other_logs[np.isfinite(other_logs)]
    n_o, nan = len(o_logs), float("nan")
    none = np.zeros(len(tested_boot), dtype=bool)
    there = SIDE_WORDS.get(sides[1], sides[1])
    if n_o == 0:
        why = f"no valid trial on the {there} side to compare with"
        return SideComparison(sides[1], nan, (nan, nan), 0, nan, (nan, nan), False, why), none
    o_boot = mean_resamples(o_logs, len(tested_boot), rng)
    o_mean = float(np.mean(o_logs))
    t_mean = float(np.mean(tested_logs)) if len(tested_logs) else nan
    diff = math.exp(t_mean - o_mean) - 1.0
    limit = math.log1p(-rules.ratio_change_threshold)
    enough = n_o >= rules.min_trials
    flag = enough and t_mean - o_mean < limit
    fired = (tested_boot - o_boot < limit) if enough else none
    if flag:
        why = _reason(pair, sides, math.exp(t_mean), math.exp(o_mean))
    elif not enough:
        why = (
            f"only {n_o} valid trial(s) on the {there} side (need {rules.min_trials}): "
            "the side-to-side difference was not judged"
        )
    else:
        why = ""
    comparison = SideComparison(
        side=sides[1],
        ratio=math.exp(o_mean),
        ci=ratio_interval(o_boot, o_logs, ci),
        n_trials=n_o,
        difference=diff,
        difference_ci=_difference_ci(tested_boot, tested_logs, o_boot, o_logs, ci),
        flag=bool(flag),
        reason=why,
    )
    return comparison, np.asarray(fired, dtype=bool)
