"""Explainable compensation rules: within one person and session, no training needed.

For a tested muscle T and a partner P, over one phase's test trials
(``pre`` or ``post``), three rules may fire; each gives a plain-word reason.

Ratio rule
    Each muscle's amplitude is normalised to its own reference contractions
    (``ref/<CODE>``; CEDE "task peak" when a muscle has none), so 1.0 means
    "working at the level of its own reference". The *expected* ratio of
    normalised T to normalised P is 1: both muscles work at the same share of
    their own reference. The rule fires when the phase ratio (geometric mean
    over trials, i.e. ``exp`` of the mean log-ratio) is below
    ``1 - ratio_change_threshold`` (0.8 by default): the tested muscle works
    at a share of its reference at least 20 % smaller than the partner does.
    This is a convention for one session; the pre/post comparison
    (:mod:`nkt_motion.assess.verdict`) is what the rules are built for.
Onset rule
    Fires when, in more than half of the phase's trials with both onsets, the
    partner's onset leads the tested muscle's by more than ``onset_margin_ms``.
Kinematic rule
    For each sign the protocol names, fires when in more than half of the
    trials the peak angle (relative to the rest posture) exceeds
    ``max(sign.threshold_deg, rules.kinematic_threshold_deg)``: the sign's
    own level, and never less than the IMU measurement error.

Side-to-side rule
    When the other side is recorded in the same session, fires when this
    side's ratio is at least ``ratio_change_threshold`` lower than the other
    side's (see :mod:`nkt_motion.assess.sides`).

A phase is *flagged* when any rule fires. Its **rule-based probability**
``p_compensation`` is the fraction of bootstrap resamples of the trials (with
replacement, seeded; the other side's trials resampled independently) in which
the phase is flagged: it tells how stable the flag is over the trials recorded.
It is **not a calibrated probability**; a trained classifier's calibrated
probability is given alongside when a model is passed to
:func:`nkt_motion.assess.assess_session`. Per-trial scores are in
:mod:`nkt_motion.assess.trials`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from nkt_motion.assess._resample import expand, ratio_interval
from nkt_motion.assess.sides import SideComparison, compare_sides
from nkt_motion.features import SIGN_COLUMNS
from nkt_motion.protocols import KinematicSign, Rules
from nkt_motion.vocab import muscle_code, muscle_name

__all__ = ["DEFAULT_RULES", "PhaseResult", "expand", "phase_result", "test_rows"]

FloatArray = NDArray[np.float64]

#: Rule parameters used when the session follows no known protocol.
DEFAULT_RULES: Final = Rules(
    ratio_change_threshold=0.2,
    onset_margin_ms=30.0,
    kinematic_threshold_deg=3.0,
    min_trials=3,
    source="nkt-motion defaults: Morrissey et al. 2012 (20 %), IMU error about 3 deg",
)
_SIGN_WORDS: Final = {
    "contralateral_pelvic_drop": "pelvis dropped {v:.0f} deg on the unsupported side",
    "hip_hike": "pelvis rose {v:.0f} deg on the unsupported side (hip hike)",
    "trunk_lean": "trunk leaned {v:.0f} deg toward the stance side",
    "hip_adduction": "stance hip adducted {v:.0f} deg",
}


@dataclass(frozen=True, slots=True)
class PhaseResult:
    """Rule evidence for one tested:partner pair over one phase's test trials.

    Attributes
    ----------
    phase : {"pre", "post"}
        The phase.
    n_trials : int
        Trials with a valid ratio.
    ratio : float
        Geometric mean over trials of normalised tested / normalised partner RMS.
    ci : (float, float)
        Expanded percentile bootstrap interval of ``ratio`` over trials (see
        :func:`expand`; NaN with < 2 trials).
    tested_share, partner_share : float
        Geometric means of each muscle's normalised RMS (1.0 = its reference level).
    onset_diff_ms : float
        Median partner-minus-tested onset, ms (negative: partner first).
    kinematics : dict of str to float
        Median peak per kinematic sign, degrees.
    flag : bool
        Whether any rule fires.
    reasons : tuple of str
        Plain-word reason for every rule that fires.
    p_compensation : float
        Rule-based probability (fraction of bootstrap resamples flagged).
    p_model : float or None
        Mean calibrated probability of a trained classifier over the trials.
    log_ratios : ndarray, shape (n_trials,)
        Per-trial log-ratios used (for the pre/post comparison).
    other_side : SideComparison or None
        The other side's figures and the side-to-side rule, when compared.
    """

    phase: str
    n_trials: int
    ratio: float
    ci: tuple[float, float]
    tested_share: float
    partner_share: float
    onset_diff_ms: float
    kinematics: dict[str, float]
    flag: bool
    reasons: tuple[str, ...]
    p_compensation: float
    p_model: float | None = None
    log_ratios: FloatArray = field(default_factory=lambda: np.empty(0), repr=False)
    other_side: SideComparison | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form (NaN left as float; the caller maps it to null).

        Returns
        -------
        dict
            ``ratio``, ``ci``, ``n_trials``, ``p_compensation``, ``flag``,
            ``reasons`` and extra evidence fields.

        Examples
        --------
        >>> r = PhaseResult("pre", 3, 0.5, (0.4, 0.6), 0.35, 0.7, -80.0, {}, True, ("x",), 1.0)
        >>> r.to_dict()["ci"]
        [0.4, 0.6]
        """
        return {
            "ratio": self.ratio,
            "ci": [self.ci[0], self.ci[1]],
            "n_trials": self.n_trials,
            "p_compensation": self.p_compensation,
            "p_compensation_model": self.p_model,
            "flag": self.flag,
            "reasons": list(self.reasons),
            "tested_share": self.tested_share,
            "partner_share": self.partner_share,
            "onset_diff_ms": self.onset_diff_ms,
            "kinematics_deg": dict(self.kinematics),
        }


