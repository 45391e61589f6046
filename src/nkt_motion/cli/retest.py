"""``nkt-motion retest``: the guided live retest, from the sensor check to the report.

Walks the protocol's steps with the practitioner (see
:class:`nkt_motion.retest.RetestSession`): a live text view refreshes about 7
times a second on a terminal (step and instruction, quality lights, envelope
bars, the tested:partner ratio of the current and previous trials, onset
order, angles, packet loss and clock drift); keys act without Enter (space
starts/stops a trial, n next step, s skip, r repeat, o override, q stop and
save). Without a terminal, commands are read one per line on stdin (the key
letters or the command names) and messages are printed as they come. Ctrl-C
stops and saves. At the end the verdict and the paths are printed.

``--emulate`` records an emulated nkt sensor carrying a simulated client
(compensating before the correction, less after); ``--auto`` adds a script
that plays the practitioner; ``--speed`` runs an emulated session faster than
real time (default 5 with ``--auto``). ``--web`` also serves the live dashboard
on this computer and prints its link.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import textwrap
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from nkt_motion.cli._assessment import add_index_options, record_in_index
from nkt_motion.errors import ValidationError

__all__ = ["KEYS", "register", "render", "run"]

#: Key (or line) -> command.
KEYS = {" ": "trial_toggle", "n": "next", "s": "skip", "r": "repeat", "o": "override", "q": "stop"}
_BAR = 24
_LIGHT = {"ok": "\x1b[32m●\x1b[0m", "warn": "\x1b[33m●\x1b[0m", "bad": "\x1b[31m●\x1b[0m"}
#: Default --speed of an emulated session played by --auto (the demo takes about 30 s).
AUTO_SPEED = 5.0


def register(subparsers: Any) -> None:
    """Add the ``retest`` subcommand.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The parent parser's subparsers.

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> register(p.add_subparsers())
    >>> a = p.parse_args(["retest", "--protocol", "hip_flexion_gmed_adl", "--side", "L",
    ...                   "--emulate", "--auto", "--out", "d"])
    >>> a.speed, a.marking
    (None, 'manual')
    """
    p = subparsers.add_parser(
        "retest",
        help="guided live retest: test, correct, retest, verdict and report",
        description="Guide the practitioner through a protocol's steps with live EMG/IMU "
        "figures, then save the session as BIDS-EMG, assess it before vs after the "
        "correction and write the report. A measurement, not a diagnosis.",
    )
    p.add_argument("--protocol", required=True, help="protocol name (see nkt-motion protocols)")
    p.add_argument("--side", required=True, choices=["L", "R"], help="tested side")
    p.add_argument("--sensor", action="append", default=[], metavar="ADDR[=PROFILE]",
                   help="sensor to record (repeat for several)")  # fmt: skip
    p.add_argument("--out", required=True, type=Path, help="BIDS dataset root")
    p.add_argument("--subject", default="01", help="BIDS subject label")
    p.add_argument("--session", default="01", help="BIDS session label")
    p.add_argument("--emulate", action="store_true", help="emulated sensors and client")
    p.add_argument("--auto", action="store_true", help="script the practitioner (with --emulate)")
    p.add_argument("--marking", choices=["manual", "detect"], default="manual",
                   help="detect: test trials marked from the envelopes")  # fmt: skip
    speed = f"times real time, emulated only (default {AUTO_SPEED:g} with --auto)"
    p.add_argument("--speed", type=float, default=None, help=speed)
    p.add_argument("--web", action="store_true", help="also serve the live dashboard")
    p.add_argument("--override-quality", action="store_true",
                   help="allow tests on dead or clipping channels")  # fmt: skip
    p.add_argument("--mains", type=float, choices=[50.0, 60.0], default=50.0, help="mains Hz")
    p.add_argument("--seed", type=int, default=0, help="seed of the emulated client")
    p.add_argument("--n-boot", type=int, default=2000, help="assessment bootstrap resamples")
    p.add_argument("--no-pdf", action="store_true", help="HTML report only")
    p.add_argument("--overwrite", action="store_true",
                   help="replace a session saved under the same labels")  # fmt: skip
    add_index_options(p)
    p.add_argument("--no-live", action="store_true", help="messages, no live view")
    p.set_defaults(func=run)


#: Full bar: the reference level for a normalised channel, else this many uV at least.
_FULL_UV = 50.0


def _bar(level: float | None, top: float) -> str:
    if level is None:
        return " " * _BAR
    n = min(_BAR, round(_BAR * level / top)) if top > 0 else 0
    return "█" * n + " " * (_BAR - n)


def _interval(value: float | None, ci: list[float | None]) -> str:
    if value is None:
        return "n/a"
    if ci[0] is None or ci[1] is None:
        return f"{value:.2f}"
    return f"{value:.2f} [{ci[0]:.2f}-{ci[1]:.2f}]"


def render(snap: dict[str, Any], *, width: int = 88) -> str:
    """Draw a snapshot of the retest as text.

    Parameters
    ----------
    snap : dict
        :meth:`nkt_motion.retest.RetestSession.snapshot`.
    width : int
        Line width for the wrapped instruction.

    Returns
    -------
    str
        Lines of the view, without a trailing newline.

    Examples
    --------
    >>> from nkt_motion.web.schema import example_snapshot
    >>> text = render(example_snapshot())
    >>> text.splitlines()[0].startswith("RUNNING"), "space trial start/stop" in text
    (True, True)
    """
    step, trial = snap["step"], snap["trial"]
    head = (f"{snap['state'].upper():<9} t {snap['t']:.1f} s   step {step['index'] + 1}/"
            f"{step['count']}: {step['title']}")  # fmt: skip
    lines = [head, *textwrap.wrap(step["instruction"], width, initial_indent="  ",
                                  subsequent_indent="  ")]  # fmt: skip
    n = "" if step["n_trials"] is None else f" {step['trials_done']}/{step['n_trials']} trials"
    state = f"trial {trial['label']} {trial['elapsed_s'] or 0:.1f} s" if trial["active"] else ""
    lines.append(f"  {state or ('ready' if step['can_mark'] else '')}{n}")
    if step["blocked_reason"]:
        lines.append(f"  blocked: {step['blocked_reason']}")
    raw = [c["level"] for c in snap["channels"] if c["level"] is not None and not c["normalised"]]
    top_uv = max([_FULL_UV, *raw])
    for c in snap["channels"]:
        level = "   -" if c["level"] is None else f"{c['level']:8.2f}"
        unit = "" if c["normalised"] else " uV"
        note = f"  {c['reason']}" if c["quality"] != "ok" else ""
        lines.append(f"  {_LIGHT[c['quality']]} {c['label']:<12} "
                     f"{_bar(c['level'], 1.0 if c['normalised'] else top_uv)} "
                     f"{level}{unit}{note}")  # fmt: skip
    for r in snap["ratios"]:
        cur = "-" if r["current"] is None else f"{r['current']:.2f}"
        prev = "-" if r["previous"] is None else f"{r['previous']:.2f}"
        lines.append(f"  {snap['protocol']['tested']}:{r['partner']} now {cur}  before {prev}")
    if snap["onsets"]:
        order = " < ".join(snap["onsets"]["order"]) or "-"
        lines.append(f"  onset order ({snap['onsets']['label']}): {order}")
    lines += [f"  {a['name']} {'-' if a['value'] is None else format(a['value'], '.1f')} "
              f"{a['unit']}" for a in snap["angles"]]  # fmt: skip
    for s in snap["sensors"]:
        drift = "n/a" if s["drift_ppm"] is None else f"{s['drift_ppm']:+.0f}"
        lines.append(f"  {s['id']} [{s['state']}] packets {s['packets']} lost {s['lost']} "
                     f"drift {drift} ppm")  # fmt: skip
    if snap["messages"]:
        lines.append(f"  > {snap['messages'][-1][:width]}")
    lines.append("  space trial start/stop · n next · s skip · r repeat · o override · q stop")
    return "\n".join(lines)


def _send(session: Any, key: str) -> None:
    name = KEYS.get(key, key.strip())
    if not name:
        return
    with contextlib.suppress(ValidationError):  # the session's messages say why
        session.command(name)


@contextlib.contextmanager
def _keys(session: Any, loop: asyncio.AbstractEventLoop) -> Any:
    """Read single keys in cbreak mode; the terminal is restored on exit."""
    import termios
    import tty

    fd = sys.stdin.fileno()
    old = termios.tcgetattr(fd)
    tty.setcbreak(fd)

    def on_key() -> None:
        data = os.read(fd, 16).decode(errors="ignore")
        for ch in data:
            _send(session, ch.lower() if ch != " " else ch)

    loop.add_reader(fd, on_key)
    try:
        yield
    finally:
        loop.remove_reader(fd)
        termios.tcsetattr(fd, termios.TCSADRAIN, old)


def _lines(session: Any, loop: asyncio.AbstractEventLoop) -> None:
    """Read commands one per line in a daemon thread (stdin may be a pipe or a file)."""

    def reader() -> None:
        for line in sys.stdin:
            key = line.strip().lower() or " "
            loop.call_soon_threadsafe(_send, session, "trial_toggle" if key == " " else key)

    threading.Thread(target=reader, name="nkt-retest-stdin", daemon=True).start()


async def _view(session: Any, tty: bool) -> None:
    shown, said, last = 0, 0, 0.0
    while True:
        await asyncio.sleep(0.15)
        snap = session.snapshot()
        if tty:
            text = render(snap)
            sys.stdout.write((f"\x1b[{shown}F\x1b[J" if shown else "") + text + "\n")
            sys.stdout.flush()
            shown = text.count("\n") + 1
            continue
        history = session.messages
        fresh = history[len(history) - min(len(history), session.said - said) :]
        for text in fresh:
            print(text, flush=True)
        said = session.said
        if time.monotonic() - last > 2.0 and snap["state"] == "running":
            last = time.monotonic()
            step = snap["step"]
            print(f"[{snap['t']:.1f} s] step {step['index'] + 1}/{step['count']} {step['id']} "
                  f"{step['trials_done']}/{step['n_trials'] or 0}", flush=True)  # fmt: skip


@contextlib.asynccontextmanager
async def _web(session: Any, on: bool) -> AsyncIterator[None]:
    if not on:
        yield
        return
    from nkt_motion.web import serve_dashboard

    async with serve_dashboard(session) as dash:
        print(f"dashboard: {dash.url}", flush=True)
        yield


async def _retest(args: argparse.Namespace) -> Any:
    from nkt_motion.protocols import load_protocol

    protocol = load_protocol(args.protocol)
    if args.emulate:
        from nkt_motion.retest import AutoPilot, EmulatedSetup, plan_session

        speed = args.speed or (AUTO_SPEED if args.auto else 1.0)
        plan = plan_session(protocol, args.side, seed=args.seed)
        async with EmulatedSetup(plan, speed=speed) as setup:
            pilot = AutoPilot(setup, marking=args.marking) if args.auto else None
            return await _drive(args, protocol, setup.configs, setup.recorder_options(), pilot)
    configs = await _configs(args, protocol)
    return await _drive(args, protocol, configs, {}, None)


async def _configs(args: argparse.Namespace, protocol: Any) -> list[Any]:
    from nkt_motion.acquire import SensorConfig, scan
    from nkt_motion.cli.record import parse_sensor
    from nkt_motion.retest import sensor_options

    wanted = [parse_sensor(s) for s in args.sensor]
    if not wanted:
        raise ValidationError("give the sensors with --sensor ADDR[=PROFILE] (or --emulate)",
                              parameter="sensor")  # fmt: skip
    found: dict[str, str] = {}
    if any(profile is None for _, profile in wanted):
        found = {f.address: str(f.profile) for f in await scan(timeout=5.0)}
    configs = []
    for address, profile in wanted:
        name = profile or found.get(address)
        if name is None:
            raise ValidationError(f"sensor {address}: not found by a scan; give its profile "
                                  "as ADDR=PROFILE", parameter="sensor")  # fmt: skip
        options = sensor_options(protocol, args.side, name)
        configs.append(SensorConfig(address, name, options=options))
    return configs


async def _drive(
    args: argparse.Namespace, protocol: Any, configs: list[Any], options: dict[str, Any],
    pilot: Any,
) -> Any:  # fmt: skip
    from nkt_motion.retest import RetestSession

    session = RetestSession(
        protocol, args.side, configs, out=args.out, subject=args.subject, session=args.session,
        recorder_options=options, marking=args.marking, override_quality=args.override_quality,
        mains=args.mains, pdf=not args.no_pdf, n_boot=args.n_boot, overwrite=args.overwrite,
    )  # fmt: skip
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, session.request_stop)
    tty = sys.stdout.isatty() and not args.no_live
    keys: Any = contextlib.nullcontext()
    if sys.stdin.isatty() and tty:
        keys = _keys(session, loop)
    elif not args.auto:
        _lines(session, loop)
    print(f"capture: {session.capture}", flush=True)
    tasks: list[asyncio.Task[Any]] = [loop.create_task(_view(session, tty))]
    if pilot is not None:
        tasks.append(loop.create_task(pilot.drive(session)))
    try:
        async with _web(session, args.web):
            with keys:
                return await session.run()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _print_result(result: Any) -> None:
    from nkt_motion.retest import verdict_entry

    verdict = None if result.assessment is None else verdict_entry(result.assessment)
    for t in (verdict or {}).get("tests", []):
        pre, post = t["pre"], t["post"]
        print(f"{t['tested']}:{t['partner']} {t['verdict'].upper()}: {t['reason']}")
        print(f"  pre {_interval(pre['ratio'], pre['ci'])}  post "
              f"{_interval(post['ratio'], post['ci'])}  change x"
              f"{_interval(t['change'], t['change_ci'])}")  # fmt: skip
    rows: list[tuple[str, Path | None]] = [("BIDS session", result.bids),
                                           ("report", result.report), ("PDF", result.pdf),
                                           ("capture", result.capture)]  # fmt: skip
    for name, path in rows:
        if path is not None:
            print(f"{name}: {path}")


def run(args: argparse.Namespace) -> int:
    """Run the guided retest; print the verdict and the paths.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        0 when the session was saved, 1 when nothing could be saved.

    Examples
    --------
    ``nkt-motion retest --protocol hip_flexion_gmed_adl --side L --emulate --auto --out demo``
    """
    if (args.auto or args.speed is not None) and not args.emulate:
        raise ValidationError("--auto and --speed play an emulated client: add --emulate",
                              parameter="emulate")  # fmt: skip
    if args.speed is not None and not args.speed > 0:
        raise ValidationError(f"--speed must be > 0, got {args.speed}", parameter="speed")
    start = time.monotonic()
    result = asyncio.run(_retest(args))
    print(f"retest {result.state} in {time.monotonic() - start:.1f} s")
    _print_result(result)
    _index(args, result)
    return 0 if result.state in ("finished", "stopped") else 1


def _index(args: argparse.Namespace, result: Any) -> None:
    """Record the saved session's assessment in the client/session index (a warning on failure)."""
    if result.assessment is None or result.session is None or result.bids is None:
        return
    from nkt_motion.errors import NktMotionError

    where = argparse.Namespace(path=result.bids, index=args.index, no_index=args.no_index)
    try:
        recorded = record_in_index(where, result.session, result.assessment, origin="retest")
    except (NktMotionError, OSError) as exc:
        print(f"warning: the index was not updated: {exc}", file=sys.stderr)
        return
    if recorded is not None:
        print(f"index: {recorded[0]} (nkt-motion history {result.session.subject})")
