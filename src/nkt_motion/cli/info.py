"""``nkt-motion info PATH``: print a readable summary of a recording."""

from __future__ import annotations

import argparse
from typing import Any

from nkt_motion.io import read
from nkt_motion.model import Session

__all__ = ["register", "run", "summarize"]

_META_KEYS = ("task", "held_muscle", "power_line_frequency", "berg_balance_score", "source")


def register(subparsers: Any) -> None:
    """Add the ``info`` subcommand.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The parent parser's subparsers.

    Examples
    --------
    >>> import argparse
    >>> p = argparse.ArgumentParser()
    >>> register(p.add_subparsers())
    >>> p.parse_args(["info", "x.bdf"]).path
    'x.bdf'
    """
    parser = subparsers.add_parser(
        "info", help="summarise a recording (BIDS, EDF/BDF, CSV, shipped samples)"
    )
    parser.add_argument("path", help="file or folder to read")
    parser.add_argument("--subject", help="subject of a BIDS root with several")
    parser.add_argument("--session", help="session of a BIDS root with several")
    parser.add_argument("--task", help="BIDS task, or held muscle of the older-adults folder")
    parser.set_defaults(func=run)


def summarize(session: Session) -> str:
    """Return a multi-line text summary of a session.

    Parameters
    ----------
    session : Session
        The recording.

    Returns
    -------
    str
        Subject/session, each stream (kinds, channels, rate in Hz, duration in
        s), events grouped by label with counts, gaps and meta highlights.

    Examples
    --------
    >>> import numpy as np
    >>> from nkt_motion import Channel, Stream
    >>> s = Session([Stream("emg", np.zeros((1, 20)), 10.0, [Channel("EMG TA R", "emg", "uV")])])
    >>> print(summarize(s).splitlines()[0])
    subject 01, session 01, duration 2.00 s
    """
    lines = [f"subject {session.subject}, session {session.session_id}, "
             f"duration {session.duration:.2f} s"]  # fmt: skip
    lines.append(f"streams ({len(session.streams)}):")
    for name, s in session.streams.items():
        kinds = "/".join(dict.fromkeys(s.kinds)) or "empty"
        lines.append(
            f"  {name}: {kinds}, {s.n_channels} ch at {s.fs:g} Hz, {s.duration:.2f} s "
            f"from t0 {s.t0:g} s"
        )
        lines.append(f"    channels: {', '.join(f'{c.name} [{c.unit}]' for c in s.channels)}")
    ev = session.events
    lines.append(f"events ({len(ev)}):")
    for label, count in ev.groupby("label", sort=True).size().items():
        lines.append(f"  {label!s}: {int(count)}")
    gaps = session.gaps
    total = float(gaps["duration"].sum()) if len(gaps) else 0.0
    lines.append(f"gaps ({len(gaps)}, {total:.3f} s in total)")
    for row in gaps.head(10).itertuples(index=False):
        stream, channel, reason = str(row.stream), str(row.channel), str(row.reason)
        where = f"{stream}/{channel}" if channel else stream
        onset, dur = float(row.onset), float(row.duration)  # type: ignore[arg-type]
        lines.append(f"  {where}: {onset:.3f} s + {dur:.3f} s ({reason})")
    meta = {k: session.meta[k] for k in _META_KEYS if k in session.meta}
    if meta:
        lines.append("meta: " + ", ".join(f"{k}={v}" for k, v in meta.items()))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Read ``args.path`` and print its summary.

    Parameters
    ----------
    args : argparse.Namespace
        With ``path`` and optional ``subject``, ``session``, ``task``.

    Returns
    -------
    int
        0 on success (read errors propagate to :func:`nkt_motion.cli.main`).

    Examples
    --------
    >>> from nkt_motion.io import sample_root
    >>> ns = argparse.Namespace(path=str(sample_root() / "santuz_walking"),
    ...                         subject=None, session=None, task=None)
    >>> run(ns)  # doctest: +ELLIPSIS
    subject ID0012, session 01, duration 7.62 s
    ...
    0
    """
    session = read(args.path, subject=args.subject, session=args.session, task=args.task)
    print(summarize(session))
    return 0
