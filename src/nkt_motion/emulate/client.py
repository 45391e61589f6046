"""A bleak client backend that drives the central of a :class:`VirtualBus`.

``BleakClient(address, backend=EmulatedClient, bus=bus)`` then behaves as with a
real adapter: connect (with an MTU exchange to 247, as BlueZ and CoreBluetooth do),
full discovery into bleak's own service objects, reads, writes, notifications and
disconnects, all through bumble's real GATT client.
"""

from __future__ import annotations

import asyncio
import logging
import uuid as uuid_module
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from bleak.args import SizedBuffer
from bleak.assigned_numbers import CHARACTERISTIC_PROPERTIES, CharacteristicPropertyName
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError, BleakGATTProtocolError
from bumble import att, core, hci
from bumble.device import Peer

from nkt_motion.emulate.bus import VirtualBus
from nkt_motion.errors import ValidationError

__all__ = ["ATT_MTU", "EmulatedClient", "bumble_uuid_to_str"]

logger = logging.getLogger(__name__)

#: ATT MTU requested on every connection; a notification then carries 244 bytes.
ATT_MTU = 247

_DEVICE_NAME_UUID = "00002a00-0000-1000-8000-00805f9b34fb"
_T = TypeVar("_T")


def bumble_uuid_to_str(value: Any) -> str:
    """Turn a bumble ``UUID`` into bleak's form: 128-bit, lower case, dashed.

    Parameters
    ----------
    value : bumble.core.UUID
        A 16-, 32- or 128-bit bumble UUID.

    Returns
    -------
    str
        For example ``"00002a00-0000-1000-8000-00805f9b34fb"``.

    Examples
    --------
    >>> from bumble.core import UUID
    >>> bumble_uuid_to_str(UUID.from_16_bits(0x2A00))
    '00002a00-0000-1000-8000-00805f9b34fb'
    """
    little_endian = value.to_bytes(force_128=True)
    return str(uuid_module.UUID(bytes=bytes(reversed(little_endian))))


