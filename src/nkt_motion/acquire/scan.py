"""Find supported sensors: scan, match each advertisement to a profile, read batteries."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from bleak import BleakClient, BleakScanner
from bleak.exc import BleakError

from nkt_motion.devices import find_profile, sig_uuid
from nkt_motion.errors import AcquisitionError

__all__ = ["FoundSensor", "scan"]

logger = logging.getLogger(__name__)

BATTERY_UUID = sig_uuid(0x2A19)


@dataclass(frozen=True, slots=True)
class FoundSensor:
    """A device seen during a scan.

    Attributes
    ----------
    address : str
        BLE address.
    name : str or None
        Advertised local name.
    rssi : int
        Signal strength in dBm.
    profile : str or None
        Matching profile name, None for an unsupported device.
    battery : int or None
        Battery level in % (when read and available).

    Examples
    --------
    >>> FoundSensor("F0:00:00:00:00:01", "nkt-1", -50, "nkt").supported
    True
    """

    address: str
    name: str | None
    rssi: int
    profile: str | None
    battery: int | None = None

    @property
    def supported(self) -> bool:
        """Whether a profile matches the device."""
        return self.profile is not None


async def _battery(
    address: str, backend: type[Any] | None, kwargs: Mapping[str, Any], timeout: float
) -> int | None:
    try:
        async with BleakClient(address, timeout=timeout, backend=backend, **kwargs) as client:
            if client.services.get_characteristic(BATTERY_UUID) is None:
                return None
            value = await client.read_gatt_char(BATTERY_UUID)
            return int(value[0]) if value else None
    except (BleakError, TimeoutError, OSError) as exc:
        logger.info("%s: no battery reading: %s", address, exc)
        return None


async def scan(
    *,
    timeout: float = 5.0,
    read_battery: bool = False,
    include_unsupported: bool = False,
    scanner_backend: type[Any] | None = None,
    client_backend: type[Any] | None = None,
    backend_kwargs: Mapping[str, Any] | None = None,
) -> list[FoundSensor]:
    """Scan for sensors and say which profile each one matches.

    Parameters
    ----------
    timeout : float
        Scan duration in seconds.
    read_battery : bool
        Connect briefly to each supported sensor and read Battery Level (0x2A19).
    include_unsupported : bool
        Also list devices no profile matches.
    scanner_backend, client_backend : type or None
        bleak backends (``None``: the platform's).
    backend_kwargs : mapping or None
        Extra keyword arguments of both backends (``bus=`` for the emulator).

    Returns
    -------
    list of FoundSensor
        Sorted by descending RSSI, then address.

    Raises
    ------
    AcquisitionError
        If scanning is impossible (no adapter, permission denied).

    Examples
    --------
    ``found = await scan(timeout=3.0)``; see ``nkt-motion scan``.
    """
    kwargs = dict(backend_kwargs or {})
    try:
        discover: Any = BleakScanner.discover  # backend kwargs go through **kwargs
        seen = await discover(timeout=timeout, return_adv=True, backend=scanner_backend, **kwargs)
    except (BleakError, OSError) as exc:
        raise AcquisitionError(f"cannot scan: {exc}") from exc
    found = []
    for device, adv in seen.values():
        profile = find_profile(adv.local_name or device.name, adv.service_uuids)
        if profile is None and not include_unsupported:
            continue
        name = adv.local_name or device.name
        found.append(
            FoundSensor(device.address, name, adv.rssi, profile.name if profile else None)
        )
    if read_battery:
        with contextlib.suppress(AcquisitionError):
            found = [
                replace(f, battery=await _battery(f.address, client_backend, kwargs, timeout))
                if f.supported
                else f
                for f in found
            ]
    return sorted(found, key=lambda f: (-f.rssi, f.address))
