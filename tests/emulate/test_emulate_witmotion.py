"""Emulated WitMotion BWT901BLECL through bleak, read back by the real decoders."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import numpy as np
import pytest
from bleak import BleakClient, BleakScanner
from bleak.exc import BleakGATTProtocolError

from nkt_motion.devices import WitMotionProfile, WitMotionReassembler, find_profile
from nkt_motion.devices import witmotion as wit
from nkt_motion.emulate import (
    EmulatedClient,
    EmulatedScanner,
    Faults,
    VirtualBus,
    WitMotionSensor,
    array_source,
)
from nkt_motion.emulate.encoders import WITMOTION_SCALE, encode_witmotion_packets

A1 = "F0:00:00:00:00:31"
A2 = "F0:00:00:00:00:32"


@dataclass
class Wit:
    """A connected central collecting whole packets with their arrival times."""

    client: BleakClient
    reassembler: WitMotionReassembler = field(default_factory=WitMotionReassembler)
    data: list[tuple[float, bytes]] = field(default_factory=list)
    answers: asyncio.Queue[wit.RegisterValues] = field(default_factory=asyncio.Queue)
    notifications: int = 0

    def on_value(self, _char: object, value: bytearray) -> None:
        self.notifications += 1
        now = asyncio.get_running_loop().time()
        for packet in self.reassembler.feed(bytes(value)):
            if packet[1] == 0x71:
                self.answers.put_nowait(wit.parse_register_response(packet))
            else:
                self.data.append((now, packet))

    async def send(self, *commands: bytes) -> None:
        for command in commands:
            await self.client.write_gatt_char(wit.WRITE_UUID, command, response=True)

    async def read_register(self, register: int) -> wit.RegisterValues:
        await self.send(wit.read_register_command(register))
        return await asyncio.wait_for(self.answers.get(), 1.0)

    async def packets(self, n: int) -> list[bytes]:
        while len(self.data) < n:
            await asyncio.sleep(0.01)
        return [p for _, p in self.data[:n]]

    async def rate_over(self, seconds: float) -> float:
        start = len(self.data)
        await asyncio.sleep(seconds)
        times = [t for t, _ in self.data[start:]]
        return (len(times) - 1) / (times[-1] - times[0])


@asynccontextmanager
async def connected(sensor: WitMotionSensor) -> AsyncIterator[Wit]:
    async with VirtualBus() as bus:
        await sensor.attach(bus)
        async with BleakClient(sensor.address, backend=EmulatedClient, bus=bus) as c:  # type: ignore[arg-type]
            session = Wit(c)
            await c.start_notify(wit.NOTIFY_UUID, session.on_value)
            yield session


def imu9(n: int) -> np.ndarray:
    t = np.arange(n) / 200.0
    wave = np.vstack([np.sin(2 * np.pi * (0.3 + 0.2 * i) * t + i) for i in range(9)])
    return wave * np.array([3.0] * 3 + [700.0] * 3 + [170.0] * 3)[:, None]


def test_witmotion_packet_encoder_round_trips_through_the_profile() -> None:
    samples = imu9(50)
    chunk = WitMotionProfile().decode(wit.NOTIFY_UUID, encode_witmotion_packets(samples))
    step = WITMOTION_SCALE[:, None]
    np.testing.assert_allclose(chunk.data, np.rint(samples / step) * step, rtol=0, atol=1e-12)
    saturated = WitMotionProfile().decode(
        wit.NOTIFY_UUID, encode_witmotion_packets(np.full((9, 1), 1e6))
    )
    np.testing.assert_allclose(saturated.data[:, 0], 32767 * WITMOTION_SCALE)


def test_scan_finds_it_by_name_and_by_service() -> None:
    async def main() -> tuple[dict[str, str | None], list[str]]:
        async with VirtualBus() as bus:
            await WitMotionSensor(address=A1).attach(bus)
            await WitMotionSensor(address=A2, name="WT901BLE").attach(bus)
            found = await BleakScanner.discover(  # type: ignore[call-overload]
                timeout=0.2, return_adv=True, backend=EmulatedScanner, bus=bus
            )
            by_service = await BleakScanner.discover(
                timeout=0.2, service_uuids=[wit.SERVICE_UUID], backend=EmulatedScanner, bus=bus
            )
        names = {}
        for address, (_dev, adv) in found.items():
            profile = find_profile(adv.local_name, adv.service_uuids)
            names[address] = None if profile is None else profile.name
        return names, [d.address for d in by_service]

    names, by_service = asyncio.run(main())
    assert names == {A1: "witmotion", A2: "witmotion"}
    assert by_service == [A2]  # "WT901BLE68" leaves no room for a 128-bit UUID in 31 bytes


def test_batched_notifications_reassemble_into_the_source() -> None:
    samples = imu9(400)
    sensor = WitMotionSensor(
        address=A1, imu=array_source(samples), rate=200, packets_per_notification=4
    )

    async def main() -> tuple[list[bytes], int]:
        async with connected(sensor) as s:
            packets = await s.packets(120)
            return packets, s.notifications

    packets, notifications = asyncio.run(main())
    assert notifications * 4 >= 120 and notifications < 120
    chunk = WitMotionProfile(rate=200).decode(wit.NOTIFY_UUID, b"".join(packets))
    step = WITMOTION_SCALE[:, None]
    expected = np.rint(samples[:, :120] / step) * step
    np.testing.assert_allclose(chunk.data, expected, rtol=0, atol=1e-12)


def test_rate_write_needs_the_unlock_and_takes_effect_at_once() -> None:
    sensor = WitMotionSensor(address=A1)

    async def main() -> dict[str, object]:
        out: dict[str, object] = {}
        async with connected(sensor) as s:
            await s.packets(1)
            await s.send(wit.write_register_command(wit.RATE_REGISTER, wit.RATE_CODES[100.0]))
            out["locked_reg"] = (await s.read_register(wit.RATE_REGISTER)).values[0]
            out["locked_hz"] = await s.rate_over(1.0)
            await s.send(*wit.rate_commands(100.0))
            out["reg"] = (await s.read_register(wit.RATE_REGISTER)).values[0]
            out["hz"] = await s.rate_over(0.6)
        out["saved"] = sensor.saved[wit.RATE_REGISTER]
        return out

    out = asyncio.run(main())
    assert out["locked_reg"] == 0x06  # 10 Hz: the write without unlock was ignored
    assert out["locked_hz"] == pytest.approx(10.0, rel=0.05)
    assert out["reg"] == out["saved"] == 0x09
    assert out["hz"] == pytest.approx(100.0, rel=0.05)


def test_register_reads_answer_with_55_71_packets() -> None:
    sensor = WitMotionSensor(address=A1, magnetic=(360, 105, 122))

    async def main() -> tuple[wit.RegisterValues, wit.RegisterValues]:
        async with connected(sensor) as s:
            await s.packets(1)
            return await s.read_register(0x3A), await s.read_register(0x34)

    mag, acc = asyncio.run(main())
    assert (mag.register, mag.values[:3]) == (0x3A, (360, 105, 122))
    assert acc.values[:3] == (0, 0, 2048)  # at rest: +1 g on z


def test_malformed_writes_are_refused_with_an_att_error() -> None:
    async def main() -> list[int]:
        codes = []
        async with connected(WitMotionSensor(address=A1)) as s:
            for bad in (b"\xff\xaa\x03", b"\x00\xaa\x03\x08\x00"):
                with pytest.raises(BleakGATTProtocolError) as refused:
                    await s.send(bad)
                codes.append(refused.value.code)
        return codes

    assert asyncio.run(main()) == [0x0D, 0x13]


def test_injected_drops_are_exactly_the_missing_packets() -> None:
    ramp = np.zeros((9, 4000))
    ramp[0] = np.arange(4000) * WITMOTION_SCALE[0]  # x acceleration counts = sample index
    sensor = WitMotionSensor(
        address=A1, imu=array_source(ramp), rate=200, faults=Faults(drop_every=5)
    )

    async def main() -> tuple[list[int], list[int]]:
        async with connected(sensor) as s:
            packets = await s.packets(60)
            dropped = list(sensor.streams[wit.NOTIFY_UUID].dropped)
        return [int.from_bytes(p[2:4], "little", signed=True) for p in packets], dropped

    received, dropped = asyncio.run(main())
    missing = sorted(set(range(received[-1] + 1)) - set(received))
    assert missing == [s for s in dropped if s <= received[-1]]
    assert missing[:3] == [4, 9, 14]


def test_rate_change_keeps_the_signal_time_continuous() -> None:
    ramp = np.zeros((9, 4000))
    ramp[0] = np.arange(4000) * WITMOTION_SCALE[0]  # source index at 200 Hz in x counts
    sensor = WitMotionSensor(address=A1, imu=array_source(ramp), source_fs=200.0, rate=50)

    async def main() -> list[int]:
        async with connected(sensor) as s:
            await s.packets(5)
            await s.send(*wit.rate_commands(200.0))
            packets = await s.packets(40)
        return [int.from_bytes(p[2:4], "little", signed=True) for p in packets]

    index = np.array(asyncio.run(main()))
    steps = set(np.diff(index).tolist())
    assert steps <= {4, 1} and 4 in steps and 1 in steps  # 50 Hz, then 200 Hz
    assert np.all(np.diff(index) > 0)
