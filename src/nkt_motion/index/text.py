"""A client's history as text: one table per tested:partner pair across visits."""

from __future__ import annotations

import math
from typing import Final

import pandas as pd

from nkt_motion.vocab import muscle_name

__all__ = ["PAIR_KEYS", "cross_session_caveats", "format_history", "pairs"]

#: Columns that identify one tested:partner pair across visits.
PAIR_KEYS: Final = ("protocol", "tested", "partner", "side")
#: Printed with every history.
CROSS_SESSION_CAVEAT: Final = (
    "Ratios and amplitudes compare across visits only when every visit was normalised to "
    "reference contractions and the electrodes were placed the same way; the change within "
    "a visit (post / pre) is the measure that does not depend on either."
)
#: How a muscle's amplitudes were normalised, in words (history column values).
_METHOD_WORDS: Final = {
    "reference": "reference contractions",
    "task_peak": "the peak of its test trials",
    "none": "not normalised, signal unit",
    "unknown": "not known, analysed before the index kept it",
}
_PEAK_NOTE: Final = (
    "A muscle normalised to the peak of its test trials had no usable reference contraction "
    "at that visit: its amplitudes are relative to its own largest test trial (pre and post "
    "together), so its ratio levels do not compare with other visits."
)
_HEADER: Final = (
    f"{'visit':>5}  {'date':<11}  {'session':<8}  {'pre ratio [CI]':<19}  "
    f"{'post ratio [CI]':<19}  {'change [CI]':<20}  verdict"
)


def pairs(history: pd.DataFrame) -> list[tuple[str, str, str, str]]:
    """Return the tested:partner pairs of a history in first-seen order.

    Parameters
    ----------
    history : pandas.DataFrame
        From :meth:`nkt_motion.index.SessionIndex.history`.

    Returns
    -------
    list of (protocol, tested, partner, side)
        One tuple per pair.

    Examples
    --------
    >>> h = pd.DataFrame({"protocol": ["p", "p"], "tested": ["gluteus_medius"] * 2,
    ...                   "partner": ["adductor_longus"] * 2, "side": ["L", "L"]})
    >>> pairs(h)
    [('p', 'gluteus_medius', 'adductor_longus', 'L')]
    """
    keys = history[list(PAIR_KEYS)].astype(str).itertuples(index=False, name=None)
    return list(dict.fromkeys(keys))


def _num(x: float, fmt: str = ".2f") -> str:
    return format(x, fmt) if math.isfinite(x) else "-"


def _with_ci(x: float, lo: float, hi: float, prefix: str = "") -> str:
    return f"{prefix}{_num(x)} [{_num(lo)}-{_num(hi)}]"


def _date(row: pd.Series) -> str:
    return str(row["recorded_at"])[:10] + ("*" if row["dated_by"] == "analysis" else "")


def _row(row: pd.Series) -> str:
    pre = _with_ci(row["pre_ratio"], row["pre_ci_lo"], row["pre_ci_hi"])
    post = _with_ci(row["post_ratio"], row["post_ci_lo"], row["post_ci_hi"])
    change = _with_ci(row["ratio_change"], row["change_ci_lo"], row["change_ci_hi"], "x")
    return (
        f"{row['visit']:>5}  {_date(row):<11}  {row['session']!s:<8}  {pre:<19}  "
        f"{post:<19}  {change:<20}  {row['verdict']}"
    )


def _visit_methods(rows: pd.DataFrame) -> dict[str, str]:
    """Each muscle's normalisation at one visit (``muscle (side)`` when both sides were tested)."""
    sided = rows["side"].nunique() > 1 if "side" in rows else False
    out: dict[str, str] = {}
    for _, r in rows.iterrows():
        value = str(r["normalisation"])
        parts = dict(p.split(": ", 1) for p in value.split(", ")) if ": " in value else {}
        for m in (r.get("tested"), r.get("partner")):
            if isinstance(m, str) and m:
                name = muscle_name(m) + (f" ({r['side']})" if sided else "")
                out[name] = parts.get(m, value) if parts else value
    return out


def _visit_words(methods: dict[str, str]) -> str:
    """``every muscle: <words>`` or ``<muscle>: <words>; ...`` for a visit."""
    kinds = set(methods.values())
    if len(kinds) == 1:
        kind = kinds.pop()
        return "every muscle: " + _METHOD_WORDS.get(kind, kind)
    return "; ".join(f"{m}: {_METHOD_WORDS.get(v, v)}" for m, v in methods.items())


