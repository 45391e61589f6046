"""scan -> connect -> stream -> stop over the emulator, through bleak's real API."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from nkt_motion.acquire import Backoff, Recorder, Recording, SensorConfig, SensorStream, scan
from nkt_motion.devices import PROFILES
from nkt_motion.devices import myo as myo_proto
from nkt_motion.emulate import (
    DeviceClock,
    EmulatedClient,
    EmulatedScanner,
    Faults,
    MyoSensor,
    NktSensor,
    VirtualBus,
    array_source,
)
from nkt_motion.emulate.sensor import EmulatedSensor
from nkt_motion.errors import AcquisitionError

A1, A2, A3 = "F0:00:00:00:00:01", "F0:00:00:00:00:02", "F0:00:00:00:00:03"
RNG = np.random.default_rng(7)
EMG = np.rint(RNG.normal(0, 300, (4, 40_000)))
IMU = np.vstack([RNG.uniform(-2, 2, (3, 2000)), RNG.uniform(-300, 300, (3, 2000))])
MYO_EMG = np.rint(RNG.normal(0, 30, (8, 4000)))


async def record(
    sensors: list[EmulatedSensor],
    configs: list[SensorConfig],
    seconds: float,
    *,
    during: object = None,
    backoff: Backoff | None = None,
    connect_timeout: float = 5.0,
) -> Recording:
    async with VirtualBus() as bus:
        for s in sensors:
            await s.attach(bus)
        rec = Recorder(configs, backend=EmulatedClient, client_kwargs={"bus": bus},
                       backoff=backoff or Backoff(), connect_timeout=connect_timeout)  # fmt: skip
        task = asyncio.create_task(rec.run(duration=seconds))
        if callable(during):
            await during(sensors, rec)
        return await task


def test_scan_finds_supported_sensors_with_profile_rssi_and_battery() -> None:
    async def main() -> list:
        async with VirtualBus() as bus:
            await NktSensor(address=A1, name="nkt-pelvis").attach(bus)
            await MyoSensor(address=A2).attach(bus)
            battery = {"services": []}
            other = EmulatedSensor(name="Keyboard", address=A3, **battery)
            await other.attach(bus)
            return await scan(timeout=0.5, read_battery=True, include_unsupported=True,
                              scanner_backend=EmulatedScanner, client_backend=EmulatedClient,
                              backend_kwargs={"bus": bus})  # fmt: skip

    found = {f.address: f for f in asyncio.run(main())}
    assert found[A1].profile == "nkt" and found[A1].battery == 100
    assert found[A2].profile == "myo" and found[A2].rssi == -50
    assert found[A3].profile is None and not found[A3].supported and found[A3].battery is None


def test_nkt_stream_equals_the_source_and_counts_injected_loss_exactly() -> None:
    clean = NktSensor(address=A1, name="nkt-a", emg=array_source(EMG), imu=array_source(IMU))
    lossy = NktSensor(address=A2, name="nkt-b", emg=array_source(EMG),
                      faults=Faults(drop_every=13))  # fmt: skip
    configs = [SensorConfig(A1, "nkt", id="a"), SensorConfig(A2, "nkt", id="b")]
    rec = asyncio.run(record([clean, lossy], configs, 3.0))
    session, reports = rec.assembly.session, rec.assembly.sensors
    emg = session["emg"]
    a_rows = [emg.channel_index(f"EMG ch{i} a") for i in range(1, 5)]
    a = emg.data[a_rows]
    a = a[:, ~np.isnan(a[0])]
    assert a.shape[1] > 4000
    np.testing.assert_array_equal(a, EMG[:, : a.shape[1]])  # 1 uV steps: exact
    imu = session["imu"].data[:6]
    imu = imu[:, ~np.isnan(imu[0])]
    np.testing.assert_allclose(imu[:3], IMU[:3, : imu.shape[1]], atol=0.244e-3)
    np.testing.assert_allclose(imu[3:], IMU[3:, : imu.shape[1]], atol=70e-3)
    assert reports["a"].lost_packets == 0 and reports["a"].malformed == 0
    injected = sum(
        sum(1 for q in s.dropped if q < s.next_seq - 1) for s in lossy.streams.values()
    )  # a drop after the last packet received cannot be seen
    assert reports["b"].lost_packets == injected > 10
    assert len(session.gaps.query("reason.str.startswith('packet loss')")) > 0


def test_myo_host_timed_stream_is_exact_in_order() -> None:
    myo = MyoSensor(address=A1, emg=array_source(MYO_EMG))
    rec = asyncio.run(record([myo], [SensorConfig(A1, "myo", id="m")], 2.0))
    emg = rec.assembly.session["emg"].data
    assert emg.shape[0] == 8 and emg.shape[1] > 300
    np.testing.assert_array_equal(emg, MYO_EMG[:, : emg.shape[1]])
    report = rec.assembly.sensors["m"]
    assert report.drift_ppm is not None and abs(report.drift_ppm) < 2000


def test_clock_skew_is_measured_end_to_end() -> None:
    skewed = NktSensor(address=A1, emg=array_source(EMG), clock=DeviceClock(skew_ppm=2000.0))
    rec = asyncio.run(record([skewed], [SensorConfig(A1, "nkt", id="s")], 3.0))
    drift = rec.assembly.sensors["s"].drift_ppm
    assert drift is not None
    assert drift == pytest.approx(-2000 / 1.002, abs=300)


def test_forced_disconnect_reconnects_and_records_the_gap() -> None:
    sensor = NktSensor(address=A1, emg=array_source(EMG))

    async def drop_link(sensors: list[EmulatedSensor], _rec: Recorder) -> None:
        await asyncio.sleep(1.0)
        await sensors[0].lose_link(supervision_timeout=0.2)

    rec = asyncio.run(record([sensor], [SensorConfig(A1, "nkt", id="s")], 3.0,
                             during=drop_link))  # fmt: skip
    events = [e.event for e in rec.events]
    assert events[:3] == ["connect", "disconnect", "connect"]
    gaps = rec.assembly.session.gaps
    assert "disconnect" in set(gaps.reason)
    row = gaps[gaps.reason == "disconnect"].iloc[0]
    assert 0.2 <= row.duration < 1.5
    assert rec.assembly.sensors["s"].connections == 2
    assert not rec.lost_sensors


def test_a_sensor_that_never_comes_back_is_reported_not_fatal() -> None:
    stays = NktSensor(address=A1, name="nkt-a", emg=array_source(EMG))
    configs = [SensorConfig(A1, "nkt", id="a"), SensorConfig(A2, "nkt", id="ghost")]
    fast = Backoff(initial=0.05, maximum=0.1, attempts=2)
    rec = asyncio.run(record([stays], configs, 2.0, backoff=fast, connect_timeout=0.2))
    assert rec.lost_sensors == ["ghost"]
    assert rec.assembly.sensors["a"].packets > 100
    assert any(e.event == "gave_up" and e.sensor == "ghost" for e in rec.events)


def test_errors_answering_commands_are_acquisition_errors() -> None:
    from nkt_motion.devices import nkt_protocol as proto

    async def main() -> None:
        async with VirtualBus() as bus:
            sensor = await NktSensor(address=A1).attach(bus)
            sensor.refuse_writes(proto.CONTROL_UUID)
            stream = SensorStream(A1, PROFILES["nkt"], backend=EmulatedClient,
                                  client_kwargs={"bus": bus})  # fmt: skip
            with pytest.raises(AcquisitionError, match="refused the start command"):
                async with stream:
                    pass
            myo_as_nkt = SensorStream(A2, PROFILES["nkt"], backend=EmulatedClient,
                                      client_kwargs={"bus": bus})  # fmt: skip
            await MyoSensor(address=A2).attach(bus)
            with pytest.raises(AcquisitionError, match="not a nkt sensor"):
                async with myo_as_nkt:
                    pass

    asyncio.run(main())


def test_myo_emg_rotation_detects_each_dropped_notification() -> None:
    source = np.clip(MYO_EMG, -128, 127)
    myo = MyoSensor(address=A1, emg=array_source(source), faults=Faults(drop_every=7))
    rec = asyncio.run(record([myo], [SensorConfig(A1, "myo", id="m")], 2.0))
    emg = rec.assembly.session["emg"].data
    valid = np.flatnonzero(~np.isnan(emg[0]))
    np.testing.assert_array_equal(emg[:, valid], source[:, valid])  # each sample in its place
    dropped = [q for q in myo.streams[myo_proto.EMG_UUIDS[0]].dropped if 2 * q < valid[-1]]
    assert len(dropped) > 10  # every 7th notification: one at a time, always detectable
    missing = np.flatnonzero(np.isnan(emg[0, : valid[-1]]))
    np.testing.assert_array_equal(missing, np.concatenate([[2 * q, 2 * q + 1] for q in dropped]))
    assert rec.assembly.sensors["m"].lost_packets == len(dropped)  # IMU loss stays unseen
