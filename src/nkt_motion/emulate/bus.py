"""A virtual Bluetooth LE bus: real bumble stacks joined by an in-memory link.

Every node on the bus (the central that the bleak backend drives, and each emulated
sensor) gets its own virtual controller, a host talking to it through an
asynchronous pipe, and a bumble ``Device``. Only the radio is missing: the link
layer, HCI, L2CAP, ATT and GATT are bumble's real implementation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from bumble import hci
from bumble.controller import Controller
from bumble.device import Device
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

from nkt_motion.errors import AcquisitionError, ValidationError

__all__ = ["CENTRAL_ADDRESS", "BusNode", "VirtualBus"]

logger = logging.getLogger(__name__)

#: Address of the central (the bleak side) on every bus.
CENTRAL_ADDRESS = "C0:00:00:00:00:01"

#: LE ACL data packet length given to every virtual controller (data length extension).
LE_ACL_DATA_PACKET_LENGTH = 251


class _EmulatedController(Controller):
    """A bumble virtual controller with the two cures an emulator needs.

    bumble's controller answers LE_Create_Connection_Cancel with success but never
    ends the pending connection, so a connect to an absent address waits forever.
    This one ends it the way a real controller does: the cancel succeeds, then an
    LE Connection Complete event reports status 0x02 (Unknown Connection Identifier).
    Its LE ACL buffer holds 251 bytes, so one notification is one ACL packet.
    """

    le_acl_data_packet_length = LE_ACL_DATA_PACKET_LENGTH

    def on_hci_le_create_connection_cancel_command(
        self, _command: hci.HCI_LE_Create_Connection_Cancel_Command
    ) -> hci.HCI_StatusReturnParameters:
        pending = self.pending_le_connection
        if pending is None:
            return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.COMMAND_DISALLOWED_ERROR)
        self.pending_le_connection = None
        failure = hci.HCI_LE_Connection_Complete_Event(
            status=hci.HCI_ErrorCode.UNKNOWN_CONNECTION_IDENTIFIER_ERROR,
            connection_handle=0,
            role=hci.Role.CENTRAL,
            peer_address_type=pending.peer_address.address_type,
            peer_address=pending.peer_address,
            connection_interval=0,
            peripheral_latency=0,
            supervision_timeout=0,
            central_clock_accuracy=0,
        )
        # The Command Complete for the cancel goes out first; the failure follows it.
        asyncio.get_running_loop().call_soon(self.send_hci_packet, failure)
        return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.SUCCESS)


@dataclass(eq=False)
class BusNode:
    """One station on a :class:`VirtualBus`: controller, host and device.

    Parameters
    ----------
    name : str
        Name of the device (the advertised local name for a peripheral).
    address : str
        Random static address, ``"XX:XX:XX:XX:XX:XX"``.
    controller : Controller
        The virtual controller on the bus's link.
    device : Device
        The bumble device; its host talks to ``controller`` over HCI.

    Examples
    --------
    Nodes are made by :meth:`VirtualBus.add_node`; see :class:`VirtualBus`.
    """

    name: str
    address: str
    controller: Any
    device: Any


class VirtualBus:
    """An in-process BLE radio: a ``LocalLink`` with a central and any peripherals.

    Use it as an async context manager inside the event loop that will run the
    bleak clients and the emulated sensors (bumble objects belong to the loop that
    made them). On exit every sensor is closed, every link dropped and every
    device powered off, so no task or transport outlives the block.

    Parameters
    ----------
    central_address : str
        Address of the central device that the bleak backend drives.

    Examples
    --------
    >>> bus = VirtualBus()
    >>> bus.is_open
    False

    Inside a running event loop::

        async with VirtualBus() as bus:  # doctest: +SKIP
            sensor = await bus.add(MySensor(name="EMG-1", address="F0:00:00:00:00:01"))
            async with BleakClient(sensor.address, backend=EmulatedClient, bus=bus) as c:
                ...
    """

    def __init__(self, *, central_address: str = CENTRAL_ADDRESS) -> None:
        _check_address(central_address, "central_address")
        self.central_address = central_address
        self._link: Any = None
        self._central: BusNode | None = None
        self._nodes: list[BusNode] = []
        self._closers: list[Any] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connect_lock: asyncio.Lock | None = None
        self._scan_users = 0

    def __repr__(self) -> str:
        state = "open" if self.is_open else "closed"
        return f"<VirtualBus {state} | {len(self._nodes)} nodes>"

    @property
    def is_open(self) -> bool:
        """Whether the bus is running (inside its ``async with`` block)."""
        return self._central is not None

    @property
    def link(self) -> Any:
        """The bumble ``LocalLink`` all controllers share."""
        return self._require_open()._link

    @property
    def central(self) -> Any:
        """The bumble ``Device`` in the central role, shared by all bleak clients."""
        node = self._require_open()._central
        assert node is not None
        return node.device

    @property
    def connect_lock(self) -> asyncio.Lock:
        """Lock that serialises connection attempts (one pending LE connection)."""
        self._require_open()
        assert self._connect_lock is not None
        return self._connect_lock

    @property
    def nodes(self) -> tuple[BusNode, ...]:
        """All nodes on the bus, the central first."""
        return tuple(self._nodes)

    async def __aenter__(self) -> VirtualBus:
        if self.is_open:
            raise AcquisitionError("the virtual bus is already open")
        self._loop = asyncio.get_running_loop()
        self._link = LocalLink()  # type: ignore[no-untyped-call]
        self._connect_lock = asyncio.Lock()
        self._central = await self.add_node("nkt-motion central", self.central_address)
        logger.debug("virtual bus open, central %s", self.central_address)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every sensor, drop every link and power every device off.

        Examples
        --------
        ``await bus.aclose()`` is what leaving ``async with`` does.
        """
        if not self.is_open:
            return
        for closer in reversed(self._closers):
            with contextlib.suppress(Exception):
                await closer()
        self._closers.clear()
        for node in reversed(self._nodes):
            await _shutdown_node(node)
        self._nodes.clear()
        self._central = None
        await asyncio.sleep(0)  # let the last queued HCI packets drain
        logger.debug("virtual bus closed")

    def on_close(self, closer: Any) -> None:
        """Register an async callable run when the bus closes (sensors use it).

        Parameters
        ----------
        closer : callable
            ``async def closer() -> None``.

        Examples
        --------
        ``bus.on_close(sensor.aclose)``
        """
        self._closers.append(closer)

    async def add_node(self, name: str, address: str) -> BusNode:
        """Create a controller, host and powered-on device on this bus.

        Parameters
        ----------
        name : str
            Device name.
        address : str
            Random static address, unique on the bus.

        Returns
        -------
        BusNode
            The new node.

        Examples
        --------
        ``node = await bus.add_node("EMG-1", "F0:00:00:00:00:01")``
        """
        self._require_loop()
        _check_address(address, "address")
        if any(n.address == address for n in self._nodes):
            raise ValidationError(
                f"address must be unique on the bus, got {address} twice", parameter="address"
            )
        controller = _EmulatedController(name, link=self._link)
        # Controller -> host packets are already deferred by the controller itself.
        host = Host(controller_source=controller, controller_sink=AsyncPipeSink(controller))
        device = Device(name=name, address=hci.Address(address), host=host)
        await device.power_on()
        node = BusNode(name=name, address=address, controller=controller, device=device)
        self._nodes.append(node)
        return node

    def detach(self, node: BusNode) -> None:
        """Take a node's controller off the shared link (radio out of range).

        The controller moves onto a link of its own, so its open connections stop
        carrying packets in both directions while both hosts still believe they
        are connected, as with a real link before the supervision timeout.

        Parameters
        ----------
        node : BusNode
            A node of this bus.

        Examples
        --------
        ``bus.detach(sensor.node)`` then ``bus.attach(sensor.node)``.
        """
        controller = node.controller
        if controller not in self._link.controllers:
            return
        self._link.remove_controller(controller)
        island = LocalLink()  # type: ignore[no-untyped-call]
        island.add_controller(controller)
        controller.link = island
        for connection in controller.le_connections.values():
            connection.link = island

    def attach(self, node: BusNode) -> None:
        """Put a detached node's controller back on the shared link.

        Parameters
        ----------
        node : BusNode
            A node of this bus, detached with :meth:`detach`.

        Examples
        --------
        ``bus.attach(sensor.node)``
        """
        controller = node.controller
        if controller in self._link.controllers:
            return
        controller.link.remove_controller(controller)
        controller.link = self._link
        self._link.add_controller(controller)

    def drop_connections(self, node: BusNode, reason: int) -> int:
        """End every LE connection of ``node`` at both ends without any LL exchange.

        Each controller reports Disconnection Complete with ``reason`` to its host,
        as controllers do when the supervision timeout expires (reason 0x08).

        Parameters
        ----------
        node : BusNode
            The node whose connections end.
        reason : int
            HCI error code reported to both hosts.

        Returns
        -------
        int
            How many connections were ended.

        Examples
        --------
        ``bus.drop_connections(sensor.node, 0x08)``
        """
        dropped = 0
        for peer_address, connection in list(node.controller.le_connections.items()):
            node.controller.on_le_disconnected(connection, reason)
            for other in self._nodes:
                if other is node or other.controller.random_address != peer_address:
                    continue
                far = other.controller.le_connections.get(connection.self_address)
                if far is not None:
                    other.controller.on_le_disconnected(far, reason)
            dropped += 1
        return dropped

    async def acquire_scanning(self) -> None:
        """Start the central's scan, counting users so that scanners can share it.

        Examples
        --------
        Used by :class:`~nkt_motion.emulate.EmulatedScanner`.
        """
        self._scan_users += 1
        if self._scan_users == 1:
            await self.central.start_scanning(filter_duplicates=False)

    async def release_scanning(self) -> None:
        """Stop the central's scan when its last user releases it.

        Examples
        --------
        Used by :class:`~nkt_motion.emulate.EmulatedScanner`.
        """
        if self._scan_users == 0:
            return
        self._scan_users -= 1
        if self._scan_users == 0 and self.is_open:
            await self.central.stop_scanning()

    def _require_open(self) -> VirtualBus:
        if not self.is_open:
            raise AcquisitionError("the virtual bus is not open; use 'async with VirtualBus()'")
        self._require_loop()
        return self

    def _require_loop(self) -> None:
        if self._loop is not asyncio.get_running_loop():
            raise AcquisitionError("a virtual bus must be used in the event loop that opened it")


def _check_address(address: str, parameter: str) -> None:
    try:
        parsed = hci.Address(address)
    except (ValueError, TypeError) as error:
        raise ValidationError(
            f"{parameter} must look like 'XX:XX:XX:XX:XX:XX', got {address!r}",
            parameter=parameter,
        ) from error
    if parsed.to_string(False) != address.upper():
        raise ValidationError(
            f"{parameter} must look like 'XX:XX:XX:XX:XX:XX', got {address!r}",
            parameter=parameter,
        )


async def _shutdown_node(node: BusNode) -> None:
    device = node.device
    for connection in list(device.connections.values()):
        with contextlib.suppress(Exception):
            async with asyncio.timeout(1.0):
                await connection.disconnect()
    with contextlib.suppress(Exception):
        if device.is_advertising:
            await device.stop_advertising()
    with contextlib.suppress(Exception):
        if device.is_scanning:
            await device.stop_scanning()
    await device.power_off()
    node.controller.le_legacy_advertiser.stop()
    for advertising_set in node.controller.advertising_sets.values():
        advertising_set.stop()
