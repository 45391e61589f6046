"""The client/session index: an SQLite file of clients, sessions, tests and verdicts.

Clients are pseudonymous (the BIDS subject label); identifying details (name,
birth date, notes) sit in a table of their own that no export reads unless
asked with ``include_identifying=True``. The database runs in WAL mode with a
busy timeout and each write is one ``BEGIN IMMEDIATE`` transaction, so any
number of processes (batch workers) can record into one file: writers take
turns, readers never block, nothing is half-written.

Open one :class:`SessionIndex` per process (or thread): a connection is not
shared, the database file is.

Recording is idempotent: a recording is the same as one already indexed when
it has the same ``content_hash`` (whatever its ``source``: a copy of a dataset
elsewhere, or ``analyze`` and ``batch`` naming one file differently, is the
same recording) or, without a hash, the same ``source`` text. Recording it
again replaces that session's row and tests instead of adding a visit.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Final, Literal, get_args

import pandas as pd

from nkt_motion.errors import FileFormatError, ValidationError
from nkt_motion.index._paths import default_index_path, normalise_time, now
from nkt_motion.index._rows import history_frame
from nkt_motion.index._schema import SCHEMA_VERSION, migrate
from nkt_motion.index._sql import HISTORY_SQL, client_id, write_session

if TYPE_CHECKING:
    from nkt_motion.assess.pipeline import Assessment

__all__ = ["ORIGINS", "Origin", "SessionIndex", "open_index"]

logger = logging.getLogger(__name__)

Origin = Literal["analyze", "batch", "retest"]
#: Commands that record into the index.
ORIGINS: Final[tuple[Origin, ...]] = get_args(Origin)
_TIMEOUT_S: Final = 60.0


def _check_text(value: object, parameter: str, *, optional: bool = False) -> None:
    if optional and value is None:
        return
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(
            f"{parameter} must be a non-empty string, got {value!r}", parameter=parameter
        )


class SessionIndex:
    """An open index file; use :func:`open_index` and close it (or use ``with``).

    Parameters
    ----------
    path : str or Path
        The SQLite file (created with its folder when missing), or
        ``":memory:"`` for a private in-memory index.
    timeout : float
        Seconds a writer waits for another writer before giving up.
    create : bool
        Create the file when it does not exist (else that is an error).

    Attributes
    ----------
    path : Path
        The file.
    schema_version : int
        The schema version of the file (after migrating).

    Raises
    ------
    FileFormatError
        If the file cannot be created or opened (or does not exist and
        ``create`` is False), is not an nkt-motion index, or its schema is newer
        than this nkt-motion knows.

    Examples
    --------
    >>> with SessionIndex(":memory:") as idx:
    ...     idx.schema_version == SCHEMA_VERSION, idx.clients()
    (True, [])
    """

    def __init__(
        self, path: str | Path, *, timeout: float = _TIMEOUT_S, create: bool = True
    ) -> None:
        self.path = Path(path)
        if not create and not (str(self.path) == ":memory:" or self.path.is_file()):
            raise FileFormatError(
                "no index here yet (analyze, batch and retest create it)", path=self.path
            )
        self._conn = self._connect(timeout)
        try:
            before = migrate(self._conn, path=self.path)
        except sqlite3.Error as exc:
            self._conn.close()
            raise FileFormatError(f"cannot open the index: {exc}", path=self.path) from exc
        except BaseException:
            self._conn.close()
            raise
        if before != SCHEMA_VERSION:
            logger.info("index %s: schema %d -> %d", self.path, before, SCHEMA_VERSION)
        self.schema_version = SCHEMA_VERSION

    def _connect(self, timeout: float) -> sqlite3.Connection:
        memory = str(self.path) == ":memory:"
        try:
            if not memory:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            msg = f"cannot create or open the index: {exc}"
            raise FileFormatError(msg, path=self.path) from exc
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            if not memory:
                _wal(conn, timeout)
        except sqlite3.Error as exc:
            conn.close()
            raise FileFormatError(f"cannot open the index: {exc}", path=self.path) from exc
        return conn

    def __repr__(self) -> str:
        return f"<SessionIndex {self.path} | schema v{self.schema_version}>"

    def __enter__(self) -> SessionIndex:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the database connection (idempotent).

        Examples
        --------
        >>> idx = SessionIndex(":memory:"); idx.close(); idx.close()
        """
        self._conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise FileFormatError(f"cannot write the index: {exc}", path=self.path) from exc
        try:
            yield self._conn
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            raise FileFormatError(f"cannot write the index: {exc}", path=self.path) from exc
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def record(
        self,
        assessment: Assessment,
        *,
        source: str | os.PathLike[str],
        content_hash: str | None = None,
        origin: Origin,
        recorded_at: str | datetime | None = None,
    ) -> int:
        """Record a session's assessment: its client, the session and one row per test.

        Parameters
        ----------
        assessment : Assessment
            From :func:`nkt_motion.assess.assess_session`; its ``subject`` (a
            BIDS label) is the client, its ``session`` the session label.
        source : str or path-like
            Where the recording came from. A path-like is stored resolved
            (absolute); pass strings as absolute paths too, so that ``analyze``
            and ``batch`` name one file alike.
        content_hash : str, optional
            Hash of the recording's content (:func:`nkt_motion.index.content_hash`);
            what makes two recordings the same (see the module notes).
        origin : {"analyze", "batch", "retest"}
            The command recording.
        recorded_at : str or datetime, optional
            ISO 8601 date-time of the recording. Default: the time of a session
            already indexed under this source and hash, else now (the session
            is then marked as dated by its analysis).

        Returns
        -------
        int
            The session's row id, the same when the same recording is recorded
            again (its row and tests are then replaced).

        Raises
        ------
        ValidationError
            If an argument is not acceptable.
        FileFormatError
            If the index cannot be written.

        Examples
        --------
        >>> from nkt_motion.assess import assess_session
        >>> from nkt_motion.simulate import gmed_adl_hip_flexion, simulate
        >>> sc = gmed_adl_hip_flexion(n_trials=3).replace(trial_s=1.0, gap_s=0.3)
        >>> a = assess_session(simulate(sc).session, n_boot=100)
        >>> with open_index(":memory:") as idx:
        ...     first = idx.record(a, source="/data/s1.bdf", content_hash="ab12", origin="analyze")
        ...     again = idx.record(a, source="/copy/s1.bdf", content_hash="ab12", origin="batch")
        ...     first == again, len(idx.history("01"))
        (True, 1)
        """
        if origin not in ORIGINS:
            raise ValidationError(
                f"origin must be one of {list(ORIGINS)}, got {origin!r}", parameter="origin"
            )
        src = str(Path(source).resolve()) if isinstance(source, os.PathLike) else source
        _check_text(src, "source")
        _check_text(content_hash, "content_hash", optional=True)
        label = assessment.subject
        if not (isinstance(label, str) and label.isalnum()):
            raise ValidationError(
                f"assessment.subject must be an alphanumeric BIDS label, got {label!r}",
                parameter="assessment",
            )
        when = (
            None if recorded_at is None else normalise_time(recorded_at, parameter="recorded_at")
        )
        with self._write() as conn:
            sid = write_session(conn, assessment, source=src, content_hash=content_hash,
                                origin=origin, recorded_at=when)  # fmt: skip
        logger.info("index %s: sub-%s ses-%s recorded as session %d (%d tests)",
                    self.path, label, assessment.session, sid, len(assessment.tests))  # fmt: skip
        return sid

    def clients(self) -> list[str]:
        """Return the pseudonymous ids of every client in the index, sorted.

        Returns
        -------
        list of str
            BIDS subject labels.

        Examples
        --------
        >>> with open_index(":memory:") as idx:
        ...     idx.set_identifying("07", name="A. Client")
        ...     idx.clients()
        ['07']
        """
        rows = self._conn.execute("SELECT label FROM clients ORDER BY label").fetchall()
        return [str(r[0]) for r in rows]

    def set_identifying(
        self,
        client: str,
        *,
        name: str | None = None,
        birth_date: str | None = None,
        notes: str | None = None,
    ) -> None:
        """Store a client's identifying details (kept apart, never exported by default).

        Parameters
        ----------
        client : str
            Pseudonymous id (BIDS subject label); created when new.
        name, birth_date, notes : str, optional
            The details; None clears one. ``birth_date`` is an ISO 8601 date.

        Raises
        ------
        ValidationError
            If ``client`` is not a BIDS label or ``birth_date`` not a date.

        Examples
        --------
        >>> with open_index(":memory:") as idx:
        ...     idx.set_identifying("07", name="A. Client", birth_date="1980-02-29")
        ...     idx.identifying("07")["birth_date"]
        '1980-02-29'
        """
        if not (isinstance(client, str) and client.isalnum()):
            raise ValidationError(
                f"client must be an alphanumeric BIDS label, got {client!r}", parameter="client"
            )
        if birth_date is not None:
            birth_date = normalise_time(birth_date, parameter="birth_date")[:10]
        with self._write() as conn:
            cid = client_id(conn, client)
            conn.execute(
                "INSERT INTO client_identity (client_id, name, birth_date, notes, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (client_id) DO UPDATE SET"
                " name = excluded.name, birth_date = excluded.birth_date, notes = excluded.notes,"
                " updated_at = excluded.updated_at",
                (cid, name, birth_date, notes, now()),
            )

    def identifying(self, client: str) -> dict[str, str | None]:
        """Return a client's identifying details (all None when none were stored).

        Parameters
        ----------
        client : str
            Pseudonymous id.

        Returns
        -------
        dict
            ``name``, ``birth_date``, ``notes``.

        Raises
        ------
        ValidationError
            If the client is not in the index.

        Examples
        --------
        >>> with open_index(":memory:") as idx:
        ...     idx.set_identifying("07", notes="prefers mornings")
        ...     idx.identifying("07")
        {'name': None, 'birth_date': None, 'notes': 'prefers mornings'}
        """
        cid = self._require_client(client)
        row = self._conn.execute(
            "SELECT name, birth_date, notes FROM client_identity WHERE client_id = ?", (cid,)
        ).fetchone()
        values = row if row is not None else (None, None, None)
        return dict(zip(("name", "birth_date", "notes"), values, strict=True))

    def _require_client(self, client: str) -> int:
        row = self._conn.execute("SELECT id FROM clients WHERE label = ?", (client,)).fetchone()
        if row is None:
            known = self.clients()
            listed = ", ".join(known[:20]) + (", ..." if len(known) > 20 else "")
            raise ValidationError(
                f"no client {client!r} in the index {self.path}; it holds {len(known)} "
                f"client(s)" + (f": {listed}" if known else ""),
                parameter="client",
            )
        return int(row[0])

    def history(
        self, client: str, *, protocol: str | None = None, include_identifying: bool = False
    ) -> pd.DataFrame:
        """One row per test per visit of a client, ordered by recording time.

        Parameters
        ----------
        client : str
            Pseudonymous id (BIDS subject label).
        protocol : str, optional
            Keep only the tests of this protocol.
        include_identifying : bool
            Add the client's ``name``, ``birth_date`` and ``notes`` columns.

        Returns
        -------
        pandas.DataFrame
            Columns :data:`nkt_motion.index.HISTORY_COLUMNS`: the session
            (``session_id``, BIDS ``session``, ``visit`` 1, 2, ... in time order,
            ``recorded_at``, ``dated_by`` ``session`` or ``analysis``, ``origin``,
            ``source``, ``content_hash``, ``software_version``, ``analysed_at``,
            ``normalisation``) and the test (``protocol``, ``tested``,
            ``partner`` muscle ids, ``side``, ``pre_*``/``post_*`` ratio, CI,
            trials, ``p_compensation``, flag, ``ratio_change`` and its CI,
            ``verdict``, ``verdict_reason``). Missing numbers are NaN.

        Raises
        ------
        ValidationError
            If the client is not in the index (the message says how many are).

        Examples
        --------
        >>> with open_index(":memory:") as idx:
        ...     idx.set_identifying("07", name="A. Client")  # a client without visits
        ...     plain, full = idx.history("07"), idx.history("07", include_identifying=True)
        >>> len(plain), list(full.columns[-3:]), "name" in plain
        (0, ['name', 'birth_date', 'notes'], False)

        :meth:`record` shows a history with a visit.
        """
        self._require_client(client)
        identity = ", i.name, i.birth_date, i.notes" if include_identifying else ""
        join = "LEFT JOIN client_identity AS i ON i.client_id = c.id" if identity else ""
        sql = HISTORY_SQL.format(identity=identity, join=join)
        rows = self._conn.execute(sql, (client, protocol, protocol)).fetchall()
        return history_frame(rows, identifying=include_identifying)

    def integrity_check(self) -> str:
        """Run SQLite's ``PRAGMA integrity_check``.

        Returns
        -------
        str
            ``"ok"``, or the problems found.

        Examples
        --------
        >>> with open_index(":memory:") as idx:
        ...     idx.integrity_check()
        'ok'
        """
        rows = self._conn.execute("PRAGMA integrity_check").fetchall()
        return "\n".join(str(r[0]) for r in rows)


