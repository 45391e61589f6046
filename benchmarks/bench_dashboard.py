"""Dashboard benchmark: frame smoothness over a 10-minute session, and live latency to the screen.

All runs use Debian's Chromium (headless, 1024x768; ``$NKT_CHROMIUM`` for another
binary) driven by Playwright, with the dashboard served in its own thread and loop:

(a) smoothness: a replay controller serves the snapshots of a 10-minute session
    at 15 Hz (9000 snapshots: 4 EMG channels, 4 sensors, the event list and the
    before/after ratio lists growing as the session goes), time-compressed to
    60 frames a second (``--every k`` sends every k-th snapshot). Per drawn frame:
    the script time of the page's render (performance.now() around it), and the
    long tasks and long animation frames (> 50 ms, script + style + layout +
    paint) the browser reports. Run at CPU throttling 1x and 4x (a slower tablet).
(b) snapshot -> screen: the same replay in real time at ``--rates``; each
    snapshot's server time against the time the page finished drawing it.
(c) notification -> screen: a real ``RetestSession`` recording 4 emulated nkt
    sensors (4 EMG ch at 2 kHz + IMU at 100 Hz each) in real time behind the
    dashboard; each BLE notification's host receive time against the time the
    page finished drawing the first snapshot taken after the session processed it.

Usage (the test extra provides Playwright)::

    .venv/bin/python benchmarks/bench_dashboard.py [--minutes 10] [--every 2]
        [--rates 15 20] [--latency-seconds 20] [--e2e-seconds 30] [--skip-e2e]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import logging
import math
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import numpy as np
from playwright.sync_api import sync_playwright

from nkt_motion.acquire import SensorConfig
from nkt_motion.emulate import EmulatedClient, NktSensor, VirtualBus, array_source
from nkt_motion.protocols import load_protocol
from nkt_motion.retest.runner import RetestSession, sensor_options
from nkt_motion.web import example_snapshot

_spec = importlib.util.spec_from_file_location(
    "nkt_web_browser", Path(__file__).parents[1] / "tests" / "web" / "browser.py"
)
assert _spec is not None and _spec.loader is not None
browser = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(browser)

RATE = 15.0
PROTOCOL = "hip_flexion_gmed_adl"
MUSCLES = ("GMED", "ADL", "TFL", "GMAX")
# (id, title, kind, event label, start, end) as fractions of the session
STEPS = (
    ("sensor_check", "Check the sensors", "sensor_check", None, 0.00, 0.05),
    ("rest", "Quiet standing", "rest", "rest", 0.05, 0.10),
    ("ref_gmed", "Reference: gluteus medius", "reference", "ref/GMED", 0.10, 0.20),
    ("ref_adl", "Reference: adductor longus", "reference", "ref/ADL", 0.20, 0.30),
    ("pre_test", "Before: test gluteus medius", "pre_test", "pre/test/GMED", 0.30, 0.55),
    ("correction", "Correction", "correction", "correction", 0.55, 0.70),
    ("post_test", "After: test gluteus medius", "post_test", "post/test/GMED", 0.70, 0.95),
)
TRIAL_EVERY_S, TRIAL_S = 8.0, 3.0


# ---- (a), (b): a replayed 10-minute session ---------------------------------------------


def trials(start: float, end: float) -> list[tuple[float, float]]:
    out, t = [], start + 2.0
    while t + TRIAL_S < end:
        out.append((t, t + TRIAL_S))
        t += TRIAL_EVERY_S
    return out


def session_at(t: float, total: float, seq: int) -> dict[str, Any]:
    """The snapshot of the replayed session at ``t`` seconds (deterministic)."""
    snap = example_snapshot()
    index = next((i for i, s in enumerate(STEPS) if t < s[5] * total), len(STEPS) - 1)
    sid, title, kind, label, _, _ = STEPS[index]
    events, active, ratios_pre, ratios_post = [], None, [], []
    for k, (_, _, _, lab, a, b) in enumerate(STEPS):
        if lab is None or k > index:
            continue
        if lab == "correction":
            if b * total <= t:
                events.append({"onset": a * total, "duration": (b - a) * total, "label": lab})
            continue
        for on, off in trials(a * total, b * total):
            if off <= t:
                events.append({"onset": on, "duration": off - on, "label": lab})
                value = 0.7 + 0.05 * math.sin(on) + (0.3 if lab.startswith("post") else 0.0)
                (ratios_post if lab.startswith("post") else ratios_pre).extend(
                    [value] if "test" in lab else []
                )
            elif on <= t:
                active = (lab, on)
    finished = t >= 0.97 * total
    state = "finished" if finished else "finishing" if t >= 0.95 * total else "running"
    in_trial = active is not None
    normalised = t > STEPS[3][5] * total
    snap.update(seq=seq, t=t, state=state, events=events)
    snap["protocol"]["partners"] = ["ADL", "TFL"]
    n = len([1 for e in events if e["label"] == label])
    snap["step"].update(
        index=index, count=len(STEPS), id=sid, kind=kind, title=title, event=label,
        n_trials=5 if label and label != "correction" else None, trials_done=n,
        can_mark=state == "running" and label not in (None, "correction"),
    )  # fmt: skip
    snap["steps"] = [
        {"id": s[0], "title": s[1], "status": "done" if i < index else
         "current" if i == index and not finished else "todo" if i > index else "done"}
        for i, s in enumerate(STEPS)
    ]  # fmt: skip
    snap["trial"] = {
        "active": in_trial,
        "label": active[0] if active else None,
        "elapsed_s": t - active[1] if active else None,
    }
    snap["channels"] = [
        {
            "label": f"EMG {m} L",
            "muscle": m,
            "level": (0.08 + (0.6 - 0.1 * i) * in_trial + 0.03 * math.sin(7 * t + i))
            * (1.0 if normalised else 180.0),
            "normalised": normalised,
            "quality": "warn" if m == "TFL" and 200 < t < 260 else "ok",
            "reason": "mains hum above 10 % of power" if m == "TFL" and 200 < t < 260 else "",
        }
        for i, m in enumerate(MUSCLES)
    ]
    seen = [None, None, *ratios_pre, *ratios_post]
    snap["ratios"] = [
        {"partner": p, "current": seen[-1], "previous": seen[-2], "pre": ratios_pre,
         "post": ratios_post}
        for p in ("ADL", "TFL")
    ]  # fmt: skip
    last = events[-1]["label"] if events else None
    snap["onsets"] = (
        None
        if last is None or "test" not in last
        else {"label": last, "order": ["ADL", "GMED", "TFL"],
              "delays_ms": {"ADL": 0.0, "GMED": 60 + 30 * math.sin(t), "TFL": 120.0}}
    )  # fmt: skip
    snap["angles"] = [
        {"name": n, "value": a + math.sin(t + a), "unit": "deg"}
        for n, a in (("pelvic_drop", 3.0), ("hip_hike", 1.0), ("trunk_lean", 2.0))
    ]
    snap["sensors"] = [
        {"id": f"nkt-{i + 1}", "state": "streaming", "packets": int(t * 215), "lost": int(t / 40),
         "drift_ppm": 20.0 + 5 * i}
        for i in range(4)
    ]  # fmt: skip
    snap["messages"] = [f"{e['label']} recorded ({e['duration']:.1f} s)." for e in events[-10:]]
    if finished:
        snap["verdict"] = {"tests": [
            {"tested": "GMED", "partner": p, "verdict": "improved", "reason": "ratio rose",
             "pre": {"ratio": 0.7, "ci": [0.66, 0.74]}, "post": {"ratio": 1.0, "ci": [0.95, 1.05]},
             "change": 1.43, "change_ci": [1.3, 1.55]} for p in ("ADL", "TFL")]}  # fmt: skip
        snap["paths"] = {"bids": "/tmp/bids/sub-01/ses-01", "report": None, "pdf": None}
    return snap


class Replay:
    """Serve the replayed session: snapshot ``i`` of ``n`` advances by ``every`` per call."""

    def __init__(self, minutes: float, *, every: int = 1, start_at: float = 0.0) -> None:
        self.total = minutes * 60.0
        self.n = int(self.total * RATE)
        self.every = every
        self.i = int(start_at * self.n)
        self.seq = 0

    @property
    def done(self) -> bool:
        return self.i >= self.n

    def snapshot(self) -> dict[str, Any]:
        self.seq += 1
        t = min(self.i, self.n - 1) / RATE
        self.i += self.every
        return session_at(t, self.total, self.seq)

    def command(self, name: str, **args: Any) -> None:
        pass


# ---- measuring in the page --------------------------------------------------------------


def open_tab(chromium: Any, url: str, *, throttle: float = 1.0) -> Any:
    context = chromium.new_context(viewport=browser.TABLET)
    page = context.new_page()
    if throttle != 1.0:
        cdp = context.new_cdp_session(page)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": throttle})
    page.goto(url)
    browser.wait_live(page)
    page.evaluate("window.nktDashboard.drain()")  # drop the first frames (page start-up)
    return page


def drain(page: Any, frames: list[dict[str, Any]], long: list[dict[str, Any]]) -> None:
    got = page.evaluate("window.nktDashboard.drain()")
    frames.extend(got["frames"])
    long.extend(got["long"])


def collect(page: Any, seconds: float, frames: list[dict[str, Any]]) -> None:
    """Drain the page's frame timings every second for ``seconds``, then close the tab."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(1.0)
        drain(page, frames, [])
    page.context.close()


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else math.nan


