"""Injected faults are exactly what the central observes through bleak."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from bleak import BleakClient
from bleak.exc import BleakError
from emulate_probe import CONTROL, DATA, INFO, STOP, ProbeSensor, parse, start_command

from nkt_motion.emulate import (
    LINK_LOSS_REASON,
    DeviceClock,
    EmulatedClient,
    Faults,
    VirtualBus,
)
from nkt_motion.errors import ValidationError

A1 = "F0:00:00:00:00:01"
A2 = "F0:00:00:00:00:02"


def client(bus: VirtualBus, address: str = A1, **kwargs: object) -> BleakClient:
    return BleakClient(address, backend=EmulatedClient, bus=bus, **kwargs)  # type: ignore[arg-type]


async def stream_n(faults: Faults, n: int, rate: int = 1000) -> tuple[set[int], int, list[int]]:
    """Stream until ``n`` packets were generated; return received seqs, generated, dropped."""
    async with VirtualBus() as bus:
        sensor = await ProbeSensor(name="EMG-L", address=A1, faults=faults).attach(bus)
        received: set[int] = set()
        async with client(bus) as c:
            await c.start_notify(DATA, lambda _c, d: received.add(parse(d)[0]))
            await c.write_gatt_char(CONTROL, start_command(rate), response=True)
            stream = sensor.streams[DATA]
            while stream.next_seq < n:
                await asyncio.sleep(0.005)
            await c.write_gatt_char(CONTROL, STOP, response=True)
            await asyncio.sleep(0.02)
        return received, stream.next_seq, list(stream.dropped)


def test_drop_every_n_drops_exactly_those() -> None:
    received, generated, dropped = asyncio.run(stream_n(Faults(drop_every=7), 300))
    assert dropped == [seq for seq in range(generated) if (seq + 1) % 7 == 0]
    assert set(range(generated)) - received == set(dropped)


def test_random_drops_are_recorded_exactly_and_seeded() -> None:
    faults = Faults(drop_probability=0.1, seed=3)
    received, generated, dropped = asyncio.run(stream_n(faults, 400))
    assert set(range(generated)) - received == set(dropped)
    assert 10 < len(dropped) < 80
    again = asyncio.run(stream_n(faults, 400))[2]
    common = min(len(dropped), len(again))
    assert [s for s in dropped if s < 390] == [s for s in again if s < 390]
    assert common > 0


def test_device_clock_maps_host_time_by_the_skew() -> None:
    clock = DeviceClock(skew_ppm=200.0, offset=3.0)
    assert clock.device_time(100.0) == pytest.approx(3.0 + 100.02, abs=1e-12)
    assert clock.host_elapsed(clock.device_time(7.5)) == pytest.approx(7.5, abs=1e-12)
    with pytest.raises(ValidationError, match="skew_ppm"):
        DeviceClock(skew_ppm=1e6)


async def paced(skew_ppm: float, n: int, rate: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Generation (host) time, receive (host) time and device time of ``n`` packets."""
    loop = asyncio.get_running_loop()
    async with VirtualBus() as bus:
        sensor = await ProbeSensor(
            name="EMG-L", address=A1, clock=DeviceClock(skew_ppm=skew_ppm)
        ).attach(bus)
        generated: dict[int, float] = {}
        rx: dict[int, tuple[float, float]] = {}

        def source(seq: int, t: float) -> bytes:
            generated[seq] = loop.time()
            return seq.to_bytes(4, "little") + np.float64(t).tobytes()

        def on_data(_c: object, d: bytearray) -> None:
            seq, t = parse(d)
            rx[seq] = (loop.time(), t)

        async with client(bus) as c:
            await c.start_notify(DATA, on_data)
            start = loop.time()
            sensor.start_stream(DATA, source, rate_hz=rate)
            while len(rx) < n:
                await asyncio.sleep(0.01)
            await sensor.stop_stream(DATA)
        seqs = np.arange(n)
        gen = np.array([generated[s] for s in seqs]) - start
        recv = np.array([rx[s][0] for s in seqs]) - start
        device = np.array([rx[s][1] for s in seqs])
        return gen, recv, device


def test_clock_skew_200_ppm_paces_packets_on_the_device_clock() -> None:
    rate, n = 1000, 1000
    gen, _, device = asyncio.run(paced(200.0, n, rate))
    np.testing.assert_allclose(device, np.arange(n) / rate, atol=1e-12)
    skewed_due = device / (1 + 200e-6)
    # never before its due time on the device clock, sometimes before the unskewed one
    assert np.all(gen >= skewed_due - 2e-3)
    assert np.median(gen - skewed_due) < 0.006


def test_clock_skew_shows_as_timestamp_drift_against_host_time() -> None:
    _gen, recv, device = asyncio.run(paced(20_000.0, 500, 500))  # a 2 % clock, as Polar H10
    slope = np.polyfit(recv, device, 1)[0]
    assert slope == pytest.approx(1.02, abs=0.004)


