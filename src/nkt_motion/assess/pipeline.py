"""Session -> assessment: features, rules per phase, before vs after, one call.

:func:`assess_session` is what ``nkt-motion analyze`` runs; notebooks and batch
jobs call it directly. Its :class:`Assessment` holds one
:class:`~nkt_motion.assess.verdict.PairAssessment` per tested:partner pair, the
trial table and per-trial rule flags, and serialises to the ``analyze --json``
schema of ARCHITECTURE.md with :meth:`Assessment.to_dict`.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any, Final, Protocol

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from nkt_motion import protocols
from nkt_motion.assess.rules import DEFAULT_RULES, PhaseResult, phase_result, score_trials
from nkt_motion.assess.verdict import PairAssessment, _clean, change_interval, decide_verdict
from nkt_motion.dsp.onsets import OnsetMethod
from nkt_motion.errors import ValidationError
from nkt_motion.features import AnalysisContext, resolve_context, trial_table
from nkt_motion.features.table import Normalisation
from nkt_motion.model import Session
from nkt_motion.vocab import muscle_id, muscle_name

__all__ = ["DISCLAIMER", "Assessment", "assess_session"]

logger = logging.getLogger(__name__)

#: Printed with every assessment.
DISCLAIMER: Final = (
    "nkt-motion is a measurement and research tool, not a medical device: these numbers "
    "describe this recording and are not a diagnosis."
)
_CAVEATS: Final = (
    "Ratios compare muscles within this session and electrode placement only; across "
    "sessions amplitudes are not comparable without normalisation.",
    "p_compensation is rule-based: the fraction of bootstrap resamples of the trials in "
    "which the rules flag compensation, not a calibrated probability.",
)


class _Model(Protocol):
    feature_names_in_: Any

    def predict_proba(self, X: Any) -> Any: ...


@dataclass(frozen=True, slots=True, eq=False)
class Assessment:
    """The assessment of one session: one before/after result per tested:partner pair.

    Attributes
    ----------
    tests : tuple of PairAssessment
        One per pair, in protocol order.
    quality : dict
        Per channel ``ok`` and reasons, the notch used, the normalisation per muscle.
    trials : pandas.DataFrame
        The trial table (:func:`nkt_motion.features.trial_table`); empty when no
        trial could be cut.
    trial_flags : pandas.DataFrame
        Per-trial rule flags (:func:`nkt_motion.assess.rules.score_trials`), with
        ``p_model`` when a classifier was given.
    caveats : tuple of str
        Limits of the whole assessment.
    protocol : str
        Protocol name ("" when none matched).
    subject, session : str
        Ids of the session.
    """

    tests: tuple[PairAssessment, ...]
    quality: dict[str, Any]
    trials: pd.DataFrame
    trial_flags: pd.DataFrame
    caveats: tuple[str, ...]
    protocol: str
    subject: str
    session: str

    def to_dict(self) -> dict[str, Any]:
        """Return the ``analyze --json`` object: NaN becomes None, everything JSON-ready.

        Returns
        -------
        dict
            ``tests``, ``quality``, and ``protocol``, ``subject``, ``session``,
            ``caveats``, ``software``, ``disclaimer``.

        Examples
        --------
        See :func:`assess_session`.
        """
        from nkt_motion import __version__

        out = {
            "tests": [t.to_dict() for t in self.tests],
            "quality": self.quality,
            "protocol": self.protocol,
            "subject": self.subject,
            "session": self.session,
            "caveats": list(self.caveats),
            "software": {"name": "nkt-motion", "version": __version__},
            "disclaimer": DISCLAIMER,
        }
        cleaned: dict[str, Any] = _clean(out)
        return cleaned

    def summary(self) -> str:
        """Return a plain-text summary, one block per pair.

        Returns
        -------
        str
            Lines for a terminal.

        Examples
        --------
        See :func:`assess_session`.
        """
        lines = [f"sub-{self.subject} ses-{self.session} | protocol {self.protocol or '-'}"]
        for t in self.tests:
            lines.append(
                f"{muscle_name(t.tested)} : {muscle_name(t.partner)} ({t.side or '?'})"
                f" -> {t.verdict.upper()} ({t.verdict_reason})"
            )
            for ph in (t.pre, t.post):
                lines.append(
                    f"  {ph.phase:<4} ratio {ph.ratio:.2f} [{ph.ci[0]:.2f}-{ph.ci[1]:.2f}]"
                    f" n={ph.n_trials} p_comp={ph.p_compensation:.2f}"
                    f" {'FLAGGED' if ph.flag else 'not flagged'}"
                )
                lines += [f"       - {r}" for r in ph.reasons]
            lo, hi = t.change_ci
            lines.append(f"  change x{t.ratio_change:.2f} [{lo:.2f}-{hi:.2f}]")
        lines += [f"note: {c}" for c in self.caveats]
        return "\n".join([*lines, DISCLAIMER])


def _empty_phase(phase: str) -> PhaseResult:
    nan = float("nan")
    return PhaseResult(phase, 0, nan, (nan, nan), nan, nan, nan, {}, False, (), nan)


def _phase(
    table: pd.DataFrame | None, ctx: AnalysisContext, pair: tuple[str, str], phase: str, **kw: Any
) -> PhaseResult:
    if table is None:
        return _empty_phase(phase)
    rows = table[table["label"] == f"{phase}/test/{pair[0]}"]
    rules = ctx.protocol.rules if ctx.protocol else DEFAULT_RULES
    signs = ctx.protocol.kinematic_signs if ctx.protocol else ()
    res = phase_result(rows, *pair, phase=phase, rules=rules, signs=signs, **kw)
    if "p_model" in rows and len(rows):
        res = dataclasses.replace(res, p_model=float(rows["p_model"].mean()))
    return res


def _problems(
    table: pd.DataFrame | None, ctx: AnalysisContext, pair: tuple[str, str]
) -> list[str]:
    out = [f"no EMG channel for {muscle_name(c)}" for c in pair if c in ctx.missing]
    if table is not None:
        rows = table[table["label"].str.endswith(f"/test/{pair[0]}")]
        for c in pair:
            col = f"quality_reason_{c}"
            if col in rows:
                out += [str(r) for r in rows[col].unique() if r]
    return list(dict.fromkeys(out))


def _pair(
    table: pd.DataFrame | None, ctx: AnalysisContext, pair: tuple[str, str], **kw: Any
) -> PairAssessment:
    rules = ctx.protocol.rules if ctx.protocol else DEFAULT_RULES
    pre, post = (_phase(table, ctx, pair, ph, **kw) for ph in ("pre", "post"))
    change, interval = change_interval(pre.log_ratios, post.log_ratios, **kw)
    problems = _problems(table, ctx, pair)
    enough = min(pre.n_trials, post.n_trials) >= rules.min_trials
    caveats = [f"trials excluded for signal quality: {p}" for p in problems] if enough else []
    verdict, why = decide_verdict(
        pre, post, interval, rules=rules, quality_problems=() if enough else tuple(problems)
    )
    return PairAssessment(
        ctx.protocol.name if ctx.protocol else "",
        *pair,
        ctx.side or "",
        pre,
        post,
        change,
        interval,
        verdict,
        why,
        tuple(caveats),
    )


def _quality(table: pd.DataFrame | None, ctx: AnalysisContext, error: str) -> dict[str, Any]:
    channels = []
    for code in ctx.muscles:
        reasons: list[str] = []
        if code in ctx.missing:
            reasons.append(f"no EMG channel for {muscle_name(code)}")
        elif table is not None and f"quality_reason_{code}" in table:
            reasons += [str(r) for r in table[f"quality_reason_{code}"].unique() if r]
        channels.append(
            {
                "muscle": muscle_id(code),
                "channel": ctx.channels.get(code),
                "ok": not reasons and table is not None,
                "reasons": reasons or ([error] if error else []),
            }
        )
    attrs = table.attrs if table is not None else {}
    return {
        "ok": all(c["ok"] for c in channels),
        "channels": channels,
        "notch_hz": attrs.get("notch_hz"),
        "normalisation": {muscle_id(k): v for k, v in attrs.get("normalisation", {}).items()},
        "onset_method": attrs.get("onset_method"),
        "n_trials": 0 if table is None else len(table),
        "problem": error or None,
    }


def _apply_model(table: pd.DataFrame, model: _Model) -> pd.DataFrame:
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        raise ValidationError(
            "model must be fitted on a DataFrame of trial-table columns (it has no "
            "feature_names_in_)",
            parameter="model",
        )
    missing = [str(n) for n in names if n not in table]
    if missing:
        raise ValidationError(
            f"model needs trial-table columns {missing} that this session does not have",
            parameter="model",
        )
    proba: ArrayLike = model.predict_proba(table[list(names)].astype(float))
    return table.assign(p_model=np.asarray(proba, dtype=float)[:, -1])


def _caveats(table: pd.DataFrame | None, ctx: AnalysisContext, error: str) -> tuple[str, ...]:
    out = list(_CAVEATS)
    if ctx.protocol is None:
        out.append("no protocol matched: default rule parameters were used")
    if table is not None:
        fallback = [
            muscle_name(k) for k, v in table.attrs["normalisation"].items() if v != ("reference")
        ]
        if fallback:
            out.append(
                f"no reference contraction for {', '.join(fallback)}: normalised to the peak "
                "within this session's tests (CEDE), so its ratio level is relative"
            )
    if error:
        out.append(error)
    return tuple(out)


def assess_session(
    session: Session,
    protocol: protocols.Protocol | str | None = None,
    *,
    side: str | None = None,
    normalisation: Normalisation = "reference",
    onset_method: OnsetMethod = "hodges_bui",
    model: _Model | None = None,
    n_boot: int = 2000,
    ci: float = 0.95,
    seed: int = 0,
) -> Assessment:
    """Assess a session: was compensation likely before the correction, did it change.

    Parameters
    ----------
    session : Session
        With an ``emg`` stream and ``pre/test/<CODE>`` / ``post/test/<CODE>``
        events (``ref/<CODE>`` and ``rest`` events are used when present).
    protocol : Protocol or str, optional
        Inferred from the channels and events when omitted.
    side : {"L", "R"}, optional
        Tested side; inferred from the channels when omitted.
    normalisation : {"reference", "task_peak", "none"}
        Amplitude normalisation (see :func:`nkt_motion.features.trial_table`).
    onset_method : {"hodges_bui", "tkeo", "double_threshold"}
        Onset detector.
    model : fitted classifier, optional
        E.g. :class:`nkt_motion.assess.CompensationClassifier` fitted on a
        DataFrame of trial-table columns; its calibrated probability of the
        last class is reported alongside the rule-based one.
    n_boot : int
        Bootstrap resamples, >= 100.
    ci : float
        Interval coverage, in (0, 1).
    seed : int
        Seed of every resampling.

    Returns
    -------
    Assessment
        One result per tested:partner pair; ``inconclusive`` whenever the data
        do not support a verdict, with the reason.

    Raises
    ------
    ValidationError
        If no tested muscle or partner can be determined, or an option is invalid.

    Examples
    --------
    >>> from nkt_motion.simulate import gmed_adl_hip_flexion, simulate
    >>> sc = gmed_adl_hip_flexion(n_trials=3).replace(trial_s=1.5, gap_s=0.5, correction_s=1.0)
    >>> a = assess_session(simulate(sc).session, "hip_flexion_gmed_adl", n_boot=200)
    >>> t = a.tests[0]
    >>> t.pre.flag, t.post.flag, t.verdict
    (True, False, 'resolved')
    >>> sorted(a.to_dict()["tests"][0])[:4]
    ['caveats', 'change', 'partner_muscle', 'post']
    """
    if not (0.0 < ci < 1.0) or n_boot < 100:
        raise ValidationError(
            f"ci must be in (0, 1) and n_boot >= 100, got ci={ci} and n_boot={n_boot}",
            parameter="ci" if not (0.0 < ci < 1.0) else "n_boot",
        )
    ctx = resolve_context(session, protocol, side=side)
    if not ctx.pairs:
        raise ValidationError(
            "cannot tell which muscle was tested and against which partner: the session has "
            "no pre/test/<CODE> or post/test/<CODE> events, or no other EMG muscle, and no "
            "protocol fits; pass protocol=",
            parameter="protocol",
        )
    table: pd.DataFrame | None = None
    error = ""
    try:
        table = trial_table(
            session,
            ctx.protocol,
            normalisation=normalisation,
            onset_method=onset_method,
            tested=ctx.tested,
            partners=ctx.partners,
            side=ctx.side,
        )
    except ValidationError as exc:
        error = f"no trials analysed: {exc}"
        logger.warning(error)
    if table is not None and model is not None:
        table = _apply_model(table, model)
    kw = {"n_boot": n_boot, "ci": ci, "seed": seed}
    tests = tuple(_pair(table, ctx, pair, **kw) for pair in ctx.pairs)
    rules = ctx.protocol.rules if ctx.protocol else DEFAULT_RULES
    signs = ctx.protocol.kinematic_signs if ctx.protocol else ()
    flags = (
        score_trials(table, ctx.pairs, rules=rules, signs=signs)
        if table is not None
        else (pd.DataFrame())
    )
    if table is not None and "p_model" in table and len(flags):
        flags = flags.merge(table[["label", "trial", "p_model"]], on=["label", "trial"])
    return Assessment(
        tests,
        _quality(table, ctx, error),
        table if table is not None else pd.DataFrame(),
        flags,
        _caveats(table, ctx, error),
        ctx.protocol.name if ctx.protocol else "",
        session.subject,
        session.session_id,
    )