class EmulatedClient(BaseBleakClient):
    """bleak client backend for peripherals on a :class:`VirtualBus`.

    Parameters
    ----------
    address_or_ble_device : str or BLEDevice
        Address of the emulated peripheral, or a device found by a scan.
    bus : VirtualBus
        The open bus whose central this client drives (passed through bleak's
        ``BleakClient(..., bus=bus)`` keyword arguments).
    disconnected_callback : callable or None
        Called (scheduled on the loop) when the link ends without ``disconnect()``.
    timeout : float
        Seconds to wait for the peripheral in :meth:`connect`.
    mtu : int
        ATT MTU to ask for after connecting (23..517; default :data:`ATT_MTU`).
        A small MTU stands in for hosts that negotiate less (BlueZ reports 23).
    **kwargs
        Other keyword arguments bleak forwards (``services``, ``bluez``, ...);
        ``services`` limits discovery to those service UUIDs.

    Examples
    --------
    >>> from bleak import BleakClient
    >>> client = BleakClient("F0:00:00:00:00:01", backend=EmulatedClient, bus=VirtualBus())
    >>> client.is_connected
    False
    """

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        bus: VirtualBus | None = None,
        disconnected_callback: Callable[[], None] | None = None,
        timeout: float = 10.0,
        mtu: int = ATT_MTU,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            address_or_ble_device,
            disconnected_callback=disconnected_callback,
            timeout=timeout,
            **kwargs,
        )
        if not isinstance(bus, VirtualBus):
            raise ValidationError(
                f"bus must be a VirtualBus (BleakClient(..., bus=bus)), got {bus!r}",
                parameter="bus",
            )
        if not 23 <= mtu <= 517:
            raise ValidationError(f"mtu must be in 23..517, got {mtu}", parameter="mtu")
        self._bus = bus
        self._wanted_mtu = mtu
        self._wanted: set[str] | None = kwargs.get("services")
        self._name = (
            address_or_ble_device.name if isinstance(address_or_ble_device, BLEDevice) else None
        )
        self._connection: Any = None
        self._peer: Any = None
        self._mtu = att.ATT_DEFAULT_MTU
        self._lost: asyncio.Future[int] | None = None
        self._closing = False
        self._subscribers: dict[int, Callable[[bytes], None]] = {}

    # -- properties ------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The peripheral's GAP Device Name (or its address with dashes)."""
        return self._name or self.address.replace(":", "-")

    @property
    def mtu_size(self) -> int:
        """The negotiated ATT MTU (23 until connected, then the one asked for, 247 by default)."""
        return self._mtu

    @property
    def disconnect_reason(self) -> int | None:
        """HCI reason of the last disconnection (0x08 after a link loss), or None."""
        lost = self._lost
        return lost.result() if lost is not None and lost.done() else None

    @property
    def is_connected(self) -> bool:
        """Whether the link to the peripheral is up."""
        return self._lost is not None and not self._lost.done()

    # -- connection ------------------------------------------------------------------

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        """Connect, exchange the MTU (247) and discover every service.

        Parameters
        ----------
        pair : bool
            Must be false: the emulator does not pair.
        **kwargs
            ``timeout`` (seconds) overrides the constructor's timeout.

        Raises
        ------
        BleakDeviceNotFoundError
            No peripheral with this address answered within the timeout.
        BleakError
            Pairing was asked for, or the link dropped during setup.

        Examples
        --------
        ``await BleakClient(address, backend=EmulatedClient, bus=bus).connect()``
        """
        if pair:
            raise BleakError("pairing is not supported by the nkt-motion BLE emulator")
        if self.is_connected:
            return
        timeout = float(kwargs.get("timeout", self._timeout))
        async with self._bus.connect_lock:  # one pending LE connection at a time
            try:
                connection = await self._bus.central.connect(
                    hci.Address(self.address), timeout=timeout
                )
            except (core.TimeoutError, TimeoutError) as error:
                raise BleakDeviceNotFoundError(
                    self.address, f"device {self.address} not found within {timeout} s"
                ) from error
            except core.ConnectionError as error:
                raise BleakError(f"connection to {self.address} failed: {error}") from error
        self._attach(connection)
        try:
            self._mtu = await self._request(lambda peer: peer.request_mtu(self._wanted_mtu))
            self.services = await self._request(self._discover)
            await self._read_name()
        except BaseException:
            await self.disconnect()
            raise
        logger.debug("connected to %s, MTU %d", self.address, self._mtu)

    def _attach(self, connection: Any) -> None:
        self._connection = connection
        self._peer = Peer(connection)
        self._closing = False
        lost: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._lost = lost

        def on_disconnection(reason: int) -> None:
            if not lost.done():
                lost.set_result(reason)
            self._on_lost(reason)

        connection.on(connection.EVENT_DISCONNECTION, on_disconnection)

    def _on_lost(self, reason: int) -> None:
        logger.debug("link to %s ended, reason 0x%02X", self.address, reason)
        self._subscribers.clear()
        self._mtu = att.ATT_DEFAULT_MTU
        if not self._closing and self._disconnected_callback is not None:
            asyncio.get_running_loop().call_soon(self._disconnected_callback)

    async def disconnect(self) -> None:
        """Disconnect (no-op when not connected); waits for the link to end.

        Examples
        --------
        ``await client.disconnect()``
        """
        connection, lost = self._connection, self._lost
        if connection is None or lost is None or lost.done():
            return
        self._closing = True
        try:
            await connection.disconnect()
        except (core.BaseBumbleError, hci.HCI_Error) as error:
            logger.debug("disconnect from %s: %s", self.address, error)
        if not lost.done():
            async with asyncio.timeout(2.0):
                await asyncio.shield(lost)

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        """Refuse: pairing is not emulated.

        Raises
        ------
        BleakError
            Always.

        Examples
        --------
        ``await client.pair()`` raises ``BleakError``.
        """
        raise BleakError("pairing is not supported by the nkt-motion BLE emulator")

    async def unpair(self) -> None:
        """Refuse: pairing is not emulated.

        Raises
        ------
        BleakError
            Always.

        Examples
        --------
        ``await client.unpair()`` raises ``BleakError``.
        """
        raise BleakError("unpairing is not supported by the nkt-motion BLE emulator")

    # -- discovery -------------------------------------------------------------------

    async def _discover(self, peer: Any) -> BleakGATTServiceCollection:
        collection = BleakGATTServiceCollection()
        for service in await peer.discover_services():
            service_uuid = bumble_uuid_to_str(service.uuid)
            if self._wanted is not None and service_uuid not in self._wanted:
                continue
            bleak_service = BleakGATTService(service, service.handle, service_uuid)
            collection.add_service(bleak_service)
            for char in await peer.discover_characteristics(service=service):
                descriptors = await peer.discover_descriptors(characteristic=char)
                char.descriptors_discovered = True  # else bumble rediscovers per subscribe
                bleak_char = BleakGATTCharacteristic(
                    char,
                    char.handle,
                    bumble_uuid_to_str(char.uuid),
                    _property_names(int(char.properties)),
                    self._max_write_without_response_size,
                    bleak_service,
                )
                collection.add_characteristic(bleak_char)
                for desc in descriptors:
                    uuid = bumble_uuid_to_str(desc.type)
                    collection.add_descriptor(
                        BleakGATTDescriptor(desc, desc.handle, uuid, bleak_char)
                    )
        return collection

    def _max_write_without_response_size(self) -> int:
        return self._mtu - 3

    async def _read_name(self) -> None:
        if self._name is not None or self.services is None:
            return
        char = self.services.get_characteristic(_DEVICE_NAME_UUID)
        if char is not None:
            value = await self.read_gatt_char(char)
            self._name = value.decode("utf-8", errors="replace")

    # -- GATT requests ---------------------------------------------------------------

    async def _request(self, operation: Callable[[Any], Awaitable[_T]]) -> _T:
        """Run one GATT operation, racing it against the loss of the link."""
        lost = self._lost
        if lost is None or lost.done():
            raise BleakError(f"{self.address}: not connected")
        task = asyncio.ensure_future(operation(self._peer))
        racers: set[asyncio.Future[Any]] = {task, lost}
        try:
            await asyncio.wait(racers, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not task.done():
                task.cancel()
                task.add_done_callback(_consume)
        if not task.done():
            raise BleakError(f"{self.address}: link lost (reason 0x{lost.result():02X})")
        try:
            return task.result()
        except att.ATT_Error as error:
            raise BleakGATTProtocolError(error.error_code) from error
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise
            raise BleakError(f"{self.address}: link lost during a GATT request") from None
        except core.TimeoutError as error:
            raise BleakError(f"{self.address}: GATT request timed out") from error

    async def read_gatt_char(
        self,
        characteristic: BleakGATTCharacteristic,
        *,
        use_cached: bool = False,
        **kwargs: Any,
    ) -> bytearray:
        """Read a characteristic value (long values with Read Blob).

        Parameters
        ----------
        characteristic : BleakGATTCharacteristic
            The characteristic.
        use_cached : bool
            Return the last value read or notified, when there is one.
        **kwargs
            Ignored.

        Returns
        -------
        bytearray
            The value.

        Examples
        --------
        ``await client.read_gatt_char(uuid)``
        """
        return await self._read(characteristic.handle, use_cached)

    async def read_gatt_descriptor(
        self,
        descriptor: BleakGATTDescriptor,
        *,
        use_cached: bool = False,
        **kwargs: Any,
    ) -> bytearray:
        """Read a descriptor value.

        Parameters
        ----------
        descriptor : BleakGATTDescriptor
            The descriptor.
        use_cached : bool
            Return the last value read, when there is one.
        **kwargs
            Ignored.

        Returns
        -------
        bytearray
            The value.

        Examples
        --------
        ``await client.read_gatt_descriptor(handle)``
        """
        return await self._read(descriptor.handle, use_cached)

    async def _read(self, handle: int, use_cached: bool) -> bytearray:
        if use_cached and self._peer is not None:
            cached = self._peer.gatt_client.cached_values.get(handle)
            if cached is not None:
                return bytearray(cached[1])
        value = await self._request(lambda peer: peer.read_value(handle))
        return bytearray(value)

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: SizedBuffer, response: bool
    ) -> None:
        r"""Write a characteristic value, as a request or as a command.

        Parameters
        ----------
        characteristic : BleakGATTCharacteristic
            The characteristic.
        data : bytes-like
            The value.
        response : bool
            Write Request (the peripheral confirms or refuses) or Write Command.

        Examples
        --------
        ``await client.write_gatt_char(uuid, b"\\x01", response=True)``
        """
        value = bytes(data)
        handle = characteristic.handle
        await self._request(lambda peer: peer.write_value(handle, value, with_response=response))

    async def write_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, data: SizedBuffer
    ) -> None:
        r"""Write a descriptor value (always with response).

        Parameters
        ----------
        descriptor : BleakGATTDescriptor
            The descriptor.
        data : bytes-like
            The value.

        Examples
        --------
        ``await client.write_gatt_descriptor(handle, b"\\x01")``
        """
        value = bytes(data)
        handle = descriptor.handle
        await self._request(lambda peer: peer.write_value(handle, value, with_response=True))

    async def start_notify(
        self,
        characteristic: BleakGATTCharacteristic,
        callback: NotifyCallback,
        **kwargs: Any,
    ) -> None:
        """Subscribe to notifications (or indications) of a characteristic.

        Parameters
        ----------
        characteristic : BleakGATTCharacteristic
            The characteristic.
        callback : callable
            Called with a ``bytearray`` per notification.
        **kwargs
            Ignored (bleak's platform-specific arguments).

        Examples
        --------
        ``await client.start_notify(uuid, on_packet)``
        """
        proxy = characteristic.obj

        def on_value(value: bytes) -> None:
            callback(bytearray(value))

        old = self._subscribers.pop(characteristic.handle, None)
        self._subscribers[characteristic.handle] = on_value
        await self._request(lambda peer: _resubscribe(peer, proxy, old, on_value))

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        """Unsubscribe from a characteristic.

        Parameters
        ----------
        characteristic : BleakGATTCharacteristic
            The characteristic.

        Examples
        --------
        ``await client.stop_notify(uuid)``
        """
        subscriber = self._subscribers.pop(characteristic.handle, None)
        proxy = characteristic.obj
        await self._request(lambda peer: peer.gatt_client.unsubscribe(proxy, subscriber))


async def _resubscribe(
    peer: Any, proxy: Any, old: Callable[[bytes], None] | None, new: Callable[[bytes], None]
) -> None:
    if old is not None:
        handle_subscribers = peer.gatt_client.notification_subscribers.get(proxy.handle, set())
        handle_subscribers.discard(old)
    await peer.gatt_client.subscribe(proxy, new)


def _property_names(flags: int) -> list[CharacteristicPropertyName]:
    return [name for bit, name in CHARACTERISTIC_PROPERTIES.items() if flags & bit]


def _consume(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()
