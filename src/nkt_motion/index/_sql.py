"""The SQL of the index: writing a session and its tests, reading a history.

Every function here runs inside the caller's transaction and trusts its
arguments (:class:`nkt_motion.index.SessionIndex` validates them).
"""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING, Any, Final

from nkt_motion.index._paths import now
from nkt_motion.index._rows import TEST_COLUMNS, pair_rows

if TYPE_CHECKING:
    from nkt_motion.assess.pipeline import Assessment

__all__ = ["HISTORY_SQL", "client_id", "write_session"]

_INSERT_TEST: Final = (
    f"INSERT INTO tests (session_id, {', '.join(TEST_COLUMNS)}) "
    f"VALUES (?{', ?' * len(TEST_COLUMNS)})"
)
_SESSION_SET: Final = (
    "client_id", "session_label", "recorded_at", "dated_by", "source", "content_hash",
    "origin", "protocol", "software_version", "analysed_at", "normalisation",
)  # fmt: skip
#: One row per test of a client (``{identity}`` and ``{join}`` add the
#: identifying columns); parameters: client label, protocol or None twice.
HISTORY_SQL: Final = f"""
WITH visits AS (
    SELECT id, row_number() OVER (PARTITION BY client_id ORDER BY recorded_at, id) AS visit
    FROM sessions
)
SELECT c.label, s.id, s.session_label, v.visit, s.recorded_at, s.dated_by, s.origin, s.source,
       s.content_hash, s.software_version, s.analysed_at, s.normalisation,
       {", ".join("t." + col for col in TEST_COLUMNS)}{{identity}}
FROM tests AS t JOIN sessions AS s ON t.session_id = s.id JOIN clients AS c ON s.client_id = c.id
JOIN visits AS v ON v.id = s.id
{{join}} WHERE c.label = ? AND (? IS NULL OR t.protocol = ?)
ORDER BY s.recorded_at, s.id, t.id
"""


def _normalisations(quality: Any) -> dict[str, str] | None:
    """Return what ``sessions.normalisation`` stores (None when not known).

    Each muscle's normalisation (both sides' when they differ) and, keyed
    ``side:muscle``, each side's.
    """
    if not isinstance(quality, dict) or quality.get("normalisation") is None:
        return None
    out = {str(k): str(v) for k, v in quality["normalisation"].items()}
    for c in quality.get("channels", []):
        if isinstance(c, dict) and c.get("side") and c.get("normalisation"):
            out[f"{c['side']}:{c['muscle']}"] = str(c["normalisation"])
    return out


def client_id(conn: sqlite3.Connection, label: str) -> int:
    """Return the row id of a client, adding the client when new.

    Parameters
    ----------
    conn : sqlite3.Connection
        Open on an index, in a write transaction.
    label : str
        Pseudonymous id.

    Returns
    -------
    int
        The client's row id.

    Examples
    --------
    >>> from nkt_motion.index import migrate
    >>> conn = sqlite3.connect(":memory:", isolation_level=None); _ = migrate(conn)
    >>> client_id(conn, "07"), client_id(conn, "08"), client_id(conn, "07")
    (1, 2, 1)
    """
    conn.execute(
        "INSERT INTO clients (label, created_at) VALUES (?, ?) ON CONFLICT (label) DO NOTHING",
        (label, now()),
    )
    return int(conn.execute("SELECT id FROM clients WHERE label = ?", (label,)).fetchone()[0])


def write_session(
    conn: sqlite3.Connection,
    a: Assessment,
    *,
    source: str,
    content_hash: str | None,
    origin: str,
    recorded_at: str | None,
) -> int:
    """Write a session and its tests: a new row, or an update of the same recording's.

    The same recording: the same ``content_hash``, or without one the same
    ``source``; its tests are replaced. Without ``recorded_at`` an updated
    row keeps its date, a new one is dated by the analysis (now).

    Parameters
    ----------
    conn : sqlite3.Connection
        Open on an index, in a write transaction.
    a : Assessment
        The session's assessment.
    source, content_hash, origin, recorded_at
        As :meth:`nkt_motion.index.SessionIndex.record` takes them, validated.

    Returns
    -------
    int
        The session's row id.

    Examples
    --------
    >>> from nkt_motion.assess import assess_session
    >>> from nkt_motion.index import migrate
    >>> from nkt_motion.simulate import gmed_adl_hip_flexion, simulate
    >>> sc = gmed_adl_hip_flexion(n_trials=3).replace(trial_s=1.0, gap_s=0.3)
    >>> a = assess_session(simulate(sc).session, n_boot=100)
    >>> conn = sqlite3.connect(":memory:", isolation_level=None); _ = migrate(conn)
    >>> kw = {"source": "/s.bdf", "content_hash": None, "origin": "batch", "recorded_at": None}
    >>> write_session(conn, a, **kw), write_session(conn, a, **kw)
    (1, 1)
    >>> conn.execute("SELECT count(*), min(verdict) FROM tests").fetchone()
    (1, 'resolved')
    """
    from nkt_motion import __version__

    select = "SELECT id, recorded_at, dated_by FROM sessions WHERE "
    found = (
        conn.execute(select + "content_hash = ?", (content_hash,)).fetchone()
        if content_hash is not None
        else conn.execute(select + "content_hash IS NULL AND source = ?", (source,)).fetchone()
    )
    if recorded_at is not None:
        dated = (recorded_at, "session")
    elif found is not None:
        dated = (found[1], found[2])
    else:
        dated = (now(), "analysis")
    norm = _normalisations(a.quality)
    values = (client_id(conn, a.subject), str(a.session), *dated, source, content_hash, origin,
              a.protocol, __version__, now(),
              None if norm is None else json.dumps(norm, sort_keys=True))  # fmt: skip
    if found is None:
        columns = ", ".join(_SESSION_SET)
        marks = ", ".join("?" * len(_SESSION_SET))
        cur = conn.execute(f"INSERT INTO sessions ({columns}) VALUES ({marks})", values)
        sid = int(cur.lastrowid or 0)
    else:
        sid = int(found[0])
        assign = ", ".join(f"{col} = ?" for col in _SESSION_SET)
        conn.execute(f"UPDATE sessions SET {assign} WHERE id = ?", (*values, sid))
    conn.execute("DELETE FROM tests WHERE session_id = ?", (sid,))
    conn.executemany(_INSERT_TEST, [(sid, *r) for r in pair_rows(a)])
    return sid
