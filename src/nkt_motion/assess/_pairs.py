"""One side's trial table, and one tested:partner pair's assessment from it.

:func:`analyse_side` cuts and measures the trials of one side;
:func:`assess_pair` applies the rules per phase (with the other side's trials
when they are recorded), scores every trial, compares before with after and
decides the verdict.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from nkt_motion import protocols
from nkt_motion.assess.rules import DEFAULT_RULES, PhaseResult, phase_result, test_rows
from nkt_motion.assess.sides import SIDE_WORDS
from nkt_motion.assess.trials import TrialResult, score_pair
from nkt_motion.assess.verdict import PairAssessment, change_interval, decide_verdict
from nkt_motion.errors import ValidationError
from nkt_motion.features import AnalysisContext, resolve_context, trial_table
from nkt_motion.model import Session
from nkt_motion.vocab import muscle_code, muscle_id, muscle_name

__all__ = ["SideData", "analyse_side", "assess_pair", "no_comparison"]

logger = logging.getLogger(__name__)

FloatArray = np.ndarray[Any, np.dtype[np.float64]]


@dataclass(frozen=True, slots=True, eq=False)
class SideData:
    """The analysis of one side: context, trial table (None when none) and why not."""

    ctx: AnalysisContext
    table: pd.DataFrame | None
    error: str

    @property
    def side(self) -> str:
        """The side, ``""`` when unknown."""
        return self.ctx.side or ""


def analyse_side(
    session: Session,
    protocol: protocols.Protocol | str | None,
    side: str | None,
    *,
    model_step: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    **options: Any,
) -> SideData:
    """Resolve one side's context and cut its trial table (errors become ``error``).

    Parameters
    ----------
    session : Session
        The session.
    protocol : Protocol or str or None
        As given to :func:`nkt_motion.assess.assess_session`.
    side : {"L", "R"} or None
        The side; None infers it.
    model_step : callable, optional
        Adds ``p_model`` to a trial table.
    **options
        ``normalisation`` and ``onset_method`` of
        :func:`nkt_motion.features.trial_table`.

    Returns
    -------
    SideData
        Context, table and error text.

    Examples
    --------
    >>> from nkt_motion.simulate import gmed_adl_hip_flexion, simulate
    >>> s = simulate(gmed_adl_hip_flexion(n_trials=2).replace(trial_s=1.0)).session
    >>> d = analyse_side(s, None, None)
    >>> d.side, len(d.table), d.error
    ('L', 4, '')
    """
    ctx = resolve_context(session, protocol, side=side)
    table: pd.DataFrame | None = None
    error = ""
    if ctx.pairs:
        try:
            table = trial_table(
                session, ctx.protocol, tested=ctx.tested, partners=ctx.partners,
                side=ctx.side, **options,
            )  # fmt: skip
        except ValidationError as exc:
            error = f"no trials analysed: {exc}"
            logger.warning(error)
    if table is not None and model_step is not None:
        table = model_step(table)
    return SideData(ctx, table, error)


def no_comparison(session: Session, data: SideData, other: SideData | None) -> str:
    """Why a side was not compared with the other side ("" when it was).

    Parameters
    ----------
    session : Session
        The session.
    data : SideData
        The side assessed.
    other : SideData or None
        The other side's analysis, when its test trials are recorded.

    Returns
    -------
    str
        A plain-word caveat, or ``""``.

    Examples
    --------
    >>> from nkt_motion.simulate import gmed_adl_hip_flexion, simulate
    >>> s = simulate(gmed_adl_hip_flexion(n_trials=2).replace(trial_s=1.0)).session
    >>> no_comparison(s, analyse_side(s, None, None), None).split(" (")[0]
    'the right side was not recorded'
    """
    if not data.side:
        return "the tested side is unknown, so it was not compared with the other side"
    o = "R" if data.side == "L" else "L"
    there = SIDE_WORDS[o]
    ids = {muscle_id(c) for c in data.ctx.muscles}
    emg = session.streams.get("emg")
    if emg is None or not any(c.muscle in ids and c.side == o for c in emg.channels):
        return (
            f"the {there} side was not recorded (no EMG channel of these muscles on the "
            f"{there}): no side-to-side comparison"
        )
    if other is None:
        code = muscle_code(data.ctx.tested[0])
        return (
            f"the {there} side's muscles were recorded but no test trial names that side "
            f"(e.g. pre/test/{code}/{o}): no side-to-side comparison"
        )
    return f"no side-to-side comparison: {other.error}" if other.table is None else ""


def _other_logs(other: SideData | None, pair: tuple[str, str], phase: str) -> FloatArray | None:
    if other is None or other.table is None:
        return None
    rows = test_rows(other.table, pair[0], phase=phase)
    col = f"log_ratio_{pair[0]}_{pair[1]}"
    return rows[col].to_numpy(dtype=float) if col in rows else np.full(len(rows), np.nan)


def _empty_phase(phase: str) -> PhaseResult:
    nan = float("nan")
    return PhaseResult(phase, 0, nan, (nan, nan), nan, nan, nan, {}, False, (), nan)


def _phase(
    data: SideData, other: SideData | None, pair: tuple[str, str], phase: str, **kw: Any
) -> PhaseResult:
    if data.table is None:
        return _empty_phase(phase)
    ctx = data.ctx
    rows = test_rows(data.table, pair[0], phase=phase)
    rules = ctx.protocol.rules if ctx.protocol else DEFAULT_RULES
    signs = ctx.protocol.kinematic_signs if ctx.protocol else ()
    res = phase_result(
        rows, *pair, phase=phase, rules=rules, signs=signs,
        other_logs=_other_logs(other, pair, phase),
        sides=(data.side, other.side if other else ""), **kw,
    )  # fmt: skip
    if "p_model" in rows and len(rows):
        res = dataclasses.replace(res, p_model=float(rows["p_model"].mean()))
    return res


def _problems(data: SideData, pair: tuple[str, str]) -> list[str]:
    ctx, table = data.ctx, data.table
    out = [f"no EMG channel for {muscle_name(c)}" for c in pair if c in ctx.missing]
    if table is not None:
        rows = test_rows(table, pair[0])
        for c in pair:
            col = f"quality_reason_{c}"
            if col in rows:
                out += [str(r) for r in rows[col].unique() if r]
    return list(dict.fromkeys(out))


def assess_pair(
    data: SideData, other: SideData | None, pair: tuple[str, str], note: str, **kw: Any
) -> PairAssessment:
    """Assess one tested:partner pair of one side, before vs after.

    Parameters
    ----------
    data : SideData
        The side assessed.
    other : SideData or None
        The other side, compared with when given.
    pair : (str, str)
        Tested and partner codes.
    note : str
        Why the sides were not compared ("" when they were).
    **kw
        ``n_boot``, ``ci`` and ``seed``.

    Returns
    -------
    PairAssessment
        Phases, change, verdict, caveats and per-trial results.

    Examples
    --------
    >>> from nkt_motion.simulate import gmed_adl_hip_flexion, simulate
    >>> s = simulate(gmed_adl_hip_flexion(n_trials=3).replace(trial_s=1.0)).session
    >>> t = assess_pair(analyse_side(s, None, None), None, ("GMED", "ADL"), "", n_boot=200)
    >>> t.verdict, [round(r.p_compensation, 1) for r in t.trials]
    ('resolved', [1.0, 1.0, 1.0, 0.0, 0.0, 0.0])
    """
    ctx = data.ctx
    rules = ctx.protocol.rules if ctx.protocol else DEFAULT_RULES
    signs = ctx.protocol.kinematic_signs if ctx.protocol else ()
    pre, post = (_phase(data, other, pair, ph, **kw) for ph in ("pre", "post"))
    change, interval = change_interval(pre.log_ratios, post.log_ratios, **kw)
    problems = _problems(data, pair)
    enough = min(pre.n_trials, post.n_trials) >= rules.min_trials
    caveats = [f"trials excluded for signal quality: {p}" for p in problems] if enough else []
    caveats += [note] if note else []
    caveats += [
        f"{ph.phase}: {ph.other_side.reason}"
        for ph in (pre, post)
        if ph.other_side is not None and ph.other_side.reason and not ph.other_side.flag
    ]
    verdict, why = decide_verdict(
        pre, post, interval, rules=rules, quality_problems=() if enough else tuple(problems)
    )
    trials: tuple[TrialResult, ...] = ()
    if data.table is not None:
        others = {ph: _other_logs(other, pair, ph) for ph in ("pre", "post")}
        trials = tuple(
            score_pair(
                test_rows(data.table, pair[0]), *pair, rules=rules, signs=signs,
                other={k: v for k, v in others.items() if v is not None} if other else None,
                sides=(data.side, other.side if other else ""),
            )
        )  # fmt: skip
    return PairAssessment(
        ctx.protocol.name if ctx.protocol else "",
        *pair,
        data.side,
        pre,
        post,
        change,
        interval,
        verdict,
        why,
        tuple(caveats),
        trials,
    )
