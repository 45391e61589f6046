"""Emulated Polar H10 / Verity Sense through bleak, read back by the real PMD decoders."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
from bleak import BleakClient, BleakScanner

from nkt_motion.devices import PolarPmdProfile, find_profile
from nkt_motion.devices import polar_cp as cp
from nkt_motion.devices.polar import CONTROL_UUID, DATA_UUID
from nkt_motion.emulate import (
    DeviceClock,
    EmulatedClient,
    EmulatedScanner,
    Faults,
    PolarSensor,
    VirtualBus,
    array_source,
)

H10 = "F0:00:00:00:00:21"
VERITY = "F0:00:00:00:00:22"


def client(bus: VirtualBus, address: str) -> BleakClient:
    return BleakClient(address, backend=EmulatedClient, bus=bus)


@dataclass
class Pmd:
    """A connected central: control-point answers in a queue, data frames in a list."""

    client: BleakClient
    answers: asyncio.Queue[cp.PmdResponse] = field(default_factory=asyncio.Queue)
    frames: list[bytes] = field(default_factory=list)

    async def command(self, data: bytes) -> cp.PmdResponse:
        await self.client.write_gatt_char(CONTROL_UUID, data, response=True)
        return await asyncio.wait_for(self.answers.get(), 1.0)

    async def wait_frames(self, measurement: int, n: int) -> list[bytes]:
        for _ in range(500):
            mine = [f for f in self.frames if f[0] == measurement]
            if len(mine) >= n:
                return mine[:n]
            await asyncio.sleep(0.01)
        raise AssertionError(f"fewer than {n} frames of type {measurement}")


@asynccontextmanager
async def pmd(sensor: PolarSensor) -> AsyncIterator[Pmd]:
    async with VirtualBus() as bus:
        await sensor.attach(bus)
        async with client(bus, sensor.address) as c:
            session = Pmd(c)
            await c.start_notify(
                CONTROL_UUID, lambda _c, d: session.answers.put_nowait(cp.parse_response(bytes(d)))
            )
            await c.start_notify(DATA_UUID, lambda _c, d: session.frames.append(bytes(d)))
            yield session


T = TypeVar("T")


def run(sensor: PolarSensor, body: Callable[[Pmd], Awaitable[T]]) -> T:
    async def main() -> T:
        async with pmd(sensor) as session:
            return await body(session)

    return asyncio.run(main())


def ecg_uv(n: int = 2000) -> np.ndarray:
    t = np.arange(n) / 130.0
    return np.array([800.0 * np.sin(2 * np.pi * 1.2 * t) + 0.37 * np.arange(n) - 300.0])


def imu(n: int = 2000, scale: float = 1.0) -> np.ndarray:
    t = np.arange(n) / 200.0
    return scale * np.vstack([np.sin(2 * np.pi * f * t + f) for f in (0.5, 1.5, 3.0)])


def test_scan_finds_both_models_by_name() -> None:
    async def main() -> dict[str, str | None]:
        async with VirtualBus() as bus:
            await PolarSensor(address=H10).attach(bus)
            await PolarSensor(address=VERITY, model="verity").attach(bus)
            found = await BleakScanner.discover(  # type: ignore[call-overload]
                timeout=0.2, return_adv=True, backend=EmulatedScanner, bus=bus
            )
        out = {}
        for address, (_dev, adv) in found.items():
            profile = find_profile(adv.local_name, adv.service_uuids)
            out[address] = None if profile is None else profile.name
        return out

    assert asyncio.run(main()) == {H10: "polar_h10", VERITY: "polar_verity"}


def test_h10_features_settings_and_streams_decode_to_the_source() -> None:
    ecg, acc = ecg_uv(), imu(scale=1.7)
    sensor = PolarSensor(address=H10, ecg=array_source(ecg), acc=array_source(acc))
    profile = PolarPmdProfile(model="h10")

    async def body(s: Pmd) -> dict[str, Any]:
        out: dict[str, Any] = {
            "features": cp.parse_features(bytes(await s.client.read_gatt_char(CONTROL_UUID)))
        }
        got = await s.command(cp.get_settings_command("acc"))
        out["acc_settings"] = cp.parse_settings(got.parameters)
        out["starts"] = [await s.command(w.data) for w in profile.start_commands()]
        out["ecg"] = await s.wait_frames(0, 3)
        out["acc"] = await s.wait_frames(2, 4)
        out["stops"] = [await s.command(w.data) for w in profile.stop_commands()]
        return out

    out = run(sensor, body)
    assert out["features"] == {"ecg", "acc"}
    assert out["acc_settings"] == {
        "sample_rate": (25.0, 50.0, 100.0, 200.0),
        "resolution": (16.0,),
        "range": (2.0, 4.0, 8.0),
    }
    assert all(r.ok and r.op == 2 for r in out["starts"])
    assert all(r.ok and r.op == 3 for r in out["stops"])
    ecg_frames, acc_frames = out["ecg"], out["acc"]
    assert {len(f) for f in ecg_frames} == {10 + 78 * 3}
    assert {len(f) for f in acc_frames} == {10 + 39 * 6}
    decoded_ecg = np.hstack([profile.decode(DATA_UUID, f).data for f in ecg_frames])
    np.testing.assert_array_equal(decoded_ecg, np.rint(ecg[:, : decoded_ecg.shape[1]]))
    decoded_acc = np.hstack([profile.decode(DATA_UUID, f).data for f in acc_frames])
    expected = np.rint(acc[:, : decoded_acc.shape[1]] * 1000) / 1000
    np.testing.assert_allclose(decoded_acc, expected, rtol=0, atol=1e-12)


def test_verity_sdk_mode_compressed_acc_and_gyro_use_the_reported_factor() -> None:
    acc, gyro = imu(scale=3.0), imu(scale=900.0)
    sensor = PolarSensor(
        address=VERITY, model="verity", acc=array_source(acc), gyro=array_source(gyro)
    )

    async def body(s: Pmd) -> dict[str, Any]:
        out: dict[str, Any] = {}
        out["features"] = cp.parse_features(bytes(await s.client.read_gatt_char(CONTROL_UUID)))
        out["normal_rates"] = cp.parse_settings((await s.command(bytes([1, 2]))).parameters)
        out["sdk"] = await s.command(cp.sdk_mode_command(enable=True))
        out["sdk_again"] = await s.command(cp.sdk_mode_command(enable=True))
        start = cp.start_command("acc", sample_rate=208, resolution=16, range_=4, channels=3)
        out["acc_start"] = await s.command(start)
        start = cp.start_command("gyro", sample_rate=104, resolution=16, range_=2000, channels=3)
        out["gyro_start"] = await s.command(start)
        out["acc"] = await s.wait_frames(2, 6)
        out["gyro"] = await s.wait_frames(5, 3)
        return out

    out = run(sensor, body)
    assert out["features"] == {"acc", "gyro", "sdk_mode"}
    assert out["normal_rates"]["sample_rate"] == (52.0,)
    assert out["sdk"].ok and out["sdk_again"].status_name == "ERROR_ALREADY_IN_STATE"
    acc_factor = cp.parse_settings(out["acc_start"].parameters)["factor"][0]
    gyro_factor = cp.parse_settings(out["gyro_start"].parameters)["factor"][0]
    assert acc_factor == float(np.float32(8 / 65536))
    assert gyro_factor == float(np.float32(4000 / 65536))
    profile = (
        PolarPmdProfile(model="verity", acc_rate=208, gyro_rate=104)
        .with_factor("acc", acc_factor)
        .with_factor("gyro", gyro_factor)
    )
    for key, source, factor in (("acc", acc, acc_factor), ("gyro", gyro, gyro_factor)):
        frames = out[key]
        assert all(f[9] == 0x80 and len(f) <= 244 for f in frames)
        data = np.hstack([profile.decode(DATA_UUID, f).data for f in frames])
        expected = np.rint(source[:, : data.shape[1]] / factor) * factor
        np.testing.assert_allclose(data, expected, rtol=0, atol=1e-9)


def test_invalid_settings_get_the_pmd_error_status() -> None:
    async def body(s: Pmd) -> list[str]:
        commands = [
            cp.start_command("acc", sample_rate=60, resolution=16, range_=8),
            cp.start_command("acc", sample_rate=50, resolution=12, range_=8),
            cp.start_command("acc", sample_rate=50, resolution=16, range_=16),
            cp.start_command("acc", sample_rate=50, resolution=16),
            cp.start_command("gyro", sample_rate=52, resolution=16),
            bytes([0x02, 0x00, 0x07]),
            bytes([0x07, 0x00]),
            bytes([0x03, 0x02]),
        ]
        answers = [await s.command(c) for c in commands]
        assert all(
            a.op == c[0] and a.measurement == c[1] for a, c in zip(answers, commands, strict=True)
        )
        return [a.status_name for a in answers]

    assert run(PolarSensor(address=H10), body) == [
        "ERROR_INVALID_SAMPLE_RATE",
        "ERROR_INVALID_RESOLUTION",
        "ERROR_INVALID_RANGE",
        "ERROR_INVALID_PARAMETER",
        "ERROR_NOT_SUPPORTED",
        "ERROR_INVALID_PARAMETER",
        "ERROR_INVALID_OP_CODE",
        "ERROR_ALREADY_IN_STATE",
    ]


def test_verity_normal_mode_refuses_sdk_rates() -> None:
    async def body(s: Pmd) -> tuple[str, str]:
        start = cp.start_command("gyro", sample_rate=416, resolution=16, range_=2000, channels=3)
        first = (await s.command(start)).status_name
        await s.command(cp.sdk_mode_command(enable=True))
        return first, (await s.command(start)).status_name

    sensor = PolarSensor(address=VERITY, model="verity")
    assert run(sensor, body) == ("ERROR_INVALID_SAMPLE_RATE", "SUCCESS")


def acc_timestamps(skew_ppm: float, faults: Faults | None = None) -> tuple[list[int], list[int]]:
    sensor = PolarSensor(address=H10, clock=DeviceClock(skew_ppm=skew_ppm), faults=faults)

    async def body(s: Pmd) -> tuple[list[int], list[int]]:
        answer = await s.command(cp.start_command("acc", sample_rate=200, resolution=16, range_=8))
        assert answer.ok
        frames = await s.wait_frames(2, 6)
        stamps = [int.from_bytes(f[1:9], "little") for f in frames]
        return stamps, list(sensor.pmd_streams["acc"].dropped)

    return run(sensor, body)


def test_frame_timestamps_follow_the_device_clock_and_its_skew() -> None:
    exact, _ = acc_timestamps(0.0)
    skewed, _ = acc_timestamps(200.0)
    per_frame_s = 39 / 200.0
    assert set(np.diff(exact).tolist()) == {round(per_frame_s * 1e9)}
    expected = per_frame_s * (1 + 200e-6) * 1e9  # 195 039 000 ns
    assert np.all(np.abs(np.diff(skewed) - expected) <= 1)
    assert skewed[-1] - skewed[0] == round(5 * expected)


def test_injected_drops_are_exactly_the_missing_frames() -> None:
    stamps, dropped = acc_timestamps(0.0, Faults(drop_every=3))
    step = round(39 / 200.0 * 1e9)
    received = [(t - stamps[0]) // step for t in stamps]
    assert all((t - stamps[0]) % step == 0 for t in stamps)
    missing = sorted(set(range(received[-1] + 1)) - set(received))
    assert missing == [s for s in dropped if s <= received[-1]] == [2, 5]
