"""``nkt-motion batch ROOT --out results.parquet``: every session under a folder, one table.

Finds the sessions under ROOT (BIDS-EMG, EDF/BDF, tidy CSV), analyses each on
a local process pool (``--jobs``) or a Dask cluster (``--scheduler``), and
writes one tidy table as Parquet and CSV (:mod:`nkt_motion.batch.rows`), with
optional per-session HTML reports and SQLite index records. Re-running skips
sessions whose content and settings are unchanged. See
:func:`nkt_motion.batch.run.run_batch`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from nkt_motion.cli._assessment import add_read_options

__all__ = ["register", "run"]

_SHOWN = 10


def register(subparsers: Any) -> None:
    """Add the ``batch`` subcommand.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        From :meth:`argparse.ArgumentParser.add_subparsers`.

    Examples
    --------
    >>> p = argparse.ArgumentParser(); register(p.add_subparsers())
    >>> a = p.parse_args(["batch", "data", "--out", "r.parquet", "--jobs", "2"])
    >>> a.jobs, a.scheduler, a.read
    (2, None, 'auto')
    """
    p = subparsers.add_parser(
        "batch",
        help="analyse every session under a folder into one table (Parquet and CSV)",
        description="Find every session under ROOT (BIDS-EMG, EDF/BDF, tidy CSV), assess each "
        "before vs after the correction, and write one tidy table (Parquet and CSV) with "
        "optional per-session reports. Failed sessions are rows with the reason; re-running "
        "skips sessions whose content and settings are unchanged. Measurements, not diagnoses.",
    )
    p.add_argument("root", type=Path, help="folder searched for sessions")
    p.add_argument("--out", type=Path, required=True, help="results table (.parquet)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--jobs", type=int, help="local worker processes (default: CPUs)")
    where.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786")
    p.add_argument("--report-dir", type=Path, help="also write each session's HTML report here")
    p.add_argument("--index", type=Path, help="record the sessions in this SQLite index")
    p.add_argument("--protocol", help="protocol name (default: inferred per session)")
    p.add_argument("--side", choices=["L", "R"], help="tested side (default: inferred)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    p.add_argument("--n-boot", type=int, default=2000, help="bootstrap resamples")
    add_read_options(p)  # as analyze reads a recording
    p.add_argument("--timeout", type=float, default=5.0, help="seconds to reach the scheduler")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


class _Bar:
    """A tqdm progress bar on stderr, opened when the total is known."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: Any = None

    def __call__(self, done: int, total: int, source: str) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            from tqdm import tqdm  # type: ignore[import-untyped]

            self.bar = tqdm(total=total, unit="session", file=sys.stderr, dynamic_ncols=True)
        self.bar.set_postfix_str(source[-40:], refresh=False)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run(args: argparse.Namespace) -> int:
    """Run ``batch``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        0 when the table was written (failed sessions are rows of it).

    Examples
    --------
    >>> run  # doctest: +ELLIPSIS
    <function run at ...>
    """
    from nkt_motion.batch import Settings
    from nkt_motion.batch.run import run_batch

    settings = Settings(
        protocol=args.protocol,
        side=args.side,
        n_boot=args.n_boot,
        seed=args.seed,
        read=args.read,
        full_read_mb=args.full_read_mb,
        pad_s=args.pad_s,
    )
    bar = _Bar(not args.no_progress)
    try:
        summary = run_batch(
            args.root,
            args.out,
            jobs=args.jobs,
            scheduler=args.scheduler,
            report_dir=args.report_dir,
            settings=settings,
            index=args.index,
            progress=bar,
            timeout=args.timeout,
        )
    finally:
        bar.close()
    print(
        f"{summary.n_sessions} sessions: {summary.n_analysed} analysed, "
        f"{summary.n_reused} unchanged since the last run, {summary.n_duplicates} duplicates, "
        f"{summary.n_failed} failed ({summary.workers}, {summary.seconds:.1f} s)"
    )
    for source, why in summary.failures[:_SHOWN]:
        print(f"  failed: {source}: {why}")
    if len(summary.failures) > _SHOWN:
        print(f"  ... and {len(summary.failures) - _SHOWN} more (status == 'failed' in the table)")
    if summary.skipped:
        print(f"skipped {len(summary.skipped)} files that are not sessions (-v lists them)")
    for line in summary.index_errors:
        print(f"  not indexed: {line}")
    print(f"wrote {summary.out}")
    print(f"wrote {summary.csv}")
    return 0
