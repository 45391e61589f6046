"""Options and steps shared by ``analyze``, ``report`` and other session commands.

The session argument, the assessment options, reading + assessing the
session, and recording the assessment in the client/session index. A private
module: CLI discovery skips names starting with ``_``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nkt_motion.assess.pipeline import Assessment
    from nkt_motion.index import Origin
    from nkt_motion.model import Session

__all__ = ["add_assessment_options", "add_index_options", "read_and_assess", "record_in_index"]


def add_assessment_options(parser: Any) -> None:
    """Add ``path``, ``--protocol``, ``--side``, ``--seed`` and ``--n-boot`` to a parser.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand's parser.

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> add_assessment_options(p)
    >>> p.parse_args(["s.bdf", "--side", "L"]).n_boot
    2000
    """
    parser.add_argument("path", type=Path, help="session file or BIDS folder")
    parser.add_argument("--protocol", help="protocol name (default: inferred)")
    parser.add_argument("--side", choices=["L", "R"], help="tested side (default: inferred)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    parser.add_argument("--n-boot", type=int, default=2000, help="bootstrap resamples")


def read_and_assess(args: argparse.Namespace) -> tuple[Session, Assessment]:
    """Read the session named by ``args.path`` and assess it with the parsed options.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments with the options of :func:`add_assessment_options`.

    Returns
    -------
    Session
        The session read.
    Assessment
        Its before/after assessment.

    Examples
    --------
    >>> read_and_assess  # doctest: +ELLIPSIS
    <function read_and_assess at ...>
    """
    from nkt_motion import read
    from nkt_motion.assess import assess_session

    session = read(args.path)
    result = assess_session(
        session, args.protocol, side=args.side, n_boot=args.n_boot, seed=args.seed
    )
    return session, result


def add_index_options(parser: Any) -> None:
    """Add ``--index PATH`` and ``--no-index`` (mutually exclusive) to a parser.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand's parser.

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> add_index_options(p)
    >>> a = p.parse_args(["--no-index"]); a.index, a.no_index
    (None, True)
    """
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--index",
        type=Path,
        metavar="PATH",
        help="record the result in this index file (default: $NKT_MOTION_INDEX or "
        "the per-user data folder, e.g. ~/.local/share/nkt-motion/index.sqlite)",
    )
    group.add_argument(
        "--no-index", action="store_true", help="do not record the result in the index"
    )


def record_in_index(
    args: argparse.Namespace,
    session: Session,
    result: Assessment,
    *,
    origin: Origin,
    outputs: tuple[Path | None, ...] = (),
) -> tuple[Path, int] | None:
    """Record an assessment of ``args.path`` in the index chosen by the options.

    The source is the resolved session path, its content hash leaves
    ``outputs`` out, and the recording time is the one the session states
    (:func:`nkt_motion.index.recorded_at_of`), else the analysis time.

    Parameters
    ----------
    args : argparse.Namespace
        With ``path`` and the options of :func:`add_index_options`.
    session : Session
        The session read (for its recording time).
    result : Assessment
        Its assessment.
    origin : {"analyze", "batch", "retest"}
        The recording command.
    outputs : tuple of Path or None
        Files written by the command, left out of a folder's content hash.

    Returns
    -------
    (Path, int) or None
        The index file and the session's row id; None with ``--no-index``.

    Raises
    ------
    NktMotionError
        If the source cannot be hashed or the index cannot be written.

    Examples
    --------
    >>> ns = argparse.Namespace(path=Path("s.bdf"), index=None, no_index=True)
    >>> record_in_index(ns, None, None, origin="analyze") is None
    True
    """
    if args.no_index:
        return None
    from nkt_motion.index import content_hash, open_index, recorded_at_of

    source = Path(args.path).resolve()
    digest = content_hash(source, exclude=[p for p in outputs if p is not None])
    with open_index(args.index) as idx:
        sid = idx.record(
            result,
            source=str(source),
            content_hash=digest,
            origin=origin,
            recorded_at=recorded_at_of(session.meta),
        )
        return idx.path, sid
