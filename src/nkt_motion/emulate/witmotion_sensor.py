"""Emulated WitMotion BWT901BLECL (BLE 5.0): ``55 61`` packets and register commands.

Behaviour (WT901BLECL 5.0 manual, WIT standard protocol, vendor SDK):

* The sensor streams ``55 61`` packets (acceleration, angular rate, angles) on
  ``ffe4`` as soon as the central enables notifications, and stops when it
  disables them; there is no start command. Default output rate 10 Hz.
* Commands on ``ffe9`` are 5 bytes ``FF AA <reg> <lo> <hi>``. A register write
  only takes effect within 10 s of the unlock ``FF AA 69 88 B5``; otherwise the
  device ignores it (the ATT write itself succeeds, as the radio module forwards
  every byte to the sensor's UART). ``FF AA 00 00 00`` saves the registers.
  A rate write (register 0x03) takes effect at once; an unknown rate code is
  ignored.
* ``FF AA 27 <reg> 00`` answers ``55 71 <reg> + 8 x int16`` on ``ffe4``.
* A write that is not a 5-byte ``FF AA`` command is refused with an ATT error
  (the emulator's strictness: it makes host bugs visible).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from nkt_motion.devices import WitMotionProfile
from nkt_motion.devices import witmotion as wit
from nkt_motion.emulate.bus import VirtualBus
from nkt_motion.emulate.encoders import (
    WITMOTION_SCALE,
    encode_register_answer,
    encode_witmotion_packets,
    quantise,
)
from nkt_motion.emulate.gatt_table import (
    INVALID_ATTRIBUTE_VALUE_LENGTH,
    GattRefusal,
)
from nkt_motion.emulate.profiles import ProfileSensor, SignalSource, constant_source
from nkt_motion.emulate.streaming import DeviceClock, Faults
from nkt_motion.errors import ValidationError

__all__ = ["UNLOCK_SECONDS", "WitMotionSensor"]

logger = logging.getLogger(__name__)

#: How long an unlock lets register writes through (WIT standard protocol).
UNLOCK_SECONDS = 10.0
_PACKET = wit.PACKET_LEN
_READ, _UNLOCK, _UNLOCK_KEY, _SAVE = 0x27, 0x69, 0xB588, 0x00
_RATE_OF_CODE = {code: rate for rate, code in wit.RATE_CODES.items()}
#: First register of the live acceleration, angular rate, magnetic field and angles.
_ACC_REG, _GYRO_REG, _MAG_REG, _ANGLE_REG = 0x34, 0x37, 0x3A, 0x3D


class WitMotionSensor(ProfileSensor):
    """WitMotion BWT901BLECL: 9 values per ``55 61`` packet at 1 to 200 Hz.

    Parameters
    ----------
    address : str
        Random static address.
    name : str
        Advertised name (the device's default ``WT901BLE68``).
    imu : SignalSource or None
        Acceleration xyz (g), angular rate xyz (deg/s), roll/pitch/yaw (deg),
        shape (9, n), sampled at ``source_fs``; default at rest, +1 g on z.
    source_fs : float
        Rate of ``imu``; each packet takes the source sample nearest its device time.
    rate : {1, 5, 10, 50, 100, 200}
        Output rate at power-on, Hz.
    packets_per_notification : int
        Packets joined into one notification when the MTU allows (1: one each).
    magnetic : tuple of 3 int
        Raw magnetic field served by registers 0x3A..0x3C.
    clock, faults : DeviceClock, Faults or None
        As for :class:`EmulatedSensor`; a drop loses a whole notification.

    Examples
    --------
    >>> WitMotionSensor(address="F0:00:00:00:00:0A").rate
    10.0
    """

    def __init__(
        self,
        *,
        address: str,
        name: str = "WT901BLE68",
        imu: SignalSource | None = None,
        source_fs: float = 200.0,
        rate: float = 10.0,
        packets_per_notification: int = 1,
        magnetic: tuple[int, int, int] = (0, 0, 0),
        clock: DeviceClock | None = None,
        faults: Faults | None = None,
    ) -> None:
        super().__init__(
            WitMotionProfile(), name=name, address=address, clock=clock, faults=faults
        )
        if rate not in wit.RATE_CODES:
            raise ValidationError(
                f"rate must be one of {sorted(wit.RATE_CODES)}, got {rate!r}", parameter="rate"
            )
        if not (source_fs > 0 and math.isfinite(source_fs)) or packets_per_notification < 1:
            raise ValidationError(
                "source_fs must be > 0 and packets_per_notification >= 1, got "
                f"{source_fs}, {packets_per_notification}",
                parameter="source_fs",
            )
        self.imu_source = imu or constant_source([0.0, 0.0, 1.0] + [0.0] * 6)
        self.source_fs = float(source_fs)
        self.packets_per_notification = packets_per_notification
        #: Register file (raw u16 values); register 0x03 is the output rate code.
        self.registers: dict[int, int] = {wit.RATE_REGISTER: wit.RATE_CODES[rate]}
        self.registers.update({_MAG_REG + i: v & 0xFFFF for i, v in enumerate(magnetic)})
        #: Registers as last saved with ``FF AA 00 00 00``.
        self.saved: dict[int, int] = dict(self.registers)
        self._unlocked_until = -math.inf
        self._latest = self.imu_source(np.zeros(1, dtype=np.int64))[:, 0]
        self._t0 = 0.0  # device seconds of streaming before the current stream
        self._stream_rate = (self.rate, 1)
        self._lock = asyncio.Lock()

    @property
    def rate(self) -> float:
        """Current output rate in Hz (from register 0x03)."""
        return _RATE_OF_CODE[self.registers[wit.RATE_REGISTER]]

    async def attach(self, bus: VirtualBus) -> WitMotionSensor:
        """Join ``bus`` and stream whenever a central enables notifications.

        Parameters
        ----------
        bus : VirtualBus
            An open bus.

        Returns
        -------
        WitMotionSensor
            ``self``.

        Examples
        --------
        ``sensor = await WitMotionSensor(address=...).attach(bus)``
        """
        await super().attach(bus)
        self.characteristic(wit.NOTIFY_UUID).on("subscription", self._on_subscription)
        return self

    def _on_subscription(self, _bearer: Any, notify: bool, indicate: bool) -> None:
        self._spawn(self._restart(run=notify or indicate, reset=True))

    # -- commands ------------------------------------------------------------------

    def on_command(self, value: bytes) -> None:
        """Apply a ``FF AA <reg> <lo> <hi>`` command.

        Parameters
        ----------
        value : bytes
            The written command.

        Raises
        ------
        GattRefusal
            If the write is not a 5-byte ``FF AA`` command.

        Examples
        --------
        ``await client.write_gatt_char(WRITE_UUID, bytes.fromhex("ffaa273a00"), False)``
        """
        if len(value) != 5:
            raise GattRefusal(
                f"witmotion: commands are 5 bytes, got {len(value)}",
                code=INVALID_ATTRIBUTE_VALUE_LENGTH,
            )
        if value[:2] != b"\xff\xaa":
            raise GattRefusal(f"witmotion: command {value.hex()} does not start FF AA")
        register, data = value[2], int.from_bytes(value[3:], "little")
        now = asyncio.get_running_loop().time()
        if register == _READ:
            self._spawn(self.notify(wit.NOTIFY_UUID, self.register_answer(data)))
        elif register == _UNLOCK and data == _UNLOCK_KEY:
            self._unlocked_until = now + UNLOCK_SECONDS
        elif now > self._unlocked_until:
            logger.debug("witmotion %s: locked, ignoring %s", self.address, value.hex())
        else:
            self._write_register(register, data)

    def _write_register(self, register: int, data: int) -> None:
        if register == _SAVE:
            if data == 0:
                self.saved = dict(self.registers)
            else:
                logger.debug("witmotion %s: save mode %d not emulated", self.address, data)
        elif register == wit.RATE_REGISTER:
            if data not in _RATE_OF_CODE:
                logger.debug("witmotion %s: unknown rate code 0x%02x ignored", self.address, data)
                return
            self.registers[register] = data
            self._spawn(self._restart(run=None, reset=False))
        else:
            self.registers[register] = data

    def register_answer(self, register: int) -> bytes:
        """Return the ``55 71`` answer to a read of ``register`` (live values now).

        Parameters
        ----------
        register : int
            First register, 0..255.

        Returns
        -------
        bytes
            20 bytes: the register and the raw values of it and the 7 after it.

        Examples
        --------
        >>> s = WitMotionSensor(address="F0:00:00:00:00:0A", magnetic=(360, 105, 122))
        >>> wit.parse_register_response(s.register_answer(0x3A)).values[:3]
        (360, 105, 122)
        """
        live = quantise(self._latest, WITMOTION_SCALE, 16)
        values = dict(self.registers)
        for first, part in ((_ACC_REG, live[:3]), (_GYRO_REG, live[3:6]), (_ANGLE_REG, live[6:])):
            values.update({first + i: int(v) for i, v in enumerate(part)})
        raw = [values.get(register + i, 0) for i in range(8)]
        signed = [v - 0x10000 if v >= 0x8000 else v for v in raw]
        return encode_register_answer(register, signed)

    # -- streaming -----------------------------------------------------------------

    async def _restart(self, *, run: bool | None, reset: bool) -> None:
        """(Re)start the stream at the current rate; ``run=None`` keeps it as it is."""
        async with self._lock:
            old = self.streams.get(wit.NOTIFY_UUID)
            was_running = old is not None and old.running
            await self.stop_stream(wit.NOTIFY_UUID)
            if old is not None and not reset:
                rate, batch = self._stream_rate
                self._t0 += old.next_seq * batch / rate
            if reset:
                self._t0 = 0.0
            if run or (run is None and was_running):
                self._start()

    def _start(self) -> None:
        mtu = min((c.att_mtu for c in self.connections), default=23)
        batch = max(1, min(self.packets_per_notification, (mtu - 3) // _PACKET))
        rate = self.rate
        self._stream_rate = (rate, batch)
        self.start_stream(
            wit.NOTIFY_UUID, self._packets(rate, batch, self._t0), rate_hz=rate / batch
        )

    def _packets(self, rate: float, batch: int, t0: float) -> Callable[[int, float], bytes]:
        def packet(seq: int, _t: float) -> bytes:
            times = t0 + (seq * batch + np.arange(batch)) / rate
            samples = self.imu_source(np.rint(times * self.source_fs).astype(np.int64))
            self._latest = samples[:, -1]
            return encode_witmotion_packets(samples)

        return packet
