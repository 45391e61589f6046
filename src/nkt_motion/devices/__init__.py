"""Sensor profiles: GATT UUIDs, commands and pure decoders (no I/O).

Every profile answers the same questions: does an advertisement belong to it
(:meth:`~DeviceProfile.matches`), which characteristics does it have, which writes
start and stop it, and what samples a notification holds
(:meth:`~DeviceProfile.decode` -> :class:`DecodedChunk`, in physical units).

Profiles, keyed by name in :data:`PROFILES` (default settings) and built with
options by :func:`get_profile`:

``nkt``
    The open nkt sensor (``firmware_notes/nkt-sensor-profile.md``).
``myo``
    Thalmic Myo armband.
``polar_h10``, ``polar_verity``
    Polar H10 and Verity Sense (PMD service).
``witmotion``
    WitMotion BWT901BLECL (BLE 5.0).

Examples
--------
>>> from nkt_motion.devices import PROFILES, find_profile
>>> sorted(PROFILES)
['myo', 'nkt', 'polar_h10', 'polar_verity', 'witmotion']
>>> find_profile("Polar H10 A1B2C3D4").name
'polar_h10'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any, Final

from nkt_motion.devices._base import (
    CharacteristicSpec,
    DeviceProfile,
    GattWrite,
    normalize_uuid,
    sig_uuid,
)
from nkt_motion.devices.chunk import ChunkKind, DecodedChunk
from nkt_motion.devices.myo import MyoProfile
from nkt_motion.devices.nkt import NktProfile
from nkt_motion.devices.polar import PolarPmdProfile
from nkt_motion.devices.witmotion import WitMotionProfile, WitMotionReassembler
from nkt_motion.errors import ValidationError

__all__ = [
    "PROFILES",
    "CharacteristicSpec",
    "ChunkKind",
    "DecodedChunk",
    "DeviceProfile",
    "GattWrite",
    "MyoProfile",
    "NktProfile",
    "PolarPmdProfile",
    "WitMotionProfile",
    "WitMotionReassembler",
    "find_profile",
    "get_profile",
    "normalize_uuid",
    "sig_uuid",
]


def _polar_h10(**options: Any) -> DeviceProfile:
    return PolarPmdProfile(model="h10", **options)


def _polar_verity(**options: Any) -> DeviceProfile:
    return PolarPmdProfile(model="verity", **options)


_FACTORIES: Final[dict[str, Callable[..., DeviceProfile]]] = {
    "nkt": NktProfile,
    "myo": MyoProfile,
    "polar_h10": _polar_h10,
    "polar_verity": _polar_verity,
    "witmotion": WitMotionProfile,
}

#: Profile name -> profile with default settings.
PROFILES: Final[Mapping[str, DeviceProfile]] = MappingProxyType(
    {name: factory() for name, factory in _FACTORIES.items()}
)


def get_profile(name: str, **options: Any) -> DeviceProfile:
    """Build a profile by name, with options such as ``site`` or ``emg_labels``.

    Parameters
    ----------
    name : str
        One of the keys of :data:`PROFILES`.
    **options
        Keyword arguments of the profile class (e.g. ``site="thigh_L"``).

    Returns
    -------
    DeviceProfile
        The profile (the shared default when no options are given).

    Raises
    ------
    ValidationError
        Unknown name, or options the profile rejects.

    Examples
    --------
    >>> get_profile("witmotion", site="thigh_L").characteristics[0].channels[0]
    'ACC X thigh_L'
    """
    if name not in _FACTORIES:
        raise ValidationError(
            f"device must be one of {', '.join(_FACTORIES)}, got {name!r}", parameter="device"
        )
    if not options:
        return PROFILES[name]
    try:
        return _FACTORIES[name](**options)
    except TypeError as exc:
        raise ValidationError(f"{name}: {exc}", parameter="options") from None


def find_profile(name: str | None, service_uuids: Iterable[str] = ()) -> DeviceProfile | None:
    """Return the first profile whose advertisement pattern matches, or None.

    Parameters
    ----------
    name : str or None
        Advertised local name.
    service_uuids : iterable of str
        Advertised service UUIDs.

    Returns
    -------
    DeviceProfile or None
        The default profile of the matching device kind.

    Examples
    --------
    >>> find_profile(None, ["0000ffe5-0000-1000-8000-00805f9a34fb"]).name
    'witmotion'
    >>> find_profile("Keyboard") is None
    True
    """
    uuids = tuple(service_uuids)
    for profile in PROFILES.values():
        if profile.matches(name, uuids):
            return profile
    return None
