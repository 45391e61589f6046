"""Profile and decoder of the Thalmic Myo armband.

Facts from ``thalmiclabs/myo-bluetooth@c79c1a5:myohw.h`` and the dl-myo tests
(``iomz/dl-myo``): 8 EMG channels at 200 Hz, int8 counts without a physical scale,
two samples per notification spread over four characteristics; IMU at 50 Hz as
int16 **little endian** (the header comment says big endian; the data are not):
quaternion /16384, acceleration /2048 g, angular rate /16 deg/s. No counters or
timestamps.
"""

from __future__ import annotations

from typing import Final, Literal

import numpy as np

from nkt_motion.devices._base import (
    CharacteristicSpec,
    DeviceProfile,
    GattWrite,
    check_site,
    imu_labels,
    sig_uuid,
)
from nkt_motion.devices.chunk import DecodedChunk
from nkt_motion.errors import ValidationError

__all__ = [
    "MyoProfile",
    "deep_sleep_command",
    "never_sleep_command",
    "set_mode_command",
    "vibrate_command",
]


def myo_uuid(short: int) -> str:
    """Expand a Myo 16-bit id into the ``d506xxxx-a904-deb9-4748-2c7f4a124842`` base.

    Parameters
    ----------
    short : int
        The id, e.g. ``0x0401`` (command characteristic).

    Returns
    -------
    str
        The 128-bit UUID.

    Examples
    --------
    >>> myo_uuid(0x0402)
    'd5060402-a904-deb9-4748-2c7f4a124842'
    """
    return f"d506{short:04x}-a904-deb9-4748-2c7f4a124842"


CONTROL_SERVICE: Final = myo_uuid(0x0001)
COMMAND_UUID: Final = myo_uuid(0x0401)
IMU_UUID: Final = myo_uuid(0x0402)
EMG_UUIDS: Final = tuple(myo_uuid(s) for s in (0x0105, 0x0205, 0x0305, 0x0405))
EMG_RATE: Final = 200.0
IMU_RATE: Final = 50.0
_EMG_MODES: Final = {"off": 0, "filtered": 2, "raw": 3}
_IMU_MODES: Final = {"off": 0, "data": 1, "events": 2, "all": 3, "raw": 4}

EmgMode = Literal["off", "filtered", "raw"]
ImuMode = Literal["off", "data", "events", "all", "raw"]


def set_mode_command(
    *, emg: EmgMode = "raw", imu: ImuMode = "data", classifier: bool = False
) -> bytes:
    """Build the set-mode command ``01 03 <emg> <imu> <classifier>``.

    Parameters
    ----------
    emg : {"off", "filtered", "raw"}
        EMG mode (0, 2, 3).
    imu : {"off", "data", "events", "all", "raw"}
        IMU mode (0..4).
    classifier : bool
        Whether the on-board pose classifier runs.

    Returns
    -------
    bytes
        The command.

    Examples
    --------
    >>> set_mode_command().hex()
    '0103030100'
    >>> set_mode_command(emg="off", imu="off").hex()
    '0103000000'
    """
    if emg not in _EMG_MODES:
        raise ValidationError(
            f"emg must be one of {', '.join(_EMG_MODES)}, got {emg!r}", parameter="emg"
        )
    if imu not in _IMU_MODES:
        raise ValidationError(
            f"imu must be one of {', '.join(_IMU_MODES)}, got {imu!r}", parameter="imu"
        )
    return bytes([0x01, 0x03, _EMG_MODES[emg], _IMU_MODES[imu], int(bool(classifier))])


def vibrate_command(duration: int) -> bytes:
    """Build the vibrate command ``03 01 <duration>``.

    Parameters
    ----------
    duration : {1, 2, 3}
        Short, medium or long.

    Returns
    -------
    bytes
        The command.

    Examples
    --------
    >>> vibrate_command(2).hex()
    '030102'
    """
    if duration not in (1, 2, 3):
        raise ValidationError(
            f"duration must be 1, 2 or 3, got {duration!r}", parameter="duration"
        )
    return bytes([0x03, 0x01, duration])


def never_sleep_command() -> bytes:
    """Build the command that keeps the Myo awake while connected (``09 01 01``).

    Returns
    -------
    bytes
        The command.

    Examples
    --------
    >>> never_sleep_command().hex()
    '090101'
    """
    return bytes([0x09, 0x01, 0x01])


def deep_sleep_command() -> bytes:
    """Build the deep-sleep command ``04 00`` (the Myo then needs USB power to wake).

    Returns
    -------
    bytes
        The command.

    Examples
    --------
    >>> deep_sleep_command().hex()
    '0400'
    """
    return bytes([0x04, 0x00])