def _threshold(sign: KinematicSign, rules: Rules) -> float:
    return max(sign.threshold_deg, rules.kinematic_threshold_deg)


def test_rows(
    table: pd.DataFrame, code: str, *, phase: str | None = None, side: str | None = None
) -> pd.DataFrame:
    """The test trials of one tested muscle in a trial table.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`nkt_motion.features.trial_table` (or several sides' tables
        concatenated).
    code : str
        Tested muscle code or id.
    phase : {"pre", "post"}, optional
        Only that phase; default both.
    side : {"L", "R"}, optional
        Only the rows of that side (the ``side`` column); default every side.

    Returns
    -------
    pandas.DataFrame
        The rows whose label is ``<phase>/test/<CODE>`` with or without a side.

    Examples
    --------
    >>> t = pd.DataFrame({"label": ["pre/test/GMED/L", "post/test/GMED", "ref/GMED"],
    ...                   "phase": ["pre", "post", "ref"], "side": ["L", "L", "L"]})
    >>> test_rows(t, "GMED").label.tolist()
    ['pre/test/GMED/L', 'post/test/GMED']
    >>> len(test_rows(t, "gluteus_medius", phase="pre", side="R"))
    0
    """
    phases = "pre|post" if phase is None else re.escape(phase)
    keep = table["label"].str.fullmatch(rf"(?:{phases})/test/{muscle_code(code)}(?:/[LR])?")
    if side is not None and "side" in table:
        keep &= table["side"] == side
    return table[keep.astype(bool)]


def _majority(fire: NDArray[np.bool_], valid: NDArray[np.bool_], idx: NDArray[np.intp]) -> Any:
    """Per resample (rows of idx): more than half of the valid trials fire."""
    return fire[idx].sum(axis=-1) * 2 > valid[idx].sum(axis=-1)


def _flags(
    rows: pd.DataFrame,
    t: str,
    p: str,
    rules: Rules,
    signs: Sequence[KinematicSign],
    idx: NDArray[np.intp],
) -> tuple[FloatArray, NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_]]:
    """Mean log-ratio, ratio, onset and kinematic flags for each resample in ``idx``."""
    logs = rows[f"log_ratio_{t}_{p}"].to_numpy(dtype=float)
    ok = np.isfinite(logs)
    n_ok = ok[idx].sum(axis=-1)
    sums = np.where(ok, logs, 0.0)[idx].sum(axis=-1)
    mean = np.divide(sums, n_ok, out=np.full(sums.shape, np.nan), where=n_ok > 0)
    ratio_fire = mean < np.log1p(-rules.ratio_change_threshold)
    diff = rows[f"onset_diff_ms_{t}_{p}"].to_numpy(dtype=float)
    onset_fire = _majority(diff < -rules.onset_margin_ms, np.isfinite(diff), idx)
    kin_fire = np.zeros(idx.shape[:-1], dtype=bool)
    for s in signs:
        col = SIGN_COLUMNS[s.sign]
        v = rows[col].to_numpy(dtype=float) if col in rows else np.full(len(rows), np.nan)
        kin_fire |= _majority(v > _threshold(s, rules), np.isfinite(v), idx)
    return mean, ratio_fire, onset_fire, kin_fire


def _median(values: FloatArray) -> float:
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if finite.size else float("nan")


def _geo(values: FloatArray) -> float:
    finite = values[np.isfinite(values) & (values > 0)]
    return float(np.exp(np.log(finite).mean())) if finite.size else float("nan")


def _signs_fired(rows: pd.DataFrame, rules: Rules, signs: Sequence[KinematicSign]) -> list[str]:
    out = []
    for s in signs:
        col = SIGN_COLUMNS[s.sign]
        v = rows[col].to_numpy(dtype=float) if col in rows else np.full(len(rows), np.nan)
        valid = np.isfinite(v)
        if np.sum(v[valid] > _threshold(s, rules)) * 2 > valid.sum():
            out.append(_SIGN_WORDS[s.sign].format(v=_median(v)))
    return out


