"""The ``nkt-motion`` command line.

Each subcommand lives in its own module of this package and exposes
``register(subparsers)``, which adds its parser and sets ``func`` to a function
``(args) -> int``. Modules are found automatically, so adding a command touches
no other file. The CLI owns the terminal; the library only logs.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from collections.abc import Sequence

from nkt_motion import __version__
from nkt_motion.errors import NktMotionError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand module of this package.

    Returns
    -------
    argparse.ArgumentParser
        The top-level parser.

    Examples
    --------
    >>> "info" in build_parser().format_help()
    True
    """
    parser = argparse.ArgumentParser(
        prog="nkt-motion",
        description="Measure muscle compensation with wearable EMG and IMU sensors. "
        "A measurement tool, never a diagnosis.",
    )
    parser.add_argument("--version", action="version", version=f"nkt-motion {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if mod.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{mod.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; defaults to ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit status: 0 on success, 2 for an nkt-motion error (its message is
        printed on stderr without a traceback), 130 on Ctrl-C.

    Examples
    --------
    >>> main(["--version"])  # doctest: +SKIP
    nkt-motion 0.1.0
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except NktMotionError as exc:
        print(f"nkt-motion: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nkt-motion: interrupted", file=sys.stderr)
        return 130
