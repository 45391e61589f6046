"""Per-trial rule checks and a per-trial compensation score on a probability scale.

Every test trial is checked on its own with the rules of
:mod:`nkt_motion.assess.rules`: its ratio against ``1 - ratio_change_threshold``,
its partner-minus-tested onset against ``-onset_margin_ms``, each kinematic sign
against its threshold, and (when the other side is recorded) its ratio against
the other side's phase ratio (:mod:`nkt_motion.assess.sides`). The checks that
fire are the trial's ``flags``, each with a plain-word reason.

Per-trial probability
---------------------
A trial's measured value is uncertain; its uncertainty is taken from the
trial-to-trial spread of the same pair on the same side. Each check gets the
probability that the trial's value lies beyond its threshold under a normal
error of that spread:

- ratio: ``p_ratio = Phi((log(1 - d) - x) / s_ratio)``, ``x`` the trial's log-ratio;
- side-to-side: ``p_side = Phi((log(1 - d) + m - x) / (s_ratio * sqrt(1 + 1/n)))``,
  ``m`` the other side's mean log-ratio over its ``n`` trials of the same phase
  (only with ``n >= rules.min_trials``);
- onset: ``p_onset = Phi((-margin - y) / s_onset)``, ``y`` partner minus tested onset, ms;
- kinematic sign ``k``: ``p_k = Phi((v_k - threshold_k) / s_kin)``, degrees.

Each ``s`` is the pooled within-phase standard deviation of that value over the
pair's trials (pre trials about the pre mean, post trials about the post mean),
never below a floor: 0.05 in log-ratio, 15 ms, 2 deg
(:data:`nkt_motion.assess.uncertainty.SD_FLOORS`, with their grounds). Without
at least one degree of freedom (one valid trial per phase) the floor alone is
used and the trial's notes say so.

The ratio and side-to-side checks read the same number, so the probability that
either fires is the larger of the two; the kinematic signs come from the same
sensors, so again the larger; amplitude, timing and posture are measured
separately and are combined as independent::

    p_compensation = 1 - (1 - p_amplitude) (1 - p_onset) (1 - p_kinematic)

over the checks that could be made. ``p_compensation`` is NaN exactly when the
trial has no valid ratio, and its notes then say why (a signal-quality problem
of either channel); an onset or kinematic check that could not be made is left
out and named in the notes.

This is a **rule-based score on a probability scale, not a calibrated
probability**: within one pair, side and phase it never rises when a trial's
ratio rises, its partner fires later or its angles shrink, and it is high when
the trial lies clearly beyond a threshold. ``p_model``, when a trained classifier is given, is that
classifier's calibrated probability for the trial.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.special import ndtr

from nkt_motion.assess.rules import (
    DEFAULT_RULES,
    _reasons,
    _signs_fired,
    _threshold,
    test_rows,
)
from nkt_motion.assess.sides import SIDE_WORDS
from nkt_motion.assess.uncertainty import (
    any_probability,
    exceed_probability,
    max_probability,
    spread,
)
from nkt_motion.features import SIGN_COLUMNS
from nkt_motion.protocols import KinematicSign, Rules

__all__ = ["CHECKS", "TrialResult", "score_pair", "score_trials"]

FloatArray = NDArray[np.float64]

#: The rule checks, in report order.
CHECKS: Final = ("ratio", "side", "onset", "kinematic")


@dataclass(frozen=True, slots=True)
class TrialResult:
    """The rule checks and the compensation score of one test trial.

    Attributes
    ----------
    phase : {"pre", "post"}
        Its phase.
    trial : int
        0-based number within its label.
    label : str
        Its event label.
    side : str
        Tested side (``""`` when unknown).
    tested, partner : str
        Muscle codes.
    ratio : float
        Normalised tested / partner RMS of the trial.
    onset_diff_ms : float
        Partner minus tested onset, ms (negative: partner first).
    kinematics : dict of str to float
        Peak per kinematic sign, degrees.
    flags : tuple of str
        The checks that fire, among ``"ratio"``, ``"side"``, ``"onset"``, ``"kinematic"``.
    reasons : tuple of str
        A plain-word reason per check that fires.
    p_compensation : float
        Rule-based score on a probability scale (module notes); NaN only
        without a valid ratio, explained in ``notes``.
    p_checks : dict of str to float
        Per check, the probability that it fires (NaN when not made).
    p_model : float or None
        Calibrated probability of a trained classifier, when one was given.
    notes : tuple of str
        Why a value is missing or a check was not made.
    """

    phase: str
    trial: int
    label: str
    side: str
    tested: str
    partner: str
    ratio: float
    onset_diff_ms: float
    kinematics: dict[str, float]
    flags: tuple[str, ...]
    reasons: tuple[str, ...]
    p_compensation: float
    p_checks: dict[str, float] = field(default_factory=dict)
    p_model: float | None = None
    notes: tuple[str, ...] = ()

    @property
    def flag(self) -> bool:
        """Whether any check fires."""
        return bool(self.flags)

    def to_dict(self) -> dict[str, Any]:
        """Return the ``tests[].trials[]`` entry of ``analyze --json`` (NaN left as float).

        Returns
        -------
        dict
            ``phase``, ``trial``, ``label``, ``ratio``, ``onset_diff_ms``,
            ``kinematics_deg``, ``flag``, ``flags``, ``reasons``,
            ``p_compensation``, ``p_checks``, ``p_model`` and ``notes``.

        Examples
        --------
        >>> r = TrialResult("pre", 0, "pre/test/GMED", "L", "GMED", "ADL", 0.5, -80.0, {},
        ...                 ("ratio", "onset"), ("a", "b"), 0.99)
        >>> r.to_dict()["flags"], r.flag
        (['ratio', 'onset'], True)
        """
        return {
            "phase": self.phase,
            "trial": self.trial,
            "label": self.label,
            "ratio": self.ratio,
            "onset_diff_ms": self.onset_diff_ms,
            "kinematics_deg": dict(self.kinematics),
            "flag": self.flag,
            "flags": list(self.flags),
            "reasons": list(self.reasons),
            "p_compensation": self.p_compensation,
            "p_checks": dict(self.p_checks),
            "p_model": self.p_model,
            "notes": list(self.notes),
        }

    def row(self) -> dict[str, Any]:
        """Return the row of :attr:`nkt_motion.assess.Assessment.trial_flags`.

        Returns
        -------
        dict
            ``phase``, ``trial``, ``label``, ``side``, ``tested``, ``partner``,
            ``ratio``, ``onset_diff_ms``, ``flag_<check>`` per check, ``flag``,
            ``reasons`` and ``notes`` ("; "-joined), ``p_compensation``, ``p_model``.

        Examples
        --------
        >>> r = TrialResult("pre", 0, "pre/test/GMED", "L", "GMED", "ADL", 0.5, -80.0, {},
        ...                 ("ratio",), ("a",), 0.9)
        >>> r.row()["flag_ratio"], r.row()["flag_onset"]
        (True, False)
        """
        head = ("phase", "trial", "label", "side", "tested", "partner", "ratio", "onset_diff_ms")
        out: dict[str, Any] = {k: getattr(self, k) for k in head}
        out |= {f"flag_{c}": c in self.flags for c in CHECKS}
        out |= {"flag": self.flag, "reasons": "; ".join(self.reasons)}
        out |= {"p_compensation": self.p_compensation, "notes": "; ".join(self.notes)}
        p_model = float("nan") if self.p_model is None else self.p_model
        return out | {"p_model": p_model}


def _texts(rows: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    """Per row, the non-empty texts of some reason columns, "; "-joined."""
    out = []
    for _, r in rows.iterrows():
        found = [str(r[c]) for c in columns if c in rows and isinstance(r[c], str) and r[c]]
        out.append("; ".join(dict.fromkeys(found)))
    return out


def _column(rows: pd.DataFrame, name: str) -> FloatArray:
    if name not in rows:
        return np.full(len(rows), np.nan)
    return rows[name].to_numpy(dtype=float)


def _other_stats(
    other: Mapping[str, FloatArray] | None, phases: Sequence[str], rules: Rules
) -> tuple[FloatArray, FloatArray]:
    """Per row, the other side's mean log-ratio of that phase and its trial count."""
    mean, count = np.full(len(phases), np.nan), np.zeros(len(phases))
    for i, ph in enumerate(phases):
        logs = np.asarray((other or {}).get(ph, np.empty(0)), dtype=float)
        logs = logs[np.isfinite(logs)]
        if len(logs) >= rules.min_trials:
            mean[i], count[i] = float(np.mean(logs)), len(logs)
    return mean, count