def smoothness(chromium: Any, minutes: float, every: int, throttle: float) -> None:
    replay = Replay(minutes, every=every)
    server = browser.ServerThread(replay, rate_hz=60.0).start()
    frames: list[dict[str, Any]] = []
    long: list[dict[str, Any]] = []
    try:
        page = open_tab(chromium, server.dashboard.url, throttle=throttle)
        heap0 = page.evaluate("performance.memory ? performance.memory.usedJSHeapSize : 0")
        while not replay.done:
            time.sleep(1.0)
            drain(page, frames, long)
        time.sleep(0.5)
        drain(page, frames, long)
        heap1 = page.evaluate("performance.memory ? performance.memory.usedJSHeapSize : 0")
        nodes = page.evaluate("document.getElementsByTagName('*').length")
        events = page.inner_text("#event-count")
        page.context.close()
    finally:
        server.stop()
    script = [f["script_ms"] for f in frames]
    tasks = [x["ms"] for x in long if x["type"] == "longtask"]
    loaf = [x["ms"] for x in long if x["type"] == "long-animation-frame"]
    print(
        f"(a) smoothness, CPU x{throttle:g}: {len(frames)} frames drawn of "
        f"{replay.n // every} sent ({minutes:g} min session, events {events}); render script "
        f"p50 {pct(script, 50):.2f} ms, p99 {pct(script, 99):.2f} ms, max {max(script):.2f} ms, "
        f"frames > 50 ms: {sum(s > 50 for s in script)}; long tasks: {len(tasks)} "
        f"(max {max(tasks, default=0):.0f} ms), long animation frames: {len(loaf)} "
        f"(max {max(loaf, default=0):.0f} ms); JS heap {heap0 / 1e6:.1f} -> {heap1 / 1e6:.1f} MB,"
        f" {nodes} DOM elements at the end; load {os.getloadavg()[0]:.1f}"
    )


