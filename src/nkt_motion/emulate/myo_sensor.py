"""Emulated Thalmic Myo armband: 8 EMG channels over four characteristics, IMU at 50 Hz."""

from __future__ import annotations

import logging

import numpy as np

from nkt_motion.devices import MyoProfile
from nkt_motion.devices import myo as myo_proto
from nkt_motion.emulate.gatt_table import GattRefusal
from nkt_motion.emulate.profiles import ProfileSensor, SignalSource, constant_source, is_running
from nkt_motion.emulate.streaming import DeviceClock, Faults

__all__ = ["MyoSensor"]

logger = logging.getLogger(__name__)


class MyoSensor(ProfileSensor):
    """Thalmic Myo armband: 8 EMG channels at 200 Hz over 4 characteristics, IMU at 50 Hz.

    The set-mode command ``01 03 <emg> <imu> <classifier>`` starts or stops the
    streams (EMG modes 0/2/3, IMU modes 0..4); other well-formed commands (vibrate,
    never sleep, deep sleep) are accepted and ignored; anything else is refused.
    EMG notifications carry two consecutive samples and rotate over the four EMG
    characteristics, as on the armband. There are no counters, as on the armband.

    Parameters
    ----------
    address : str
        Random static address.
    name : str
        Advertised name.
    emg : SignalSource or None
        8 channels in raw counts (clipped to int8); default silence.
    imu : SignalSource or None
        Quaternion w,x,y,z, acceleration xyz (g), angular rate xyz (deg/s), shape
        (10, n); default at rest with the identity orientation.
    clock, faults : DeviceClock, Faults or None
        As for :class:`EmulatedSensor`.

    Examples
    --------
    >>> MyoSensor(address="F0:00:00:00:00:08").profile.name
    'myo'
    """

    def __init__(
        self,
        *,
        address: str,
        name: str = "Myo",
        emg: SignalSource | None = None,
        imu: SignalSource | None = None,
        clock: DeviceClock | None = None,
        faults: Faults | None = None,
    ) -> None:
        super().__init__(MyoProfile(), name=name, address=address, clock=clock, faults=faults)
        self.emg_source = emg or constant_source([0.0] * 8)
        self.imu_source = imu or constant_source([1.0, 0, 0, 0, 0, 0, 1.0, 0, 0, 0])

    def on_command(self, value: bytes) -> None:
        """Apply a Myo command (set mode starts/stops the streams).

        Parameters
        ----------
        value : bytes
            The written command.

        Raises
        ------
        GattRefusal
            For malformed commands or modes out of range.

        Examples
        --------
        ``await client.write_gatt_char(COMMAND_UUID, bytes.fromhex("0103030100"), True)``
        """
        if value[:2] == b"\x01\x03" and len(value) == 5:
            emg, imu, classifier = value[2:]
            if emg not in (0, 1, 2, 3) or imu > 4 or classifier > 1:
                raise GattRefusal(f"myo: invalid set-mode {value.hex()}")
            self._spawn(self._set_mode(emg=emg != 0, imu=imu != 0))
        elif value[:1] in (b"\x03", b"\x04", b"\x09") and len(value) in (2, 3):
            logger.debug("myo: accepted command %s", value.hex())
        else:
            raise GattRefusal(f"myo: unknown command {value.hex()}")

    async def _set_mode(self, *, emg: bool, imu: bool) -> None:
        first_emg = myo_proto.EMG_UUIDS[0]
        if not emg:
            await self.stop_stream(first_emg)
        elif not is_running(self, first_emg):

            def route(seq: int) -> str:
                return myo_proto.EMG_UUIDS[seq % 4]

            self.start_stream(
                first_emg, self._emg_packet, rate_hz=myo_proto.EMG_RATE / 2, route=route
            )
        if not imu:
            await self.stop_stream(myo_proto.IMU_UUID)
        elif not is_running(self, myo_proto.IMU_UUID):
            self.start_stream(myo_proto.IMU_UUID, self._imu_packet, rate_hz=myo_proto.IMU_RATE)

    def _emg_packet(self, seq: int, _t: float) -> bytes:
        samples = self.emg_source(np.arange(2 * seq, 2 * seq + 2, dtype=np.int64))
        counts = np.clip(np.rint(samples), -128, 127).astype(np.int8)
        return bytes(counts.T.tobytes())

    def _imu_packet(self, seq: int, _t: float) -> bytes:
        sample = self.imu_source(np.array([seq], dtype=np.int64))[:, 0]
        scale = np.array([16384.0] * 4 + [2048.0] * 3 + [16.0] * 3)
        counts = np.clip(np.rint(sample * scale), -32768, 32767).astype("<i2")
        return bytes(counts.tobytes())