def cross_session_caveats(history: pd.DataFrame) -> list[str]:
    """Say what limits comparing these visits, from what the index knows of each.

    Parameters
    ----------
    history : pandas.DataFrame
        From :meth:`nkt_motion.index.SessionIndex.history`.

    Returns
    -------
    list of str
        The cross-session caveat; which visits were normalised to reference
        contractions and, for the others, how each muscle's amplitudes were
        normalised (a muscle without a usable reference contraction: to its own
        peak in that visit's test trials); and a note on dates that are
        analysis dates.

    Examples
    --------
    >>> h = pd.DataFrame({"visit": [1, 2], "normalisation": ["reference", "task_peak"],
    ...                   "dated_by": ["session", "session"]})
    >>> cross_session_caveats(h)[1]
    'Normalised to reference contractions: visit 1. Not: visit 2 (the peak of its test trials).'
    >>> mixed = "gluteus_medius: reference, adductor_longus: task_peak"
    >>> h = pd.DataFrame({"visit": [1], "dated_by": ["session"], "side": ["L"],
    ...                   "tested": ["gluteus_medius"], "partner": ["adductor_longus"],
    ...                   "normalisation": [mixed]})
    >>> print(cross_session_caveats(h)[1])  # doctest: +NORMALIZE_WHITESPACE
    Normalised to reference contractions: none. Not: visit 1 (gluteus medius: reference
    contractions; adductor longus: the peak of its test trials).
    """
    out = [CROSS_SESSION_CAVEAT]
    ref, other, peak = [], [], False
    for visit, rows in history.groupby("visit", sort=True):
        methods = _visit_methods(rows) if {"tested", "partner"} <= set(rows) else {}
        kinds = set(methods.values()) or set(rows["normalisation"].astype(str))
        peak = peak or "task_peak" in kinds
        if kinds == {"reference"}:
            ref.append(str(visit))
        elif methods:
            other.append(f"visit {visit} ({_visit_words(methods)})")
        else:
            words = [_METHOD_WORDS.get(k, k) for k in sorted(kinds)]
            other.append(f"visit {visit} ({' / '.join(words)})")
    if not other:
        out.append("Every visit was normalised to reference contractions.")
    else:
        done = f"visit{'s' if len(ref) > 1 else ''} {', '.join(ref)}" if ref else "none"
        out.append(f"Normalised to reference contractions: {done}. Not: {', '.join(other)}.")
    if peak:
        out.append(_PEAK_NOTE)
    if (history["dated_by"] == "analysis").any():
        out.append("* date of the analysis: the recording carried no date.")
    return out


def format_history(history: pd.DataFrame, *, client: str = "") -> str:
    """Format a client's history: per pair, one line per visit, then the caveats.

    Parameters
    ----------
    history : pandas.DataFrame
        From :meth:`nkt_motion.index.SessionIndex.history`.
    client : str
        Pseudonymous id for the heading.

    Returns
    -------
    str
        Lines for a terminal, ending with the disclaimer.

    Examples
    --------
    >>> from nkt_motion.index import HISTORY_COLUMNS
    >>> empty = pd.DataFrame(columns=HISTORY_COLUMNS)
    >>> print(format_history(empty, client="07"))  # doctest: +ELLIPSIS
    Client 07: no recorded tests.
    ...
    """
    from nkt_motion.assess.pipeline import DISCLAIMER

    if history.empty:
        return f"Client {client}: no recorded tests.\n{DISCLAIMER}"
    dates = history["recorded_at"].astype(str).str[:10]
    n = history["visit"].nunique()
    lines = [f"Client {client}: {n} visit(s), {dates.min()} to {dates.max()}"]
    for protocol, tested, partner, side in pairs(history):
        sel = history[
            (history["protocol"] == protocol)
            & (history["tested"] == tested)
            & (history["partner"] == partner)
            & (history["side"] == side)
        ]
        lines += [
            "",
            f"{muscle_name(tested)} : {muscle_name(partner)} ({side or '?'}), "
            f"protocol {protocol or '-'}",
            _HEADER,
            *(_row(r) for _, r in sel.iterrows()),
        ]
    lines += ["", *(f"note: {c}" for c in cross_session_caveats(history)), DISCLAIMER]
    return "\n".join(lines)