class MyoProfile(DeviceProfile):
    """Thalmic Myo: 8 EMG channels at 200 Hz (a.u.) and an IMU at 50 Hz.

    Parameters
    ----------
    site : str
        IMU site for the channel labels; a Myo sits on the forearm (``arm_L``/``arm_R``).
    emg_labels : tuple of 8 str or None
        Labels of the 8 electrode pods; default ``EMG ch1`` ... ``EMG ch8``.

    Examples
    --------
    >>> p = MyoProfile()
    >>> c = p.decode(EMG_UUIDS[0], bytes.fromhex("090d01fefefefa0206e9fcfdfcfe0502"))
    >>> c.data[:, 0].tolist()
    [9.0, 13.0, 1.0, -2.0, -2.0, -2.0, -6.0, 2.0]
    """

    name = "myo"
    service_uuid = CONTROL_SERVICE
    name_pattern = r".*myo"

    def __init__(self, *, site: str = "arm_R", emg_labels: tuple[str, ...] | None = None) -> None:
        self.site = check_site(site)
        labels = tuple(f"EMG ch{i}" for i in range(1, 9)) if emg_labels is None else emg_labels
        if len(labels) != 8 or len(set(labels)) != 8:
            raise ValidationError(
                f"emg_labels must be 8 distinct labels, got {labels!r}", parameter="emg_labels"
            )
        self.emg_labels = tuple(labels)
        self.imu_labels = (
            imu_labels("quat", site, "WXYZ") + imu_labels("acc", site) + imu_labels("gyr", site)
        )
        emg = tuple(
            CharacteristicSpec(
                u,
                "data",
                ("notify",),
                f"EMG{i} int8[2][8]",
                channels=self.emg_labels,
                units=("a.u.",) * 8,
            )
            for i, u in enumerate(EMG_UUIDS)
        )
        self.characteristics = (
            CharacteristicSpec(COMMAND_UUID, "control", ("write",), "command"),
            CharacteristicSpec(
                IMU_UUID,
                "data",
                ("notify",),
                "IMU int16[10] LE",
                channels=self.imu_labels,
                units=("1",) * 4 + ("g",) * 3 + ("deg/s",) * 3,
            ),
            *emg,
            CharacteristicSpec(myo_uuid(0x0101), "info", ("read",), "info"),
            CharacteristicSpec(myo_uuid(0x0201), "info", ("read",), "firmware version"),
            CharacteristicSpec(sig_uuid(0x2A19), "battery", ("read", "notify"), "battery %"),
        )

    def start_commands(self) -> tuple[GattWrite, ...]:
        """Keep awake, then raw EMG and IMU data without the classifier.

        Returns
        -------
        tuple of GattWrite
            Two command writes.

        Examples
        --------
        >>> [w.data.hex() for w in MyoProfile().start_commands()]
        ['090101', '0103030100']
        """
        return (
            GattWrite(COMMAND_UUID, never_sleep_command()),
            GattWrite(COMMAND_UUID, set_mode_command()),
        )

    def stop_commands(self) -> tuple[GattWrite, ...]:
        """Turn EMG and IMU streaming off.

        Returns
        -------
        tuple of GattWrite
            One command write.

        Examples
        --------
        >>> MyoProfile().stop_commands()[0].data.hex()
        '0103000000'
        """
        return (GattWrite(COMMAND_UUID, set_mode_command(emg="off", imu="off")),)

    def decode(self, char_uuid: str, payload: bytes) -> DecodedChunk:
        """Decode an EMG (16 bytes, 2 samples) or IMU (20 bytes, 1 sample) notification."""
        payload = bytes(payload)
        key = self._data_char(char_uuid, payload)
        if key == IMU_UUID:
            if len(payload) != 20:
                raise self.error("an IMU notification is 20 bytes", payload)
            raw = np.frombuffer(payload, dtype="<i2").astype(np.float64)
            scale = np.array([16384.0] * 4 + [2048.0] * 3 + [16.0] * 3)
            return DecodedChunk(
                device=self.name,
                characteristic=key,
                kind="imu",
                data=(raw / scale)[:, None],
                channels=self.imu_labels,
                units=("1",) * 4 + ("g",) * 3 + ("deg/s",) * 3,
                channel_kinds=("quat",) * 4 + ("acc",) * 3 + ("gyr",) * 3,
                fs=IMU_RATE,
            )
        if len(payload) != 16:
            raise self.error("an EMG notification is 16 bytes (2 samples x 8 channels)", payload)
        data = np.frombuffer(payload, dtype=np.int8).reshape(2, 8).T.astype(np.float64)
        return DecodedChunk(
            device=self.name,
            characteristic=key,
            kind="emg",
            data=data,
            channels=self.emg_labels,
            units=("a.u.",) * 8,
            channel_kinds=("emg",) * 8,
            fs=EMG_RATE,
        )
