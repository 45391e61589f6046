"""Emulated open nkt sensor: 4 EMG channels and a 6-axis IMU in nkt packets."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nkt_motion.devices import NktProfile
from nkt_motion.devices import nkt_commands as nkt_cmd
from nkt_motion.devices import nkt_protocol as nkt_proto
from nkt_motion.emulate.gatt_table import GattRefusal
from nkt_motion.emulate.profiles import ProfileSensor, SignalSource, constant_source, is_running
from nkt_motion.emulate.streaming import DeviceClock, Faults
from nkt_motion.errors import DecodeError

__all__ = ["NktSensor"]


class NktSensor(ProfileSensor):
    """The open nkt sensor: 4 EMG channels at 1/2 kHz and a 6-axis IMU at 100/200 Hz.

    EMG goes out in 10 ms packets, IMU in 20 ms packets, each with its own u16
    sequence number and u32 first-sample index, as the firmware notes describe.
    Commands are parsed with :func:`nkt_motion.devices.nkt_commands.parse_command`;
    an invalid one is refused with an ATT error, a valid one is confirmed by an
    indication ``F0 <op> 00`` on the control point.

    Parameters
    ----------
    address : str
        Random static address.
    name : str
        Advertised name (must start with ``nkt-`` to match the profile).
    emg : SignalSource or None
        EMG of electrodes 1..4 in uV, shape (4, n); default silence.
    imu : SignalSource or None
        Acceleration xyz in g then angular rate xyz in deg/s, shape (6, n);
        default at rest, +1 g on z.
    clock, faults : DeviceClock, Faults or None
        As for :class:`EmulatedSensor`.
    imu_fitted : bool
        False emulates a sensor built without its IMU: a start command asking
        for IMU data starts the EMG only (an emulated session that needs no
        IMU saves the notifications).

    Examples
    --------
    >>> NktSensor(address="F0:00:00:00:00:07").emg_rate
    2000.0
    """

    EMG_PACKET_S = 0.010
    IMU_PACKET_S = 0.020

    def __init__(
        self,
        *,
        address: str,
        name: str = "nkt-emulated",
        emg: SignalSource | None = None,
        imu: SignalSource | None = None,
        clock: DeviceClock | None = None,
        faults: Faults | None = None,
        imu_fitted: bool = True,
    ) -> None:
        super().__init__(NktProfile(), name=name, address=address, clock=clock, faults=faults)
        self.imu_fitted = imu_fitted
        self.emg_source = emg or constant_source([0.0] * 4)
        self.imu_source = imu or constant_source([0.0, 0.0, 1.0, 0.0, 0.0, 0.0])
        self.emg_rate = 2000.0
        self.emg_channels: tuple[int, ...] = (1, 2, 3, 4)
        self.imu_rate = 100.0
        self.acc_range_g = 8.0
        self.gyro_range_dps = 2000.0

    def on_command(self, value: bytes) -> None:
        """Parse, validate and apply a control-point command.

        Parameters
        ----------
        value : bytes
            The written command.

        Raises
        ------
        GattRefusal
            For commands the firmware would reject.

        Examples
        --------
        ``await client.write_gatt_char(CONTROL_UUID, bytes.fromhex("0103"), response=True)``
        """
        try:
            command = nkt_cmd.parse_command(value)
        except DecodeError as error:
            raise GattRefusal(str(error)) from None
        params = dict(command.params)
        if command.op == "configure_emg":
            mask = int(params["channel_mask"])
            self.emg_rate = params["rate"]
            self.emg_channels = tuple(c for c in range(1, 5) if mask & (1 << (c - 1)))
        elif command.op == "configure_imu":
            self.imu_rate = params["rate"]
            self.acc_range_g = params["acc_range_g"]
            self.gyro_range_dps = params["gyro_range_dps"]
        elif command.op == "start":
            self._start(emg=bool(params["emg"]), imu=bool(params["imu"]))
        else:
            self._spawn(self.stop_streams())
        reply = bytes([nkt_cmd.RESPONSE_CODE, value[0], 0])
        self._spawn(self._indicate(reply))

    async def _indicate(self, reply: bytes) -> None:
        char = self.characteristic(nkt_proto.CONTROL_UUID)
        device = self.node.device
        for connection in self.connections:
            await device.indicate_subscriber(connection, char, reply)

    def _start(self, *, emg: bool, imu: bool) -> None:
        if emg and not is_running(self, nkt_proto.EMG_UUID):
            per = round(self.emg_rate * self.EMG_PACKET_S)
            self.start_stream(
                nkt_proto.EMG_UUID, self._emg_packet(per), rate_hz=self.emg_rate / per
            )
        if imu and self.imu_fitted and not is_running(self, nkt_proto.IMU_UUID):
            per = round(self.imu_rate * self.IMU_PACKET_S)
            self.start_stream(
                nkt_proto.IMU_UUID, self._imu_packet(per), rate_hz=self.imu_rate / per
            )

    def _emg_packet(self, per: int) -> Callable[[int, float], bytes]:
        rows = [c - 1 for c in self.emg_channels]
        rate, channels = self.emg_rate, self.emg_channels

        def packet(seq: int, _t: float) -> bytes:
            first = seq * per
            samples = self.emg_source(np.arange(first, first + per, dtype=np.int64))[rows]
            return nkt_proto.encode_emg_packet(
                samples, sequence=seq & 0xFFFF, first_sample=first & 0xFFFFFFFF,
                rate=rate, channels=channels,
            )  # fmt: skip

        return packet

    def _imu_packet(self, per: int) -> Callable[[int, float], bytes]:
        rate, acc_range, gyro_range = self.imu_rate, self.acc_range_g, self.gyro_range_dps

        def packet(seq: int, _t: float) -> bytes:
            first = seq * per
            samples = self.imu_source(np.arange(first, first + per, dtype=np.int64))
            return nkt_proto.encode_imu_packet(
                samples[:3], samples[3:6], sequence=seq & 0xFFFF,
                first_sample=first & 0xFFFFFFFF, rate=rate,
                acc_range_g=acc_range, gyro_range_dps=gyro_range,
            )  # fmt: skip

        return packet
