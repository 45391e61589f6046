"""Options and steps shared by ``analyze``, ``report``, ``batch`` and other session commands.

The session argument, the assessment and read options, reading + assessing the
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

__all__ = [
    "add_assessment_options",
    "add_index_options",
    "add_read_options",
    "read_and_assess",
    "record_in_index",
]


def add_read_options(parser: Any) -> None:
    """Add ``--read``, ``--full-read-mb`` and ``--pad-s`` (how a recording is read) to a parser.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand's parser.

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> add_read_options(p)
    >>> a = p.parse_args(["--full-read-mb", "50"]); a.read, a.full_read_mb, a.pad_s
    ('auto', 50.0, 2.0)
    """
    from nkt_motion.io.windows import FULL_READ_MB, PAD_S, READ_MODES

    parser.add_argument(
        "--read",
        choices=READ_MODES,
        default="auto",
        help="read recordings in full, only over their event windows (the channels the "
        "analysis uses), or auto: by windows when the samples take more than --full-read-mb "
        "as float64 (default: %(default)s)",
    )
    parser.add_argument(
        "--full-read-mb",
        type=float,
        default=FULL_READ_MB,
        metavar="MB",
        help="threshold of --read auto, MB of samples as float64 (default: %(default)g)",
    )
    parser.add_argument(
        "--pad-s",
        type=float,
        default=PAD_S,
        help="seconds kept either side of each event window (default: %(default)g)",
    )


def add_assessment_options(parser: Any) -> None:
    """Add ``path``, ``--protocol``, ``--side``, ``--seed``, ``--n-boot`` and the read options.

    The read options are those of :func:`add_read_options`.

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
    add_read_options(parser)


def read_and_assess(args: argparse.Namespace) -> tuple[Session, Assessment]:
    """Read the session named by ``args.path`` and assess it with the parsed options.

    The session is read with :func:`nkt_motion.features.read_for_analysis` (as
    ``nkt-motion batch`` reads it); a read over the event windows is said on
    stdout, with the size that decided it.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments with the options of :func:`add_assessment_options`.

    Returns
    -------
    Session
        The session read (compacted to its event windows when read so).
    Assessment
        Its before/after assessment.

    Examples
    --------
    >>> read_and_assess  # doctest: +ELLIPSIS
    <function read_and_assess at ...>
    """
    from nkt_motion.assess import assess_session
    from nkt_motion.features import read_for_analysis

    r = read_for_analysis(
        args.path,
        args.protocol,
        side=args.side,
        read=args.read,
        full_read_mb=args.full_read_mb,
        pad_s=args.pad_s,
    )
    if r.mode == "windows":
        print(r.note)
    result = assess_session(
        r.session, r.protocol, side=args.side, n_boot=args.n_boot, seed=args.seed
    )
    return r.session, result


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


def _recording(path: Path, session: Session, outputs: list[Path]) -> tuple[Path, str]:
    """Name and hash the recording as ``nkt-motion batch`` does: session file, content hash.

    A folder names its one session (or the one with the session's ``sub-``/``ses-``
    entities); a folder or file batch would not find is hashed as it is.
    """
    from nkt_motion.batch import describe_session, discover_sessions
    from nkt_motion.errors import FileFormatError
    from nkt_motion.index import content_hash

    if path.is_file():
        try:
            found = describe_session(path)
        except FileFormatError:
            return path, content_hash(path)
        return found.path.resolve(), found.content_hash
    sessions = discover_sessions(path, exclude=outputs).sessions
    entities = {f"sub-{session.subject}", f"ses-{session.session_id}"}
    mine = [s for s in sessions if len(sessions) == 1 or entities <= set(s.path.parts)]
    if len(mine) == 1:
        return mine[0].path.resolve(), mine[0].content_hash
    return path, content_hash(path, exclude=outputs)


def record_in_index(
    args: argparse.Namespace,
    session: Session,
    result: Assessment,
    *,
    origin: Origin,
    outputs: tuple[Path | None, ...] = (),
) -> tuple[Path, int] | None:
    """Record an assessment of ``args.path`` in the index chosen by the options.

    The recording is named as ``nkt-motion batch`` names it (the resolved
    session file, e.g. a BIDS ``_emg.bdf``, and the hash of the files its
    reader reads, :func:`nkt_motion.batch.describe_session`), so analysing a
    session again, by either command, updates its entry instead of adding a
    visit. A folder batch would not find is hashed whole, leaving ``outputs``
    out. The recording time is the one the session states
    (:func:`nkt_motion.index.recorded_at_of`), else the analysis time.

    Parameters
    ----------
    args : argparse.Namespace
        With ``path`` and the options of :func:`add_index_options`.
    session : Session
        The session read (for its ids and recording time).
    result : Assessment
        Its assessment.
    origin : {"analyze", "batch", "retest"}
        The recording command.
    outputs : tuple of Path or None
        Files written by the command, never part of the recording.

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
    from nkt_motion.index import open_index, recorded_at_of

    written = [p.resolve() for p in outputs if p is not None]
    source, digest = _recording(Path(args.path).resolve(), session, written)
    with open_index(args.index) as idx:
        sid = idx.record(
            result,
            source=str(source),
            content_hash=digest,
            origin=origin,
            recorded_at=recorded_at_of(session.meta),
        )
        return idx.path, sid