def _reasons(
    rows: pd.DataFrame, t: str, p: str, ratio: bool, onset: bool, limit: float
) -> list[str]:
    out: list[str] = []
    tn, pn = muscle_name(t), muscle_name(p)
    if ratio:
        norm = rows[f"norm_{t}"].iloc[0] if f"norm_{t}" in rows else "reference"
        of = "its reference" if norm == "reference" else "its peak in this session's tests"
        st, sp = _geo(rows[f"rms_{t}"].to_numpy(float)), _geo(rows[f"rms_{p}"].to_numpy(float))
        out.append(
            f"{tn} worked at {100 * st:.0f} % of {of} while {pn} worked at "
            f"{100 * sp:.0f} % of its own (ratio {st / sp:.2f}, expected at least {limit:.2f})"
        )
    if onset:
        lead = -_median(rows[f"onset_diff_ms_{t}_{p}"].to_numpy(float))
        out.append(f"{pn} fired {lead:.0f} ms before {tn}")
    return out


def phase_result(
    rows: pd.DataFrame,
    tested: str,
    partner: str,
    *,
    phase: str,
    rules: Rules = DEFAULT_RULES,
    signs: Sequence[KinematicSign] = (),
    n_boot: int = 2000,
    ci: float = 0.95,
    seed: int = 0,
    other_logs: FloatArray | None = None,
    sides: tuple[str, str] = ("", ""),
) -> PhaseResult:
    """Apply the rules to one phase's trials of one tested:partner pair.

    Parameters
    ----------
    rows : pandas.DataFrame
        That phase's test-trial rows of :func:`nkt_motion.features.trial_table`.
    tested, partner : str
        Muscle codes.
    phase : {"pre", "post"}
        Name of the phase.
    rules : Rules
        Rule parameters (the protocol's ``rules``).
    signs : sequence of KinematicSign
        The protocol's kinematic signs.
    n_boot : int
        Bootstrap resamples of the trials.
    ci : float
        Interval coverage, in (0, 1).
    seed : int
        Seed of the resampling.
    other_logs : ndarray, shape (m,), optional
        The other side's per-trial log-ratios of the same pair and phase; when
        given, the side-to-side rule is applied too.
    sides : (str, str)
        Tested side and other side (``"L"``/``"R"``), for the side-to-side rule.

    Returns
    -------
    PhaseResult
        Ratio with its interval, flag, reasons and rule-based probability.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rows = pd.DataFrame({"log_ratio_GMED_ADL": np.log([0.5, 0.55, 0.45]),
    ...                      "onset_diff_ms_GMED_ADL": [-80.0, -90.0, -70.0],
    ...                      "rms_GMED": [0.35, 0.38, 0.33], "rms_ADL": [0.7, 0.69, 0.73]})
    >>> r = phase_result(rows, "GMED", "ADL", phase="pre", n_boot=200)
    >>> r.flag, round(r.ratio, 2), r.p_compensation
    (True, 0.5, 1.0)
    >>> r.reasons[1]
    'adductor longus fired 80 ms before gluteus medius'
    """
    n = len(rows)
    logs = rows[f"log_ratio_{tested}_{partner}"].to_numpy(dtype=float)
    point = np.arange(n)[None, :]
    mean, r_fire, o_fire, k_fire = _flags(rows, tested, partner, rules, signs, point)
    idx = np.random.default_rng(seed).integers(0, max(n, 1), size=(n_boot, n))
    b_mean, b_r, b_o, b_k = _flags(rows, tested, partner, rules, signs, idx)
    valid = np.isfinite(logs)
    limit = 1 - rules.ratio_change_threshold
    reasons = _reasons(rows, tested, partner, bool(r_fire[0]), bool(o_fire[0]), limit)
    reasons += _signs_fired(rows, rules, signs) if k_fire[0] else []
    ratio = float(np.exp(mean[0])) if valid.any() else float("nan")
    other, b_side = None, np.zeros(n_boot, dtype=bool)
    if other_logs is not None and valid.any():
        rng = np.random.default_rng([seed, 1])
        other, b_side = compare_sides(
            logs[valid], b_mean, other_logs, pair=(tested, partner), sides=sides,
            rules=rules, ci=ci, rng=rng,
        )  # fmt: skip
        reasons += [other.reason] if other.flag else []
    return PhaseResult(
        phase=phase,
        n_trials=int(valid.sum()),
        ratio=ratio,
        ci=ratio_interval(b_mean, logs[valid], ci),
        tested_share=_geo(rows[f"rms_{tested}"].to_numpy(float)),
        partner_share=_geo(rows[f"rms_{partner}"].to_numpy(float)),
        onset_diff_ms=_median(rows[f"onset_diff_ms_{tested}_{partner}"].to_numpy(float)),
        kinematics={
            s.sign: _median(rows[SIGN_COLUMNS[s.sign]].to_numpy(float))
            for s in signs
            if SIGN_COLUMNS[s.sign] in rows
        },
        flag=bool(r_fire[0] | o_fire[0] | k_fire[0]) or bool(other and other.flag),
        reasons=tuple(reasons),
        p_compensation=float(np.mean(b_r | b_o | b_k | b_side)) if valid.any() else float("nan"),
        log_ratios=logs[valid],
        other_side=other,
    )