def open_index(
    path: str | Path | None = None, *, timeout: float = _TIMEOUT_S, create: bool = True
) -> SessionIndex:
    """Open (create, migrate) the index; use it as a context manager.

    Parameters
    ----------
    path : str or Path, optional
        The SQLite file; default :func:`nkt_motion.index.default_index_path`.
    timeout : float
        Seconds a writer waits for another writer.
    create : bool
        Create the file when missing; False makes a missing file an error.

    Returns
    -------
    SessionIndex
        Open; ``with open_index(...) as idx:`` closes it.

    Raises
    ------
    FileFormatError
        See :class:`SessionIndex`.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     with open_index(Path(d) / "clinic" / "index.sqlite") as idx:
    ...         print(idx.path.name, idx.schema_version)
    index.sqlite 2
    """
    where = default_index_path() if path is None else path
    return SessionIndex(where, timeout=timeout, create=create)


def _wal(conn: sqlite3.Connection, timeout: float) -> None:
    """Switch to WAL, retrying while another connection holds the lock.

    Changing the journal mode needs an exclusive lock, and SQLite may answer
    "database is locked" at once instead of waiting on the busy timeout (e.g.
    while another process creates the schema of a new file), so the switch is
    retried until ``timeout`` seconds have passed.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            busy = "locked" in str(exc) or "busy" in str(exc)
            if not busy or time.monotonic() > deadline:
                raise
            time.sleep(0.02)
