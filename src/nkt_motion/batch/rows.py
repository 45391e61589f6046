"""The tidy results table of a batch: one table, three kinds of rows.

Every session gives one ``session`` row, one ``pair`` row per tested:partner
pair of its assessment and one ``trial`` row per test trial and pair; a session
that could not be analysed gives its ``session`` row only, with ``status``
``"failed"`` and the reason in ``error``. Filter on ``row_type`` to get one
level: ``session`` rows count sessions, ``pair`` rows hold the verdicts,
``trial`` rows the per-trial features.

Columns
-------
Identity (every row):
    ``row_type`` (``session``, ``pair``, ``trial``); ``source`` (path relative
    to the batch root, ``/``-separated); ``kind`` (``bids``, ``edf``, ``csv``);
    ``content_hash`` (SHA-256 of the session's files, see
    :mod:`nkt_motion.batch.discover`); ``settings_hash``
    (:attr:`~nkt_motion.batch.Settings.settings_hash`); ``duplicate_of`` (for a
    path whose content equals an earlier one's: the ``source`` whose analysis
    these rows repeat; else empty); ``status`` (``ok``, ``failed``); ``error``
    (why it failed, or a note such as a report that could not be written);
    ``read_mode`` (``full``: the whole recording; ``windows``: the event
    windows, see :mod:`nkt_motion.io.windows`; ``nkt-motion analyze`` reads a
    recording the same way with the same options); ``subject``, ``session``,
    ``protocol``, ``side``; ``recorded_at`` (when the session was recorded,
    ISO 8601, UTC with an offset or local time as given, from its files:
    ``meta["recorded_at"]``, BIDS ``acq_time`` or the EDF/BDF start date;
    empty when undated or not analysed).
Session rows:
    ``n_trials`` (trials in the trial table), ``quality_ok`` (every channel
    usable), ``quality_problem`` (why no trial could be analysed, if so).
Pair and trial rows (the pair's assessment, the ``analyze --json`` test):
    ``tested_muscle``, ``partner_muscle`` (muscle ids); ``verdict``,
    ``verdict_reason``; per phase ``pre_`` / ``post_``: ``ratio``, ``ci_lo``,
    ``ci_hi``, ``n_trials``, ``p_compensation``, ``flag``, ``reasons``
    (``"; "``-joined); ``ratio_change``, ``change_ci_lo``, ``change_ci_hi``.
Trial rows:
    ``phase``, ``trial``, ``label``, ``onset_s``, ``duration_s``; the trial's
    checks for this pair prefixed ``trial_`` (``trial_ratio``, ``trial_flag``,
    ``trial_flag_<check>``, ``trial_reasons``, ``trial_p_compensation``...,
    see :attr:`nkt_motion.assess.Assessment.trial_flags`); then the trial-table
    features (:func:`nkt_motion.features.trial_table`: ``rms_<C>``,
    ``log_ratio_<T>_<P>``, ``onset_ms_<C>``, ...) in alphabetical order. Their
    names carry muscle codes, so sessions of other protocols leave them empty.

Missing values are empty (null in Parquet, an empty cell in CSV).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import pandas as pd

from nkt_motion.vocab import muscle_code

if TYPE_CHECKING:
    from nkt_motion.assess import Assessment

__all__ = [
    "ID_COLUMNS",
    "PAIR_COLUMNS",
    "ROW_TYPES",
    "SESSION_COLUMNS",
    "TRIAL_COLUMNS",
    "failure_rows",
    "order_columns",
    "session_rows",
]

#: Values of ``row_type``, in the order rows of a session are written.
ROW_TYPES: Final = ("session", "pair", "trial")
#: Identity columns, on every row.
ID_COLUMNS: Final = (
    "row_type", "source", "kind", "content_hash", "settings_hash", "duplicate_of", "status",
    "error", "read_mode", "subject", "session", "protocol", "side", "recorded_at",
)  # fmt: skip
#: Columns of session rows.
SESSION_COLUMNS: Final = ("n_trials", "quality_ok", "quality_problem")
_PHASE_FIELDS: Final = ("ratio", "ci_lo", "ci_hi", "n_trials", "p_compensation", "flag", "reasons")
#: Columns of pair rows (repeated on trial rows).
PAIR_COLUMNS: Final = (
    "tested_muscle", "partner_muscle", "verdict", "verdict_reason",
    *(f"{ph}_{f}" for ph in ("pre", "post") for f in _PHASE_FIELDS),
    "ratio_change", "change_ci_lo", "change_ci_hi",
)  # fmt: skip
#: Leading columns of trial rows (the ``trial_`` checks and the features follow).
TRIAL_COLUMNS: Final = ("phase", "trial", "label", "onset_s", "duration_s")
_TRIAL_IDS: Final = ("subject", "session", "protocol", "side", "phase", "trial", "label")
_KNOWN: Final = frozenset((*ID_COLUMNS, *SESSION_COLUMNS, *PAIR_COLUMNS, *TRIAL_COLUMNS))


def _ids(ids: Mapping[str, Any], row_type: str) -> dict[str, Any]:
    return {c: ids.get(c) for c in ID_COLUMNS} | {"row_type": row_type}


def _phase(prefix: str, d: Mapping[str, Any]) -> dict[str, Any]:
    lo, hi = [*(d.get("ci") or []), None, None][:2]
    return {
        f"{prefix}_ratio": d.get("ratio"),
        f"{prefix}_ci_lo": lo,
        f"{prefix}_ci_hi": hi,
        f"{prefix}_n_trials": d.get("n_trials"),
        f"{prefix}_p_compensation": d.get("p_compensation"),
        f"{prefix}_flag": d.get("flag"),
        f"{prefix}_reasons": "; ".join(str(r) for r in d.get("reasons") or []),
    }


def _pair(test: Mapping[str, Any]) -> dict[str, Any]:
    change = test.get("change") or {}
    lo, hi = [*(change.get("ci") or []), None, None][:2]
    return {
        "tested_muscle": test.get("tested_muscle"),
        "partner_muscle": test.get("partner_muscle"),
        "verdict": test.get("verdict"),
        "verdict_reason": test.get("verdict_reason"),
        **_phase("pre", test.get("pre") or {}),
        **_phase("post", test.get("post") or {}),
        "ratio_change": change.get("ratio_change"),
        "change_ci_lo": lo,
        "change_ci_hi": hi,
    }


def _trial_rows(a: Assessment, test: Mapping[str, Any]) -> list[dict[str, Any]]:
    flags, table = a.trial_flags, a.trials
    if flags.empty or table.empty or "tested" not in flags:
        return []
    mine = (flags["tested"] == muscle_code(str(test["tested_muscle"]))) & (
        flags["partner"] == muscle_code(str(test["partner_muscle"]))
    )
    keys = ["label", "trial"]
    if "side" in flags and "side" in table and test.get("side"):
        mine &= flags["side"] == test["side"]
        keys.append("side")
    checks = flags[mine].drop(columns=["tested", "partner", "phase"])
    checks = checks.rename(columns={c: f"trial_{c}" for c in checks if c not in keys})
    joined = table.merge(checks, on=keys, how="inner", sort=False)
    drop = ["subject", "session", "protocol", "side"]
    return [
        {str(k): v for k, v in row.items()}
        for row in joined.drop(columns=[c for c in drop if c in joined]).to_dict("records")
    ]


def session_rows(a: Assessment, ids: Mapping[str, Any]) -> pd.DataFrame:
    """Return the rows of an analysed session: its session, pair and trial rows.

    Parameters
    ----------
    a : Assessment
        The session's assessment.
    ids : mapping
        Identity values (``source``, ``kind``, ``content_hash``,
        ``settings_hash``, ``read_mode``...); ``subject``, ``session``,
        ``protocol``, ``side`` and ``status`` come from the assessment.

    Returns
    -------
    pandas.DataFrame
        Shape (1 + n_pairs + n_trials * n_pairs, n_columns), columns as in the
        module notes.

    Examples
    --------
    >>> from nkt_motion.assess import assess_session
    >>> from nkt_motion.simulate import gmed_adl_hip_flexion, simulate
    >>> sc = gmed_adl_hip_flexion(n_trials=3).replace(trial_s=1.5, gap_s=0.5)
    >>> a = assess_session(simulate(sc).session, n_boot=100)
    >>> rows = session_rows(a, {"source": "s.bdf"})
    >>> rows["row_type"].value_counts().to_dict()
    {'trial': 6, 'session': 1, 'pair': 1}
    >>> rows.loc[rows.row_type == "pair", ["verdict", "source"]].values.tolist()
    [['resolved', 's.bdf']]
    """
    d = a.to_dict()
    tests = d["tests"]
    side = next((t.get("side") for t in tests if t.get("side")), None)
    base = dict(ids) | {
        "status": "ok",
        "subject": a.subject,
        "session": a.session,
        "protocol": a.protocol or None,
        "side": side,
    }
    quality = d.get("quality") or {}
    rows = [
        _ids(base, "session")
        | {
            "n_trials": len(a.trials),
            "quality_ok": quality.get("ok"),
            "quality_problem": quality.get("problem"),
        }
    ]
    rows += [_ids(base | {"side": t.get("side") or side}, "pair") | _pair(t) for t in tests]
    for t in tests:
        head = _ids(base | {"side": t.get("side") or side}, "trial") | _pair(t)
        rows += [head | trial for trial in _trial_rows(a, t)]
    return order_columns(pd.DataFrame(rows))


def failure_rows(ids: Mapping[str, Any], error: str) -> pd.DataFrame:
    """Return the single session row of a session that could not be analysed.

    Parameters
    ----------
    ids : mapping
        Identity values (``source``, ``kind``, ``content_hash``...).
    error : str
        Why it failed.

    Returns
    -------
    pandas.DataFrame
        Shape (1, len(ID_COLUMNS)), ``status`` ``"failed"``.

    Examples
    --------
    >>> failure_rows({"source": "bad.bdf"}, "not a BDF")[["row_type", "status", "error"]]
      row_type  status      error
    0  session  failed  not a BDF
    """
    return pd.DataFrame([_ids(dict(ids) | {"status": "failed", "error": error}, "session")])


def order_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Put a results table's columns in the documented order.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows of one or more sessions.

    Returns
    -------
    pandas.DataFrame
        Identity, session, pair and trial columns, then the ``trial_`` checks
        and the features, each group sorted by name.

    Examples
    --------
    >>> order_columns(pd.DataFrame({"rms_ADL": [1.0], "row_type": ["trial"]})).columns.tolist()
    ['row_type', 'rms_ADL']
    """
    fixed = [
        c for c in (*ID_COLUMNS, *SESSION_COLUMNS, *PAIR_COLUMNS, *TRIAL_COLUMNS) if c in frame
    ]
    rest = [str(c) for c in frame.columns if c not in _KNOWN]
    checks = sorted(c for c in rest if c.startswith("trial_"))
    features = sorted(c for c in rest if not c.startswith("trial_") and c not in _TRIAL_IDS)
    return frame[fixed + checks + features]
