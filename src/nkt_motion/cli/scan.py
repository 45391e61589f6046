"""``nkt-motion scan``: list nearby supported sensors with profile, RSSI and battery."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from nkt_motion.acquire import FoundSensor, scan

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``scan`` subcommand.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The parent parser's subparsers.

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> register(p.add_subparsers())
    >>> p.parse_args(["scan", "--emulate"]).timeout
    5.0
    """
    parser = subparsers.add_parser(
        "scan",
        help="find supported BLE sensors",
        description="Scan for BLE sensors and say which profile each matches.",
    )
    parser.add_argument("--timeout", type=float, default=5.0, help="scan seconds")
    parser.add_argument("--battery", action="store_true", help="connect briefly, read battery")
    parser.add_argument("--all", action="store_true", help="also list unsupported devices")
    parser.add_argument(
        "--emulate", action="store_true", help="scan a virtual radio with emulated sensors"
    )
    parser.set_defaults(func=run)


async def _scan(args: argparse.Namespace) -> list[FoundSensor]:
    if not args.emulate:
        return await scan(timeout=args.timeout, read_battery=args.battery,
                          include_unsupported=args.all)  # fmt: skip
    from nkt_motion.emulate import (
        EmulatedClient,
        EmulatedScanner,
        MyoSensor,
        NktSensor,
        VirtualBus,
    )

    async with VirtualBus() as bus:
        await NktSensor(address="F0:00:00:00:00:01", name="nkt-pelvis").attach(bus)
        await MyoSensor(address="F0:00:00:00:00:02").attach(bus)
        return await scan(timeout=args.timeout, read_battery=args.battery,
                          include_unsupported=args.all, scanner_backend=EmulatedScanner,
                          client_backend=EmulatedClient, backend_kwargs={"bus": bus})  # fmt: skip


def run(args: argparse.Namespace) -> int:
    """Scan and print one line per sensor.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        0 (also when nothing is found).

    Examples
    --------
    >>> ns = argparse.Namespace(emulate=True, timeout=0.3, battery=False, all=False)
    >>> run(ns)  # doctest: +ELLIPSIS
    F0:00:00:00:00:01  nkt-pelvis  nkt  -50 dBm
    ...
    0
    """
    found = asyncio.run(_scan(args))
    if not found:
        print("no supported sensors found")
    for f in found:
        battery = "" if f.battery is None else f"  battery {f.battery} %"
        print(f"{f.address}  {f.name or '?'}  {f.profile or 'unsupported'}  {f.rssi} dBm{battery}")
    return 0