def snapshot_latency(chromium: Any, seconds: float, rate: float) -> None:
    replay = Replay(10.0, start_at=0.8)  # late in the session: full-size snapshots
    server = browser.ServerThread(replay, rate_hz=rate).start()
    frames: list[dict[str, Any]] = []
    try:
        page = open_tab(chromium, server.dashboard.url)
        collect(page, seconds, frames)
    finally:
        server.stop()
    lag = [f["lag_ms"] for f in frames]
    print(
        f"(b) snapshot -> drawn, {rate:g} Hz: {len(lag)} frames; p50 {pct(lag, 50):.1f} ms, "
        f"p99 {pct(lag, 99):.1f} ms, max {max(lag):.1f} ms (min {min(lag):.1f} ms); "
        f"load {os.getloadavg()[0]:.1f}"
    )


# ---- (c): a real retest of 4 emulated sensors ---------------------------------------------


class NotificationProbe:
    """The retest as the controller, noting which notifications each snapshot includes."""

    def __init__(self, rs: RetestSession) -> None:
        self.rs = rs
        self.pending: list[tuple[int, int]] = []  # (notification host ns, processed host ns)
        self.by_seq: dict[int, list[tuple[int, int]]] = {}
        self.notifications = 0
        inner = rs._on_packets  # the recorder is built in run() with this callback

        def on_packets(sensor: str, packets: list[Any]) -> None:
            inner(sensor, packets)
            done = time.monotonic_ns()
            self.pending.extend((p.host_ns, done) for p in packets)
            self.notifications += len(packets)

        rs._on_packets = on_packets  # type: ignore[method-assign]

    def snapshot(self) -> dict[str, Any]:
        snap = self.rs.snapshot()
        if self.pending:
            self.by_seq[snap["seq"]], self.pending = self.pending, []
        return snap

    def command(self, name: str, **args: Any) -> None:
        self.rs.command(name, **args)

    def add_listener(self, callback: Any) -> Any:
        return self.rs.add_listener(callback)  # the dashboard draws each processed batch


