"""bleak's own API over the emulated stack: scan, connect, GATT, notifications, errors."""

from __future__ import annotations

import asyncio
import time

import pytest
from bleak import BleakClient, BleakScanner
from bleak.exc import BleakDeviceNotFoundError, BleakError, BleakGATTProtocolError
from emulate_probe import (
    CONTROL,
    DATA,
    INFO,
    INFO_VALUE,
    SERVICE,
    STOP,
    ProbeSensor,
    parse,
    start_command,
)

from nkt_motion.emulate import ATT_MTU, EmulatedClient, EmulatedScanner, VirtualBus
from nkt_motion.errors import ValidationError

A1 = "F0:00:00:00:00:01"
A2 = "F0:00:00:00:00:02"


def client(bus: VirtualBus, address: str = A1, **kwargs: object) -> BleakClient:
    return BleakClient(address, backend=EmulatedClient, bus=bus, **kwargs)  # type: ignore[arg-type]


def test_scan_finds_sensors_with_names_and_services() -> None:
    async def main() -> dict[str, tuple[object, object]]:
        async with VirtualBus() as bus:
            await ProbeSensor(name="EMG-L", address=A1).attach(bus)
            await ProbeSensor(name="EMG-R", address=A2).attach(bus)
            return await BleakScanner.discover(
                timeout=0.2, return_adv=True, backend=EmulatedScanner, bus=bus
            )

    found = asyncio.run(main())
    assert set(found) == {A1, A2}
    names = {address: adv.local_name for address, (_, adv) in found.items()}  # type: ignore[attr-defined]
    assert names == {A1: "EMG-L", A2: "EMG-R"}
    for device, adv in found.values():
        assert adv.service_uuids == [SERVICE]  # type: ignore[attr-defined]
        assert adv.rssi == -50  # type: ignore[attr-defined]
        assert device.name == adv.local_name  # type: ignore[attr-defined]


def test_scanner_filters_on_service_uuid_and_can_be_restarted() -> None:
    async def main() -> tuple[list[str], list[str]]:
        async with VirtualBus() as bus:
            await ProbeSensor(name="EMG-L", address=A1).attach(bus)
            other = await BleakScanner.discover(
                timeout=0.1,
                service_uuids=["0000180f-0000-1000-8000-00805f9b34fb"],
                backend=EmulatedScanner,
                bus=bus,
            )
            mine = await BleakScanner.discover(
                timeout=0.1, service_uuids=[SERVICE], backend=EmulatedScanner, bus=bus
            )
            return [d.address for d in other], [d.address for d in mine]

    assert asyncio.run(main()) == ([], [A1])


def test_round_trip_connect_read_write_notify_disconnect() -> None:
    async def main() -> dict[str, object]:
        out: dict[str, object] = {}
        async with VirtualBus() as bus:
            sensor = await ProbeSensor(name="EMG-L", address=A1).attach(bus)
            received: list[bytearray] = []
            got_all = asyncio.Event()

            def on_data(_char: object, data: bytearray) -> None:
                received.append(data)
                if len(received) == 50:
                    got_all.set()

            start = time.perf_counter()
            async with client(bus) as c:
                out["connect_s"] = time.perf_counter() - start
                out["mtu"] = c.mtu_size
                out["name"] = c.name
                char = c.services.get_characteristic(CONTROL)
                assert char is not None
                out["wwr"] = char.max_write_without_response_size
                out["services"] = {s.uuid for s in c.services}
                out["info"] = bytes(await c.read_gatt_char(INFO))
                info = c.services.get_characteristic(INFO)
                assert info is not None
                desc = info.get_descriptor("2901")
                assert desc is not None
                out["desc"] = bytes(await c.read_gatt_descriptor(desc.handle))
                await c.write_gatt_descriptor(desc.handle, b"renamed")
                out["desc2"] = bytes(await c.read_gatt_descriptor(desc.handle))
                with pytest.raises(BleakGATTProtocolError) as refused:
                    await c.write_gatt_char(CONTROL, b"\x7f", response=True)
                out["refusal_code"] = refused.value.code
                await c.start_notify(DATA, on_data)
                await c.write_gatt_char(CONTROL, start_command(500), response=True)
                await asyncio.wait_for(got_all.wait(), 2.0)
                await c.stop_notify(DATA)
                await c.write_gatt_char(CONTROL, STOP, response=False)
                await asyncio.sleep(0.05)
                out["after_stop"] = len(received)
                await asyncio.sleep(0.05)
                out["after_stop_2"] = len(received)
            out["connected_after"] = c.is_connected
            out["writes"] = sensor.writes[CONTROL]
            out["seqs"] = [parse(p)[0] for p in received[:50]]
        return out

    out = asyncio.run(main())
    assert out["mtu"] == ATT_MTU
    assert out["wwr"] == ATT_MTU - 3
    assert out["name"] == "EMG-L"
    assert SERVICE in out["services"]  # type: ignore[operator]
    assert out["info"] == INFO_VALUE
    assert (out["desc"], out["desc2"]) == (b"info", b"renamed")
    assert out["refusal_code"] == 0x13
    assert out["seqs"] == list(range(50))
    assert out["after_stop"] == out["after_stop_2"]
    assert out["connected_after"] is False
    assert out["writes"] == [b"\x7f", start_command(500), STOP]


