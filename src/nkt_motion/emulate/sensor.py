"""Base class of emulated BLE sensors: advertise, serve a GATT table, stream, misbehave."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Sequence
from typing import Any

from bumble import hci
from bumble.core import UUID, AdvertisingData

from nkt_motion.emulate.bus import BusNode, VirtualBus
from nkt_motion.emulate.gatt_table import (
    WRITE_REQUEST_REJECTED,
    CharacteristicSpec,
    GattRefusal,
    ServiceSpec,
    build_service,
)
from nkt_motion.emulate.streaming import DeviceClock, Faults, NotificationStream, PacketSource
from nkt_motion.errors import AcquisitionError, ValidationError

__all__ = ["LINK_LOSS_REASON", "EmulatedSensor"]

logger = logging.getLogger(__name__)

#: HCI reason reported when the supervision timeout expires (Connection Timeout).
LINK_LOSS_REASON = 0x08
_LEGACY_ADVERTISING_BYTES = 31


class EmulatedSensor:
    """A peripheral on a :class:`VirtualBus` serving a GATT table given as data.

    Subclasses describe their table in :meth:`gatt_services` (or pass ``services``)
    and start :class:`~nkt_motion.emulate.streaming.NotificationStream` s with
    :meth:`start_stream`, typically from a write handler of their command
    characteristic. Streams stop when the link ends, as on a real device.

    Parameters
    ----------
    name : str
        Advertised local name.
    address : str
        Random static address, ``"XX:XX:XX:XX:XX:XX"``.
    services : sequence of ServiceSpec
        The GATT table, when the subclass does not override :meth:`gatt_services`.
    clock : DeviceClock or None
        The device clock of every stream (default: exact).
    faults : Faults or None
        Faults injected into every stream (default: none).
    advertising_interval_ms : float
        Advertising interval; it bounds how long a connect takes.

    Examples
    --------
    >>> from nkt_motion.emulate.gatt_table import CharacteristicSpec, ServiceSpec
    >>> battery = ServiceSpec("180F", (CharacteristicSpec("2A19", ("read",), value=b"d"),))
    >>> sensor = EmulatedSensor(name="EMG-1", address="F0:00:00:00:00:01", services=[battery])
    >>> sensor
    <EmulatedSensor 'EMG-1' F0:00:00:00:00:01 | detached>
    """

    def __init__(
        self,
        *,
        name: str,
        address: str,
        services: Sequence[ServiceSpec] = (),
        clock: DeviceClock | None = None,
        faults: Faults | None = None,
        advertising_interval_ms: float = 20.0,
    ) -> None:
        if not name or len(name.encode()) > 20:
            raise ValidationError(
                f"name must be 1 to 20 bytes of UTF-8, got {name!r}", parameter="name"
            )
        if not 20.0 <= advertising_interval_ms <= 10240.0:
            raise ValidationError(
                f"advertising_interval_ms must be in [20, 10240], got {advertising_interval_ms}",
                parameter="advertising_interval_ms",
            )
        self.name = name
        self.address = address.upper()
        self.clock = clock or DeviceClock()
        self.faults = faults or Faults()
        self.advertising_interval_ms = advertising_interval_ms
        self._services = tuple(services)
        self._bus: VirtualBus | None = None
        self._node: BusNode | None = None
        self._chars: dict[str, Any] = {}
        self._streams: dict[str, NotificationStream] = {}
        self._refusals: dict[str, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        #: Characteristic UUID -> every value written to it, in order.
        self.writes: dict[str, list[bytes]] = {}
        #: HCI reason of every disconnection, in order.
        self.disconnections: list[int] = []

    def __repr__(self) -> str:
        state = "attached" if self._node is not None else "detached"
        return f"<{type(self).__name__} {self.name!r} {self.address} | {state}>"

    # -- table and life cycle ----------------------------------------------------------

    def gatt_services(self) -> Sequence[ServiceSpec]:
        """Return the GATT table served (the ``services`` given to the constructor).

        Returns
        -------
        sequence of ServiceSpec
            Primary services in handle order.

        Examples
        --------
        >>> EmulatedSensor(name="X", address="F0:00:00:00:00:02").gatt_services()
        ()
        """
        return self._services

    @property
    def node(self) -> BusNode:
        """The sensor's node on the bus (controller, host, device)."""
        if self._node is None:
            raise AcquisitionError("the sensor is not on a bus yet", sensor=self.address)
        return self._node

    @property
    def connections(self) -> list[Any]:
        """Open bumble connections of this peripheral."""
        return list(self.node.device.connections.values()) if self._node is not None else []

    @property
    def streams(self) -> dict[str, NotificationStream]:
        """Characteristic UUID (lower case) -> its current or last stream."""
        return dict(self._streams)

    async def attach(self, bus: VirtualBus) -> EmulatedSensor:
        """Join ``bus``: build the GATT server and start advertising.

        Parameters
        ----------
        bus : VirtualBus
            An open bus.

        Returns
        -------
        EmulatedSensor
            ``self``.

        Examples
        --------
        ``sensor = await EmgSensor(...).attach(bus)``
        """
        if self._node is not None:
            raise AcquisitionError("the sensor is already on a bus", sensor=self.address)
        node = await bus.add_node(self.name, self.address)
        self._bus, self._node = bus, node
        services = list(self.gatt_services())
        for spec in services:
            service, chars = build_service(self._with_refusals(spec))
            node.device.add_service(service)
            self._chars.update(chars)
        node.device.advertising_data = self._advertising_data(services)
        node.device.on(node.device.EVENT_CONNECTION, self._on_connection)
        bus.on_close(self.aclose)
        await node.device.start_advertising(
            auto_restart=True,
            advertising_interval_min=self.advertising_interval_ms,
            advertising_interval_max=self.advertising_interval_ms,
        )
        logger.debug("sensor %s advertising as %r", self.address, self.name)
        return self

    def _advertising_data(self, services: Sequence[ServiceSpec]) -> bytes:
        fields: list[tuple[int, bytes]] = [
            (AdvertisingData.FLAGS, bytes([0x06])),
            (AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode()),
        ]
        used = sum(2 + len(value) for _, value in fields)
        for spec in services:
            if not spec.advertise:
                continue
            uuid_bytes = UUID(spec.uuid).to_bytes()
            kind = (
                AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS
                if len(uuid_bytes) == 2
                else AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS
            )
            if used + 2 + len(uuid_bytes) > _LEGACY_ADVERTISING_BYTES:
                logger.debug("service %s does not fit in the advertising data", spec.uuid)
                continue
            fields.append((kind, uuid_bytes))
            used += 2 + len(uuid_bytes)
        return bytes(AdvertisingData(fields))

    def _with_refusals(self, spec: ServiceSpec) -> ServiceSpec:
        chars = tuple(
            dataclasses.replace(char, on_write=self._guarded(char))
            if char.on_write is not None
            else char
            for char in spec.characteristics
        )
        return dataclasses.replace(spec, characteristics=chars)

    def _guarded(self, char: CharacteristicSpec) -> Callable[[bytes], None]:
        key = char.uuid.lower()
        handler = char.on_write
        assert handler is not None

        def on_write(value: bytes) -> None:
            self.writes.setdefault(key, []).append(value)
            code = self._refusals.get(key)
            if code is not None:
                raise GattRefusal(f"{self.name}: writes to {key} are refused", code=code)
            handler(value)

        return on_write

    def _on_connection(self, connection: Any) -> None:
        logger.debug("sensor %s connected to %s", self.address, connection.peer_address)
        connection.on(connection.EVENT_DISCONNECTION, self._on_disconnection)

    def _on_disconnection(self, reason: int) -> None:
        logger.debug("sensor %s disconnected, reason 0x%02X", self.address, reason)
        self.disconnections.append(reason)
        if not self.connections:
            self._spawn(self.stop_streams())

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def aclose(self) -> None:
        """Stop every stream and background task (the bus powers the device off).

        Examples
        --------
        ``await sensor.aclose()`` (done for you when the bus closes).
        """
        await self.stop_streams()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- characteristics and streams ---------------------------------------------------

    def characteristic(self, uuid: str) -> Any:
        """Return the bumble characteristic serving ``uuid``.

        Parameters
        ----------
        uuid : str
            Characteristic UUID as written in the table.

        Returns
        -------
        bumble.gatt.Characteristic
            The server-side attribute.

        Examples
        --------
        ``sensor.characteristic("2A19")``
        """
        try:
            return self._chars[uuid.lower()]
        except KeyError:
            raise ValidationError(
                f"uuid must be one of {sorted(self._chars)}, got {uuid!r}", parameter="uuid"
            ) from None

    async def notify(self, uuid: str, payload: bytes) -> None:
        r"""Notify every subscriber of ``uuid`` once (no pacing, no faults).

        Parameters
        ----------
        uuid : str
            Characteristic UUID.
        payload : bytes
            Notification value (at most MTU - 3 bytes arrive).

        Examples
        --------
        ``await sensor.notify(DATA_UUID, b"\\x00" * 20)``
        """
        char = self.characteristic(uuid)
        device = self.node.device
        for connection in list(device.connections.values()):
            await device.notify_subscriber(connection, char, payload)

    def start_stream(
        self,
        uuid: str,
        source: PacketSource,
        *,
        rate_hz: float,
        route: Callable[[int], str] | None = None,
    ) -> NotificationStream:
        """Start notifying ``uuid`` at ``rate_hz`` packets per device second.

        Parameters
        ----------
        uuid : str
            Characteristic UUID (must have the notify property).
        source : PacketSource
            ``(seq, device_time_s) -> bytes`` or an iterator of payloads.
        rate_hz : float
            Packet rate on the device clock.
        route : callable or None
            ``seq -> uuid`` when packets rotate over several characteristics
            (the Myo's four EMG characteristics); default: all to ``uuid``.

        Returns
        -------
        NotificationStream
            The running stream (its ``sent`` and ``dropped`` record what happened).

        Examples
        --------
        ``sensor.start_stream(DATA_UUID, make_packet, rate_hz=100.0)``
        """
        key = uuid.lower()
        self.characteristic(key)
        old = self._streams.get(key)
        if old is not None and old.running:
            raise AcquisitionError(f"{key} is already streaming", sensor=self.address)

        async def send(seq: int, payload: bytes) -> None:
            await self.notify(key if route is None else route(seq), payload)

        stream = NotificationStream(
            send,
            source,
            rate_hz=rate_hz,
            clock=self.clock,
            faults=self.faults,
            on_fault=self._on_fault,
        )
        self._streams[key] = stream
        stream.start()
        return stream

    async def stop_stream(self, uuid: str) -> None:
        """Stop the stream of ``uuid`` (no-op when it is not running).

        Parameters
        ----------
        uuid : str
            Characteristic UUID.

        Examples
        --------
        ``await sensor.stop_stream(DATA_UUID)``
        """
        stream = self._streams.get(uuid.lower())
        if stream is not None:
            await stream.stop()

    async def stop_streams(self) -> None:
        """Stop every stream.

        Examples
        --------
        ``await sensor.stop_streams()``
        """
        for stream in list(self._streams.values()):
            await stream.stop()

    # -- faults ------------------------------------------------------------------------

    def refuse_writes(self, uuid: str, *, code: int | None = WRITE_REQUEST_REJECTED) -> None:
        """Answer every write to ``uuid`` with an ATT error (``code=None`` accepts again).

        Parameters
        ----------
        uuid : str
            Characteristic UUID.
        code : int or None
            ATT error code (default 0xFC, Write Request Rejected).

        Examples
        --------
        ``sensor.refuse_writes(COMMAND_UUID)``
        """
        key = uuid.lower()
        if code is None:
            self._refusals.pop(key, None)
        else:
            self._refusals[key] = code

    async def disconnect(
        self, reason: int = hci.HCI_REMOTE_USER_TERMINATED_CONNECTION_ERROR
    ) -> None:
        """End every connection from the peripheral side.

        Parameters
        ----------
        reason : int
            HCI reason sent to the central (default 0x13, Remote User Terminated).

        Examples
        --------
        ``await sensor.disconnect()``
        """
        for connection in self.connections:
            await connection.disconnect(reason)

    async def lose_link(self, *, supervision_timeout: float | None = None) -> None:
        """Go silent, then report a Connection Timeout (0x08) at both ends.

        Parameters
        ----------
        supervision_timeout : float or None
            Seconds of silence before the disconnection events (default from
            :attr:`faults`).

        Examples
        --------
        ``await sensor.lose_link(supervision_timeout=0.1)``
        """
        bus, node = self._bus, self.node
        assert bus is not None
        timeout = (
            self.faults.supervision_timeout if supervision_timeout is None else supervision_timeout
        )
        bus.detach(node)
        try:
            await asyncio.sleep(timeout)
            dropped = bus.drop_connections(node, LINK_LOSS_REASON)
            logger.debug("sensor %s lost %d links", self.address, dropped)
        finally:
            bus.attach(node)

    def _on_fault(self, kind: str) -> None:
        if kind == "disconnect":
            self._spawn(self.disconnect())
        else:
            self._spawn(self.lose_link())
