"""A bleak scanner backend that listens on the central of a :class:`VirtualBus`."""

from __future__ import annotations

import logging
from typing import Any

from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bumble.core import AdvertisingData

from nkt_motion.emulate.bus import VirtualBus
from nkt_motion.emulate.client import bumble_uuid_to_str
from nkt_motion.errors import ValidationError

__all__ = ["EmulatedScanner", "advertisement_fields"]

logger = logging.getLogger(__name__)

_UUID_LISTS = (
    AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.COMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.INCOMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
)


def advertisement_fields(data: Any) -> tuple[str | None, list[str], dict[int, bytes]]:
    """Read name, service UUIDs and manufacturer data from bumble advertising data.

    bumble's scan response repeats the advertising data, so UUIDs are de-duplicated
    (first occurrence kept).

    Parameters
    ----------
    data : bumble.core.AdvertisingData
        Parsed advertising data (with the scan response appended).

    Returns
    -------
    name : str or None
        Complete (else shortened) local name.
    service_uuids : list of str
        128-bit lower-case UUID strings.
    manufacturer_data : dict
        Company identifier -> bytes.

    Examples
    --------
    >>> from bumble.core import AdvertisingData
    >>> ad = AdvertisingData([(AdvertisingData.COMPLETE_LOCAL_NAME, b"EMG-1")])
    >>> advertisement_fields(AdvertisingData.from_bytes(bytes(ad) * 2))
    ('EMG-1', [], {})
    """
    name = data.get(AdvertisingData.COMPLETE_LOCAL_NAME) or data.get(
        AdvertisingData.SHORTENED_LOCAL_NAME
    )
    uuids: dict[str, None] = {}
    for kind in _UUID_LISTS:
        for listed in data.get_all(kind):
            for uuid in listed:
                uuids.setdefault(bumble_uuid_to_str(uuid), None)
    manufacturer: dict[int, bytes] = {}
    for company, payload in data.get_all(AdvertisingData.MANUFACTURER_SPECIFIC_DATA):
        manufacturer.setdefault(company, payload)
    return name, list(uuids), manufacturer


class EmulatedScanner(BaseBleakScanner):
    """bleak scanner backend reporting advertisements heard on a :class:`VirtualBus`.

    Parameters
    ----------
    detection_callback : callable or None
        bleak detection callback ``(BLEDevice, AdvertisementData)``.
    service_uuids : list of str or None
        Only report advertisers of these services.
    scanning_mode : {"active", "passive"}
        Accepted for bleak's sake; the emulated central always scans actively.
    bus : VirtualBus
        The open bus (``BleakScanner(backend=EmulatedScanner, bus=bus)``).
    **kwargs
        Other keyword arguments bleak forwards (``bluez``, ``cb``); ignored.

    Examples
    --------
    >>> from bleak import BleakScanner
    >>> scanner = BleakScanner(backend=EmulatedScanner, bus=VirtualBus())
    >>> scanner.discovered_devices
    []
    """

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: str = "active",
        *,
        bus: VirtualBus | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        if not isinstance(bus, VirtualBus):
            raise ValidationError(
                f"bus must be a VirtualBus (BleakScanner(..., bus=bus)), got {bus!r}",
                parameter="bus",
            )
        self._bus = bus
        self._scanning = False

    async def start(self) -> None:
        """Start scanning; clears the devices seen so far.

        Examples
        --------
        ``await BleakScanner(backend=EmulatedScanner, bus=bus).start()``
        """
        if self._scanning:
            return
        self.seen_devices = {}
        self._bus.central.on(self._bus.central.EVENT_ADVERTISEMENT, self._on_advertisement)
        self._scanning = True
        await self._bus.acquire_scanning()

    async def stop(self) -> None:
        """Stop scanning.

        Examples
        --------
        ``await scanner.stop()``
        """
        if not self._scanning:
            return
        self._scanning = False
        if self._bus.is_open:
            self._bus.central.remove_listener(
                self._bus.central.EVENT_ADVERTISEMENT, self._on_advertisement
            )
        await self._bus.release_scanning()

    def _on_advertisement(self, advertisement: Any) -> None:
        name, service_uuids, manufacturer = advertisement_fields(advertisement.data)
        if not self.is_allowed_uuid(service_uuids):
            return
        address = advertisement.address.to_string(False)
        data = AdvertisementData(
            local_name=name,
            manufacturer_data=manufacturer,
            service_data={},
            service_uuids=service_uuids,
            tx_power=(
                None
                if advertisement.tx_power == advertisement.TX_POWER_NOT_AVAILABLE
                else advertisement.tx_power
            ),
            rssi=advertisement.rssi,
            platform_data=(advertisement,),
        )
        device = self.create_or_update_device(address, address, name, advertisement, data)
        self.call_detection_callbacks(device, data)