def _notes(
    rows: pd.DataFrame, t: str, p: str, signs: Sequence[KinematicSign], estimated: bool
) -> list[list[str]]:
    no_ratio = _texts(rows, [f"quality_reason_{t}", f"quality_reason_{p}"])
    no_onset = _texts(rows, [f"onset_reason_{t}", f"onset_reason_{p}"])
    no_kin = _texts(rows, ["kinematics_reason"])
    x = _column(rows, f"log_ratio_{t}_{p}")
    y = _column(rows, f"onset_diff_ms_{t}_{p}")
    out: list[list[str]] = []
    for i in range(len(rows)):
        notes = []
        if not np.isfinite(x[i]):
            notes.append(f"no ratio: {no_ratio[i] or 'an amplitude is zero or missing'}")
        elif not estimated:
            notes.append(
                "the trial-to-trial spread could not be estimated (one valid trial per "
                "phase): the smallest spread was assumed"
            )
        if not np.isfinite(y[i]):
            notes.append(f"onset rule not checked: {no_onset[i] or 'no onset difference'}")
        for s in signs:
            if not np.isfinite(_column(rows, SIGN_COLUMNS[s.sign])[i]):
                notes.append(f"{s.sign} not checked: {no_kin[i] or 'no angle measured'}")
        out.append(notes)
    return out


