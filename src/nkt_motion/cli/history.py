"""``nkt-motion history CLIENT``: how a client's ratios and verdicts evolved across visits.

Reads the client/session index (:func:`nkt_motion.index.open_index`), prints one
table per tested:partner pair across visits with the cross-session caveats,
and optionally writes the history as JSON (``--json``) and a figure
(``--plot``). Identifying details are left out unless ``--include-identifying``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``history`` subcommand.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        From :meth:`argparse.ArgumentParser.add_subparsers`.

    Examples
    --------
    >>> p = argparse.ArgumentParser(); register(p.add_subparsers())
    >>> p.parse_args(["history", "07", "--plot", "h.png"]).plot
    PosixPath('h.png')
    """
    p = subparsers.add_parser(
        "history",
        help="a client's ratios and verdicts across visits, from the index",
        description="Print how a client's tested:partner ratios and verdicts evolved across "
        "visits, from the session index that analyze, batch and retest fill. Ratios compare "
        "across visits only with the same normalisation and electrode placement.",
    )
    p.add_argument("client", help="pseudonymous client id (the BIDS subject label)")
    p.add_argument(
        "--index",
        type=Path,
        metavar="PATH",
        help="index file (default: $NKT_MOTION_INDEX or the per-user data folder)",
    )
    p.add_argument("--protocol", metavar="NAME", help="only the tests of this protocol")
    p.add_argument(
        "--plot", type=Path, metavar="OUT.png", help="write a figure here (PNG, PDF or SVG)"
    )
    p.add_argument(
        "--json", dest="json_out", type=Path, metavar="OUT.json", help="write the history as JSON"
    )
    p.add_argument(
        "--include-identifying",
        action="store_true",
        help="also show and export the client's name, birth date and notes",
    )
    p.set_defaults(func=run)


def _document(history: Any, client: str, identity: dict[str, Any] | None) -> dict[str, Any]:
    from nkt_motion.assess.pipeline import DISCLAIMER
    from nkt_motion.index.text import cross_session_caveats

    doc: dict[str, Any] = {
        "client": client,
        "visits": int(history["visit"].nunique()),
        "tests": json.loads(history.to_json(orient="records")),
        "caveats": cross_session_caveats(history) if len(history) else [],
        "disclaimer": DISCLAIMER,
    }
    if identity is not None:
        doc["identifying"] = identity
    return doc


def run(args: argparse.Namespace) -> int:
    """Run ``history``.

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
    >>> import tempfile
    >>> from nkt_motion.index import open_index
    >>> with tempfile.TemporaryDirectory() as d:
    ...     with open_index(Path(d) / "index.sqlite") as idx:
    ...         idx.set_identifying("07", notes="first visit next week")
    ...     ns = argparse.Namespace(client="07", index=idx.path, protocol=None, plot=None,
    ...                             json_out=None, include_identifying=False)
    ...     run(ns)  # doctest: +ELLIPSIS
    Client 07: no recorded tests.
    nkt-motion is a measurement and research tool, ...
    0
    """
    from nkt_motion.errors import ValidationError
    from nkt_motion.index import open_index
    from nkt_motion.index.text import format_history

    with open_index(args.index, create=False) as idx:
        history = idx.history(
            args.client, protocol=args.protocol, include_identifying=args.include_identifying
        )
        identity = idx.identifying(args.client) if args.include_identifying else None
        if history.empty and args.protocol:
            recorded = sorted(set(idx.history(args.client)["protocol"]))
            raise ValidationError(
                f"client {args.client} has no tests of protocol {args.protocol!r}; "
                f"recorded protocols: {recorded}",
                parameter="protocol",
            )
    if identity is not None:
        print(f"Client {args.client}: " + ", ".join(f"{k} {v}" for k, v in identity.items() if v))
    print(format_history(history, client=args.client))
    if args.json_out is not None:
        text = json.dumps(_document(history, args.client, identity), indent=2, allow_nan=False)
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(text + "\n", encoding="utf-8")
        print(f"wrote {args.json_out}")
    if args.plot is not None:
        from nkt_motion.index.plots import history_figure

        args.plot.parent.mkdir(parents=True, exist_ok=True)
        history_figure(history).savefig(args.plot, dpi=120)
        print(f"wrote {args.plot}")
    return 0
