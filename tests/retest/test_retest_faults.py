"""Bad input during a retest: a sensor drops mid-trial, skipped and repeated steps, Ctrl-C,
a dead channel; and a protocol with an IMU. Each runs the short hip-flexion protocol (or
a variant) on the emulated client."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nkt_motion import read
from nkt_motion.capture import read_capture
from nkt_motion.errors import ValidationError
from nkt_motion.features import trial_table
from nkt_motion.protocols import load_protocol
from nkt_motion.retest import (
    AutoPilot,
    EmulatedPlan,
    EmulatedSetup,
    RetestSession,
    plan_session,
)

pytestmark = pytest.mark.slow

SPEED = 10.0


async def _play(pilot: AutoPilot, step: Any, windows: list[tuple[float, float]]) -> None:
    """Mark ``windows`` (plan times) as trials, then move on at the end of the step."""
    for a, b in windows:
        await pilot.at(a)
        pilot.send("trial_start", a)
        await pilot.at(b)
        pilot.send("trial_stop", b)  # refused for the rest, which stops by itself
    await pilot.at(step.stop_s)
    pilot.send("next", step.stop_s)


@pytest.fixture(scope="module")
def troubled(retest: Callable[..., Any], short_plan: EmulatedPlan, tmp_path_factory: Any) -> Any:
    steps = {s.id: s for s in short_plan.steps}
    a, b = steps["pre_test"].trials[1]

    async def driver(rs: RetestSession, setup: EmulatedSetup) -> None:
        pilot = AutoPilot(setup)
        assert await pilot.attach(rs)
        pilot.send("skip", note="electrodes checked before the session")
        await _play(pilot, steps["rest"], list(steps["rest"].trials))
        first, second = steps["ref_gmed"].trials
        await pilot.at(first[0])
        pilot.send("trial_start", first[0])
        await pilot.at(first[1])
        pilot.send("trial_stop", first[1])
        pilot.send("repeat")  # the client moved: do it again
        await _play(pilot, steps["ref_gmed"], [second])
        for sid in ("ref_adl", "pre_test", "correction", "post_test"):
            await _play(pilot, steps[sid], list(steps[sid].trials))

    out = tmp_path_factory.mktemp("troubled")
    run = retest(short_plan, out, speed=SPEED, driver=driver, drop_at_s=a + 0.8)
    return run, (a, b)


def test_the_session_goes_on_after_the_drop_and_finishes(troubled: Any) -> None:
    run, _ = troubled
    assert run.result.state == "finished"
    assert run.result.session.meta["sensors"]["nkt-0001"]["connections"] == 2
    assert any("dropped" in m for m in run.session.messages) or any(
        "dropped" in n for n in run.session.guide.notes
    )


def test_the_trial_during_the_drop_is_incomplete_and_left_out(troubled: Any) -> None:
    run, (a, _) = troubled
    t0 = run.t0()
    pre = [r for r in run.session.guide.records if r.label == "pre/test/GMED"]
    assert [r.status for r in pre] == ["complete", "incomplete", "complete", "complete"]
    bad = pre[1]
    assert abs(bad.onset - (t0 + a)) < 1e-6 and "dropped" in bad.note
    saved = read(run.result.bids)
    onsets = saved.events.loc[saved.events["label"] == "pre/test/GMED", "onset"].to_numpy()
    assert len(onsets) == 3 and np.min(np.abs(onsets - bad.onset)) > 1.0
    gaps = saved.gaps
    inside = gaps[(gaps["onset"] < bad.onset + bad.duration) & (gaps["onset"] > bad.onset)]
    assert len(inside), "the saved session keeps the disconnection as a gap"
    live = [t for t in run.result.trials if abs(t["start_s"] - bad.onset) < 1e-6]
    assert live and live[0]["status"] == "incomplete"
    assert run.result.assessment is not None, run.result.messages
    assert run.result.assessment.tests[0].pre.n_trials == 3


def test_skip_and_repeat_are_recorded_not_lost(troubled: Any) -> None:
    run, _ = troubled
    guide = run.session.guide
    assert guide.statuses[0] == "skipped"
    assert any("electrodes checked before the session" in n for n in guide.notes)
    ref = [r for r in guide.records if r.label == "ref/GMED"]
    assert [r.status for r in ref] == ["discarded", "complete"]
    assert "repeated" in ref[0].note
    saved = read(run.result.bids)
    assert (saved.events["label"] == "ref/GMED").sum() == 1
    log = json.loads(next(run.result.derivatives.glob("*_retest.json")).read_text())
    statuses = [(t["label"], t["status"]) for t in log["trials"]]
    assert ("ref/GMED", "discarded") in statuses and ("pre/test/GMED", "incomplete") in statuses
    assert log["steps"][0] == {"id": "sensor_check", "status": "skipped"}


def test_a_dead_channel_blocks_the_test_until_override(
    retest: Callable[..., Any], short_plan: EmulatedPlan, tmp_path: Path
) -> None:
    emg = short_plan.emg.copy()
    emg[1] = 0.0  # the adductor longus lead is off
    plan = dataclasses.replace(short_plan, emg=emg)
    seen: dict[str, Any] = {}

    async def driver(rs: RetestSession, setup: EmulatedSetup) -> None:
        pilot = AutoPilot(setup)
        assert await pilot.attach(rs)
        for _ in range(4):  # to the pre-correction test
            pilot.send("skip")

        def lights() -> dict[str, str]:
            return {c["label"]: c["quality"] for c in rs.snapshot()["channels"]}

        while lights() != {"EMG GMED L": "ok", "EMG ADL L": "bad", "EMG TFL L": "ok"}:
            await setup.clock.sleep(0.2)
        seen["snap"] = rs.snapshot()
        with pytest.raises(ValidationError, match="EMG ADL L looks disconnected") as err:
            rs.command("trial_start")
        seen["error"] = str(err.value)
        rs.command("override")
        rs.command("trial_start")
        await setup.clock.sleep(2.0)
        rs.command("trial_stop")
        rs.command("stop")

    run = retest(plan, tmp_path, speed=SPEED, driver=driver)
    snap = seen["snap"]
    lights = {c["label"]: c["quality"] for c in snap["channels"]}
    assert lights["EMG ADL L"] == "bad" and lights["EMG GMED L"] == "ok"
    assert not snap["step"]["can_mark"] and "override" in snap["step"]["blocked_reason"]
    assert "trial_start refused" in seen["error"]
    assert any("override" in n for n in run.session.guide.notes)
    saved = read(run.result.bids)
    assert saved.events["label"].tolist() == ["pre/test/GMED"]


IMU = """
[[imu]]
site = "pelvis"
mounting = "Flat over the sacrum on a belt."
purpose = "Frontal-plane pelvis angle."