def test_peripheral_disconnect_fires_callback_after_the_last_packet() -> None:
    async def main() -> tuple[int, list[int], bool, int | None]:
        async with VirtualBus() as bus:
            sensor = await ProbeSensor(
                name="EMG-L", address=A1, faults=Faults(disconnect_after=40)
            ).attach(bus)
            fired = asyncio.Event()
            got: list[int] = []
            c = client(bus, disconnected_callback=lambda _c: fired.set())
            await c.connect()
            await c.start_notify(DATA, lambda _c, d: got.append(parse(d)[0]))
            await c.write_gatt_char(CONTROL, start_command(1000), response=True)
            await asyncio.wait_for(fired.wait(), 1.0)
            with pytest.raises(BleakError, match="not connected"):
                await c.read_gatt_char(INFO)
            reason = c._backend.disconnect_reason  # type: ignore[attr-defined]
            return len(got), sensor.disconnections, c.is_connected, reason

    count, reasons, connected, reason = asyncio.run(main())
    assert count == 40
    assert reasons == [0x13]
    assert reason == 0x13
    assert connected is False


def test_link_loss_during_a_gatt_request_raises_bleak_error() -> None:
    async def main() -> tuple[float, list[int], int | None, bool]:
        loop = asyncio.get_running_loop()
        async with VirtualBus() as bus:
            sensor = await ProbeSensor(name="EMG-L", address=A1).attach(bus)
            fired = asyncio.Event()
            c = client(bus, disconnected_callback=lambda _c: fired.set())
            await c.connect()
            loss = asyncio.create_task(sensor.lose_link(supervision_timeout=0.15))
            await asyncio.sleep(0)
            start = loop.time()
            with pytest.raises(BleakError, match="link lost") as error:
                await c.read_gatt_char(INFO)
            assert not isinstance(error.value, asyncio.CancelledError)
            elapsed = loop.time() - start
            await loss
            assert fired.is_set()
            reason = c._backend.disconnect_reason  # type: ignore[attr-defined]
            async with client(bus) as again:  # advertising resumed after the loss
                reconnected = again.is_connected
            return elapsed, sensor.disconnections, reason, reconnected

    elapsed, reasons, reason, reconnected = asyncio.run(main())
    assert 0.1 < elapsed < 0.5
    assert reasons[0] == reason == LINK_LOSS_REASON
    assert reconnected


def test_link_loss_fault_in_a_stream_ends_with_connection_timeout() -> None:
    async def main() -> tuple[int, int | None]:
        async with VirtualBus() as bus:
            await ProbeSensor(
                name="EMG-L",
                address=A1,
                faults=Faults(link_loss_after=30, supervision_timeout=0.05),
            ).attach(bus)
            fired = asyncio.Event()
            got: list[int] = []
            c = client(bus, disconnected_callback=lambda _c: fired.set())
            await c.connect()
            await c.start_notify(DATA, lambda _c, d: got.append(parse(d)[0]))
            await c.write_gatt_char(CONTROL, start_command(1000), response=True)
            await asyncio.wait_for(fired.wait(), 1.0)
            return len(got), c._backend.disconnect_reason  # type: ignore[attr-defined]

    count, reason = asyncio.run(main())
    assert count == 30  # whatever the device sent into the silence never arrived
    assert reason == LINK_LOSS_REASON


def test_cancelling_the_caller_still_raises_cancelled_error() -> None:
    async def main() -> None:
        async with VirtualBus() as bus:
            sensor = await ProbeSensor(name="EMG-L", address=A1).attach(bus)
            async with client(bus) as c:
                bus.detach(sensor.node)  # the request will never be answered
                read = asyncio.create_task(c.read_gatt_char(INFO))
                await asyncio.sleep(0.02)
                read.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await read
                bus.drop_connections(sensor.node, LINK_LOSS_REASON)
                bus.attach(sensor.node)

    asyncio.run(main())


def test_two_sensors_at_500_per_second_lose_nothing() -> None:
    async def main() -> list[tuple[int, int, int]]:
        async with VirtualBus() as bus:
            sensors = [
                await ProbeSensor(name=f"EMG-{i}", address=a).attach(bus)
                for i, a in enumerate((A1, A2))
            ]
            got: list[list[int]] = [[], []]
            clients = [client(bus, s.address) for s in sensors]
            await asyncio.gather(*(c.connect() for c in clients))
            for i, c in enumerate(clients):
                await c.start_notify(DATA, lambda _c, d, i=i: got[i].append(parse(d)[0]))
            for c in clients:
                await c.write_gatt_char(CONTROL, start_command(500, size=244), response=True)
            await asyncio.sleep(2.0)
            for c in clients:
                await c.write_gatt_char(CONTROL, STOP, response=True)
            await asyncio.sleep(0.02)
            result = [
                (len(g), s.streams[DATA].sent, len(set(g)))
                for g, s in zip(got, sensors, strict=True)
            ]
            await asyncio.gather(*(c.disconnect() for c in clients))
            return result

    for received, sent, unique in asyncio.run(main()):
        assert sent >= 950
        assert received == sent == unique
