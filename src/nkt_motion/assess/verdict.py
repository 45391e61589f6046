"""Before vs after a correction: the change of a tested:partner ratio and its verdict.

The change is ``post ratio / pre ratio`` with both ratios geometric means over
their phase's trials (``exp`` of the mean log-ratio). Its interval is a
percentile bootstrap: the pre and post trials are resampled independently (with
replacement, seeded, 2000 resamples by default) and the interval is taken of
``exp(mean post log-ratio - mean pre log-ratio)``. With few trials a plain
percentile bootstrap is too narrow, so each phase's resampled means are first
widened by the t-based factor of :func:`nkt_motion.assess.rules.expand`
(Hesterberg's expanded percentile interval); ``min_trials`` still applies.

With ``d = rules.ratio_change_threshold`` (0.2: the smallest change that
matters, Morrissey et al. 2012) and the *equivalence band*
``[1 / (1 + d), 1 + d]``, the verdicts are, in this order:

``inconclusive``
    a phase has fewer than ``rules.min_trials`` trials with a valid ratio, the
    tested or partner channel fails a quality check, or the interval is not
    finite; the reason says which.
``unchanged``
    the whole interval lies inside the equivalence band: no change that matters.
``resolved``
    the interval lies above 1 (and reaches beyond the band), the pre phase was
    flagged by the rules and the post phase is not.
``improved``
    the interval lies above 1 (and reaches beyond the band), otherwise.
``worse``
    the interval lies below 1 (and reaches beyond the band).
``inconclusive``
    otherwise: the interval spans both no change and a change that matters.

Only comparisons within one session and one electrode placement are made;
amplitudes are not comparable across sessions without normalisation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
from numpy.typing import NDArray

from nkt_motion.assess.rules import PhaseResult, expand
from nkt_motion.assess.trials import TrialResult
from nkt_motion.protocols import Rules
from nkt_motion.vocab import muscle_id

__all__ = ["VERDICTS", "PairAssessment", "change_interval", "decide_verdict"]

Verdict = Literal["resolved", "improved", "unchanged", "worse", "inconclusive"]
#: The verdicts, in the order of the module notes.
VERDICTS: Final[tuple[Verdict, ...]] = (
    "resolved",
    "improved",
    "unchanged",
    "worse",
    "inconclusive",
)


def change_interval(
    pre_logs: NDArray[np.float64],
    post_logs: NDArray[np.float64],
    *,
    n_boot: int = 2000,
    ci: float = 0.95,
    seed: int = 0,
) -> tuple[float, tuple[float, float]]:
    """Post/pre ratio change and its bootstrap percentile interval.

    Parameters
    ----------
    pre_logs, post_logs : ndarray, shape (n_pre,), (n_post,)
        Per-trial natural log-ratios of each phase (finite values).
    n_boot : int
        Resamples.
    ci : float
        Coverage in (0, 1).
    seed : int
        Seed of the resampling.

    Returns
    -------
    change : float
        ``exp(mean(post_logs) - mean(pre_logs))`` (NaN if a phase is empty).
    interval : (float, float)
        Percentile interval (NaN unless both phases have at least 2 trials).

    Examples
    --------
    >>> import numpy as np
    >>> c, (lo, hi) = change_interval(np.log([0.5, 0.52, 0.48]), np.log([1.0, 1.1, 0.95]))
    >>> round(c, 2), bool(lo > 1.5)
    (2.03, True)
    """
    nan = float("nan")
    if len(pre_logs) == 0 or len(post_logs) == 0:
        return nan, (nan, nan)
    change = float(np.exp(np.mean(post_logs) - np.mean(pre_logs)))
    if len(pre_logs) < 2 or len(post_logs) < 2:
        return change, (nan, nan)
    rng = np.random.default_rng(seed)
    pre, post = (
        expand(v[rng.integers(0, len(v), (n_boot, len(v)))].mean(axis=-1), v.mean(), len(v), ci)
        for v in (pre_logs, post_logs)
    )
    lo, hi = np.exp(np.percentile(post - pre, [50 * (1 - ci), 50 * (1 + ci)]))
    return change, (float(lo), float(hi))


def decide_verdict(
    pre: PhaseResult,
    post: PhaseResult,
    interval: tuple[float, float],
    *,
    rules: Rules,
    quality_problems: tuple[str, ...] = (),
) -> tuple[Verdict, str]:
    """Apply the verdict definitions of the module notes.

    Parameters
    ----------
    pre, post : PhaseResult
        Rule evidence of each phase.
    interval : (float, float)
        Interval of the post/pre change.
    rules : Rules
        ``ratio_change_threshold`` and ``min_trials``.
    quality_problems : tuple of str
        Plain-word quality problems of the tested or partner channel.

    Returns
    -------
    verdict : str
        One of :data:`VERDICTS`.
    why : str
        Plain-word explanation.

    Examples
    --------
    >>> from nkt_motion.assess.rules import DEFAULT_RULES, PhaseResult
    >>> pre = PhaseResult("pre", 5, 0.5, (0.45, 0.55), 0.35, 0.7, -80.0, {}, True, (), 1.0)
    >>> post = PhaseResult("post", 5, 1.2, (1.1, 1.3), 0.55, 0.45, 30.0, {}, False, (), 0.0)
    >>> decide_verdict(pre, post, (2.1, 2.7), rules=DEFAULT_RULES)[0]
    'resolved'
    """
    lo, hi = interval
    band = (1.0 / (1.0 + rules.ratio_change_threshold), 1.0 + rules.ratio_change_threshold)
    if quality_problems:
        return "inconclusive", "signal quality: " + "; ".join(quality_problems)
    few = [p for p in (pre, post) if p.n_trials < rules.min_trials]
    if few:
        counts = ", ".join(f"{p.n_trials} in {p.phase}" for p in few)
        return "inconclusive", f"too few valid trials ({counts}; need {rules.min_trials})"
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "inconclusive", "the change has no interval"
    span = f"change interval {lo:.2f}-{hi:.2f}"
    if band[0] <= lo and hi <= band[1]:
        return "unchanged", f"{span} lies within +/-{100 * rules.ratio_change_threshold:.0f} %"
    if lo > 1.0:
        if pre.flag and not post.flag:
            return "resolved", f"{span} is above 1 and the rules no longer flag compensation"
        return "improved", f"{span} is above 1" + (
            "; the rules still flag compensation" if post.flag else ""
        )
    if hi < 1.0:
        return "worse", f"{span} is below 1"
    return "inconclusive", f"{span} spans no change and a change that matters"


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        return _clean(value.item())
    return value


@dataclass(frozen=True, slots=True)
class PairAssessment:
    """Before vs after for one tested:partner pair.

    Attributes
    ----------
    protocol : str
        Protocol name ("" when none matched).
    tested, partner : str
        Muscle codes.
    side : str
        ``"L"``, ``"R"`` or ``""`` when unknown.
    pre, post : PhaseResult
        Evidence per phase.
    ratio_change : float
        Post ratio / pre ratio.
    change_ci : (float, float)
        Bootstrap interval of ``ratio_change``.
    verdict : str
        One of :data:`VERDICTS`.
    verdict_reason : str
        Why, in plain words.
    caveats : tuple of str
        Limits of the comparison.
    trials : tuple of TrialResult
        The pair's test trials, each checked and scored on its own.
    """

    protocol: str
    tested: str
    partner: str
    side: str
    pre: PhaseResult
    post: PhaseResult
    ratio_change: float
    change_ci: tuple[float, float]
    verdict: Verdict
    verdict_reason: str
    caveats: tuple[str, ...] = ()
    trials: tuple[TrialResult, ...] = ()

    @property
    def other_side(self) -> dict[str, Any] | None:
        """The other side's figures per phase, or None when the sides were not compared."""
        found = [ph.other_side for ph in (self.pre, self.post) if ph.other_side is not None]
        if not found:
            return None
        return {
            "side": found[0].side,
            **{
                ph.phase: ph.other_side.to_dict() if ph.other_side is not None else None
                for ph in (self.pre, self.post)
            },
        }

    def to_dict(self) -> dict[str, Any]:
        """Return the ``tests[]`` entry of the ``analyze --json`` schema (NaN as None).

        Returns
        -------
        dict
            ``protocol``, ``tested_muscle``, ``partner_muscle`` (ids), ``side``,
            ``pre``, ``post``, ``change``, ``verdict`` and extra fields:
            ``verdict_reason``, ``caveats``, ``other_side`` (``{"side", "pre",
            "post"}`` with the other side's ``ratio``, ``ci``, ``n_trials``,
            ``difference``, ``difference_ci``, ``flag`` and ``reason`` per
            phase, or None when the sides were not compared) and ``trials``
            (:meth:`~nkt_motion.assess.trials.TrialResult.to_dict` per trial).

        Examples
        --------
        >>> from nkt_motion.assess.rules import PhaseResult, expand
        >>> nan = float("nan")
        >>> ph = PhaseResult("pre", 1, nan, (nan, nan), 1.0, 1.0, 0.0, {}, False, (), 0.0)
        >>> d = PairAssessment("p", "GMED", "ADL", "L", ph, ph, 1.0, (0.9, 1.1), "inconclusive",
        ...                    "few trials").to_dict()
        >>> d["tested_muscle"], d["pre"]["ratio"], d["change"]["ci"]
        ('gluteus_medius', None, [0.9, 1.1])
        """
        out = {
            "protocol": self.protocol,
            "tested_muscle": muscle_id(self.tested),
            "partner_muscle": muscle_id(self.partner),
            "side": self.side,
            "pre": self.pre.to_dict(),
            "post": self.post.to_dict(),
            "change": {"ratio_change": self.ratio_change, "ci": list(self.change_ci)},
            "verdict": self.verdict,
            "verdict_reason": self.verdict_reason,
            "caveats": list(self.caveats),
            "other_side": self.other_side,
            "trials": [t.to_dict() for t in self.trials],
        }
        cleaned: dict[str, Any] = _clean(out)
        return cleaned