[[kinematic_signs]]
sign = "contralateral_pelvic_drop"
threshold_deg = 5.0
source = "Nakagawa et al. 2012 (group means, not a cut-off)."
"""


@pytest.fixture(scope="module")
def stopped(retest: Callable[..., Any], short_protocol: Path, tmp_path_factory: Any) -> Any:
    """Ctrl-C during the third pre-correction trial, on the short protocol with a pelvis IMU."""
    folder = tmp_path_factory.mktemp("imu")
    path = folder / "hip_flexion_imu.toml"
    text = short_protocol.read_text().replace('name = "hip_flexion_short"',
                                              'name = "hip_flexion_imu"')  # fmt: skip
    path.write_text(text + IMU)
    plan = plan_session(path, "L")
    return retest(plan, folder / "bids", speed=SPEED, pilot={"stop_at": ("pre_test", 2)}), path


def test_ctrl_c_during_the_pre_trials_saves_an_analysable_partial_session(stopped: Any) -> None:
    run, _ = stopped
    assert run.result.state == "stopped" and run.session.snapshot()["state"] == "stopped"
    saved = read(run.result.bids)
    labels = saved.events["label"].tolist()
    assert labels == ["rest", "ref/GMED", "ref/GMED", "ref/ADL"] + ["pre/test/GMED"] * 2
    last = run.session.guide.records[-1]
    assert last.status == "incomplete" and "stopped" in last.note
    (test,) = run.session.verdict["tests"]
    assert test["verdict"] == "inconclusive" and test["post"]["ratio"] is None
    assert any("partial" in m for m in run.session.messages)
    assert read_capture(run.result.capture).packets
    assert run.result.report is not None and run.result.report.is_file()


def test_imu_angles_the_protocol_names_are_measured_live(stopped: Any) -> None:
    run, path = stopped
    (angle,) = run.snapshots[-1]["angles"]
    assert angle["name"] == "pelvic_drop" and angle["unit"] == "deg"
    pre = [t for t in run.result.trials if t["phase"] == "pre" and t["status"] == "complete"]
    drops = [t["angles"]["pelvic_drop"] for t in pre]
    assert len(drops) == 2 and all(5.0 < d < 11.0 for d in drops)  # simulated: 8 deg
    saved = read(run.result.bids)
    assert [s.name for s in saved.streams.values()] == ["emg", "imu"]
    offline = trial_table(saved, load_protocol(path))
    offline = offline[offline["phase"] == "pre"]["pelvic_drop_deg"].to_numpy(float)
    np.testing.assert_allclose(drops, offline, atol=0.1)  # live = offline, degrees


def test_a_repeated_reference_leaves_the_live_normalisation_to_the_kept_one(
    troubled: Any,
) -> None:
    run, _ = troubled
    saved = read(run.result.bids)
    table = trial_table(saved, "hip_flexion_gmed_adl", include_reference=True)
    (kept,) = table.loc[table["label"] == "ref/GMED", "rms_raw_GMED"].to_numpy(float)
    proc = run.session.chain.processor
    assert proc.references["GMED"] == pytest.approx(kept, rel=0.01)
    ref = [t for t in run.result.trials if t["label"] == "ref/GMED"]
    assert [t["status"] for t in ref] == ["discarded", "complete"]
    assert [t.start_s for t in proc.trials if t.label == "ref/GMED"] == [ref[1]["start_s"]]
    tests = table[(table["phase"] == "pre") | (table["phase"] == "post")]
    live = [t for t in run.result.trials if t["phase"] in ("pre", "post")
            and t["status"] == "complete"]  # fmt: skip
    assert [t["label"] for t in live] == tests["label"].tolist()
    amp = np.array([t["amplitude"]["GMED"] for t in live])
    np.testing.assert_allclose(amp, tests["rms_GMED"].to_numpy(float), rtol=0.01)
    assert len(run.snapshots[-1]["ratios"][0]["pre"]) == 3  # the incomplete trial is left out
