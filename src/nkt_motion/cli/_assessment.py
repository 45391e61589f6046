"""Options and steps shared by ``analyze`` and ``report``.

The session argument, the assessment options, and reading + assessing the
session. A private module: CLI discovery skips names starting with ``_``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nkt_motion.assess.pipeline import Assessment
    from nkt_motion.model import Session

__all__ = ["add_assessment_options", "read_and_assess"]


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
