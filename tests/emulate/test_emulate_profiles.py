"""Emulated profile sensors stream what their source holds, decoded by the real profiles."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from bleak import BleakClient
from bleak.exc import BleakGATTProtocolError

from nkt_motion.devices import PROFILES
from nkt_motion.devices import myo as myo_proto
from nkt_motion.devices import nkt_protocol as nkt_proto
from nkt_motion.emulate import EmulatedClient, MyoSensor, NktSensor, VirtualBus, array_source

A1 = "F0:00:00:00:00:01"


def client(bus: VirtualBus) -> BleakClient:
    return BleakClient(A1, backend=EmulatedClient, bus=bus)  # type: ignore[arg-type]


async def collect(bus: VirtualBus, profile_name: str, seconds: float) -> dict[str, list[bytes]]:
    profile = PROFILES[profile_name]
    got: dict[str, list[bytes]] = {c.uuid: [] for c in profile.notify_characteristics}
    async with client(bus) as c:
        for char in profile.notify_characteristics:
            await c.start_notify(char.uuid, lambda ch, d: got[ch.uuid].append(bytes(d)))
        for write in profile.start_commands():
            await c.write_gatt_char(write.char_uuid, write.data, response=write.response)
        await asyncio.sleep(seconds)
        for write in profile.stop_commands():
            await c.write_gatt_char(write.char_uuid, write.data, response=write.response)
        with pytest.raises(BleakGATTProtocolError):
            await c.write_gatt_char(profile.characteristics[0].uuid, b"\xee", response=True)
    return got


def test_nkt_sensor_streams_its_source_in_nkt_packets() -> None:
    rng = np.random.default_rng(0)
    emg = np.rint(rng.normal(0, 200, (4, 4000)))
    imu = np.vstack([rng.uniform(-2, 2, (3, 400)), rng.uniform(-300, 300, (3, 400))])

    async def main() -> dict[str, list[bytes]]:
        async with VirtualBus() as bus:
            sensor = NktSensor(address=A1, emg=array_source(emg), imu=array_source(imu))
            await sensor.attach(bus)
            return await collect(bus, "nkt", 0.3)

    got = asyncio.run(main())
    profile = PROFILES["nkt"]
    emg_chunks = [profile.decode(nkt_proto.EMG_UUID, p) for p in got[nkt_proto.EMG_UUID]]
    imu_chunks = [profile.decode(nkt_proto.IMU_UUID, p) for p in got[nkt_proto.IMU_UUID]]
    assert len(emg_chunks) >= 20 and len(imu_chunks) >= 10
    assert [c.sequence for c in emg_chunks] == list(range(len(emg_chunks)))
    decoded = np.hstack([c.data for c in emg_chunks])
    np.testing.assert_allclose(decoded, emg[:, : decoded.shape[1]])
    assert emg_chunks[0].fs == 2000.0
    first = imu_chunks[3]
    start = first.first_sample
    assert start is not None
    expected = imu[:, start : start + first.n_samples]
    np.testing.assert_allclose(first.data[:3], expected[:3], atol=8.0 / 1000)
    np.testing.assert_allclose(first.data[3:], expected[3:], atol=2000.0 / 1000)


def test_myo_sensor_rotates_emg_over_four_characteristics() -> None:
    emg = np.tile(np.arange(-40, 40, dtype=float), (8, 1))

    async def main() -> dict[str, list[bytes]]:
        async with VirtualBus() as bus:
            await MyoSensor(address=A1, emg=array_source(emg)).attach(bus)
            return await collect(bus, "myo", 0.3)

    got = asyncio.run(main())
    profile = PROFILES["myo"]
    counts = [len(got[u]) for u in myo_proto.EMG_UUIDS]
    assert min(counts) >= 5
    assert max(counts) - min(counts) <= 1
    first = [profile.decode(u, got[u][0]).data[0].tolist() for u in myo_proto.EMG_UUIDS]
    assert first == [[-40.0, -39.0], [-38.0, -37.0], [-36.0, -35.0], [-34.0, -33.0]]
    imu = profile.decode(myo_proto.IMU_UUID, got[myo_proto.IMU_UUID][0])
    np.testing.assert_allclose(imu.data[:, 0], [1, 0, 0, 0, 0, 0, 1, 0, 0, 0])
