"""Rows of the index from an assessment, and the history table from rows."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

import pandas as pd

from nkt_motion.vocab import muscle_id

if TYPE_CHECKING:
    from nkt_motion.assess.pipeline import Assessment
    from nkt_motion.assess.rules import PhaseResult

__all__ = ["HISTORY_COLUMNS", "IDENTIFYING_COLUMNS", "TEST_COLUMNS", "history_frame", "pair_rows"]

#: Columns of the ``tests`` table filled from each tested:partner pair.
TEST_COLUMNS: Final = (
    "protocol", "tested", "partner", "side",
    "pre_ratio", "pre_ci_lo", "pre_ci_hi", "pre_n_trials", "pre_p_compensation", "pre_flag",
    "post_ratio", "post_ci_lo", "post_ci_hi", "post_n_trials", "post_p_compensation",
    "post_flag", "ratio_change", "change_ci_lo", "change_ci_hi", "verdict", "verdict_reason",
)  # fmt: skip
_SESSION_COLUMNS: Final = (
    "client", "session_id", "session", "visit", "recorded_at", "dated_by", "origin", "source",
    "content_hash", "software_version", "analysed_at",
)  # fmt: skip
#: Columns of :meth:`nkt_motion.index.SessionIndex.history`, in order.
HISTORY_COLUMNS: Final = (*_SESSION_COLUMNS, "normalisation", *TEST_COLUMNS)
#: Columns added by ``include_identifying=True``.
IDENTIFYING_COLUMNS: Final = ("name", "birth_date", "notes")
_FLOATS: Final = tuple(
    c for c in TEST_COLUMNS if c.endswith(("_ratio", "_lo", "_hi", "_compensation", "_change"))
)


def _num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _phase(ph: PhaseResult) -> tuple[Any, ...]:
    lo, hi = ph.ci
    return (_num(ph.ratio), _num(lo), _num(hi), int(ph.n_trials), _num(ph.p_compensation),
            int(bool(ph.flag)))  # fmt: skip


def pair_rows(assessment: Assessment) -> list[tuple[Any, ...]]:
    """One ``tests`` row per tested:partner pair, in :data:`TEST_COLUMNS` order.

    Parameters
    ----------
    assessment : Assessment
        A session's assessment.

    Returns
    -------
    list of tuple
        Muscles as ids, NaN as None, flags as 0/1.

    Examples
    --------
    >>> from nkt_motion.assess import assess_session
    >>> from nkt_motion.simulate import gmed_adl_hip_flexion, simulate
    >>> sc = gmed_adl_hip_flexion(n_trials=3).replace(trial_s=1.0, gap_s=0.3, correction_s=0.5)
    >>> (row,) = pair_rows(assess_session(simulate(sc).session, n_boot=100))
    >>> row[1:4], row[-2]
    (('gluteus_medius', 'adductor_longus', 'L'), 'resolved')
    """
    rows = []
    for t in assessment.tests:
        lo, hi = t.change_ci
        rows.append(
            (t.protocol, muscle_id(t.tested), muscle_id(t.partner), t.side,
             *_phase(t.pre), *_phase(t.post),
             _num(t.ratio_change), _num(lo), _num(hi), t.verdict, t.verdict_reason)
        )  # fmt: skip
    return rows


def _normalisation(stored: str | None, tested: str, partner: str, side: str | None) -> str:
    """Return the method shared by both muscles, else ``muscle: method`` per muscle."""
    if stored is None:
        return "unknown"
    stored_methods = json.loads(stored)
    methods = {
        m: str(stored_methods.get(f"{side}:{m}", stored_methods.get(m, "unknown")))
        for m in (tested, partner)
    }
    if len(set(methods.values())) == 1:
        return methods[tested]
    return ", ".join(f"{m}: {v}" for m, v in methods.items())


def history_frame(rows: Sequence[Sequence[Any]], *, identifying: bool = False) -> pd.DataFrame:
    """Build the history table from joined rows.

    Parameters
    ----------
    rows : sequence of sequence
        Session columns and visit number, the stored normalisation JSON, the
        test columns (and the identifying columns), ordered by time.
    identifying : bool
        Whether the rows end with :data:`IDENTIFYING_COLUMNS`.

    Returns
    -------
    pandas.DataFrame
        :data:`HISTORY_COLUMNS` (+ identifying); ``normalisation`` is the method
        shared by the tested muscle and its partner on the pair's side
        (``reference``, ``task_peak``, ``none``; ``unknown`` for sessions
        recorded before the index kept it), or each muscle's when they differ
        (``gluteus_medius: reference, adductor_longus: task_peak``).

    Examples
    --------
    >>> list(history_frame([]).columns[:4])
    ['client', 'session_id', 'session', 'visit']
    """
    raw_cols = [*_SESSION_COLUMNS, "normalisation_json", *TEST_COLUMNS]
    raw_cols += list(IDENTIFYING_COLUMNS) if identifying else []
    df = pd.DataFrame.from_records([tuple(r) for r in rows], columns=raw_cols)
    df["normalisation"] = [
        _normalisation(n, t, p, s)
        for n, t, p, s in zip(
            df["normalisation_json"], df["tested"], df["partner"], df["side"], strict=True
        )
    ]
    df[list(_FLOATS)] = df[list(_FLOATS)].astype(float)
    for col in ("pre_flag", "post_flag"):
        df[col] = df[col].astype(bool)
    for col in ("session_id", "visit", "pre_n_trials", "post_n_trials"):
        df[col] = df[col].astype("int64")
    extra = list(IDENTIFYING_COLUMNS) if identifying else []
    return df[[*HISTORY_COLUMNS, *extra]]
