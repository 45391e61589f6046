"""The parts of the retest: the live feed's clock, the quality lights, the scaled clock,
the emulated plan, and the session's checks before it runs."""

from __future__ import annotations

import asyncio
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nkt_motion.acquire import Recorder, SensorConfig
from nkt_motion.capture import Packet, SensorEntry
from nkt_motion.devices import nkt_protocol as proto
from nkt_motion.emulate import DeviceClock, NotificationStream
from nkt_motion.errors import ValidationError
from nkt_motion.protocols import load_protocol
from nkt_motion.retest import (
    EmulatedSetup,
    LiveFeed,
    QualityLights,
    RetestSession,
    ScaledClock,
    plan_session,
    sensor_options,
)
from nkt_motion.retest.view import number
from nkt_motion.web import check_snapshot

HIP = load_protocol("hip_flexion_gmed_adl")
ENTRY = SensorEntry("s1", "F0:00:00:00:00:01", "nkt", {}, ())
FS = 2000.0


def emg_packets(seqs: list[int], *, t0_ns: int = 1_000_000_000, late_ns: Any = 0) -> list[Packet]:
    """nkt EMG packets of 20 samples each (value = sample index), arriving with its last sample."""
    out = []
    for k in seqs:
        data = np.tile(np.arange(20 * k, 20 * k + 20, dtype=float), (4, 1))
        host = (
            t0_ns
            + round((20 * k + 19) / FS * 1e9)
            + (late_ns(k) if callable(late_ns) else late_ns)
        )
        payload = proto.encode_emg_packet(data, sequence=k, first_sample=20 * k)
        out.append(Packet("s1", proto.EMG_UUID, host, payload))
    return out


def test_feed_places_samples_on_the_session_clock_without_breaks() -> None:
    feed = LiveFeed([ENTRY], origin_ns=500_000_000, settle_s=0.1)
    rng = np.random.default_rng(0)
    jitter = rng.integers(0, 3_000_000, 400)  # 0-3 ms late, never early
    blocks = []
    for lo in range(0, 400, 7):  # batches as the recorder hands them over
        blocks += feed.feed("s1", emg_packets(list(range(lo, min(lo + 7, 400))),
                                              late_ns=lambda k: int(jitter[k])))  # fmt: skip
    data = np.hstack([b.data for b in blocks])
    assert data.shape == (4, 8000) and np.array_equal(data[0], np.arange(8000.0))
    ends = [b.start_s + b.data.shape[1] / FS for b in blocks[:-1]]
    np.testing.assert_allclose([b.start_s for b in blocks[1:]], ends, atol=1e-9)
    # sample 0 was taken at 1 s host time, 0.5 s after the origin
    assert abs(blocks[0].start_s - 0.5) < 1e-3


def test_feed_keeps_lost_packets_as_a_gap_of_their_samples() -> None:
    feed = LiveFeed([ENTRY], origin_ns=0, settle_s=0.05)
    blocks = feed.feed("s1", emg_packets([*range(0, 30), *range(33, 60)]))
    assert len(blocks) == 2
    first, second = blocks
    gap = second.start_s - (first.start_s + first.data.shape[1] / FS)
    assert abs(gap - 60 / FS) < 1e-9 and second.data[0, 0] == 660.0


