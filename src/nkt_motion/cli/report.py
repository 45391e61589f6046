"""``nkt-motion report SESSION``: assess a recorded session and write its report.

Reads any supported session (:func:`nkt_motion.read`), runs
:func:`nkt_motion.assess.assess_session`, writes a self-contained HTML report
(and a PDF with ``--pdf``) with :func:`nkt_motion.report.build_report`, and
prints the paths.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from nkt_motion.cli._assessment import add_assessment_options, read_and_assess

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``report`` subcommand.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        From :meth:`argparse.ArgumentParser.add_subparsers`.

    Examples
    --------
    >>> import argparse
    >>> p = argparse.ArgumentParser(); register(p.add_subparsers())
    >>> p.parse_args(["report", "s.bdf", "--pdf", "r.pdf"]).pdf
    PosixPath('r.pdf')
    """
    p = subparsers.add_parser(
        "report",
        help="write an HTML (and PDF) report of a session",
        description="Assess a recorded session and write a self-contained HTML report "
        "(optionally a PDF): verdicts with intervals, figures, signal quality, electrode "
        "placement and methods. A measurement, not a diagnosis.",
    )
    add_assessment_options(p)
    p.add_argument("--out", type=Path, help="output HTML (default: <session>_report.html)")
    p.add_argument("--pdf", type=Path, help="also write this PDF")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``report``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        0 on success.

    Examples
    --------
    >>> run  # doctest: +ELLIPSIS
    <function run at ...>
    """
    from nkt_motion.report import build_report

    session, result = read_and_assess(args)
    out = args.out or Path(f"sub-{session.subject}_ses-{session.session_id}_report.html")
    paths = build_report(session, result, protocol=args.protocol, out_html=out, out_pdf=args.pdf)
    print(f"wrote {paths.html}")
    if paths.pdf is not None:
        print(f"wrote {paths.pdf}")
    return 0
