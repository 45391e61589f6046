"""Emulated Polar H10 and Verity Sense: the PMD control point and PMD data frames.

The control point (``fb005c81-...``) answers a read with the feature bit field
``0F ...`` and every command with an indication ``F0 <op> <type> <status> <more>
[settings]``, using the status codes of the Polar SDK
(``PmdControlPointResponse.kt``, ``Device Error Codes & D2H Notifications.md``):
8 for a sample rate, 7 for a resolution, 9 for a range, 11 for a channel count
the device does not offer, 6 when a measurement (or SDK mode) already is in the
asked state. Only an empty write, which cannot be answered, is refused with an
ATT error.

Two clocks are modelled. Samples are taken at the nominal rate on the time base
of the signal source (a simulated session's time); the frame timestamps come from
the device clock (:class:`~nkt_motion.emulate.streaming.DeviceClock`), so with a
skew of ``s`` ppm consecutive timestamps advance by ``n / fs * (1 + s * 1e-6)``
seconds: the apparent rate error the Polar SDK's timestamp interpolation sees.
A frame leaves when its last sample is taken and carries that sample's time.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from nkt_motion.devices import PolarPmdProfile
from nkt_motion.devices import polar as pmd
from nkt_motion.devices import polar_cp as cp
from nkt_motion.emulate.bus import VirtualBus
from nkt_motion.emulate.encoders import (
    PMD_HEADER_LEN,
    delta_frame_capacity,
    encode_delta_content,
    encode_pmd_frame,
    encode_pmd_response,
    encode_pmd_settings,
    encode_raw_content,
    quantise,
)
from nkt_motion.emulate.gatt_table import INVALID_ATTRIBUTE_VALUE_LENGTH, GattRefusal, ServiceSpec
from nkt_motion.emulate.profiles import ProfileSensor, SignalSource, constant_source
from nkt_motion.emulate.streaming import DeviceClock, Faults, NotificationStream
from nkt_motion.errors import DecodeError, ValidationError

__all__ = ["DEFAULT_CLOCK_NS", "PolarSensor"]

logger = logging.getLogger(__name__)

#: Device clock at power-on: 2024-01-01T00:00:00 UTC in ns since 2000-01-01.
DEFAULT_CLOCK_NS = 757_382_400_000_000_000
_DEFAULT_ATT_MTU = 23
_OK, _BAD_OP, _BAD_TYPE, _UNSUPPORTED, _BAD_LENGTH, _BAD_PARAMETER, _ALREADY = range(7)
_SETTING_STATUS = {"sample_rate": 8, "resolution": 7, "range": 9, "channels": 11}
_SDK = cp.MEASUREMENT_TYPES["sdk_mode"]


@dataclass(frozen=True, slots=True)
class _Capability:
    """Settings a measurement offers (each a tuple of allowed values) and its format."""

    settings: dict[str, tuple[int, ...]]
    n_channels: int
    compressed: bool


def _cap(rates: tuple[int, ...], res: int, ranges: tuple[int, ...], ch: int | None) -> _Capability:
    settings = {"sample_rate": rates, "resolution": (res,)}
    if ranges:
        settings["range"] = ranges
    if ch is not None:
        settings["channels"] = (ch,)
    return _Capability(settings, n_channels=ch or 1, compressed=ch is not None)


_H10 = {
    0: _cap((130,), 14, (), None),
    2: dataclasses.replace(_cap((25, 50, 100, 200), 16, (2, 4, 8), None), n_channels=3),
}
_SDK_RATES = (26, 52, 104, 208, 416)
_VERITY = {2: _cap((52,), 16, (8,), 3), 5: _cap((52,), 16, (2000,), 3)}
_VERITY_SDK = {
    2: _cap(_SDK_RATES, 16, (2, 4, 8, 16), 3),
    5: _cap(_SDK_RATES, 16, (250, 500, 1000, 2000), 3),
}


@dataclass(frozen=True, slots=True)
class _Plan:
    """A started measurement: its settings and frame layout."""

    measurement: int
    fs: float
    resolution: int
    per_frame: int
    factor: float  # physical units per count
    compressed: bool
    source: SignalSource
    source_fs: float


class PolarSensor(ProfileSensor):
    """Polar H10 (ECG 130 Hz raw int24 uV, ACC raw int16 mG) or Verity Sense (ACC, gyro).

    The Verity Sense streams delta-compressed frames whose scale (``factor``,
    ``2 * range / 2**resolution`` per count) comes in the start response; outside
    SDK mode it offers ACC and gyro at 52 Hz only (``SdkModeExplained.md``).
    Enabling or leaving SDK mode stops running measurements. Frames hold as many
    samples as the negotiated MTU allows.

    Parameters
    ----------
    address : str
        Random static address.
    model : {"h10", "verity"}
        Which sensor.
    name : str or None
        Advertised name (default ``Polar H10 0A3B5C7D`` / ``Polar Sense 0A3B5C7D``).
    ecg : SignalSource or None
        ECG in uV, shape (1, n) (H10); default a flat line.
    acc : SignalSource or None
        Acceleration xyz in g, shape (3, n); default at rest, +1 g on z.
    gyro : SignalSource or None
        Angular rate xyz in deg/s, shape (3, n) (Verity); default zero.
    ecg_fs, imu_fs : float or None
        Rates of the sources; a measurement at another rate takes the source
        sample nearest in time. None: the source is at the measurement's rate.
    clock_ns : int
        Device clock at power-on, ns since 2000-01-01.
    clock, faults : DeviceClock, Faults or None
        As for :class:`EmulatedSensor`.

    Examples
    --------
    >>> PolarSensor(address="F0:00:00:00:00:09", model="verity").name
    'Polar Sense 0A3B5C7D'
    """

    def __init__(
        self,
        *,
        address: str,
        model: Literal["h10", "verity"] = "h10",
        name: str | None = None,
        ecg: SignalSource | None = None,
        acc: SignalSource | None = None,
        gyro: SignalSource | None = None,
        ecg_fs: float | None = None,
        imu_fs: float | None = None,
        clock_ns: int = DEFAULT_CLOCK_NS,
        clock: DeviceClock | None = None,
        faults: Faults | None = None,
    ) -> None:
        profile = PolarPmdProfile(model=model)
        default_name = "Polar H10 0A3B5C7D" if model == "h10" else "Polar Sense 0A3B5C7D"
        super().__init__(
            profile, name=name or default_name, address=address, clock=clock, faults=faults
        )
        for label, fs in (("ecg_fs", ecg_fs), ("imu_fs", imu_fs)):
            if fs is not None and not fs > 0:
                raise ValidationError(f"{label} must be > 0, got {fs}", parameter=label)
        self.model = model
        self.sources: dict[int, tuple[SignalSource, float | None]] = {
            0: (ecg or constant_source([0.0]), ecg_fs),
            2: (acc or constant_source([0.0, 0.0, 1.0]), imu_fs),
            5: (gyro or constant_source([0.0, 0.0, 0.0]), imu_fs),
        }
        self.clock_ns = clock_ns
        self.sdk_mode = False
        self._power_on = 0.0
        self._running: dict[int, tuple[NotificationStream, asyncio.TimerHandle]] = {}

    # -- table ---------------------------------------------------------------------

    async def attach(self, bus: VirtualBus) -> PolarSensor:
        """Join ``bus``; the device clock starts counting from :attr:`clock_ns` now.

        Parameters
        ----------
        bus : VirtualBus
            An open bus.

        Returns
        -------
        PolarSensor
            ``self``.

        Examples
        --------
        ``sensor = await PolarSensor(address=...).attach(bus)``
        """
        self._power_on = asyncio.get_running_loop().time()
        await super().attach(bus)
        return self

    def gatt_services(self) -> tuple[ServiceSpec, ...]:
        """Return the profile's table, the control point answering reads with features.

        Returns
        -------
        tuple of ServiceSpec
            Services in handle order.

        Examples
        --------
        >>> s = PolarSensor(address="F0:00:00:00:00:09")
        >>> s.gatt_services()[0].characteristics[0].on_read().hex()
        '0f0500'
        """
        services = super().gatt_services()
        first = services[0]
        chars = tuple(
            dataclasses.replace(c, on_read=self.features) if c.uuid == pmd.CONTROL_UUID else c
            for c in first.characteristics
        )
        return (dataclasses.replace(first, characteristics=chars), *services[1:])

    def features(self) -> bytes:
        """Return the control-point read: ``0F`` and the bit field of measurement types.

        Returns
        -------
        bytes
            H10: ECG and ACC; Verity: ACC, gyro and SDK mode.

        Examples
        --------
        >>> PolarSensor(address="F0:00:00:00:00:09", model="verity").features().hex()
        '0f2402'
        """
        types = [0, 2] if self.model == "h10" else [2, 5, _SDK]
        mask = sum(1 << t for t in types)
        return b"\x0f" + mask.to_bytes(2, "little")

    def _capabilities(self) -> dict[int, _Capability]:
        if self.model == "h10":
            return _H10
        return _VERITY_SDK if self.sdk_mode else _VERITY

    @property
    def pmd_streams(self) -> dict[str, NotificationStream]:
        """Measurement name -> stream of each running measurement."""
        names = {v: k for k, v in cp.MEASUREMENT_TYPES.items()}
        return {names[t]: stream for t, (stream, _) in self._running.items()}

    # -- control point -------------------------------------------------------------

    def on_command(self, value: bytes) -> None:
        """Answer a control-point command with an indication (status per the PMD spec).

        Parameters
        ----------
        value : bytes
            ``01 <type>``, ``02 <type> <settings>``, ``03 <type>``, ``02 09``, ``03 09``.

        Raises
        ------
        GattRefusal
            For an empty write.

        Examples
        --------
        ``await client.write_gatt_char(CONTROL_UUID, bytes.fromhex("0102"), response=True)``
        """
        if not value:
            raise GattRefusal("polar: empty command", code=INVALID_ATTRIBUTE_VALUE_LENGTH)
        op, kind = value[0], value[1] if len(value) > 1 else 0
        if op not in (1, 2, 3):
            reply = encode_pmd_response(op, kind, _BAD_OP)
        elif len(value) < 2 or (op != 2 and len(value) != 2):
            reply = encode_pmd_response(op, kind, _BAD_LENGTH)
        elif kind == _SDK and self.model == "verity":
            reply = self._sdk_mode(op, len(value))
        elif kind not in self._capabilities():
            known = kind in cp.MEASUREMENT_TYPES.values()
            reply = encode_pmd_response(op, kind, _UNSUPPORTED if known else _BAD_TYPE)
        elif op == 1:
            params = encode_pmd_settings(self._capabilities()[kind].settings)
            reply = encode_pmd_response(op, kind, _OK, params)
        elif op == 2:
            reply = self._start(kind, value[2:])
        else:
            reply = self._stop(kind)
        logger.debug("polar %s: %s -> %s", self.address, value.hex(), reply.hex())
        self._spawn(self._indicate(reply))

    async def _indicate(self, reply: bytes) -> None:
        char = self.characteristic(pmd.CONTROL_UUID)
        device = self.node.device
        for connection in self.connections:
            await device.indicate_subscriber(connection, char, reply)

    def _sdk_mode(self, op: int, length: int) -> bytes:
        enable = op == 2
        if op == 1 or length != 2:
            return encode_pmd_response(op, _SDK, _BAD_LENGTH if length != 2 else _UNSUPPORTED)
        if enable == self.sdk_mode:
            return encode_pmd_response(op, _SDK, _ALREADY)
        for kind in list(self._running):
            self._stop(kind)
        self.sdk_mode = enable
        return encode_pmd_response(op, _SDK, _OK)

    def _stop(self, kind: int) -> bytes:
        running = self._running.pop(kind, None)
        if running is None:
            return encode_pmd_response(3, kind, _ALREADY)
        stream, timer = running
        timer.cancel()
        self._spawn(stream.stop())
        return encode_pmd_response(3, kind, _OK)

    def _validate(self, kind: int, params: bytes) -> tuple[int, dict[str, int]]:
        """Status and chosen settings of a start request."""
        try:
            asked = cp.parse_settings(params)
        except DecodeError:
            return _BAD_PARAMETER, {}
        offered = self._capabilities()[kind].settings
        chosen: dict[str, int] = {}
        for name, allowed in offered.items():
            values = asked.get(name)
            if values is None or len(values) != 1:
                return _BAD_PARAMETER, {}
            if values[0] not in allowed:
                return _SETTING_STATUS[name], {}
            chosen[name] = int(values[0])
        if set(asked) - set(offered):
            return _BAD_PARAMETER, {}
        return _OK, chosen

    def _start(self, kind: int, params: bytes) -> bytes:
        if kind in self._running:
            return encode_pmd_response(2, kind, _ALREADY)
        status, chosen = self._validate(kind, params)
        if status != _OK:
            return encode_pmd_response(2, kind, status)
        plan = self._plan(kind, chosen)
        if plan.per_frame < 2:
            return encode_pmd_response(2, kind, 10)  # ERROR_INVALID_MTU
        stream = NotificationStream(
            self._send_frame,
            self._frames(plan),
            rate_hz=plan.fs / plan.per_frame / self.clock.rate,
            clock=self.clock,
            faults=self.faults,
            on_fault=self._on_fault,
        )
        delay = (plan.per_frame - 1) / plan.fs  # the first frame leaves with its last sample
        timer = asyncio.get_running_loop().call_later(delay, stream.start)
        self._running[kind] = (stream, timer)
        extra = b""
        if plan.compressed:
            extra = b"\x05\x01" + np.float32(plan.factor).tobytes()
        return encode_pmd_response(2, kind, _OK, extra)

    def _plan(self, kind: int, chosen: dict[str, int]) -> _Plan:
        cap = self._capabilities()[kind]
        fs, res = float(chosen["sample_rate"]), chosen["resolution"]
        payload = min((c.att_mtu for c in self.connections), default=_DEFAULT_ATT_MTU) - 3
        if cap.compressed:
            factor = float(np.float32(2.0 * chosen["range"] / 2**res))
            per = delta_frame_capacity(payload, cap.n_channels, -(-res // 8), res)
        else:
            factor = 1.0 if kind == 0 else 1e-3  # ECG uV, H10 ACC mG (in g)
            per = (payload - PMD_HEADER_LEN) // (cap.n_channels * (3 if kind == 0 else 2))
        source, source_fs = self.sources[kind]
        return _Plan(
            kind, fs, res, per, factor, cap.compressed, source, source_fs if source_fs else fs
        )

    # -- frames --------------------------------------------------------------------

    def device_time_ns(self, host_time: float) -> int:
        """Device clock (ns since 2000-01-01) at loop time ``host_time``.

        Parameters
        ----------
        host_time : float
            ``asyncio`` loop time in seconds.

        Returns
        -------
        int
            Device time in ns.

        Examples
        --------
        >>> PolarSensor(address="F0:00:00:00:00:09").device_time_ns(1.5) - DEFAULT_CLOCK_NS
        1500000000
        """
        wall = host_time - self._power_on
        elapsed = self.clock.offset + wall * self.clock.time_scale * self.clock.rate
        return self.clock_ns + round(elapsed * 1e9)

    async def _send_frame(self, _seq: int, payload: bytes) -> None:
        await self.notify(pmd.DATA_UUID, payload)

    def _frames(self, plan: _Plan) -> Callable[[int, float], bytes]:
        first_ns = self.device_time_ns(asyncio.get_running_loop().time())
        ns_per_sample = 1e9 * self.clock.rate / plan.fs
        ratio = plan.source_fs / plan.fs
        width = -(-plan.resolution // 8)

        def frame(seq: int, _t: float) -> bytes:
            k = np.arange(seq * plan.per_frame, (seq + 1) * plan.per_frame, dtype=np.int64)
            values = plan.source(np.rint(k * ratio).astype(np.int64))
            timestamp = first_ns + round(int(k[-1]) * ns_per_sample)
            if plan.compressed:
                counts = quantise(values, plan.factor, plan.resolution)
                content = encode_delta_content(counts, width)
                return encode_pmd_frame(plan.measurement, timestamp, 0x80, content)
            bits = 24 if plan.measurement == 0 else 16
            counts = quantise(values, plan.factor, bits)
            frame_type = 0 if plan.measurement == 0 else 1
            content = encode_raw_content(counts, bits // 8)
            return encode_pmd_frame(plan.measurement, timestamp, frame_type, content)

        return frame

    async def stop_streams(self) -> None:
        """Stop every measurement (as at a disconnection) and every other stream.

        Examples
        --------
        ``await sensor.stop_streams()``
        """
        running, self._running = self._running, {}
        for stream, timer in running.values():
            timer.cancel()
            await stream.stop()
        await super().stop_streams()
