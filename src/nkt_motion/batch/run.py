"""Run a batch: find the sessions, analyse what is new, write one table.

:func:`run_batch` checks every output can be written (before analysing
anything), finds the sessions (:func:`~nkt_motion.batch.discover_sessions`),
skips those already analysed with the same settings
(:class:`~nkt_motion.batch.store.ResultStore`), analyses the first copy of each
remaining content once, and writes the table. The analysis runs
:func:`~nkt_motion.batch.analyse_session_path` on a local process pool, or on
an existing Dask distributed cluster (``scheduler="tcp://host:port"``), see
:mod:`nkt_motion.batch.executors`; the files must then be visible to the
workers under the same paths.

Results are handled in the calling process as they arrive: kept per session,
recorded in the SQLite index when one is given (one writer: this process),
and reported to ``progress(done, total, source)``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from nkt_motion.batch.analyse import SessionResult, analyse_session_path, report_name
from nkt_motion.batch.discover import Discovery, SessionSource, discover_sessions
from nkt_motion.batch.executors import Analyse, connect, run_dask, run_local
from nkt_motion.batch.rows import failure_rows
from nkt_motion.batch.settings import Settings
from nkt_motion.batch.store import ResultStore
from nkt_motion.errors import NktMotionError, ValidationError

if TYPE_CHECKING:
    from nkt_motion.index import SessionIndex

__all__ = ["BatchSummary", "Progress", "default_jobs", "run_batch"]

logger = logging.getLogger(__name__)

#: ``progress(done, total, source)`` after each analysed session.
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True, slots=True)
class BatchSummary:
    """What a batch did.

    Attributes
    ----------
    out, csv : Path
        The table written, as Parquet and CSV.
    n_sessions : int
        Session paths found (duplicates and unreadable ones included).
    n_analysed : int
        Sessions analysed by this run.
    n_reused : int
        Sessions whose earlier results were kept (same content and settings).
    n_duplicates : int
        Paths whose content equals an earlier path's (reported, not analysed again).
    n_failed : int
        Session paths whose status is ``failed``.
    failures : tuple of (str, str)
        ``(source, reason)`` of each failed path.
    skipped : tuple of (str, str)
        Files left out by discovery, with the reason.
    seconds : float
        Wall time of the analysis phase.
    workers : str
        ``"local:<n>"`` or the scheduler address.
    index_errors : tuple of str
        Sessions the index refused, with the reason.
    """

    out: Path
    csv: Path
    n_sessions: int
    n_analysed: int
    n_reused: int
    n_duplicates: int
    n_failed: int
    failures: tuple[tuple[str, str], ...]
    skipped: tuple[tuple[str, str], ...]
    seconds: float
    workers: str
    index_errors: tuple[str, ...] = field(default=())

    @property
    def sessions_per_second(self) -> float:
        """Analysed sessions per second of the analysis phase (NaN when none)."""
        return (
            self.n_analysed / self.seconds
            if self.n_analysed and self.seconds > 0
            else float("nan")
        )


def default_jobs() -> int:
    """Return the number of CPUs this process may run on.

    Returns
    -------
    int
        ``len(os.sched_getaffinity(0))`` where available, else ``os.cpu_count()``.

    Examples
    --------
    >>> default_jobs() >= 1
    True
    """
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _check(jobs: int | None, scheduler: str | None, timeout: float) -> None:
    if jobs is not None and scheduler is not None:
        raise ValidationError(
            "give jobs (a local pool) or scheduler (a Dask cluster), not both", parameter="jobs"
        )
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise ValidationError(f"jobs must be an integer >= 1, got {jobs!r}", parameter="jobs")
    if scheduler is not None and "://" not in str(scheduler):
        raise ValidationError(
            f"scheduler must be an address such as tcp://host:8786, got {scheduler!r}",
            parameter="scheduler",
        )
    if not timeout > 0:
        raise ValidationError(f"timeout must be > 0 s, got {timeout!r}", parameter="timeout")


def _prepare_reports(report_dir: Path | None) -> None:
    if report_dir is None:
        return
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
        probe = report_dir / ".nkt-motion-probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ValidationError(
            f"cannot write reports to {report_dir}: {exc.strerror or exc}", parameter="report_dir"
        ) from None


def _has_report(store: ResultStore, settings_hash: str, digest: str, report_dir: Path) -> bool:
    rows = store.load(settings_hash=settings_hash, content_hash=digest)
    first = rows.iloc[0]
    name = report_name(str(first["subject"]), str(first["session"]), digest)
    return (report_dir / name).is_file()


@dataclass
class _Tally:
    analysed: int = 0
    index_errors: list[str] = field(default_factory=list)


def _record(index: SessionIndex, result: SessionResult, tally: _Tally) -> None:
    if result.assessment is None:
        return
    path = result.source.path.absolute()
    try:
        index.record(
            result.assessment,
            source=path,
            content_hash=result.source.content_hash,
            origin="batch",
            recorded_at=result.recorded_at,
        )
    except NktMotionError as exc:
        tally.index_errors.append(f"{path}: {exc}")
        logger.warning("index: %s not recorded: %s", path, exc)


def run_batch(
    root: str | Path,
    out: str | Path,
    *,
    jobs: int | None = None,
    scheduler: str | None = None,
    report_dir: str | Path | None = None,
    settings: Settings | None = None,
    index: str | Path | None = None,
    progress: Progress | None = None,
    timeout: float = 5.0,
    analyse: Analyse = analyse_session_path,
) -> BatchSummary:
    """Analyse every session under a folder into one table (see the module notes).

    Parameters
    ----------
    root : str or Path
        Folder searched recursively for sessions.
    out : str or Path
        The ``.parquet`` table; ``.csv`` beside it, ``<out>.sessions/`` for
        re-runs (:mod:`nkt_motion.batch.store`).
    jobs : int, optional
        Local worker processes; default :func:`default_jobs`.
    scheduler : str, optional
        Address of a Dask scheduler (``tcp://host:8786``) to run on instead.
    report_dir : str or Path, optional
        Also write each session's HTML report there
        (:func:`~nkt_motion.batch.report_name`). A session is only reused when
        its report is there too.
    settings : Settings, optional
        Analysis settings; default ``Settings()``.
    index : str or Path, optional
        SQLite client/session index (:func:`nkt_motion.index.open_index`) in
        which this process records every session it analyses, with origin
        ``"batch"``, under the path analysed (the index knows a recording by
        its content hash, so a duplicate path adds nothing to it).
    progress : callable, optional
        ``progress(done, total, source)`` after each analysed session.
    timeout : float
        Seconds to wait for the scheduler to answer.
    analyse : callable
        The per-session function, called as ``analyse(source, settings,
        report_dir=...)``; it must be importable by the workers. Default
        :func:`~nkt_motion.batch.analyse_session_path`.

    Returns
    -------
    BatchSummary
        Counts, failures and timing.

    Raises
    ------
    ValidationError
        If an option is invalid, an output cannot be written, or the scheduler
        does not answer within ``timeout``; nothing is analysed then.
    FileFormatError
        If ``root`` is not a folder or the index cannot be opened.

    Examples
    --------
    >>> import tempfile
    >>> from nkt_motion.io import write_bids
    >>> from nkt_motion.simulate import gmed_adl_hip_flexion, simulate
    >>> root = Path(tempfile.mkdtemp())
    >>> sc = gmed_adl_hip_flexion(n_trials=3).replace(trial_s=1.5, gap_s=0.5)
    >>> _ = write_bids(simulate(sc).session, root / "data")
    >>> s = run_batch(root, root / "out" / "r.parquet", jobs=1, settings=Settings(n_boot=200))
    >>> s.n_sessions, s.n_analysed, s.n_failed
    (1, 1, 0)
    >>> run_batch(root, root / "out" / "r.parquet", jobs=1, settings=Settings(n_boot=200)).n_reused
    1
    """
    settings = Settings() if settings is None else settings
    _check(jobs, scheduler, timeout)
    if settings.protocol is not None:
        from nkt_motion.protocols import load_protocol

        load_protocol(settings.protocol)
    store = ResultStore(out)
    store.prepare()
    reports = None if report_dir is None else Path(report_dir).absolute()
    _prepare_reports(reports)
    from nkt_motion.index import open_index

    client = connect(scheduler, timeout=timeout) if scheduler is not None else None
    idx = None
    try:
        idx = open_index(index) if index is not None else None
        return _run(root, store, jobs, client, reports, settings, idx, progress, analyse)
    finally:
        if idx is not None:
            idx.close()
        if client is not None:
            client.close()


def _run(
    root: str | Path,
    store: ResultStore,
    jobs: int | None,
    client: Any,
    reports: Path | None,
    settings: Settings,
    idx: SessionIndex | None,
    progress: Progress | None,
    analyse: Analyse,
) -> BatchSummary:
    digest = settings.settings_hash
    exclude = [*store.paths, *([reports] if reports else []), *([idx.path] if idx else [])]
    found = discover_sessions(root, exclude=exclude)
    first: dict[str, SessionSource] = {}
    for s in found.sessions:
        first.setdefault(s.content_hash, s)
    reused = store.cached(first, settings_hash=digest)
    if reports is not None:
        reused = {h for h in reused if _has_report(store, digest, h, reports)}
    todo = [s for h, s in first.items() if h not in reused]
    logger.info("%d sessions to analyse, %d reused", len(todo), len(reused))
    if client is not None:
        workers = str(client.scheduler.address)
        results = run_dask(todo, settings, client=client, analyse=analyse, report_dir=reports)
    else:
        workers = f"local:{min(jobs or default_jobs(), max(len(todo), 1))}"
        n = jobs or default_jobs()
        results = run_local(todo, settings, jobs=n, analyse=analyse, report_dir=reports)
    tally = _Tally()
    failed: dict[str, pd.DataFrame] = {}
    start = time.perf_counter()
    for done, result in enumerate(results, start=1):
        h = result.source.content_hash
        if result.ok:
            store.save(result.rows, settings_hash=digest, content_hash=h)
        else:
            failed[h] = result.rows
        if idx is not None:
            _record(idx, result, tally)
        tally.analysed += 1
        if progress is not None:
            progress(done, len(todo), result.source.source)
    seconds = time.perf_counter() - start
    return _finish(store, found, first, failed, settings, len(reused), tally, seconds, workers)


def _piece(rows: pd.DataFrame, src: SessionSource, primary: SessionSource) -> pd.DataFrame:
    dup = None if src.path == primary.path else primary.source
    return rows.assign(source=src.source, kind=src.kind, duplicate_of=dup)


def _finish(
    store: ResultStore,
    found: Discovery,
    first: dict[str, SessionSource],
    failed: dict[str, pd.DataFrame],
    settings: Settings,
    n_reused: int,
    tally: _Tally,
    seconds: float,
    workers: str,
) -> BatchSummary:
    digest = settings.settings_hash
    pieces: list[tuple[str, pd.DataFrame]] = []
    keep = []
    for s in found.sessions:
        h = s.content_hash
        if h in failed:
            rows = failed[h]
        else:
            rows = store.load(settings_hash=digest, content_hash=h)
            keep.append(store.part_path(digest, h))
        pieces.append((s.source, _piece(rows, s, first[h])))
    for source, why in found.unreadable:
        ids = {"source": source, "settings_hash": digest}
        pieces.append((source, failure_rows(ids, why)))
    pieces.sort(key=lambda p: p[0])
    table = store.finish([p for _, p in pieces], keep=keep)
    sessions = table[table["row_type"] == "session"]
    bad = sessions[sessions["status"] == "failed"]
    failures = tuple(zip(bad["source"].astype(str), bad["error"].astype(str), strict=True))
    return BatchSummary(
        store.out,
        store.csv,
        n_sessions=len(sessions),
        n_analysed=tally.analysed,
        n_reused=n_reused,
        n_duplicates=int(sessions["duplicate_of"].notna().sum()),
        n_failed=len(failures),
        failures=failures,
        skipped=found.skipped,
        seconds=seconds,
        workers=workers,
        index_errors=tuple(tally.index_errors),
    )
