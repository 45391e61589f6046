"""One sensor as an async iterator of packets: connect, configure, subscribe, stream."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

from bleak import BleakClient
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.exc import BleakError

from nkt_motion.capture import Packet
from nkt_motion.devices import DeviceProfile
from nkt_motion.errors import AcquisitionError

__all__ = ["CONFIGURE_FIRST", "SensorDisconnected", "SensorStream"]

logger = logging.getLogger(__name__)

_STOP = object()

#: Profiles that stream once notifications are enabled: configure them before that.
CONFIGURE_FIRST = frozenset({"witmotion"})


class SensorDisconnected(AcquisitionError):
    """The link to a streaming sensor ended (raised by ``async for`` over a stream).

    Examples
    --------
    >>> SensorDisconnected("link lost", sensor="nkt-1").sensor
    'nkt-1'
    """


class SensorStream:
    """Stream one sensor's notifications as :class:`~nkt_motion.capture.Packet` objects.

    On entry the client connects, subscribes to every data characteristic of the
    profile and sends the profile's start commands; on exit it sends the stop
    commands, unsubscribes and disconnects (each step in ``finally``, errors
    logged). Control characteristics that notify or indicate (the Polar PMD
    control point) are subscribed first and their answers are packets too: a
    start response carries the scale of compressed samples. Sensors that stream
    as soon as notifications are on (:data:`CONFIGURE_FIRST`) get their start
    commands before the data subscription, so no sample leaves at the old rate.
    Notification callbacks only stamp the host time and put the packet
    on an :class:`asyncio.Queue`; ``async for`` takes them off.

    Parameters
    ----------
    address : str
        BLE address of the sensor.
    profile : DeviceProfile
        Its profile (UUIDs and commands).
    sensor_id : str or None
        Id stamped on the packets (default: the address).
    backend : type or None
        bleak client backend (``None``: the platform's; tests pass the emulator's).
    client_kwargs : mapping or None
        Extra keyword arguments of :class:`bleak.BleakClient` (``bus=`` for the emulator).
    timeout : float
        Connection timeout in seconds.
    queue_size : int
        Packets held before new ones are dropped and counted in :attr:`overflow`.
    clock : callable
        Host clock stamped on each packet, ``() -> int`` nanoseconds (default
        :func:`time.monotonic_ns`; emulated sessions may run it faster).

    Examples
    --------
    >>> from nkt_motion.devices import PROFILES
    >>> SensorStream("F0:00:00:00:00:01", PROFILES["nkt"])
    <SensorStream F0:00:00:00:00:01 nkt | closed>

    With a running sensor::

        async with SensorStream(address, profile) as stream:  # doctest: +SKIP
            async for packet in stream:
                ...
    """

    def __init__(
        self,
        address: str,
        profile: DeviceProfile,
        *,
        sensor_id: str | None = None,
        backend: type[Any] | None = None,
        client_kwargs: Mapping[str, Any] | None = None,
        timeout: float = 10.0,
        queue_size: int = 100_000,
        clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self.address = address
        self._clock = clock
        self.profile = profile
        self.sensor_id = sensor_id or address
        self._backend = backend
        self._client_kwargs = dict(client_kwargs or {})
        self._timeout = timeout
        self._queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=queue_size)
        self._client: BleakClient | None = None
        self._subscribed: list[str] = []
        #: Packets dropped because the queue was full.
        self.overflow = 0
        #: Packets received.
        self.received = 0

    def __repr__(self) -> str:
        state = "open" if self._client is not None and self._client.is_connected else "closed"
        return f"<SensorStream {self.address} {self.profile.name} | {state}>"

    @property
    def client(self) -> BleakClient:
        """The connected bleak client."""
        if self._client is None:
            raise AcquisitionError("the stream is not open", sensor=self.sensor_id)
        return self._client

    async def __aenter__(self) -> SensorStream:
        self._client = BleakClient(
            self.address,
            disconnected_callback=self._on_disconnect,
            timeout=self._timeout,
            backend=self._backend,
            **self._client_kwargs,
        )
        try:
            await self._client.connect()
        except (BleakError, TimeoutError, OSError) as exc:
            self._client = None
            raise AcquisitionError(f"cannot connect: {exc}", sensor=self.sensor_id) from exc
        try:
            await self._subscribe(role="control")
            first = self.profile.name in CONFIGURE_FIRST
            if first:
                await self._write_all(self.profile.start_commands(), "start")
            await self._subscribe(role="data")
            if not first:
                await self._write_all(self.profile.start_commands(), "start")
        except BaseException:
            await self._close()
            raise
        logger.info("%s: streaming (%s)", self.sensor_id, self.profile.name)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._close()

    async def _subscribe(self, *, role: str) -> None:
        client = self.client
        specs = [c for c in self.profile.characteristics if c.role == role and c.notifies]
        for spec in specs:
            if client.services.get_characteristic(spec.uuid) is None:
                raise AcquisitionError(
                    f"not a {self.profile.name} sensor: no characteristic {spec.uuid}",
                    sensor=self.sensor_id,
                )
            await client.start_notify(spec.uuid, self._on_notify)
            self._subscribed.append(spec.uuid)

    async def _write_all(self, writes: Any, what: str) -> None:
        for w in writes:
            try:
                await self.client.write_gatt_char(w.char_uuid, w.data, response=w.response)
            except (BleakError, TimeoutError) as exc:
                raise AcquisitionError(
                    f"the sensor refused the {what} command {w.data.hex()}: {exc}",
                    sensor=self.sensor_id,
                ) from exc

    async def _close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            if client.is_connected:
                with contextlib.suppress(BleakError, AcquisitionError, TimeoutError):
                    self._client = client
                    await self._write_all(self.profile.stop_commands(), "stop")
                for uuid in self._subscribed:
                    with contextlib.suppress(BleakError, TimeoutError):
                        await client.stop_notify(uuid)
        finally:
            self._client = None
            self._subscribed.clear()
            with contextlib.suppress(BleakError, TimeoutError):
                await client.disconnect()

    def _on_notify(self, char: BleakGATTCharacteristic, data: bytearray) -> None:
        packet = Packet(self.sensor_id, char.uuid, self._clock(), bytes(data))
        self.received += 1
        try:
            self._queue.put_nowait(packet)
        except asyncio.QueueFull:
            self.overflow += 1

    def _on_disconnect(self, _client: BleakClient) -> None:
        logger.info("%s: disconnected", self.sensor_id)
        self._put_marker(SensorDisconnected("link lost", sensor=self.sensor_id))

    def _put_marker(self, marker: object) -> None:
        try:
            self._queue.put_nowait(marker)
        except asyncio.QueueFull:
            self._queue.get_nowait()
            self._queue.put_nowait(marker)

    def stop_iteration(self) -> None:
        """End ``async for`` over this stream after the packets already queued.

        Examples
        --------
        ``stream.stop_iteration()`` from another task, e.g. at the end of a recording.
        """
        self._put_marker(_STOP)

    def __aiter__(self) -> SensorStream:
        return self

    async def __anext__(self) -> Packet:
        item = await self._queue.get()
        if item is _STOP:
            raise StopAsyncIteration
        if isinstance(item, SensorDisconnected):
            raise item
        packet: Packet = item
        return packet