def retest_of_four_sensors(out: Path) -> Any:
    addresses = [f"F0:00:00:00:00:{i + 1:02X}" for i in range(4)]
    hip = load_protocol(PROTOCOL)
    rng = np.random.default_rng(0)
    burst = np.where((np.arange(20_000) % 8000) < 3000, 400.0, 40.0)
    emg = np.rint(rng.normal(0, 1, (4, 20_000)) * burst)

    @asynccontextmanager
    async def session() -> AsyncIterator[NotificationProbe]:
        async with VirtualBus() as bus:
            for i, a in enumerate(addresses):
                await NktSensor(address=a, name=f"nkt-{i}", emg=array_source(emg)).attach(bus)
            configs = [
                SensorConfig(addresses[0], "nkt", options=sensor_options(hip, "L", "nkt")),
                *(SensorConfig(a, "nkt") for a in addresses[1:]),
            ]
            rs = RetestSession(
                hip, "L", configs, out=out, pdf=False, n_boot=100,
                recorder_options={"backend": EmulatedClient, "client_kwargs": {"bus": bus}},
            )  # fmt: skip
            probe = NotificationProbe(rs)
            task = asyncio.create_task(rs.run())
            try:
                yield probe
            finally:
                rs.request_stop()
                await task

    return session


def notification_latency(chromium: Any, seconds: float, rate: float) -> None:
    offset_ns = min(time.time_ns() - time.monotonic_ns() for _ in range(5))
    with tempfile.TemporaryDirectory() as tmp:
        server = browser.ServerThread(
            session=retest_of_four_sensors(Path(tmp) / "bids"), rate_hz=rate
        ).start()
        frames: list[dict[str, Any]] = []
        try:
            page = open_tab(chromium, server.dashboard.url)
            browser.wait_js(
                page, "document.querySelector('#state').textContent === 'running'", timeout=30
            )
            time.sleep(2.0)  # set-up and the first filter fills are not the steady state
            drain(page, [], [])
            probe = server.controller
            probe.by_seq.clear()
            probe.notifications = 0
            collect(page, seconds, frames)
        finally:
            server.stop()
    drawn = sorted((f["seq"], f["drawn_at"]) for f in frames)
    seqs = np.array([s for s, _ in drawn])
    total: list[float] = []
    session: list[float] = []  # notification -> processed by the retest (its live batch)
    dashboard: list[float] = []  # processed -> drawn (snapshot tick, socket, page)
    for seq, noted in probe.by_seq.items():
        k = int(np.searchsorted(seqs, seq))
        if k < len(drawn):
            at = drawn[k][1]
            for host, done in noted:
                total.append(at - (host + offset_ns) / 1e6)
                session.append((done - host) / 1e6)
                dashboard.append(at - (done + offset_ns) / 1e6)
    print(
        f"(c) notification -> drawn, 4 emulated sensors, {rate:g} Hz: "
        f"{len(total)} notifications ({probe.notifications / seconds:.0f}/s over the run) in "
        f"{len(frames)} frames; p50 {pct(total, 50):.1f} ms, p99 {pct(total, 99):.1f} ms, "
        f"max {max(total, default=math.nan):.1f} ms; of which notification -> processed p50 "
        f"{pct(session, 50):.1f} / p99 {pct(session, 99):.1f} ms, processed -> drawn p50 "
        f"{pct(dashboard, 50):.1f} / p99 {pct(dashboard, 99):.1f} ms; "
        f"load {os.getloadavg()[0]:.1f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="replayed session length")
    parser.add_argument("--every", type=int, default=2, help="send every k-th snapshot in (a)")
    parser.add_argument("--throttle", type=float, nargs="*", default=[1.0, 4.0])
    parser.add_argument("--rates", type=float, nargs="*", default=[15.0, 20.0])
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    parser.add_argument("--e2e-seconds", type=float, default=30.0)
    parser.add_argument("--skip-e2e", action="store_true")
    args = parser.parse_args(argv)
    # the retest of (c) saves and assesses a session without trials: its warnings are not news
    logging.getLogger("nkt_motion").setLevel(logging.ERROR)
    with sync_playwright() as playwright:
        chromium = browser.launch(playwright)
        print(
            f"Chromium {chromium.version}, viewport 1024x768, Python {sys.version.split()[0]}, "
            f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start"
        )
        for throttle in args.throttle:
            smoothness(chromium, args.minutes, args.every, throttle)
        for rate in args.rates:
            snapshot_latency(chromium, args.latency_seconds, rate)
        if not args.skip_e2e:
            for rate in args.rates:
                notification_latency(chromium, args.e2e_seconds, rate)
        chromium.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
