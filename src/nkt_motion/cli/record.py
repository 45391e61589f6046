"""``nkt-motion record``: stream sensors into a crash-safe capture, then write BIDS-EMG.

A live view (EMG envelope bars, packet loss, clock drift, signal-quality lights)
refreshes about 7 times a second when stdout is a terminal; otherwise a status
line per sensor is printed every two seconds. Ctrl-C (or SIGTERM) stops the
recording and still saves it. ``--emulate`` runs emulated sensors on a virtual
radio, streaming a simulated session, so the command works without hardware.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from nkt_motion.acquire import LiveSensor, Recorder, Recording, SensorConfig, scan
from nkt_motion.cli.recover import summary_lines
from nkt_motion.devices import PROFILES
from nkt_motion.errors import ValidationError
from nkt_motion.io import write_bids

__all__ = ["parse_sensor", "register", "render", "run"]

EMULATED_LABELS = ("EMG GMED L", "EMG ADL L", "EMG TFL L", "EMG GMAX L")
#: Profiles ``--emulate`` can stand in for.
EMULATED_PROFILES = ("nkt", "myo", "polar_h10", "polar_verity", "witmotion")
_BAR = 24


def register(subparsers: Any) -> None:
    """Add the ``record`` subcommand.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The parent parser's subparsers.

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> register(p.add_subparsers())
    >>> p.parse_args(["record", "--emulate", "--out", "d"]).sensor
    []
    """
    parser = subparsers.add_parser(
        "record",
        help="record sensors (live view, crash-safe capture, BIDS-EMG at the end)",
        description="Stream EMG/IMU sensors into a capture file flushed every 0.5 s, show "
        "a live view, and write the session as BIDS-EMG when done (Ctrl-C stops and saves).",
    )
    parser.add_argument("--sensor", action="append", default=[], metavar="ADDR[=PROFILE]",
                        help=f"sensor to record; profiles: {', '.join(PROFILES)}")  # fmt: skip
    parser.add_argument("--out", required=True, type=Path, help="BIDS dataset root")
    parser.add_argument("--duration", type=float, default=None, help="seconds (default: Ctrl-C)")
    parser.add_argument("--emulate", action="store_true", help="emulated sensors, no hardware")
    parser.add_argument("--capture", type=Path, default=None, help="capture file path")
    parser.add_argument("--subject", default="01", help="BIDS subject label")
    parser.add_argument("--session", default="01", help="BIDS session label")
    parser.add_argument("--no-live", action="store_true", help="status lines, no live view")
    parser.set_defaults(func=run)


def parse_sensor(text: str) -> tuple[str, str | None]:
    """Split ``ADDR[=PROFILE]``.

    Parameters
    ----------
    text : str
        The ``--sensor`` value.

    Returns
    -------
    tuple of (str, str or None)
        Upper-case address and profile name (None: find it by scanning).

    Examples
    --------
    >>> parse_sensor("f0:00:00:00:00:01=nkt")
    ('F0:00:00:00:00:01', 'nkt')
    """
    address, _, profile = text.partition("=")
    if profile and profile not in PROFILES:
        raise ValidationError(f"--sensor profile must be one of {', '.join(PROFILES)}, got "
                              f"{profile!r}", parameter="sensor")  # fmt: skip
    return address.strip().upper(), profile or None


def _configs(args: argparse.Namespace, found: dict[str, str]) -> list[SensorConfig]:
    wanted = [parse_sensor(s) for s in args.sensor] or [("F0:00:00:00:00:01", "nkt")]
    configs = []
    for address, profile in wanted:
        name = profile or found.get(address)
        if name is None:
            raise ValidationError(f"sensor {address}: not found by a scan; give its profile "
                                  "as ADDR=PROFILE", parameter="sensor")  # fmt: skip
        options = {"emg_labels": list(EMULATED_LABELS)} if args.emulate and name == "nkt" else {}
        configs.append(SensorConfig(address, name, options=options))
    return configs


async def _emulated(configs: Sequence[SensorConfig], bus: Any) -> None:
    from nkt_motion.emulate import (
        MyoSensor,
        NktSensor,
        PolarSensor,
        WitMotionSensor,
        array_source,
    )
    from nkt_motion.simulate import gmed_adl_hip_flexion, simulate

    sim = simulate(gmed_adl_hip_flexion()).session
    emg = np.asarray(sim["emg"].data)
    noise = np.random.default_rng(0).normal(0, 5.0, (1, emg.shape[1]))
    imu = np.asarray(sim["imu"].data[:6]).copy()
    imu[:3] /= 9.80665  # m/s^2 -> g
    imu_fs = float(sim["imu"].fs)
    for i, c in enumerate(configs):
        sensor: Any
        if c.profile == "nkt":
            sensor = NktSensor(address=c.address, name=f"nkt-{i + 1}",
                               emg=array_source(np.vstack([emg, noise])),
                               imu=array_source(imu))  # fmt: skip
        elif c.profile == "myo":
            counts = np.clip(emg[[0, 1, 2, 0, 1, 2, 0, 1]] / 4, -127, 127)
            sensor = MyoSensor(address=c.address, emg=array_source(counts))
        elif c.profile in ("polar_h10", "polar_verity"):
            model: Literal["h10", "verity"] = "h10" if c.profile == "polar_h10" else "verity"
            sensor = PolarSensor(address=c.address, model=model,
                                 acc=array_source(imu[:3]), gyro=array_source(imu[3:]),
                                 imu_fs=imu_fs)  # fmt: skip
        elif c.profile == "witmotion":
            angles = np.zeros((3, imu.shape[1]))  # the simulation has no Euler angles
            sensor = WitMotionSensor(address=c.address, imu=array_source(np.vstack([imu, angles])),
                                     source_fs=imu_fs)  # fmt: skip
        else:
            raise ValidationError(f"--emulate supports {', '.join(EMULATED_PROFILES)}, got "
                                  f"{c.profile!r}", parameter="sensor")  # fmt: skip
        await sensor.attach(bus)


def render(live: dict[str, LiveSensor], elapsed: float) -> str:
    """Draw the live view as text (bars, loss, drift, quality lights).

    Parameters
    ----------
    live : dict of str to LiveSensor
        The recorder's live figures.
    elapsed : float
        Seconds since the start.

    Returns
    -------
    str
        Lines of the view, without a trailing newline.

    Examples
    --------
    >>> r = Recorder([SensorConfig("F0:00:00:00:00:01", "nkt")])
    >>> render(r.live, 1.0).splitlines()[0]
    'recording 1.0 s   (Ctrl-C stops and saves)'
    """
    lines = [f"recording {elapsed:.1f} s   (Ctrl-C stops and saves)"]
    for s in live.values():
        drift = "  n/a" if s.drift_ppm is None else f"{s.drift_ppm:+6.0f}"
        lines.append(f"{s.sensor} [{s.state}] packets {s.packets}  lost {s.lost}  "
                     f"malformed {s.malformed}  drift {drift} ppm")  # fmt: skip
        top = max(float(np.max(s.levels, initial=0.0)), 1e-9)
        for name, level, bad in zip(s.channels, s.levels, s.flags, strict=False):
            n = round(_BAR * float(level) / top)
            light = "\x1b[31m●\x1b[0m" if bad or level <= 0 else "\x1b[32m●\x1b[0m"
            lines.append(f"  {light} {name:<12} {'█' * n:<{_BAR}} {float(level):8.1f}")
    return "\n".join(lines)


async def _live_view(rec: Recorder, tty: bool) -> None:
    start, shown = time.monotonic(), 0
    while True:
        await asyncio.sleep(0.15 if tty else 2.0)
        text = render(rec.live, time.monotonic() - start)
        if tty:
            sys.stdout.write(f"\x1b[{shown}F\x1b[J" if shown else "")
            sys.stdout.write(text + "\n")
            sys.stdout.flush()
            shown = text.count("\n") + 1
        else:
            print("\n".join(x for x in text.splitlines() if not x.startswith("  ")), flush=True)


async def _record(args: argparse.Namespace, capture: Path) -> Recording:
    bus_cm: Any = contextlib.nullcontext()
    kwargs: dict[str, Any] = {}
    if args.emulate:
        from nkt_motion.emulate import EmulatedClient, VirtualBus

        bus_cm = VirtualBus()
    async with bus_cm as bus:
        found: dict[str, str] = {}
        if any(parse_sensor(s)[1] is None for s in args.sensor) and bus is None:
            found = {f.address: str(f.profile) for f in await scan(timeout=5.0)}
        configs = _configs(args, found)
        if bus is not None:
            await _emulated(configs, bus)
            kwargs = {"backend": EmulatedClient, "client_kwargs": {"bus": bus}}
        rec = Recorder(configs, capture_path=capture, settings={"task": "nkt"}, **kwargs)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, rec.request_stop)
        print(f"capture: {capture}", flush=True)
        view = asyncio.create_task(_live_view(rec, sys.stdout.isatty() and not args.no_live))
        try:
            return await rec.run(duration=args.duration)
        finally:
            view.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await view


def run(args: argparse.Namespace) -> int:
    """Record, then write the session as BIDS-EMG and print a summary.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        0 when a session was written.

    Examples
    --------
    ``nkt-motion record --emulate --duration 10 --out bids``
    """
    stamp = time.strftime("%Y%m%dT%H%M%S")
    default = args.out / "sourcedata" / "nkt-motion" / (
        f"sub-{args.subject}_ses-{args.session}_{stamp}.nktcap")  # fmt: skip
    capture: Path = args.capture or default
    capture.parent.mkdir(parents=True, exist_ok=True)
    recording = asyncio.run(_record(args, capture))
    session = recording.assembly.session.replace(subject=args.subject, session_id=args.session)
    for line in summary_lines(recording.assembly):
        print(line)
    if not session.streams:
        print(f"no data received; the capture is kept at {capture}")
        return 1
    folder = write_bids(session, args.out, overwrite=True)
    print(f"wrote {folder} (capture kept at {capture})")
    return 0
