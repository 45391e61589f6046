"""``nkt-motion analyze PATH --json OUT``: assess a recorded session before vs after.

Reads any supported session as ``nkt-motion batch`` does
(:func:`nkt_motion.features.read_for_analysis`: in full, or, when its samples
would take more than ``--full-read-mb`` as float64, only the channels the
analysis uses over the event windows, said on stdout), infers the protocol and
the tested side unless given, runs :func:`nkt_motion.assess.assess_session`,
writes the ARCHITECTURE.md JSON object (NaN as ``null``) and prints a summary;
``--report OUT.html`` also writes the HTML report (:func:`nkt_motion.report.build_report`).
The result is then recorded in the client/session index (``--index PATH``,
default :func:`nkt_motion.index.default_index_path`; ``--no-index`` skips it);
failing to write the index is a warning, the JSON is already written.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from nkt_motion.cli._assessment import (
    add_assessment_options,
    add_index_options,
    read_and_assess,
    record_in_index,
)
from nkt_motion.errors import NktMotionError

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``analyze`` subcommand.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        From :meth:`argparse.ArgumentParser.add_subparsers`.

    Examples
    --------
    >>> import argparse
    >>> p = argparse.ArgumentParser(); register(p.add_subparsers())
    >>> p.parse_args(["analyze", "x.bdf", "--json", "o.json", "--side", "L"]).side
    'L'
    """
    p = subparsers.add_parser(
        "analyze",
        help="assess a session: compensation before vs after the correction",
        description="Assess a recorded session: tested:partner ratios before and after the "
        "correction, with intervals, rule flags and a verdict. A measurement, not a diagnosis.",
    )
    add_assessment_options(p)
    p.add_argument("--json", dest="json_out", type=Path, required=True, help="output JSON")
    p.add_argument("--report", type=Path, help="also write an HTML report here")
    add_index_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``analyze``.

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
    session, result = read_and_assess(args)
    text = json.dumps(result.to_dict(), indent=2, allow_nan=False)
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(text + "\n", encoding="utf-8")
    print(result.summary())
    print(f"wrote {args.json_out}")
    outputs = (args.json_out, getattr(args, "report", None))
    try:
        recorded = record_in_index(args, session, result, origin="analyze", outputs=outputs)
    except (NktMotionError, OSError) as exc:
        print(f"nkt-motion: warning: not recorded in the index: {exc}", file=sys.stderr)
    else:
        if recorded is not None:
            print(f"recorded in the index {recorded[0]} (session {recorded[1]})")
    if getattr(args, "report", None) is not None:
        from nkt_motion.report import build_report

        paths = build_report(session, result, protocol=args.protocol, out_html=args.report)
        print(f"wrote {paths.html}")
    return 0
