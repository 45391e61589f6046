"""Control-point commands of the open nkt sensor and their responses.

Commands are written (with response) to the control point
:data:`~nkt_motion.devices.nkt_protocol.CONTROL_UUID`; the sensor answers each with
an indication ``F0 <op> <status>``. See ``firmware_notes/nkt-sensor-profile.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from nkt_motion.devices.nkt_protocol import (
    ACC_RANGES_G,
    EMG_RATES,
    GYRO_RANGES_DPS,
    IMU_RATES,
    channel_mask,
    code_for,
    range_code,
)
from nkt_motion.errors import DecodeError, ValidationError

__all__ = [
    "NktCommand",
    "NktResponse",
    "configure_emg_command",
    "configure_imu_command",
    "parse_command",
    "parse_response",
    "start_command",
    "stop_command",
]

OP_START: Final = 0x01
OP_STOP: Final = 0x02
OP_CONFIGURE_EMG: Final = 0x03
OP_CONFIGURE_IMU: Final = 0x04
RESPONSE_CODE: Final = 0xF0
OP_NAMES: Final[dict[int, str]] = {
    OP_START: "start",
    OP_STOP: "stop",
    OP_CONFIGURE_EMG: "configure_emg",
    OP_CONFIGURE_IMU: "configure_imu",
}
STATUS_NAMES: Final[dict[int, str]] = {
    0: "SUCCESS",
    1: "ERROR_UNKNOWN_OP_CODE",
    2: "ERROR_INVALID_PARAMETER",
    3: "ERROR_INVALID_LENGTH",
    4: "ERROR_INVALID_STATE",
    5: "ERROR_MTU_TOO_SMALL",
}


def start_command(*, emg: bool = True, imu: bool = True) -> bytes:
    """Build the control-point command that starts streaming.

    Parameters
    ----------
    emg, imu : bool
        Which streams to start; at least one.

    Returns
    -------
    bytes
        ``01 <streams>`` with bit 0 = EMG, bit 1 = IMU.

    Examples
    --------
    >>> start_command().hex()
    '0103'
    """
    if not (emg or imu):
        raise ValidationError("start at least one of emg, imu", parameter="emg")
    return bytes([OP_START, int(emg) | int(imu) << 1])


def stop_command() -> bytes:
    """Build the control-point command that stops every stream.

    Returns
    -------
    bytes
        ``02``.

    Examples
    --------
    >>> stop_command().hex()
    '02'
    """
    return bytes([OP_STOP])


def configure_emg_command(
    *, rate: float = 2000.0, channels: tuple[int, ...] = (1, 2, 3, 4)
) -> bytes:
    """Build the control-point command that sets the EMG rate and channel selection.

    Parameters
    ----------
    rate : {1000, 2000}
        Sampling rate in Hz.
    channels : tuple of int
        Channel numbers 1..4 to stream.

    Returns
    -------
    bytes
        ``03 <rate code> <channel mask>``.

    Examples
    --------
    >>> configure_emg_command(rate=1000, channels=(1, 3)).hex()
    '030005'
    """
    return bytes(
        [OP_CONFIGURE_EMG, code_for(rate, EMG_RATES, "rate", "Hz"), channel_mask(channels)]
    )


def configure_imu_command(
    *, rate: float = 100.0, acc_range_g: float = 8.0, gyro_range_dps: float = 2000.0
) -> bytes:
    """Build the control-point command that sets the IMU rate and full scales.

    Parameters
    ----------
    rate : {100, 200}
        Output rate in Hz.
    acc_range_g : {2, 4, 8, 16}
        Accelerometer full scale in g.
    gyro_range_dps : {125, 250, 500, 1000, 2000}
        Gyroscope full scale in deg/s.

    Returns
    -------
    bytes
        ``04 <rate code> <acc code> <gyro code>``.

    Examples
    --------
    >>> configure_imu_command(rate=200, acc_range_g=4, gyro_range_dps=500).hex()
    '04010102'
    """
    return bytes(
        [
            OP_CONFIGURE_IMU,
            code_for(rate, IMU_RATES, "rate", "Hz"),
            range_code(acc_range_g, ACC_RANGES_G, "acc_range_g"),
            range_code(gyro_range_dps, GYRO_RANGES_DPS, "gyro_range_dps"),
        ]
    )


@dataclass(frozen=True, slots=True)
class NktCommand:
    """A parsed control-point command (what the sensor receives).

    Parameters
    ----------
    op : str
        ``start``, ``stop``, ``configure_emg`` or ``configure_imu``.
    params : tuple of (str, float) pairs
        Decoded parameters: ``emg``/``imu`` (0/1) for start; ``rate`` and
        ``channel_mask`` for EMG; ``rate``, ``acc_range_g``, ``gyro_range_dps`` for IMU.

    Examples
    --------
    >>> parse_command(bytes.fromhex("030105")).param("channel_mask")
    5.0
    """

    op: str
    params: tuple[tuple[str, float], ...] = ()

    def param(self, key: str) -> float:
        """Return one parameter by name."""
        return dict(self.params)[key]


def _cmd_error(message: str, data: bytes) -> DecodeError:
    return DecodeError(message, device="nkt", payload_len=len(data))


def parse_command(data: bytes) -> NktCommand:
    """Parse a control-point write, validating it as the firmware does.

    Parameters
    ----------
    data : bytes
        The written value.

    Returns
    -------
    NktCommand
        The command and its parameters.

    Raises
    ------
    DecodeError
        Unknown op code, wrong length or an invalid parameter.

    Examples
    --------
    >>> parse_command(bytes.fromhex("04010102")).params
    (('rate', 200.0), ('acc_range_g', 4.0), ('gyro_range_dps', 500.0))
    """
    lengths = {OP_START: 2, OP_STOP: 1, OP_CONFIGURE_EMG: 3, OP_CONFIGURE_IMU: 4}
    if not data or data[0] not in lengths:
        raise _cmd_error("unknown control-point op code", data)
    op = data[0]
    if len(data) != lengths[op]:
        raise _cmd_error(f"{OP_NAMES[op]} takes {lengths[op]} bytes", data)
    if op == OP_START:
        if data[1] not in (1, 2, 3):
            raise _cmd_error(f"start stream mask must be 1..3, got {data[1]}", data)
        return NktCommand("start", (("emg", float(data[1] & 1)), ("imu", float(data[1] >> 1))))
    if op == OP_STOP:
        return NktCommand("stop")
    if op == OP_CONFIGURE_EMG:
        if data[1] not in EMG_RATES or not 1 <= data[2] <= 0x0F:
            raise _cmd_error("invalid EMG rate code or channel mask", data)
        return NktCommand(
            "configure_emg", (("rate", EMG_RATES[data[1]]), ("channel_mask", float(data[2])))
        )
    if data[1] not in IMU_RATES or data[2] not in ACC_RANGES_G or data[3] not in GYRO_RANGES_DPS:
        raise _cmd_error("invalid IMU rate or range code", data)
    return NktCommand(
        "configure_imu",
        (
            ("rate", IMU_RATES[data[1]]),
            ("acc_range_g", ACC_RANGES_G[data[2]][0]),
            ("gyro_range_dps", GYRO_RANGES_DPS[data[3]][0]),
        ),
    )


@dataclass(frozen=True, slots=True)
class NktResponse:
    """A control-point response ``F0 <op> <status>``.

    Parameters
    ----------
    op : int
        The op code answered.
    status : int
        0 on success.

    Examples
    --------
    >>> parse_response(bytes.fromhex("f00304")).status_name
    'ERROR_INVALID_STATE'
    """

    op: int
    status: int

    @property
    def ok(self) -> bool:
        """Whether the command succeeded."""
        return self.status == 0

    @property
    def op_name(self) -> str:
        """Name of the answered op code."""
        return OP_NAMES.get(self.op, f"unknown_0x{self.op:02x}")

    @property
    def status_name(self) -> str:
        """Name of the status code."""
        return STATUS_NAMES.get(self.status, f"UNKNOWN_STATUS_0x{self.status:02x}")


def parse_response(data: bytes) -> NktResponse:
    """Parse a control-point response indication.

    Parameters
    ----------
    data : bytes
        ``F0 <op> <status>``.

    Returns
    -------
    NktResponse
        Op code and status.

    Raises
    ------
    DecodeError
        If the value is not three bytes starting with ``F0``.

    Examples
    --------
    >>> parse_response(bytes.fromhex("f00100")).ok
    True
    """
    if len(data) != 3 or data[0] != RESPONSE_CODE:
        raise _cmd_error("a response is 3 bytes starting with F0", data)
    return NktResponse(op=data[1], status=data[2])
