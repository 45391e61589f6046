"""GATT tables as data, and their translation into bumble attributes.

An emulated sensor describes its services with :class:`ServiceSpec` and
:class:`CharacteristicSpec`. Write handlers validate what they receive and raise
:class:`GattRefusal` (or bumble's ``att.ATT_Error``) to answer with an ATT error;
bumble's server is loose about permissions and sends no response at all when a
callback raises anything else, so every other exception is turned into an ATT
"Unlikely Error" here and logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from bumble import att, gatt

from nkt_motion.errors import ValidationError

__all__ = [
    "CharacteristicSpec",
    "GattRefusal",
    "Property",
    "ServiceSpec",
    "build_service",
]

logger = logging.getLogger(__name__)

Property = Literal["read", "write", "write-without-response", "notify", "indicate"]

_FLAGS: dict[str, int] = {
    "read": gatt.Characteristic.Properties.READ,
    "write": gatt.Characteristic.Properties.WRITE,
    "write-without-response": gatt.Characteristic.Properties.WRITE_WITHOUT_RESPONSE,
    "notify": gatt.Characteristic.Properties.NOTIFY,
    "indicate": gatt.Characteristic.Properties.INDICATE,
}

#: ATT error codes an emulated sensor answers with.
VALUE_NOT_ALLOWED = 0x13
INVALID_ATTRIBUTE_VALUE_LENGTH = 0x0D
WRITE_REQUEST_REJECTED = 0xFC
UNLIKELY_ERROR = 0x0E


class GattRefusal(att.ATT_Error):
    """A peripheral's refusal of a write: answered with an ATT Error Response.

    Parameters
    ----------
    message : str
        Why the value was refused (logged by the peripheral).
    code : int
        ATT error code, by default 0x13 (Value Not Allowed).

    Examples
    --------
    >>> GattRefusal("unknown command 0x7f").error_code
    19
    """

    def __init__(self, message: str, *, code: int = VALUE_NOT_ALLOWED) -> None:
        super().__init__(code, message=message)


@dataclass(frozen=True, slots=True)
class CharacteristicSpec:
    r"""One characteristic of an emulated GATT table.

    Parameters
    ----------
    uuid : str
        Characteristic UUID (16-bit hex like ``"2A19"`` or 128-bit dashed).
    properties : tuple of str
        Any of ``"read"``, ``"write"``, ``"write-without-response"``, ``"notify"``,
        ``"indicate"``.
    value : bytes
        Value served to reads when ``on_read`` is not given.
    on_read : callable or None
        ``() -> bytes`` giving the current value.
    on_write : callable or None
        ``(bytes) -> None``; validates and applies a write, raising
        :class:`GattRefusal` to refuse it.
    description : str or None
        Text of a Characteristic User Description descriptor (0x2901), if any.

    Examples
    --------
    >>> spec = CharacteristicSpec("2A19", ("read",), value=b"\\x64")
    >>> spec.properties
    ('read',)
    """

    uuid: str
    properties: tuple[Property, ...]
    value: bytes = b""
    on_read: Callable[[], bytes] | None = None
    on_write: Callable[[bytes], None] | None = None
    description: str | None = None

    def __post_init__(self) -> None:
        unknown = [p for p in self.properties if p not in _FLAGS]
        if unknown or not self.properties:
            raise ValidationError(
                f"properties must be a non-empty subset of {sorted(_FLAGS)}, "
                f"got {self.properties!r}",
                parameter="properties",
            )
        writable = {"write", "write-without-response"} & set(self.properties)
        if writable and self.on_write is None:
            raise ValidationError(
                f"characteristic {self.uuid} is writable, so on_write must validate writes",
                parameter="on_write",
            )


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """A primary service of an emulated GATT table.

    Parameters
    ----------
    uuid : str
        Service UUID.
    characteristics : tuple of CharacteristicSpec
        Its characteristics, in handle order.
    advertise : bool
        Whether the service UUID goes into the advertising data.

    Examples
    --------
    >>> svc = ServiceSpec("180F", (CharacteristicSpec("2A19", ("read",), value=b"d"),))
    >>> len(svc.characteristics)
    1
    """

    uuid: str
    characteristics: tuple[CharacteristicSpec, ...] = field(default_factory=tuple)
    advertise: bool = True


def build_service(spec: ServiceSpec) -> tuple[Any, dict[str, Any]]:
    """Make the bumble ``gatt.Service`` for a :class:`ServiceSpec`.

    Parameters
    ----------
    spec : ServiceSpec
        The service.

    Returns
    -------
    service : bumble.gatt.Service
        Ready for ``Device.add_service``.
    characteristics : dict
        Normalised (lower-case) characteristic UUID -> bumble ``Characteristic``.

    Examples
    --------
    >>> svc, chars = build_service(ServiceSpec("180F", (CharacteristicSpec("2A19", ("read",)),)))
    >>> list(chars)
    ['2a19']
    """
    chars: dict[str, Any] = {}
    for char_spec in spec.characteristics:
        chars[char_spec.uuid.lower()] = _build_characteristic(char_spec)
    return gatt.Service(spec.uuid, list(chars.values())), chars


def _build_characteristic(spec: CharacteristicSpec) -> Any:
    flags = property_flags(spec.properties)
    permissions = 0
    if "read" in spec.properties:
        permissions |= gatt.Characteristic.READABLE
    if spec.on_write is not None:
        permissions |= gatt.Characteristic.WRITEABLE
    value = gatt.CharacteristicValue(
        read=_reader(spec), write=_writer(spec) if spec.on_write is not None else None
    )
    descriptors = []
    if spec.description is not None:
        descriptors.append(
            gatt.Descriptor(
                gatt.GATT_CHARACTERISTIC_USER_DESCRIPTION_DESCRIPTOR,
                att.Attribute.Permissions(att.Attribute.READABLE | att.Attribute.WRITEABLE),
                spec.description.encode(),
            )
        )
    return gatt.Characteristic(
        spec.uuid,
        gatt.Characteristic.Properties(flags),
        att.Attribute.Permissions(permissions),
        value,
        descriptors,
    )


def _reader(spec: CharacteristicSpec) -> Callable[[Any], bytes]:
    def read(_connection: Any) -> bytes:
        if spec.on_read is None:
            return spec.value
        try:
            return bytes(spec.on_read())
        except att.ATT_Error:
            raise
        except Exception as error:
            logger.exception("read handler of %s failed", spec.uuid)
            raise att.ATT_Error(UNLIKELY_ERROR, message=str(error)) from error

    return read


def _writer(spec: CharacteristicSpec) -> Callable[[Any, bytes], None]:
    handler = spec.on_write
    assert handler is not None

    def write(_connection: Any, value: bytes) -> None:
        try:
            handler(bytes(value))
        except att.ATT_Error as refusal:
            logger.debug("write to %s refused: %s", spec.uuid, refusal)
            raise
        except Exception as error:
            logger.exception("write handler of %s failed", spec.uuid)
            raise att.ATT_Error(UNLIKELY_ERROR, message=str(error)) from error

    return write


def property_flags(properties: Sequence[str]) -> int:
    """Bit mask of characteristic properties as GATT declares them.

    Parameters
    ----------
    properties : sequence of str
        Property names, as in :class:`CharacteristicSpec`.

    Returns
    -------
    int
        The property byte of the characteristic declaration.

    Examples
    --------
    >>> property_flags(["read", "notify"])
    18
    """
    mask = 0
    for name in properties:
        mask |= int(_FLAGS[name])
    return mask
