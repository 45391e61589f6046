"""Shared pieces of every sensor profile: the decoded chunk, GATT descriptions, the base class.

A profile is pure: it knows UUIDs, builds command bytes and decodes payload bytes.
It never touches a radio; ``acquire/`` does the I/O and calls ``profile.decode``.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

from nkt_motion.devices.chunk import DecodedChunk
from nkt_motion.errors import DecodeError, ValidationError
from nkt_motion.vocab import IMU_SITES, format_imu_label

__all__ = [
    "SIG_BASE",
    "CharacteristicSpec",
    "DeviceProfile",
    "GattWrite",
    "normalize_uuid",
    "sig_uuid",
]

Role = Literal["data", "control", "battery", "info"]

#: Bluetooth SIG base UUID; 16-bit UUIDs expand into ``0000xxxx-`` + this tail.
SIG_BASE: Final = "-0000-1000-8000-00805f9b34fb"
_UUID_RE: Final = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def sig_uuid(short: int) -> str:
    """Expand a 16-bit Bluetooth SIG UUID to its 128-bit text form.

    Parameters
    ----------
    short : int
        The 16-bit assigned number, e.g. ``0x2A19`` (Battery Level).

    Returns
    -------
    str
        Lower-case 128-bit UUID text.

    Examples
    --------
    >>> sig_uuid(0x2A19)
    '00002a19-0000-1000-8000-00805f9b34fb'
    """
    if not 0 <= short <= 0xFFFF:
        raise ValidationError(f"short UUID must be in 0..0xFFFF, got {short}", parameter="short")
    return f"0000{short:04x}{SIG_BASE}"


def normalize_uuid(uuid: str) -> str:
    """Return a UUID in lower-case 128-bit text form.

    Parameters
    ----------
    uuid : str
        A 128-bit UUID (any case) or a 4-hex-digit SIG short form (``"2a19"``).

    Returns
    -------
    str
        The normalised UUID.

    Raises
    ------
    ValidationError
        If the text is not a UUID.

    Examples
    --------
    >>> normalize_uuid("2A19")
    '00002a19-0000-1000-8000-00805f9b34fb'
    >>> normalize_uuid("FB005C82-02E7-F387-1CAD-8ACD2D8DF0C8")
    'fb005c82-02e7-f387-1cad-8acd2d8df0c8'
    """
    text = uuid.strip().lower()
    if re.fullmatch(r"(0x)?[0-9a-f]{4}", text):
        return sig_uuid(int(text[-4:], 16))
    if not _UUID_RE.match(text):
        raise ValidationError(
            f"uuid must be 128-bit text (8-4-4-4-12 hex) or 4 hex digits, got {uuid!r}",
            parameter="uuid",
        )
    return text


@dataclass(frozen=True, slots=True)
class CharacteristicSpec:
    """One GATT characteristic of a sensor profile.

    Parameters
    ----------
    uuid : str
        128-bit UUID, lower case.
    role : {"data", "control", "battery", "info"}
        What the host uses it for.
    properties : tuple of str
        GATT properties: ``read``, ``write``, ``write-without-response``,
        ``notify``, ``indicate``.
    description : str
        Short text for humans.
    channels : tuple of str
        For data characteristics: every channel the characteristic can carry, in
        packet order.
    units : tuple of str
        Unit of each channel in ``channels``.

    Examples
    --------
    >>> CharacteristicSpec(sig_uuid(0x2A19), "battery", ("read",), "battery %").role
    'battery'
    """

    uuid: str
    role: Role
    properties: tuple[str, ...]
    description: str
    channels: tuple[str, ...] = ()
    units: tuple[str, ...] = ()

    @property
    def notifies(self) -> bool:
        """Whether the characteristic streams (notify or indicate)."""
        return "notify" in self.properties or "indicate" in self.properties


@dataclass(frozen=True, slots=True)
class GattWrite:
    """A write the host performs: characteristic, value and whether a response is wanted.

    Parameters
    ----------
    char_uuid : str
        Characteristic to write.
    data : bytes
        Value to write.
    response : bool
        ``True`` for write-with-response, ``False`` for write-without-response.

    Examples
    --------
    >>> GattWrite("d5060401-a904-deb9-4748-2c7f4a124842", bytes([1, 3, 3, 1, 0])).data.hex()
    '0103030100'
    """

    char_uuid: str
    data: bytes
    response: bool = True


def imu_labels(kind: str, site: str, axes: str = "XYZ") -> tuple[str, ...]:
    """Return vocabulary labels for one IMU sensor kind at a site (``ACC X pelvis``...).

    Parameters
    ----------
    kind : {"acc", "gyr", "mag", "quat"}
        Sensor kind.
    site : str
        Mounting site, one of :data:`nkt_motion.vocab.IMU_SITES`.
    axes : str
        Axis letters, ``"XYZ"`` or ``"WXYZ"``.

    Returns
    -------
    tuple of str
        One label per axis.

    Examples
    --------
    >>> imu_labels("gyr", "thigh_L")
    ('GYR X thigh_L', 'GYR Y thigh_L', 'GYR Z thigh_L')
    """
    return tuple(format_imu_label(kind, axis, site) for axis in axes)


def check_site(site: str) -> str:
    """Validate an IMU mounting site.

    Parameters
    ----------
    site : str
        Candidate site.

    Returns
    -------
    str
        The site, unchanged.

    Examples
    --------
    >>> check_site("pelvis")
    'pelvis'
    """
    if site not in IMU_SITES:
        raise ValidationError(
            f"site must be one of {', '.join(IMU_SITES)}, got {site!r}", parameter="site"
        )
    return site


class DeviceProfile(ABC):
    """Base of every sensor profile: discovery, GATT table, commands, decoder.

    Subclasses set :attr:`name`, :attr:`service_uuid`, :attr:`characteristics`
    and :attr:`name_pattern`, and implement :meth:`decode`,
    :meth:`start_commands` and :meth:`stop_commands`.
    """

    name: str
    service_uuid: str
    characteristics: tuple[CharacteristicSpec, ...]
    #: Regular expression matched (case-insensitive, from the start) against the
    #: advertised local name.
    name_pattern: str
    #: Whether the service UUID alone, when advertised, identifies the device.
    service_identifies: bool = True

    def matches(self, name: str | None, service_uuids: Iterable[str] = ()) -> bool:
        """Tell whether an advertisement belongs to this kind of sensor.

        Parameters
        ----------
        name : str or None
            Advertised local name.
        service_uuids : iterable of str
            Advertised service UUIDs (any case, short forms allowed).

        Returns
        -------
        bool
            ``True`` if the name matches :attr:`name_pattern` or the profile's
            service UUID is advertised (for profiles where that identifies it).
        """
        if name and re.match(self.name_pattern, name, flags=re.IGNORECASE):
            return True
        if not self.service_identifies:
            return False
        wanted = self.service_uuid
        for uuid in service_uuids:
            try:
                if normalize_uuid(uuid) == wanted:
                    return True
            except ValidationError:
                continue
        return False

    @property
    def notify_characteristics(self) -> tuple[CharacteristicSpec, ...]:
        """The data characteristics that stream samples."""
        return tuple(c for c in self.characteristics if c.role == "data" and c.notifies)

    def characteristic(self, uuid: str) -> CharacteristicSpec:
        """Return the spec of one of this profile's characteristics.

        Parameters
        ----------
        uuid : str
            Characteristic UUID (any case).

        Returns
        -------
        CharacteristicSpec
            The matching entry of :attr:`characteristics`.

        Raises
        ------
        ValidationError
            If the profile has no such characteristic.
        """
        key = normalize_uuid(uuid)
        for spec in self.characteristics:
            if spec.uuid == key:
                return spec
        raise ValidationError(
            f"{self.name}: unknown characteristic {uuid!r}; known are "
            f"{', '.join(c.uuid for c in self.characteristics)}",
            parameter="char_uuid",
        )

    def _data_char(self, char_uuid: str, payload: bytes) -> str:
        """Normalise ``char_uuid`` and check it is a data characteristic, else DecodeError."""
        try:
            key = normalize_uuid(char_uuid)
        except ValidationError as exc:
            raise self.error(str(exc), payload) from None
        if key not in {c.uuid for c in self.notify_characteristics}:
            raise self.error(f"characteristic {char_uuid} carries no samples", payload)
        return key

    def error(self, message: str, payload: bytes) -> DecodeError:
        """Build a :class:`DecodeError` naming this profile and the payload length."""
        return DecodeError(message, device=self.name, payload_len=len(payload))

    @abstractmethod
    def decode(self, char_uuid: str, payload: bytes) -> DecodedChunk:
        """Decode one notification payload into samples in physical units.

        Parameters
        ----------
        char_uuid : str
            The characteristic that sent the payload.
        payload : bytes
            The notification value.

        Returns
        -------
        DecodedChunk
            Samples, channels, units, rate and any counters or device time.

        Raises
        ------
        DecodeError
            For any payload that is not a valid packet of that characteristic.
        """

    @abstractmethod
    def start_commands(self) -> tuple[GattWrite, ...]:
        """Return the writes that configure the sensor and start streaming."""

    @abstractmethod
    def stop_commands(self) -> tuple[GattWrite, ...]:
        """Return the writes that stop streaming."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} | service {self.service_uuid}>"
