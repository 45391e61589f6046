"""Emulated retests for the tests: a shorter protocol and a runner that checks every snapshot."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from nkt_motion.protocols import load_protocol
from nkt_motion.retest import (
    AutoPilot,
    EmulatedPlan,
    EmulatedSetup,
    RetestResult,
    RetestSession,
    plan_session,
)
from nkt_motion.web import check_snapshot

BUILTIN = Path(load_protocol("hip_flexion_gmed_adl").path or "")

#: The hip-flexion protocol with fewer and shorter steps (about 73 s of signal).
SHORT_STEPS = """
[[steps]]
id = "sensor_check"
kind = "sensor_check"
title = "Check the sensors"
instruction = "Push the knee out, then squeeze the knees together."

[[steps]]
id = "rest"
kind = "rest"
title = "Quiet standing"
instruction = "Stand still."
event = "rest"
duration_s = 4.0

[[steps]]
id = "ref_gmed"
kind = "reference"
title = "Reference: gluteus medius"
instruction = "Lift the leg against my hand and hold."
event = "ref/GMED"
n_trials = 2
duration_s = 2.5

[[steps]]
id = "ref_adl"
kind = "reference"
title = "Reference: adductor longus"
instruction = "Squeeze the ball and hold."
event = "ref/ADL"
n_trials = 1
duration_s = 2.5

[[steps]]
id = "pre_test"
kind = "pre_test"
title = "Test before the correction"
instruction = "Lift the knee on each go."
event = "pre/test/GMED"
n_trials = 4
duration_s = 2.0

[[steps]]
id = "correction"
kind = "correction"
title = "Correction"
instruction = "Correct."
event = "correction"

[[steps]]
id = "post_test"
kind = "post_test"
title = "Retest after the correction"
instruction = "Lift the knee on each go."
event = "post/test/GMED"
n_trials = 4
duration_s = 2.0
"""


@pytest.fixture(scope="session")
def short_protocol(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A protocol file ``hip_flexion_short.toml`` (the built-in one, shorter steps)."""
    text = BUILTIN.read_text(encoding="utf-8")
    head = text[: text.index("[[steps]]")]
    head = head.replace('name = "hip_flexion_gmed_adl"', 'name = "hip_flexion_short"')
    head = re.sub(r"duration_s = 3\.0", "duration_s = 2.0", head)
    path = tmp_path_factory.mktemp("protocols") / "hip_flexion_short.toml"
    path.write_text(head + SHORT_STEPS, encoding="utf-8")
    return path


Driver = Callable[[RetestSession, EmulatedSetup], Coroutine[Any, Any, Any]]


@dataclass
class Run:
    """An emulated retest that ran: the session, its result, the setup and the snapshots."""

    session: RetestSession
    result: RetestResult
    setup: EmulatedSetup
    snapshots: list[dict[str, Any]] = field(default_factory=list)

    def t0(self) -> float:
        """Session time of the plan's time 0 (the first EMG sample)."""
        return self.session.chain.first_emg_s

    def planned(self) -> list[tuple[str, float, float]]:
        """Every planned trial as (step id, start, stop) on the session clock."""
        t0 = self.t0()
        return [(s.id, t0 + a, t0 + b) for s in self.setup.plan.steps for a, b in s.trials]


async def _watch(rs: RetestSession, into: list[dict[str, Any]]) -> None:
    """Take a snapshot every 50 ms (as the dashboard does) and hold each against the schema."""
    while True:
        snap = rs.snapshot()
        check_snapshot(snap)
        if (
            not into
            or snap["step"]["id"] != into[-1]["step"]["id"]
            or snap["state"] != into[-1]["state"]
        ):
            into.append(snap)
        await asyncio.sleep(0.05)


def run_retest(
    plan: EmulatedPlan,
    out: Path,
    *,
    speed: float,
    marking: str = "manual",
    drop_at_s: float | None = None,
    driver: Driver | None = None,
    pilot: dict[str, Any] | None = None,
    **options: Any,
) -> Run:
    """Play an emulated retest to its end (AutoPilot unless ``driver`` is given)."""
    snapshots: list[dict[str, Any]] = []

    async def main() -> Run:
        async with EmulatedSetup(plan, speed=speed, drop_at_s=drop_at_s) as setup:
            rs = RetestSession(plan.protocol, "L", setup.configs, out=out, marking=marking,
                               recorder_options=setup.recorder_options(),
                               **{"n_boot": 300, "pdf": False, **options})  # fmt: skip
            play = driver(rs, setup) if driver else AutoPilot(
                setup, marking=marking, **(pilot or {})).drive(rs)  # fmt: skip
            watch = asyncio.create_task(_watch(rs, snapshots))
            try:
                result, _ = await asyncio.wait_for(asyncio.gather(rs.run(), play), 120)
            finally:
                watch.cancel()
            if watch.done() and not watch.cancelled() and watch.exception():
                raise watch.exception()  # type: ignore[misc]
            check_snapshot(rs.snapshot())
            return Run(rs, result, setup, snapshots)

    return asyncio.run(main())


@pytest.fixture(scope="session")
def retest() -> Callable[..., Run]:
    """The runner of emulated retests (see :func:`run_retest`)."""
    return run_retest


@pytest.fixture(scope="session")
def short_plan(short_protocol: Path) -> EmulatedPlan:
    """The emulated client of the short protocol (simulated once for every test)."""
    return plan_session(load_protocol(short_protocol), "L")
