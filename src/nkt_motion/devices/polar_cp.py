"""Polar Measurement Data (PMD) control point: commands, responses, settings, timing.

Facts from ``polarofficial/polar-ble-sdk`` (Android ``pmd/PmdControlPointResponse.kt``,
``PmdSetting.kt`` and their tests). Commands are
written to the PMD control point ``fb005c81-...``; answers come back as indications
``F0 <op> <type> <status> <more> <parameters...>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from nkt_motion.errors import DecodeError, ValidationError

__all__ = [
    "MEASUREMENT_TYPES",
    "STATUS_NAMES",
    "PmdResponse",
    "get_settings_command",
    "parse_features",
    "parse_response",
    "parse_settings",
    "sdk_mode_command",
    "start_command",
    "stop_command",
]

MEASUREMENT_TYPES: Final[dict[str, int]] = {
    "ecg": 0,
    "ppg": 1,
    "acc": 2,
    "ppi": 3,
    "gyro": 5,
    "mag": 6,
    "sdk_mode": 9,
}
_TYPE_NAMES: Final = {v: k for k, v in MEASUREMENT_TYPES.items()}
OP_NAMES: Final[dict[int, str]] = {
    1: "GET_MEASUREMENT_SETTINGS",
    2: "REQUEST_MEASUREMENT_START",
    3: "STOP_MEASUREMENT",
}
#: Status codes of ``PmdControlPointResponse.PmdControlPointResponseCode``.
STATUS_NAMES: Final[dict[int, str]] = {
    0: "SUCCESS",
    1: "ERROR_INVALID_OP_CODE",
    2: "ERROR_INVALID_MEASUREMENT_TYPE",
    3: "ERROR_NOT_SUPPORTED",
    4: "ERROR_INVALID_LENGTH",
    5: "ERROR_INVALID_PARAMETER",
    6: "ERROR_ALREADY_IN_STATE",
    7: "ERROR_INVALID_RESOLUTION",
    8: "ERROR_INVALID_SAMPLE_RATE",
    9: "ERROR_INVALID_RANGE",
    10: "ERROR_INVALID_MTU",
    11: "ERROR_INVALID_NUMBER_OF_CHANNELS",
    12: "ERROR_INVALID_STATE",
    13: "ERROR_DEVICE_IN_CHARGER",
    14: "ERROR_DISK_FULL",
}
#: Setting id -> (name, field width in bytes) (``PmdSetting.typeToFieldSize``).
SETTINGS: Final[dict[int, tuple[str, int]]] = {
    0: ("sample_rate", 2),
    1: ("resolution", 2),
    2: ("range", 2),
    3: ("range_milliunit", 4),
    4: ("channels", 1),
    5: ("factor", 4),
    6: ("security", 16),
}


def _error(message: str, data: bytes) -> DecodeError:
    return DecodeError(message, device="polar", payload_len=len(data))


def _type_id(measurement: str) -> int:
    if measurement not in MEASUREMENT_TYPES:
        raise ValidationError(
            f"measurement must be one of {', '.join(MEASUREMENT_TYPES)}, got {measurement!r}",
            parameter="measurement",
        )
    return MEASUREMENT_TYPES[measurement]


def get_settings_command(measurement: str) -> bytes:
    """Build ``01 <type>``: ask which settings a measurement supports.

    Parameters
    ----------
    measurement : str
        ``ecg``, ``ppg``, ``acc``, ``ppi``, ``gyro``, ``mag`` or ``sdk_mode``.

    Returns
    -------
    bytes
        The command.

    Examples
    --------
    >>> get_settings_command("acc").hex()
    '0102'
    """
    return bytes([0x01, _type_id(measurement)])


def _u(value: int, width: int, name: str) -> bytes:
    if not 0 <= value < 1 << (8 * width):
        raise ValidationError(f"{name} must fit {width} byte(s), got {value}", parameter=name)
    return value.to_bytes(width, "little")


def start_command(
    measurement: str,
    *,
    sample_rate: int,
    resolution: int,
    range_: int | None = None,
    channels: int | None = None,
) -> bytes:
    """Build ``02 <type> {setting id, 0x01, value LE}...``: start a measurement.

    Parameters
    ----------
    measurement : str
        Measurement name (see :func:`get_settings_command`).
    sample_rate : int
        Hz (setting 0, u16).
    resolution : int
        Bits (setting 1, u16).
    range_ : int or None
        Full scale (setting 2, u16): g for ACC, deg/s for gyro.
    channels : int or None
        Channel count (setting 4, u8), for sensors that take it.

    Returns
    -------
    bytes
        The command.

    Examples
    --------
    >>> start_command("ecg", sample_rate=130, resolution=14).hex(" ")
    '02 00 00 01 82 00 01 01 0e 00'
    >>> start_command("acc", sample_rate=200, resolution=16, range_=8).hex(" ")
    '02 02 00 01 c8 00 01 01 10 00 02 01 08 00'
    """
    out = bytearray([0x02, _type_id(measurement)])
    out += b"\x00\x01" + _u(sample_rate, 2, "sample_rate")
    out += b"\x01\x01" + _u(resolution, 2, "resolution")
    if range_ is not None:
        out += b"\x02\x01" + _u(range_, 2, "range_")
    if channels is not None:
        out += b"\x04\x01" + _u(channels, 1, "channels")
    return bytes(out)


def stop_command(measurement: str) -> bytes:
    """Build ``03 <type>``: stop a measurement.

    Parameters
    ----------
    measurement : str
        Measurement name.

    Returns
    -------
    bytes
        The command.

    Examples
    --------
    >>> stop_command("ecg").hex(), stop_command("acc").hex()
    ('0300', '0302')
    """
    return bytes([0x03, _type_id(measurement)])


def sdk_mode_command(*, enable: bool) -> bytes:
    """Build the Verity Sense SDK-mode switch (``02 09`` on, ``03 09`` off).

    Parameters
    ----------
    enable : bool
        On or off.

    Returns
    -------
    bytes
        The command.

    Examples
    --------
    >>> sdk_mode_command(enable=True).hex()
    '0209'
    """
    return bytes([0x02 if enable else 0x03, MEASUREMENT_TYPES["sdk_mode"]])


@dataclass(frozen=True, slots=True)
class PmdResponse:
    """A parsed control-point response.

    Parameters
    ----------
    op : int
        Op code answered (1 get settings, 2 start, 3 stop).
    measurement : int
        Measurement type id.
    status : int
        0 on success; see :data:`STATUS_NAMES`.
    more : bool
        More response frames follow.
    parameters : bytes
        Settings TLVs (empty unless the status is success).

    Examples
    --------
    >>> r = parse_response(bytes.fromhex("f00106070000"))
    >>> r.ok, r.status_name, r.measurement_name
    (False, 'ERROR_INVALID_RESOLUTION', 'mag')
    """

    op: int
    measurement: int
    status: int
    more: bool
    parameters: bytes

    @property
    def ok(self) -> bool:
        """Whether the command succeeded."""
        return self.status == 0

    @property
    def op_name(self) -> str:
        """Name of the answered op code."""
        return OP_NAMES.get(self.op, f"UNKNOWN_OP_0x{self.op:02x}")

    @property
    def status_name(self) -> str:
        """Name of the status, e.g. ``ERROR_INVALID_SAMPLE_RATE``."""
        return STATUS_NAMES.get(self.status, f"UNKNOWN_STATUS_0x{self.status:02x}")

    @property
    def measurement_name(self) -> str:
        """Name of the measurement type."""
        return _TYPE_NAMES.get(self.measurement, f"type_{self.measurement}")


def parse_response(data: bytes) -> PmdResponse:
    """Parse ``F0 <op> <type> <status> [<more> <parameters...>]``.

    Parameters
    ----------
    data : bytes
        The indication value.

    Returns
    -------
    PmdResponse
        The response; parameters and ``more`` only for a successful status.

    Raises
    ------
    DecodeError
        If the value is shorter than 4 bytes or does not start with ``F0``.

    Examples
    --------
    >>> r = parse_response(bytes.fromhex("f00102000000ffffff"))
    >>> r.op_name, r.ok, r.more, r.parameters.hex()
    ('GET_MEASUREMENT_SETTINGS', True, False, '00ffffff')
    """
    data = bytes(data)
    if len(data) < 4 or data[0] != 0xF0:
        raise _error("a PMD response is at least 4 bytes starting with F0", data)
    ok = data[3] == 0
    return PmdResponse(
        op=data[1],
        measurement=data[2],
        status=data[3],
        more=ok and len(data) > 4 and data[4] != 0,
        parameters=data[5:] if ok else b"",
    )


def parse_settings(params: bytes) -> dict[str, tuple[float, ...]]:
    """Parse settings TLVs ``{id, count, count x value LE}...``.

    Parameters
    ----------
    params : bytes
        The parameters of a get-settings or start response.

    Returns
    -------
    dict of str to tuple of float
        ``sample_rate``, ``resolution``, ``range``, ``range_milliunit``,
        ``channels``, ``factor`` (float32) or ``security``; values in order.

    Raises
    ------
    DecodeError
        Unknown setting id or truncated values.

    Examples
    --------
    >>> s = parse_settings(bytes.fromhex("00013400" "01011000" "0204f500f401e803d007" "040103"))
    >>> s["sample_rate"], s["range"], s["channels"]
    ((52.0,), (245.0, 500.0, 1000.0, 2000.0), (3.0,))
    >>> round(parse_settings(bytes.fromhex("0501") + np.float32(2.44e-4).tobytes())
    ...     ["factor"][0], 8)
    0.000244
    """
    params = bytes(params)
    out: dict[str, tuple[float, ...]] = {}
    offset = 0
    while offset < len(params):
        if offset + 2 > len(params) or params[offset] not in SETTINGS:
            raise _error(f"bad setting header at byte {offset}", params)
        name, width = SETTINGS[params[offset]]
        count = params[offset + 1]
        raw = params[offset + 2 : offset + 2 + count * width]
        if len(raw) < count * width:
            raise _error(f"setting {name} needs {count * width} bytes", params)
        out[name] = _setting_values(name, width, raw)
        offset += 2 + count * width
    return out


def _setting_values(name: str, width: int, raw: bytes) -> tuple[float, ...]:
    if name == "factor":
        return tuple(float(v) for v in np.frombuffer(raw, dtype="<f4"))
    if name == "security":
        return tuple(
            float(int.from_bytes(raw[i : i + width], "little")) for i in range(0, len(raw), width)
        )
    signed = name == "range_milliunit"
    dtype = {1: "u1", 2: "<u2", 4: "<i4" if signed else "<u4"}[width]
    return tuple(float(v) for v in np.frombuffer(raw, dtype=dtype))


def parse_features(data: bytes) -> frozenset[str]:
    """Parse the control-point read ``0F <bitfield LE...>``: supported measurements.

    Bit ``n`` of the bit field (bytes 1.., little endian) is measurement type ``n``.

    Parameters
    ----------
    data : bytes
        The read value.

    Returns
    -------
    frozenset of str
        Measurement names (unknown bits as ``type_<n>``).

    Raises
    ------
    DecodeError
        If the value does not start with ``0F`` or has no bit field.

    Examples
    --------
    >>> sorted(parse_features(bytes.fromhex("0f0500")))
    ['acc', 'ecg']
    """
    data = bytes(data)
    if len(data) < 2 or data[0] != 0x0F:
        raise _error("a PMD feature read is 0F followed by a bit field", data)
    bits = np.unpackbits(np.frombuffer(data[1:], dtype=np.uint8), bitorder="little")
    return frozenset(_TYPE_NAMES.get(int(n), f"type_{int(n)}") for n in np.flatnonzero(bits))
