"""Where the per-session function runs: a local process pool or a Dask cluster.

Both yield one :class:`~nkt_motion.batch.SessionResult` per session, in the
order they finish, and never raise for a session: whatever goes wrong with one
becomes a failed result.

- :func:`run_local`: a :class:`concurrent.futures.ProcessPoolExecutor` whose
  workers start from a forkserver, so they inherit neither the parent's
  threads (a progress bar's monitor, a Dask client) nor its memory. The
  forkserver imports the analysis once (:data:`PRELOAD`), so a worker starts in
  milliseconds instead of importing SciPy, pandas and scikit-learn again
  (seconds per worker, and per pool). Each worker limits the BLAS and OpenMP
  thread pools to one thread (as Dask's workers do), so that ``jobs`` workers
  use ``jobs`` cores instead of competing for them. At most one
  session per worker is in flight. A worker that dies (killed, out of memory)
  breaks the pool: the finished results are kept, and the sessions that were
  in flight are run again one at a time in a fresh pool, so a session that
  kills its worker a second time is recorded as failed without taking the
  others along.
- :func:`run_dask`: ``client.map(..., pure=False, retries=2)`` on an existing
  Dask distributed cluster; the scheduler reruns the task of a worker that
  died on another worker (``distributed.scheduler.allowed-failures``), and an
  exception raised through Dask (e.g. ``KilledWorker``) becomes a failed result.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections import deque
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from nkt_motion.batch.analyse import SessionResult
from nkt_motion.batch.discover import SessionSource
from nkt_motion.batch.rows import failure_rows
from nkt_motion.batch.settings import Settings
from nkt_motion.errors import ValidationError

__all__ = ["PRELOAD", "Analyse", "connect", "failed_result", "run_dask", "run_local"]

logger = logging.getLogger(__name__)

#: The per-session function: ``(source, settings, *, report_dir) -> SessionResult``.
Analyse = Callable[..., SessionResult]
_CONTEXT = multiprocessing.get_context("forkserver")
#: Modules the forkserver imports before forking workers (when this process
#: starts it; a forkserver already running keeps its own list). As with any
#: forkserver or spawn pool (and Dask's LocalCluster), a script must start the
#: batch under ``if __name__ == "__main__":``; notebooks need nothing.
PRELOAD = (
    "__main__",
    "nkt_motion.batch.analyse",
    "nkt_motion.assess.pipeline",
    "nkt_motion.io",
    "nkt_motion.dsp._preload",
)
_Call = Callable[[ProcessPoolExecutor, SessionSource], "Future[SessionResult]"]


def failed_result(src: SessionSource, settings: Settings, error: str) -> SessionResult:
    """Return the failed result of a session the function did not answer for.

    Parameters
    ----------
    src : SessionSource
        The session.
    settings : Settings
        Batch settings.
    error : str
        What happened.

    Returns
    -------
    SessionResult
        Status ``"failed"``, one session row.

    Examples
    --------
    >>> src = SessionSource(Path("a.bdf"), "a.bdf", "edf", (Path("a.bdf"),), "0" * 64)
    >>> failed_result(src, Settings(), "worker died").rows[["source", "status"]].values.tolist()
    [['a.bdf', 'failed']]
    """
    ids = {"source": src.source, "kind": src.kind, "content_hash": src.content_hash,
           "settings_hash": settings.settings_hash}  # fmt: skip
    rows = failure_rows(ids, error)
    return SessionResult(src, settings.settings_hash, "failed", error, rows, None, None, 0.0)


def _one_thread() -> None:
    """Worker initializer: one BLAS/OpenMP thread per worker process."""
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    threadpool_limits(limits=1)


def _result(fut: Future[SessionResult], src: SessionSource, settings: Settings) -> SessionResult:
    try:
        return fut.result()
    except Exception as exc:  # the function failed outside its own guard (e.g. pickling)
        return failed_result(src, settings, f"{type(exc).__name__}: {exc}")


def _round(
    queue: deque[SessionSource], workers: int, call: _Call, settings: Settings
) -> Generator[SessionResult, None, list[SessionSource]]:
    """Run queued sessions on one pool until the queue is empty or the pool breaks.

    Yields the results; returns the sessions in flight when a worker died.
    """
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=_CONTEXT, initializer=_one_thread
    ) as pool:
        inflight: dict[Future[SessionResult], SessionSource] = {}
        while queue or inflight:
            while queue and len(inflight) < workers:
                src = queue.popleft()
                inflight[call(pool, src)] = src
            done, _ = wait(inflight, return_when=FIRST_COMPLETED)
            if any(isinstance(f.exception(), BrokenProcessPool) for f in done):
                wait(inflight)
                lost = [
                    s for f, s in inflight.items() if isinstance(f.exception(), BrokenProcessPool)
                ]
                for f, s in inflight.items():
                    if not isinstance(f.exception(), BrokenProcessPool):
                        yield _result(f, s, settings)
                return lost
            for fut in done:
                yield _result(fut, inflight.pop(fut), settings)
    return []


def run_local(
    todo: Sequence[SessionSource],
    settings: Settings,
    *,
    jobs: int,
    analyse: Analyse,
    report_dir: Path | None = None,
) -> Iterator[SessionResult]:
    """Analyse sessions on a local process pool (see the module notes).

    Parameters
    ----------
    todo : sequence of SessionSource
        Sessions to analyse.
    settings : Settings
        Batch settings.
    jobs : int
        Worker processes.
    analyse : callable
        ``analyse(source, settings, report_dir=...)``, importable by the workers.
    report_dir : Path, optional
        Passed to ``analyse``.

    Yields
    ------
    SessionResult
        One per session, in the order they finish.

    Examples
    --------
    >>> list(run_local([], Settings(), jobs=2, analyse=print))
    []
    """

    def call(pool: ProcessPoolExecutor, src: SessionSource) -> Future[SessionResult]:
        return pool.submit(analyse, src, settings, report_dir=report_dir)

    queue = deque(todo)
    if queue:
        _CONTEXT.set_forkserver_preload(list(PRELOAD))
    while queue:
        lost = yield from _round(queue, min(jobs, len(queue)), call, settings)
        if lost:
            logger.warning("a worker process died; rerunning %d sessions one at a time", len(lost))
        for src in lost:  # alone, so a second death names the culprit
            if (yield from _round(deque([src]), 1, call, settings)):
                yield failed_result(
                    src, settings, "the worker process died while analysing it, twice"
                )


def connect(address: str, *, timeout: float) -> Any:
    """Connect to a Dask scheduler, or fail with a clear message within ``timeout``.

    Parameters
    ----------
    address : str
        ``tcp://host:port``.
    timeout : float
        Seconds to wait for it to answer.

    Returns
    -------
    distributed.Client
        Connected; not set as the default client.

    Raises
    ------
    ValidationError
        If the scheduler does not answer in time.

    Examples
    --------
    >>> connect("tcp://127.0.0.1:1", timeout=0.5)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    nkt_motion.errors.ValidationError: scheduler 'tcp://127.0.0.1:1' did not answer within ...
    """
    from distributed import Client

    try:
        return Client(address, timeout=timeout, set_as_default=False)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as exc:
        raise ValidationError(
            f"scheduler {address!r} did not answer within {timeout:g} s ({exc})",
            parameter="scheduler",
        ) from None


def run_dask(
    todo: Sequence[SessionSource],
    settings: Settings,
    *,
    client: Any,
    analyse: Analyse,
    report_dir: Path | None = None,
) -> Iterator[SessionResult]:
    """Analyse sessions on a Dask cluster (see the module notes).

    Parameters
    ----------
    todo : sequence of SessionSource
        Sessions to analyse.
    settings : Settings
        Batch settings.
    client : distributed.Client
        Connected client (:func:`connect`).
    analyse : callable
        ``analyse(source, settings, report_dir=...)``, importable by the workers.
    report_dir : Path, optional
        Passed to ``analyse``.

    Yields
    ------
    SessionResult
        One per session, in the order they finish.

    Examples
    --------
    >>> list(run_dask([], Settings(), client=None, analyse=print))
    []
    """
    if not todo:
        return
    from distributed import as_completed

    futures = client.map(
        analyse, list(todo), settings=settings, report_dir=report_dir, pure=False, retries=2
    )
    by_key = {f.key: s for f, s in zip(futures, todo, strict=True)}
    for fut in as_completed(futures, loop=client.loop):  # type: ignore[no-untyped-call]
        src = by_key[fut.key]
        try:
            result = fut.result()
        except Exception as exc:  # e.g. KilledWorker after repeated worker deaths
            result = failed_result(src, settings, f"{type(exc).__name__}: {exc}")
        fut.release()
        yield result