def _kinematics(
    rows: pd.DataFrame, phases: Sequence[str], rules: Rules, signs: Sequence[KinematicSign]
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Largest per-sign probability of exceeding the threshold, and whether any sign fires."""
    probs, fire = [], np.zeros(len(rows), dtype=bool)
    for s in signs:
        v = _column(rows, SIGN_COLUMNS[s.sign])
        probs.append(
            exceed_probability(v, _threshold(s, rules), spread(v, phases, "kinematic")[0])
        )
        fire |= v > _threshold(s, rules)
    return max_probability(*probs, n=len(rows)), fire


def _checks(
    rows: pd.DataFrame,
    t: str,
    p: str,
    rules: Rules,
    signs: Sequence[KinematicSign],
    other: Mapping[str, FloatArray] | None,
) -> tuple[dict[str, FloatArray], dict[str, NDArray[np.bool_]], FloatArray, bool]:
    """Per check, each trial's probability and whether it fires; the other side's ratio."""
    phases = rows["phase"].astype(str).tolist()
    x, y = _column(rows, f"log_ratio_{t}_{p}"), _column(rows, f"onset_diff_ms_{t}_{p}")
    limit = math.log1p(-rules.ratio_change_threshold)
    s_r, estimated = spread(x, phases, "ratio")
    m, k = _other_stats(other, phases, rules)
    s_side = s_r * np.sqrt(1.0 + 1.0 / np.maximum(k, 1.0))
    p_checks = {
        "ratio": exceed_probability(-x, -limit, s_r),
        "side": np.where(k > 0, ndtr((limit + m - x) / s_side), np.nan),
        "onset": exceed_probability(-y, rules.onset_margin_ms, spread(y, phases, "onset")[0]),
    }
    p_checks["kinematic"], kin_fire = _kinematics(rows, phases, rules, signs)
    fires = {
        "ratio": x < limit,
        "side": (k > 0) & (x - m < limit),
        "onset": y < -rules.onset_margin_ms,
        "kinematic": kin_fire,
    }
    return p_checks, fires, np.exp(m), estimated


def score_pair(
    rows: pd.DataFrame,
    tested: str,
    partner: str,
    *,
    rules: Rules = DEFAULT_RULES,
    signs: Sequence[KinematicSign] = (),
    other: Mapping[str, FloatArray] | None = None,
    sides: tuple[str, str] = ("", ""),
) -> list[TrialResult]:
    """Check every test trial of one pair and side and score it (see the module notes).

    Parameters
    ----------
    rows : pandas.DataFrame
        The pair's test-trial rows of one side, pre and post
        (:func:`nkt_motion.assess.rules.test_rows`).
    tested, partner : str
        Muscle codes.
    rules : Rules
        Rule parameters.
    signs : sequence of KinematicSign
        Kinematic signs to check.
    other : mapping of str to ndarray, optional
        Phase -> the other side's per-trial log-ratios of the pair; enables
        the side-to-side check.
    sides : (str, str)
        Tested side and other side.

    Returns
    -------
    list of TrialResult
        One per row, in row order.

    Examples
    --------
    >>> rows = pd.DataFrame({"phase": ["pre"] * 3 + ["post"] * 3, "trial": [0, 1, 2] * 2,
    ...     "label": ["pre/test/GMED"] * 3 + ["post/test/GMED"] * 3,
    ...     "log_ratio_GMED_ADL": np.log([0.5, 0.55, 0.45, 1.2, 1.3, 1.1]),
    ...     "onset_diff_ms_GMED_ADL": [-80.0, -90.0, -70.0, 40.0, 30.0, 50.0],
    ...     "rms_GMED": [0.35, 0.38, 0.33, 0.6, 0.62, 0.58], "rms_ADL": [0.7] * 3 + [0.5] * 3})
    >>> [round(r.p_compensation, 2) for r in score_pair(rows, "GMED", "ADL")]
    [1.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    >>> score_pair(rows, "GMED", "ADL")[0].reasons[1]
    'adductor longus fired 80 ms before gluteus medius'
    """
    t, p = tested, partner
    phases = rows["phase"].astype(str).tolist()
    p_checks, fires, other_ratio, estimated = _checks(rows, t, p, rules, signs, other)
    amplitude = max_probability(p_checks["ratio"], p_checks["side"], n=len(rows))
    score = any_probability(amplitude, p_checks["onset"], p_checks["kinematic"])
    notes = _notes(rows, t, p, signs, estimated)
    model = _column(rows, "p_model") if "p_model" in rows else None
    there = SIDE_WORDS.get(sides[1], sides[1])
    out = []
    for i in range(len(rows)):
        one = rows.iloc[[i]]
        fired = {c: bool(fires[c][i]) for c in CHECKS}
        ratio = float(np.exp(_column(one, f"log_ratio_{t}_{p}")[0]))
        why = _reasons(one, t, p, fired["ratio"], fired["onset"], 1 - rules.ratio_change_threshold)
        if fired["side"]:
            o = other_ratio[i]
            lower = f"{100 * (1 - ratio / o):.0f} % lower"
            why.insert(1, f"ratio {ratio:.2f} vs {o:.2f} on the {there} side ({lower})")
        why += _signs_fired(one, rules, signs) if fired["kinematic"] else []
        out.append(
            TrialResult(
                phase=phases[i],
                trial=int(one["trial"].iloc[0]),
                label=str(one["label"].iloc[0]),
                side=sides[0],
                tested=t,
                partner=p,
                ratio=ratio,
                onset_diff_ms=float(_column(one, f"onset_diff_ms_{t}_{p}")[0]),
                kinematics={s.sign: float(_column(one, SIGN_COLUMNS[s.sign])[0]) for s in signs},
                flags=tuple(c for c in CHECKS if fired[c]),
                reasons=tuple(why),
                p_compensation=float(score[i]) if np.isfinite(ratio) else float("nan"),
                p_checks={c: float(v[i]) for c, v in p_checks.items()},
                p_model=None if model is None else float(model[i]),
                notes=tuple(notes[i]),
            )
        )
    return out


def score_trials(
    table: pd.DataFrame,
    pairs: Sequence[tuple[str, str]],
    *,
    rules: Rules = DEFAULT_RULES,
    signs: Sequence[KinematicSign] = (),
) -> pd.DataFrame:
    """Check and score every test trial of a trial table (each side on its own).

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`nkt_motion.features.trial_table` (or several sides' tables
        concatenated; the ``side`` column tells them apart).
    pairs : sequence of (str, str)
        ``(tested code, partner code)`` pairs.
    rules : Rules
        Rule parameters.
    signs : sequence of KinematicSign
        Kinematic signs to check.

    Returns
    -------
    pandas.DataFrame
        One row per test trial and pair (:meth:`TrialResult.row`); ``p_model``
        only when the table has it.

    Examples
    --------
    >>> t = pd.DataFrame({"phase": ["pre"], "trial": [0], "label": ["pre/test/GMED"],
    ...                   "log_ratio_GMED_ADL": [np.log(0.5)], "onset_diff_ms_GMED_ADL": [10.0],
    ...                   "rms_GMED": [0.3], "rms_ADL": [0.6]})
    >>> score_trials(t, [("GMED", "ADL")])[["flag", "flag_ratio", "flag_onset"]].values.tolist()
    [[True, True, False]]
    """
    if "label" not in table:
        return pd.DataFrame()
    side_values = table["side"].astype(str).unique() if "side" in table else [""]
    results = [
        r
        for side in side_values
        for t, p in pairs
        for r in score_pair(
            test_rows(table, t, side=side or None), t, p, rules=rules, signs=signs,
            sides=(side, ""),
        )
    ]  # fmt: skip
    frame = pd.DataFrame([r.row() for r in results])
    return frame.drop(columns=["p_model"]) if "p_model" not in table and len(frame) else frame
