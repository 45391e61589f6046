"""The schema of the index and its ordered migration steps.

The schema version lives in the database header (``PRAGMA user_version``) and
the file is marked as an nkt-motion index by ``PRAGMA application_id``.
:data:`MIGRATIONS` lists every step from an empty file to the current schema;
a step is never edited once released, a change is a new step at the end.
:func:`migrate` applies the missing steps in one ``BEGIN IMMEDIATE``
transaction (re-reading the version under the write lock), so a crash or a
concurrent opener never sees a half-migrated database; an up-to-date file is
opened without taking the write lock.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from nkt_motion.errors import FileFormatError

__all__ = ["APPLICATION_ID", "MIGRATIONS", "SCHEMA_VERSION", "Migration", "migrate"]

#: ``PRAGMA application_id`` of an nkt-motion index ("NKTM" in ASCII).
APPLICATION_ID: Final = 0x4E4B544D


@dataclass(frozen=True, slots=True)
class Migration:
    """One step of the schema: the SQL that takes version ``version - 1`` to ``version``.

    Attributes
    ----------
    version : int
        Schema version after this step (1 for the first).
    description : str
        What the step adds, in plain words.
    statements : tuple of str
        SQL statements run in order inside the migration transaction.

    Examples
    --------
    >>> MIGRATIONS[0].version, MIGRATIONS[-1].version == SCHEMA_VERSION
    (1, True)
    """

    version: int
    description: str
    statements: tuple[str, ...]


_V1: Final = Migration(
    1,
    "clients, their optional identifying details, sessions, tests and verdicts",
    (
        """CREATE TABLE clients (
            id INTEGER PRIMARY KEY,
            label TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL
        )""",
        """CREATE TABLE client_identity (
            client_id INTEGER PRIMARY KEY REFERENCES clients (id) ON DELETE CASCADE,
            name TEXT,
            birth_date TEXT,
            notes TEXT,
            updated_at TEXT NOT NULL
        )""",
        """CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            client_id INTEGER NOT NULL REFERENCES clients (id),
            session_label TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            dated_by TEXT NOT NULL CHECK (dated_by IN ('session', 'analysis')),
            source TEXT NOT NULL,
            content_hash TEXT,
            origin TEXT NOT NULL CHECK (origin IN ('analyze', 'batch', 'retest')),
            protocol TEXT NOT NULL,
            software_version TEXT NOT NULL,
            analysed_at TEXT NOT NULL
        )""",
        "CREATE UNIQUE INDEX sessions_content ON sessions (content_hash)"
        " WHERE content_hash IS NOT NULL",
        "CREATE UNIQUE INDEX sessions_unhashed ON sessions (source) WHERE content_hash IS NULL",
        """CREATE TABLE tests (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            protocol TEXT NOT NULL,
            tested TEXT NOT NULL,
            partner TEXT NOT NULL,
            side TEXT NOT NULL,
            pre_ratio REAL, pre_ci_lo REAL, pre_ci_hi REAL,
            pre_n_trials INTEGER NOT NULL, pre_p_compensation REAL, pre_flag INTEGER NOT NULL,
            post_ratio REAL, post_ci_lo REAL, post_ci_hi REAL,
            post_n_trials INTEGER NOT NULL, post_p_compensation REAL, post_flag INTEGER NOT NULL,
            ratio_change REAL, change_ci_lo REAL, change_ci_hi REAL,
            verdict TEXT NOT NULL,
            verdict_reason TEXT NOT NULL,
            UNIQUE (session_id, tested, partner, side)
        )""",
    ),
)
_V2: Final = Migration(
    2,
    "per-session normalisation of each muscle (NULL: recorded before it was kept) and an "
    "index for a client's visits in time order",
    (
        "ALTER TABLE sessions ADD COLUMN normalisation TEXT",
        "CREATE INDEX sessions_client_time ON sessions (client_id, recorded_at)",
    ),
)
#: Every schema step, in order.
MIGRATIONS: Final[tuple[Migration, ...]] = (_V1, _V2)
#: The schema version this package writes.
SCHEMA_VERSION: Final = MIGRATIONS[-1].version


def _header(conn: sqlite3.Connection) -> tuple[int, int]:
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    app = int(conn.execute("PRAGMA application_id").fetchone()[0])
    return version, app


def _check(conn: sqlite3.Connection, path: Path, version: int, app: int, known: int) -> None:
    if app not in (0, APPLICATION_ID) or (
        version == 0 and conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    ):
        raise FileFormatError(
            "is an SQLite database but not an nkt-motion index (foreign application id or "
            "tables without a schema version)",
            path=path,
        )
    if version > known:
        raise FileFormatError(
            f"index schema version {version} is newer than the {known} this nkt-motion "
            "knows; upgrade nkt-motion to open it",
            path=path,
        )


def migrate(
    conn: sqlite3.Connection,
    *,
    path: str | Path = ":memory:",
    migrations: tuple[Migration, ...] = MIGRATIONS,
) -> int:
    """Bring a database to the last version of ``migrations`` in one transaction.

    Parameters
    ----------
    conn : sqlite3.Connection
        Open in autocommit mode (``isolation_level=None``), no transaction active.
    path : str or Path
        The database file, for messages.
    migrations : tuple of Migration
        The steps, versions 1, 2, ... in order (default: all of this package).

    Returns
    -------
    int
        The schema version before migrating (0 for a new file).

    Raises
    ------
    FileFormatError
        If the database is newer than ``migrations`` know, or is not an
        nkt-motion index. Nothing is changed then.

    Examples
    --------
    >>> conn = sqlite3.connect(":memory:", isolation_level=None)
    >>> migrate(conn, migrations=MIGRATIONS[:1]), migrate(conn), migrate(conn)
    (0, 1, 2)
    >>> conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    True
    """
    known = migrations[-1].version if migrations else 0
    where = Path(path)
    version, app = _header(conn)
    if version == known and app == APPLICATION_ID:
        return version  # up to date: no write lock needed
    conn.execute("BEGIN IMMEDIATE")
    try:
        version, app = _header(conn)
        _check(conn, where, version, app, known)
        for step in migrations[version:]:
            for statement in step.statements:
                conn.execute(statement)
        if version < known:
            conn.execute(f"PRAGMA user_version = {known:d}")
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID:d}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return version