def test_feed_starts_a_new_track_at_a_reconnection() -> None:
    feed = LiveFeed([ENTRY], origin_ns=0, settle_s=0.05)
    feed.connected("s1", 1_009_000_000)  # the first packet came just before its event
    before = feed.feed("s1", emg_packets(list(range(4000 // 20))))
    assert len(before) == 1 and before[0].data.shape[1] == 4000
    feed.connected("s1", 3_000_000_000)
    # the device restarts its counters; the new connection's packets arrive from 2 s on
    after = feed.feed("s1", emg_packets(list(range(20)), t0_ns=2_990_000_000))
    assert [b.data[0, 0] for b in after] == [0.0, 20.0]  # two tracks: a restart, then the event
    assert abs(after[0].start_s - 2.99) < 1e-3 and abs(after[1].start_s - 3.0) < 1e-3
    with pytest.raises(ValidationError, match="sensor must be one of"):
        feed.connected("other", 0)


def test_feed_holds_the_grid_while_a_trial_is_open() -> None:
    feed = LiveFeed([ENTRY], origin_ns=0, settle_s=0.05, refit_s=0.05)
    (first,) = feed.feed("s1", emg_packets(list(range(20)), late_ns=8_000_000))
    assert abs(first.start_s - 1.008) < 1e-9
    feed.hold = True
    # the arrivals become 8 ms earlier: the fit moves, the samples of a trial do not
    (held,) = feed.feed("s1", emg_packets(list(range(20, 40))))
    assert held.start_s == first.start_s + 400 / FS and held.data[0, 0] == 400.0
    feed.hold = False
    # after the trial the block moves to the fit, dropping the 16 samples it would repeat
    (moved,) = feed.feed("s1", emg_packets(list(range(40, 60))))
    assert abs(moved.start_s - (1.0 + 816 / FS)) < 1e-9
    assert moved.data[0, 0] == 816.0 and moved.data[0, -1] == 1199.0


def test_feed_gives_imu_blocks_in_si_units_per_site() -> None:
    entry = SensorEntry("s1", "F0:00:00:00:00:01", "nkt", {"site": "sacrum"}, ())
    feed = LiveFeed([entry], origin_ns=0, settle_s=0.01)
    acc, gyr = np.array([[0.0] * 2, [0.0] * 2, [1.0] * 2]), np.full((3, 2), 90.0)
    packets = [Packet("s1", proto.IMU_UUID, 10_000_000 * (k + 1),
                      proto.encode_imu_packet(acc, gyr, sequence=k, first_sample=2 * k))
               for k in range(5)]  # fmt: skip
    (block,) = feed.feed("s1", packets)
    assert block.kind == "imu" and block.site == "sacrum"
    assert block.labels[:2] == ("ACC X sacrum", "ACC Y sacrum")
    np.testing.assert_allclose(block.data[2], 9.80665, rtol=1e-3)
    np.testing.assert_allclose(block.data[3], 90.0, rtol=1e-3)


def test_quality_lights_name_dead_clipping_hum_and_silence() -> None:
    rng = np.random.default_rng(1)
    labels = ["EMG GMED L", "EMG ADL L", "EMG TFL L", "EMG GMAX L"]
    q = QualityLights(labels, 1000.0)
    t = np.arange(2000) / 1000.0
    good = rng.normal(0, 20, 2000)
    clipped = np.clip(rng.normal(0, 50, 2000), -40, 40)
    hum = rng.normal(0, 5, 2000) + 60 * np.sin(2 * np.pi * 50 * t)
    q.push(np.vstack([good, np.zeros(2000), clipped, hum]), 0.0)
    lights = {x.label: x for x in q.lights(2.0)}
    assert lights["EMG GMED L"].quality == "ok" and lights["EMG GMED L"].reason == ""
    assert lights["EMG ADL L"].quality == "bad" and "disconnected" in lights["EMG ADL L"].reason
    assert lights["EMG TFL L"].quality == "bad" and "clip" in lights["EMG TFL L"].reason
    assert lights["EMG GMAX L"].quality == "warn" and "mains" in lights["EMG GMAX L"].reason
    q.set_device_flags({"EMG GMED L": "lead-off"})
    assert q.lights(2.0)[0].reason == "EMG GMED L: lead-off"
    assert {x.quality for x in q.lights(3.5)} == {"bad"}  # nothing for 1.5 s
    with pytest.raises(ValidationError, match="block must have shape"):
        q.push(np.zeros((2, 10)), 2.0)


def test_scaled_clock_and_device_clock_run_faster_than_real_time() -> None:
    with pytest.raises(ValidationError, match="speed must be"):
        ScaledClock(0.0)
    with pytest.raises(ValidationError, match="time_scale must be"):
        DeviceClock(time_scale=-1.0)
    clock = ScaledClock(10.0)
    a, w = clock(), time.monotonic_ns()
    time.sleep(0.05)
    ratio = (clock() - a) / (time.monotonic_ns() - w)
    assert 9.0 < ratio < 10.5

    async def count() -> int:
        sent: list[int] = []

        async def send(seq: int, payload: bytes) -> None:
            sent.append(seq)

        stream = NotificationStream(send, lambda seq, t: b"x", rate_hz=100.0,
                                    clock=DeviceClock(time_scale=10.0))  # fmt: skip
        stream.start()
        await asyncio.sleep(0.2)
        await stream.stop()
        return len(sent)

    assert 150 <= asyncio.run(count()) <= 300  # about 2 s of device time in 0.2 s


def test_recorder_runs_on_the_injected_clock(short_plan: Any) -> None:
    stamps: list[int] = []

    async def record() -> Any:
        async with EmulatedSetup(short_plan, speed=10.0) as setup:
            rec = Recorder(setup.configs, **setup.recorder_options(),
                           on_packets=lambda s, ps: stamps.extend(p.host_ns for p in ps),
                           on_event=lambda e: stamps.append(e.host_ns))  # fmt: skip
            recording = await rec.run(duration=0.4)  # wall seconds
            return recording

    recording = asyncio.run(record())
    session = recording.assembly.session
    span = (max(stamps) - recording.header.origin_ns) * 1e-9
    assert span >= 0.8 * 10 * 0.4 and session["emg"].duration > 2.0
    assert len(stamps) >= len(recording.packets) > 200


def test_plan_follows_the_protocol_steps() -> None:
    plan = plan_session(HIP, "R", seed=3, dead=("TFL",))
    assert [s.id for s in plan.steps] == [s.id for s in HIP.steps]
    counts = {s.id: len(s.trials) for s in plan.steps}
    assert counts == {"sensor_check": 0, "rest": 1, "ref_gmed": 3, "ref_adl": 3,
                      "pre_test": 5, "correction": 0, "post_test": 5}  # fmt: skip
    for step in plan.steps:
        for a, b in step.trials:
            assert step.start_s <= a < b <= step.stop_s
    lengths = {round(b - a, 6) for s in plan.steps if s.kind == "pre_test" for a, b in s.trials}
    assert lengths == {3.0}
    assert plan.emg_labels == ("EMG GMED R", "EMG ADL R", "EMG TFL R")
    assert not plan.emg[2].any() and plan.emg[0].any()
    assert plan.imu.shape[1] == round(plan.duration_s * plan.imu_fs)
    with pytest.raises(ValidationError, match="cannot be emulated"):
        plan_session("scapular_control")
    with pytest.raises(ValidationError, match="dead must name"):
        plan_session(HIP, dead=("QL",))


def test_sensor_options_label_the_nkt_channels_with_the_protocol_muscles() -> None:
    options = sensor_options(load_protocol("side_lying_abduction"), "R", "nkt")
    assert options["emg_labels"][:3] == ["EMG GMED R", "EMG TFL R", "EMG QL R"]
    assert options["emg_channels"] == [1, 2, 3] and len(set(options["emg_labels"])) == 4
    assert sensor_options(HIP, "L", "myo") == {}


def _session(tmp_path: Path, **kw: Any) -> RetestSession:
    config = SensorConfig("F0:00:00:00:00:01", "nkt", options=sensor_options(HIP, "L", "nkt"))
    return RetestSession(HIP, "L", [config], out=tmp_path, **kw)


def test_session_refuses_bad_setups_before_recording(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="no sensor records EMG ADL L, EMG GMED L"):
        RetestSession(HIP, "L", [SensorConfig("F0:00:00:00:00:01", "nkt")], out=tmp_path)
    with pytest.raises(ValidationError, match="side must be"):
        RetestSession(HIP, "X", [], out=tmp_path)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="marking must be"):
        _session(tmp_path, marking="auto")
    (tmp_path / "sub-01" / "ses-01").mkdir(parents=True)
    (tmp_path / "sub-01" / "ses-01" / "x").write_text("x")
    with pytest.raises(ValidationError, match="already holds a session"):
        _session(tmp_path)


def test_commands_before_the_sensors_stream(tmp_path: Path) -> None:
    rs = _session(tmp_path)
    first, second = rs.snapshot(), rs.snapshot()
    check_snapshot(first)
    assert second["seq"] == first["seq"] + 1 and first["state"] == "connecting"
    assert {c["quality"] for c in first["channels"]} <= {"bad"}
    with pytest.raises(ValidationError, match="command must be one of"):
        rs.command("jump")
    with pytest.raises(ValidationError, match="not streaming yet"):
        rs.command("trial_start")
    with pytest.raises(ValidationError, match="t must be a session time up to now"):
        rs.command("next", t=60.0)
    rs.command("skip", note="checked before")
    assert rs.guide.step.id == "rest" and "Not done" not in rs.messages[-1]
    rs.command("stop")
    with pytest.raises(ValidationError, match="the retest is connecting"):
        rs.command("next")
    assert number(math.inf) is None and number(1) == 1.0
