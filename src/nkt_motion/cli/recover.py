"""``nkt-motion recover``: turn a capture (finished or interrupted) into a BIDS-EMG session."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from nkt_motion.capture import read_capture, started_at
from nkt_motion.io import write_bids
from nkt_motion.timeline import Assembly, assemble

__all__ = ["recover", "register", "run", "summary_lines"]


def register(subparsers: Any) -> None:
    """Add the ``recover`` subcommand.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The parent parser's subparsers.

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> register(p.add_subparsers())
    >>> p.parse_args(["recover", "x.nktcap", "--out", "d"]).subject
    '01'
    """
    parser = subparsers.add_parser(
        "recover",
        help="turn a capture file into a BIDS-EMG session",
        description="Decode a capture (also one cut short by a crash), sync the clocks and "
        "write the session as BIDS-EMG. A truncated last record is skipped.",
    )
    parser.add_argument("capture", type=Path, help="capture file (.nktcap)")
    parser.add_argument("--out", required=True, type=Path, help="BIDS dataset root")
    parser.add_argument("--subject", default="01", help="BIDS subject label")
    parser.add_argument("--session", default="01", help="BIDS session label")
    parser.add_argument("--overwrite", action="store_true", help="replace existing files")
    parser.set_defaults(func=run)


def recover(
    capture: Path, out: Path, *, subject: str = "01", session: str = "01", overwrite: bool = False
) -> tuple[Assembly, Path, int]:
    """Read, assemble and write one capture.

    Parameters
    ----------
    capture : Path
        The capture file.
    out : Path
        BIDS dataset root.
    subject, session : str
        BIDS labels.
    overwrite : bool
        Replace existing files.

    Returns
    -------
    tuple
        The assembly, the written session folder and the bytes skipped at the end.

    Examples
    --------
    ``recover(Path("rec.nktcap"), Path("bids"))``
    """
    cap = read_capture(capture)
    meta = {"task": "nkt", **cap.header.settings, "recovered_from": str(capture)}
    if (when := started_at(cap.header)) is not None:
        meta["recorded_at"] = when
    assembly = assemble(cap.header.sensors, cap.packets, cap.events,
                        origin_ns=cap.header.origin_ns, meta=meta, subject=subject,
                        session_id=session)  # fmt: skip
    folder = write_bids(assembly.session, out, overwrite=overwrite)
    return assembly, folder, cap.skipped_bytes


def summary_lines(assembly: Assembly) -> list[str]:
    """One line per sensor: packets, loss, clock.

    Parameters
    ----------
    assembly : Assembly
        An assembled recording.

    Returns
    -------
    list of str
        Human-readable lines.

    Examples
    --------
    >>> from nkt_motion.capture import SensorEntry
    >>> summary_lines(assemble([SensorEntry("s1", "F0:00:00:00:00:01", "nkt")], []))
    ['s1 (nkt): 0 packets, 0 lost, 0 malformed, drift n/a']
    """
    lines = []
    for r in assembly.sensors.values():
        drift = "n/a" if r.drift_ppm is None else f"{r.drift_ppm:+.1f} ppm"
        extra = "; gave up reconnecting" if r.gave_up else ""
        lines.append(f"{r.sensor} ({r.profile}): {r.packets} packets, {r.lost_packets} lost, "
                     f"{r.malformed} malformed, drift {drift}{extra}")  # fmt: skip
    return lines


def run(args: argparse.Namespace) -> int:
    """Recover a capture and print what was found.

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
    ``nkt-motion recover rec.nktcap --out bids``
    """
    assembly, folder, skipped = recover(
        args.capture, args.out, subject=args.subject, session=args.session,
        overwrite=args.overwrite,
    )  # fmt: skip
    for line in summary_lines(assembly):
        print(line)
    if skipped:
        print(f"skipped {skipped} bytes of an incomplete last record")
    print(f"wrote {folder}")
    return 0
