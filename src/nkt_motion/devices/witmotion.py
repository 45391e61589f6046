"""Profile and decoder of the WitMotion BWT901BLECL (BLE 5.0) IMU.

Facts from ``WITMOTION/WitBluetooth_BWT901BLE5_0`` (Python SDK ``device_model.py``)
and the WT901BLECL 5.0 manual (pp. 16-18). Note the UUID base ``...-00805f9a34fb``:
it is *not* the Bluetooth SIG base ``...-00805f9b34fb``.

Default stream packet, 20 bytes, no checksum, counter or timestamp::

    55 61 | ax ay az | gx gy gz | roll pitch yaw      (int16 LE each)

acc x 16/32768 g, gyro x 2000/32768 deg/s, angle x 180/32768 deg. Register reads
(``FF AA 27 <reg> 00``) answer ``55 71 <reg L> <reg H>`` + 8 x int16 on the same
characteristic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from nkt_motion.devices._base import (
    CharacteristicSpec,
    DeviceProfile,
    GattWrite,
    check_site,
    imu_labels,
)
from nkt_motion.devices.chunk import DecodedChunk
from nkt_motion.errors import DecodeError, ValidationError

__all__ = [
    "RATE_CODES",
    "RegisterValues",
    "WitMotionProfile",
    "WitMotionReassembler",
    "parse_register_response",
    "rate_commands",
    "read_register_command",
    "save_command",
    "unlock_command",
    "write_register_command",
]

_BASE: Final = "-0000-1000-8000-00805f9a34fb"
SERVICE_UUID: Final = "0000ffe5" + _BASE
NOTIFY_UUID: Final = "0000ffe4" + _BASE
WRITE_UUID: Final = "0000ffe9" + _BASE
PACKET_LEN: Final = 20
RATE_REGISTER: Final = 0x03
#: Output rate in Hz -> value of register 0x03.
RATE_CODES: Final[dict[float, int]] = {
    1.0: 0x03,
    5.0: 0x05,
    10.0: 0x06,
    50.0: 0x08,
    100.0: 0x09,
    200.0: 0x0B,
}
_SCALE: Final = np.array([16.0] * 3 + [2000.0] * 3 + [180.0] * 3) / 32768.0


def write_register_command(register: int, value: int) -> bytes:
    """Build ``FF AA <reg> <value L> <value H>``.

    Parameters
    ----------
    register : int
        Register address 0..255.
    value : int
        Unsigned 16-bit value.

    Returns
    -------
    bytes
        The command (send :func:`unlock_command` first, :func:`save_command` after).

    Examples
    --------
    >>> write_register_command(0x03, 0x08).hex()
    'ffaa030800'
    """
    if not 0 <= register <= 0xFF or not 0 <= value <= 0xFFFF:
        raise ValidationError(
            f"register must be 0..255 and value 0..65535, got {register}, {value}",
            parameter="register",
        )
    return bytes([0xFF, 0xAA, register, value & 0xFF, value >> 8])


def read_register_command(register: int) -> bytes:
    """Build ``FF AA 27 <reg> 00``; the answer is a ``55 71`` packet.

    Parameters
    ----------
    register : int
        Register address 0..255 (e.g. 0x3A magnetic field, 0x51 quaternion).

    Returns
    -------
    bytes
        The command.

    Examples
    --------
    >>> read_register_command(0x3A).hex()
    'ffaa273a00'
    """
    if not 0 <= register <= 0xFF:
        raise ValidationError(f"register must be 0..255, got {register}", parameter="register")
    return bytes([0xFF, 0xAA, 0x27, register, 0x00])


def unlock_command() -> bytes:
    """Build the unlock command ``FF AA 69 88 B5`` needed before a register write.

    Returns
    -------
    bytes
        The command.

    Examples
    --------
    >>> unlock_command().hex()
    'ffaa6988b5'
    """
    return write_register_command(0x69, 0xB588)


def save_command() -> bytes:
    """Build the save command ``FF AA 00 00 00`` that keeps written registers.

    Returns
    -------
    bytes
        The command.

    Examples
    --------
    >>> save_command().hex()
    'ffaa000000'
    """
    return write_register_command(0x00, 0x0000)


def rate_commands(rate: float) -> tuple[bytes, bytes, bytes]:
    """Build unlock, rate-register write and save for an output rate.

    Parameters
    ----------
    rate : {1, 5, 10, 50, 100, 200}
        Output rate in Hz.

    Returns
    -------
    tuple of 3 bytes
        The three commands, to be written with ~100 ms between them.

    Examples
    --------
    >>> [c.hex() for c in rate_commands(50)]
    ['ffaa6988b5', 'ffaa030800', 'ffaa000000']
    """
    if rate not in RATE_CODES:
        raise ValidationError(
            f"rate must be one of {', '.join(f'{r:g}' for r in RATE_CODES)} Hz, got {rate!r}",
            parameter="rate",
        )
    return (
        unlock_command(),
        write_register_command(RATE_REGISTER, RATE_CODES[rate]),
        save_command(),
    )


@dataclass(frozen=True, slots=True)
class RegisterValues:
    """Answer to a register read: the start register and 8 consecutive int16 values.

    Parameters
    ----------
    register : int
        First register read.
    values : tuple of 8 int
        Raw signed values of that register and the 7 after it.

    Examples
    --------
    >>> r = parse_register_response(bytes.fromhex("55713a00680169007a00") + bytes(10))
    >>> r.register, r.values[:3]
    (58, (360, 105, 122))
    """

    register: int
    values: tuple[int, ...]


def parse_register_response(payload: bytes) -> RegisterValues:
    """Parse a 20-byte ``55 71`` register answer.

    Parameters
    ----------
    payload : bytes
        One packet.

    Returns
    -------
    RegisterValues
        Register and raw values (scales depend on the register).

    Raises
    ------
    DecodeError
        If it is not a 20-byte ``55 71`` packet.
    """
    payload = bytes(payload)
    if len(payload) != PACKET_LEN or payload[:2] != b"\x55\x71":
        raise DecodeError(
            "a register answer is 20 bytes starting 55 71",
            device="witmotion",
            payload_len=len(payload),
        )
    values = np.frombuffer(payload[4:], dtype="<i2")
    return RegisterValues(int.from_bytes(payload[2:4], "little"), tuple(int(v) for v in values))


class WitMotionReassembler:
    """Cut a WitMotion byte stream into 20-byte packets, syncing on ``0x55``.

    Notifications may hold several packets or split one; feed each notification
    in arrival order. Bytes before a ``55 61``/``55 71`` start are dropped and
    counted in :attr:`dropped`.

    Examples
    --------
    >>> r = WitMotionReassembler()
    >>> pkt = bytes.fromhex("5561") + bytes(18)
    >>> r.feed(bytes(1) + pkt[:7]), len(r.feed(pkt[7:] + pkt)), r.dropped
    ([], 2, 1)
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self.dropped = 0

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return the complete packets now available.

        Parameters
        ----------
        data : bytes
            One notification value.

        Returns
        -------
        list of bytes
            Zero or more 20-byte packets, in order.
        """
        self._buf += data
        out: list[bytes] = []
        while True:
            start = self._sync()
            if start < 0 or len(self._buf) < PACKET_LEN:
                return out
            out.append(bytes(self._buf[:PACKET_LEN]))
            del self._buf[:PACKET_LEN]

    def _sync(self) -> int:
        """Drop bytes until the buffer starts with a packet header; -1 if none yet."""
        while self._buf:
            at = self._buf.find(0x55)
            if at < 0:
                self.dropped += len(self._buf)
                self._buf.clear()
                return -1
            self.dropped += at
            del self._buf[:at]
            if len(self._buf) < 2:
                return -1
            if self._buf[1] in (0x61, 0x71):
                return 0
            self.dropped += 1
            del self._buf[:1]
        return -1


class WitMotionProfile(DeviceProfile):
    """WitMotion BWT901BLECL: acceleration, angular rate and Euler angles.

    Parameters
    ----------
    site : str
        IMU mounting site for the channel labels.
    rate : {1, 5, 10, 50, 100, 200}
        Output rate in Hz set by :meth:`start_commands` (nominal ``fs``).

    Examples
    --------
    >>> p = WitMotionProfile()
    >>> c = p.decode(NOTIFY_UUID, bytes.fromhex("5561" "0008" "0000" "00f8") + bytes(12))
    >>> c.data[:3, 0].tolist(), c.units[:3]
    ([1.0, 0.0, -1.0], ('g', 'g', 'g'))
    """

    name = "witmotion"
    service_uuid = SERVICE_UUID
    name_pattern = r"wt\d+ble"

    def __init__(self, *, site: str = "pelvis", rate: float = 100.0) -> None:
        self.site = check_site(site)
        self._rate_cmds = rate_commands(rate)
        self.rate = float(rate)
        self.channel_names = (
            *imu_labels("acc", site),
            *imu_labels("gyr", site),
            f"ANGLE roll_{site}",
            f"ANGLE pitch_{site}",
            f"ANGLE yaw_{site}",
        )
        self.units = ("g",) * 3 + ("deg/s",) * 3 + ("deg",) * 3
        self.characteristics = (
            CharacteristicSpec(
                NOTIFY_UUID,
                "data",
                ("notify",),
                "0x61 packets and 0x71 answers",
                channels=self.channel_names,
                units=self.units,
            ),
            CharacteristicSpec(
                WRITE_UUID,
                "control",
                ("write", "write-without-response"),
                "register commands FF AA ...",
            ),
        )

    def start_commands(self) -> tuple[GattWrite, ...]:
        """Set the output rate (the sensor streams as soon as notifications are on).

        Returns
        -------
        tuple of GattWrite
            Unlock, rate write, save.

        Examples
        --------
        >>> [w.data.hex() for w in WitMotionProfile(rate=200).start_commands()][1]
        'ffaa030b00'
        """
        return tuple(GattWrite(WRITE_UUID, c) for c in self._rate_cmds)

    def stop_commands(self) -> tuple[GattWrite, ...]:
        """Nothing to write: streaming stops when notifications are disabled.

        Returns
        -------
        tuple of GattWrite
            Empty.

        Examples
        --------
        >>> WitMotionProfile().stop_commands()
        ()
        """
        return ()

    def decode(self, char_uuid: str, payload: bytes) -> DecodedChunk:
        """Decode one or more whole ``55 61`` packets (use the reassembler for streams)."""
        payload = bytes(payload)
        key = self._data_char(char_uuid, payload)
        if not payload or len(payload) % PACKET_LEN:
            raise self.error("payload must be whole 20-byte packets", payload)
        packets = np.frombuffer(payload, dtype=np.uint8).reshape(-1, PACKET_LEN)
        if np.any(packets[:, 0] != 0x55) or np.any(packets[:, 1] != 0x61):
            raise self.error(
                "every packet must start 55 61 (55 71 is a register answer; "
                "use parse_register_response)",
                payload,
            )
        raw = packets[:, 2:].copy().view("<i2").astype(np.float64)
        return DecodedChunk(
            device=self.name,
            characteristic=key,
            kind="imu",
            data=(raw * _SCALE).T,
            channels=self.channel_names,
            units=self.units,
            channel_kinds=("acc",) * 3 + ("gyr",) * 3 + ("angle",) * 3,
            fs=self.rate,
        )