def test_full_size_notification_arrives_whole() -> None:
    async def main() -> list[bytearray]:
        async with VirtualBus() as bus:
            await ProbeSensor(name="EMG-L", address=A1).attach(bus)
            got: list[bytearray] = []
            async with client(bus) as c:
                await c.start_notify(DATA, lambda _c, d: got.append(d))
                await c.write_gatt_char(CONTROL, start_command(200, size=244), response=True)
                while len(got) < 5:
                    await asyncio.sleep(0.01)
            return got

    got = asyncio.run(main())
    assert {len(p) for p in got} == {244}
    assert got[0][12:] == b"\xa5" * 232


def test_refused_command_characteristic_answers_with_att_error() -> None:
    async def main() -> int:
        async with VirtualBus() as bus:
            sensor = await ProbeSensor(name="EMG-L", address=A1).attach(bus)
            sensor.refuse_writes(CONTROL)
            async with client(bus) as c:
                with pytest.raises(BleakGATTProtocolError) as refused:
                    await c.write_gatt_char(CONTROL, start_command(100), response=True)
                sensor.refuse_writes(CONTROL, code=None)
                await c.write_gatt_char(CONTROL, start_command(100), response=True)
            return int(refused.value.code)

    assert asyncio.run(main()) == 0xFC


def test_connect_to_absent_address_fails_within_timeout() -> None:
    async def main() -> float:
        async with VirtualBus() as bus:
            await ProbeSensor(name="EMG-L", address=A1).attach(bus)
            start = time.perf_counter()
            with pytest.raises(BleakDeviceNotFoundError):
                await client(bus, "F0:00:00:00:00:09", timeout=0.3).connect()
            elapsed = time.perf_counter() - start
            async with client(bus) as c:  # the central is still usable
                assert c.is_connected
            return elapsed

    elapsed = asyncio.run(main())
    # it waited for the 0.3 s timeout and then gave up instead of hanging forever
    # (the generous upper bound only guards against a hang on a loaded machine)
    assert 0.25 < elapsed < 15.0


def test_concurrent_connects_are_serialised() -> None:
    async def main() -> list[bool]:
        async with VirtualBus() as bus:
            await ProbeSensor(name="EMG-L", address=A1).attach(bus)
            await ProbeSensor(name="EMG-R", address=A2).attach(bus)
            c1, c2 = client(bus, A1), client(bus, A2)
            await asyncio.gather(c1.connect(), c2.connect())
            states = [c1.is_connected, c2.is_connected]
            await asyncio.gather(c1.disconnect(), c2.disconnect())
            return states

    assert asyncio.run(main()) == [True, True]


def test_pairing_is_refused_with_bleak_error() -> None:
    async def main() -> None:
        async with VirtualBus() as bus:
            await ProbeSensor(name="EMG-L", address=A1).attach(bus)
            async with client(bus) as c:
                with pytest.raises(BleakError, match="pairing"):
                    await c.pair()
                with pytest.raises(BleakError, match="unpairing"):
                    await c.unpair()

    asyncio.run(main())


def test_backend_needs_a_bus() -> None:
    with pytest.raises(ValidationError, match="bus must be a VirtualBus"):
        BleakClient(A1, backend=EmulatedClient)
    with pytest.raises(ValidationError, match="bus must be a VirtualBus"):
        BleakScanner(backend=EmulatedScanner)


def test_gatt_call_when_not_connected_raises_bleak_error() -> None:
    async def main() -> None:
        async with VirtualBus() as bus:
            await ProbeSensor(name="EMG-L", address=A1).attach(bus)
            c = client(bus)
            await c.connect()
            char = c.services.get_characteristic(INFO)
            await c.disconnect()
            with pytest.raises(BleakError, match="not connected"):
                await c._backend.read_gatt_char(char)  # type: ignore[arg-type]

    asyncio.run(main())
