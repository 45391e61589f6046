"""Profiles and frame decoder of Polar PMD sensors: H10 (ECG, ACC) and Verity Sense (ACC, gyro).

Facts from ``polarofficial/polar-ble-sdk`` (Android ``pmd/PmdDataFrame.kt``,
``model/AccData.kt``, ``model/EcgData.kt``, ``model/GyrData.kt``,
``BlePMDClient.parseDeltaFramesAll``). A data frame is::

    [0] measurement type (& 0x3F) | [1:9] u64 LE ns since 2000-01-01 of the LAST sample
    | [9] frame type (bit 7 = delta compressed) | [10:] samples

Per-sample times: :func:`sample_times_ns` (as ``model/PmdTimeStampUtils.kt``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
from numpy.typing import NDArray

from nkt_motion.devices import polar_cp as cp
from nkt_motion.devices._base import (
    CharacteristicSpec,
    DeviceProfile,
    GattWrite,
    check_site,
    imu_labels,
    sig_uuid,
)
from nkt_motion.devices._packing import decode_delta_frame, signed_le
from nkt_motion.devices.chunk import DecodedChunk
from nkt_motion.errors import ValidationError

__all__ = ["POLAR_EPOCH_UNIX_NS", "PolarPmdProfile", "sample_times_ns"]

SERVICE_UUID: Final = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
CONTROL_UUID: Final = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
DATA_UUID: Final = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"
HEADER_LEN: Final = 10

#: PMD timestamps count ns since 2000-01-01T00:00:00 UTC; add this for Unix time.
POLAR_EPOCH_UNIX_NS: Final = 946_684_800_000_000_000

Model = Literal["h10", "verity"]


@dataclass(frozen=True, slots=True)
class _Frame:
    measurement: int
    timestamp: int
    frame_type: int
    compressed: bool
    content: bytes


class PolarPmdProfile(DeviceProfile):
    """Polar H10 (ECG 130 Hz, ACC) or Verity Sense in SDK mode (ACC, gyro).

    Parameters
    ----------
    model : {"h10", "verity"}
        Which sensor.
    site : str or None
        IMU site for the channel labels; default ``trunk`` (H10 chest strap) or
        ``arm_L`` (Verity Sense arm band).
    acc_rate, gyro_rate : int
        Requested rates in Hz (H10 ACC: 25/50/100/200; Verity: 26..416).
    acc_range_g : int
        Requested accelerometer full scale in g.
    gyro_range_dps : int
        Requested gyroscope full scale in deg/s (Verity).
    acc_factor, gyro_factor : float
        Scale of delta-compressed samples, returned by the sensor in the start
        response (setting ``factor``); ACC compressed type 0 in g per count,
        gyro in deg/s per count.

    Examples
    --------
    >>> p = PolarPmdProfile(model="h10")
    >>> frame = bytes.fromhex("00" "0094357700000000" "00" "0280ff028000")
    >>> c = p.decode(DATA_UUID, frame)
    >>> c.data.tolist(), c.units, c.device_time_ns
    ([[-32766.0, 32770.0]], ('uV',), 2000000000)
    """

    def __init__(
        self,
        *,
        model: Model = "h10",
        site: str | None = None,
        acc_rate: int | None = None,
        gyro_rate: int = 52,
        acc_range_g: int = 8,
        gyro_range_dps: int = 2000,
        acc_factor: float = 1.0,
        gyro_factor: float = 1.0,
    ) -> None:
        if model not in ("h10", "verity"):
            raise ValidationError(
                f"model must be 'h10' or 'verity', got {model!r}", parameter="model"
            )
        self.model: Model = model
        self.name = "polar_h10" if model == "h10" else "polar_verity"
        self.name_pattern = r"polar h10" if model == "h10" else r"polar (sense|verity)"
        self.service_identifies = False
        self.site = check_site(
            site if site is not None else ("trunk" if model == "h10" else "arm_L")
        )
        self.acc_rate = acc_rate if acc_rate is not None else (200 if model == "h10" else 52)
        self.gyro_rate, self.acc_range_g, self.gyro_range_dps = (
            gyro_rate,
            acc_range_g,
            gyro_range_dps,
        )
        self.acc_factor, self.gyro_factor = float(acc_factor), float(gyro_factor)
        self.ecg_rate = 130
        self.acc_labels = imu_labels("acc", self.site)
        self.gyro_labels = imu_labels("gyr", self.site)
        self.service_uuid = SERVICE_UUID
        channels: tuple[str, ...] = (
            ("ECG", *self.acc_labels) if model == "h10" else (*self.acc_labels, *self.gyro_labels)
        )
        units = ("uV", "g", "g", "g") if model == "h10" else ("g",) * 3 + ("deg/s",) * 3
        self.characteristics = (
            CharacteristicSpec(
                CONTROL_UUID, "control", ("read", "write", "indicate"), "PMD control point"
            ),
            CharacteristicSpec(
                DATA_UUID, "data", ("notify",), "PMD data frames", channels=channels, units=units
            ),
            CharacteristicSpec(sig_uuid(0x2A19), "battery", ("read", "notify"), "battery %"),
        )

    def with_factor(self, measurement: Literal["acc", "gyro"], factor: float) -> PolarPmdProfile:
        """Return a copy using the ``factor`` the sensor reported in its start response.

        Parameters
        ----------
        measurement : {"acc", "gyro"}
            Which stream the factor belongs to.
        factor : float
            Scale of compressed samples.

        Returns
        -------
        PolarPmdProfile
            A new profile.

        Examples
        --------
        >>> PolarPmdProfile(model="verity").with_factor("acc", 2.44e-4).acc_factor
        0.000244
        """
        if measurement not in ("acc", "gyro") or not np.isfinite(factor) or factor <= 0:
            raise ValidationError(
                f"need acc/gyro and a positive factor, got {measurement!r}, {factor!r}",
                parameter="factor",
            )
        return PolarPmdProfile(
            model=self.model,
            site=self.site,
            acc_rate=self.acc_rate,
            gyro_rate=self.gyro_rate,
            acc_range_g=self.acc_range_g,
            gyro_range_dps=self.gyro_range_dps,
            acc_factor=factor if measurement == "acc" else self.acc_factor,
            gyro_factor=factor if measurement == "gyro" else self.gyro_factor,
        )

    def start_commands(self) -> tuple[GattWrite, ...]:
        """H10: start ECG and ACC. Verity: SDK mode on, then ACC and gyro.

        Returns
        -------
        tuple of GattWrite
            Control-point writes; read each indication with
            :func:`~nkt_motion.devices.polar_cp.parse_response`.

        Examples
        --------
        >>> [w.data.hex() for w in PolarPmdProfile(model="h10").start_commands()]
        ['02000001820001010e00', '02020001c8000101100002010800']
        """
        if self.model == "h10":
            cmds = [
                cp.start_command("ecg", sample_rate=self.ecg_rate, resolution=14),
                cp.start_command(
                    "acc", sample_rate=self.acc_rate, resolution=16, range_=self.acc_range_g
                ),
            ]
        else:
            cmds = [
                cp.sdk_mode_command(enable=True),
                cp.start_command(
                    "acc",
                    sample_rate=self.acc_rate,
                    resolution=16,
                    range_=self.acc_range_g,
                    channels=3,
                ),
                cp.start_command(
                    "gyro",
                    sample_rate=self.gyro_rate,
                    resolution=16,
                    range_=self.gyro_range_dps,
                    channels=3,
                ),
            ]
        return tuple(GattWrite(CONTROL_UUID, c) for c in cmds)

    def stop_commands(self) -> tuple[GattWrite, ...]:
        """Stop every measurement started by :meth:`start_commands`.

        Returns
        -------
        tuple of GattWrite
            Control-point writes.

        Examples
        --------
        >>> [w.data.hex() for w in PolarPmdProfile(model="verity").stop_commands()]
        ['0302', '0305', '0309']
        """
        if self.model == "h10":
            cmds = [cp.stop_command("ecg"), cp.stop_command("acc")]
        else:
            cmds = [
                cp.stop_command("acc"),
                cp.stop_command("gyro"),
                cp.sdk_mode_command(enable=False),
            ]
        return tuple(GattWrite(CONTROL_UUID, c) for c in cmds)

    def decode(self, char_uuid: str, payload: bytes) -> DecodedChunk:
        """Decode one PMD data frame (ECG, ACC or gyro; raw or delta compressed)."""
        payload = bytes(payload)
        key = self._data_char(char_uuid, payload)
        frame = self._header(payload)
        if frame.measurement == cp.MEASUREMENT_TYPES["ecg"]:
            return self._chunk(key, frame, "ecg", self._ecg(frame, payload))
        if frame.measurement == cp.MEASUREMENT_TYPES["acc"]:
            return self._chunk(key, frame, "acc", self._acc(frame, payload))
        if frame.measurement == cp.MEASUREMENT_TYPES["gyro"]:
            return self._chunk(key, frame, "gyr", self._gyro(frame, payload))
        raise self.error(f"measurement type {frame.measurement} is not decoded here", payload)

    def _header(self, payload: bytes) -> _Frame:
        if len(payload) <= HEADER_LEN:
            raise self.error("a PMD frame is a 10-byte header and samples", payload)
        return _Frame(
            measurement=payload[0] & 0x3F,
            timestamp=int.from_bytes(payload[1:9], "little"),
            frame_type=payload[9] & 0x7F,
            compressed=bool(payload[9] & 0x80),
            content=payload[HEADER_LEN:],
        )

    def _raw(self, frame: _Frame, payload: bytes, width: int, n_ch: int) -> NDArray[np.int64]:
        if len(frame.content) % (width * n_ch):
            raise self.error(f"content is not whole {n_ch} x int{8 * width} samples", payload)
        return signed_le(frame.content, width).reshape(-1, n_ch).T

    def _delta(self, frame: _Frame, payload: bytes) -> NDArray[np.int64]:
        try:
            return decode_delta_frame(frame.content, 3, 2)
        except ValueError as exc:
            raise self.error(f"delta frame: {exc}", payload) from None

    def _ecg(self, frame: _Frame, payload: bytes) -> NDArray[np.float64]:
        if frame.compressed or frame.frame_type != 0:
            raise self.error(f"ECG frame type 0x{payload[9]:02x} is not supported", payload)
        return self._raw(frame, payload, 3, 1).astype(np.float64)

    def _acc(self, frame: _Frame, payload: bytes) -> NDArray[np.float64]:
        if not frame.compressed and frame.frame_type in (0, 1, 2):
            return self._raw(frame, payload, frame.frame_type + 1, 3).astype(np.float64) / 1000.0
        if frame.compressed and frame.frame_type == 0:
            return self._delta(frame, payload).astype(np.float64) * self.acc_factor
        if frame.compressed and frame.frame_type == 1:
            return self._delta(frame, payload).astype(np.float64) * (self.acc_factor / 1000.0)
        raise self.error(f"ACC frame type 0x{payload[9]:02x} is not supported", payload)

    def _gyro(self, frame: _Frame, payload: bytes) -> NDArray[np.float64]:
        if frame.compressed and frame.frame_type == 0:
            return self._delta(frame, payload).astype(np.float64) * self.gyro_factor
        raise self.error(f"gyro frame type 0x{payload[9]:02x} is not supported", payload)

    def _chunk(
        self, key: str, frame: _Frame, what: str, data: NDArray[np.float64]
    ) -> DecodedChunk:
        names: tuple[str, ...]
        units: tuple[str, ...]
        kinds: tuple[str, ...]
        if what == "ecg":
            names, units, kinds, fs = ("ECG",), ("uV",), ("ecg",), float(self.ecg_rate)
        elif what == "acc":
            names, units, kinds = self.acc_labels, ("g",) * 3, ("acc",) * 3
            fs = float(self.acc_rate)
        else:
            names, units, kinds = self.gyro_labels, ("deg/s",) * 3, ("gyr",) * 3
            fs = float(self.gyro_rate)
        return DecodedChunk(
            device=self.name,
            characteristic=key,
            kind="ecg" if what == "ecg" else "imu",
            data=data,
            channels=names,
            units=units,
            channel_kinds=kinds,
            fs=fs,
            device_time_ns=frame.timestamp,
        )


def sample_times_ns(
    last_ns: int, n_samples: int, *, previous_ns: int | None = None, fs: float | None = None
) -> NDArray[np.int64]:
    """Per-sample device times of a PMD frame, as the Polar SDK computes them.

    The frame timestamp belongs to the last sample. With the previous frame's
    timestamp the spacing is ``(last - previous) / n`` and the first sample sits one
    spacing after ``previous``; for the first frame the spacing is ``1 / fs``.
    Times are rounded to whole ns; the last equals ``last_ns``.

    Parameters
    ----------
    last_ns : int
        Timestamp of the frame (ns since 2000-01-01).
    n_samples : int
        Samples in the frame (>= 1).
    previous_ns : int or None
        Timestamp of the previous frame of the same measurement.
    fs : float or None
        Nominal rate in Hz, used when ``previous_ns`` is None.

    Returns
    -------
    ndarray of int64, shape (n_samples,)
        Device times in ns.

    Examples
    --------
    >>> sample_times_ns(2_000_000_000, 3, previous_ns=1_700_000_000).tolist()
    [1800000000, 1900000000, 2000000000]
    >>> sample_times_ns(1_000_000_000, 2, fs=100.0).tolist()
    [990000000, 1000000000]
    """
    if n_samples < 1:
        raise ValidationError(f"n_samples must be >= 1, got {n_samples}", parameter="n_samples")
    if previous_ns is not None and previous_ns > 0:
        if previous_ns >= last_ns:
            raise ValidationError(
                f"previous_ns must be < last_ns, got {previous_ns} >= {last_ns}",
                parameter="previous_ns",
            )
        delta = (last_ns - previous_ns) / n_samples
        start = previous_ns + delta
    elif fs is not None and fs > 0:
        delta = 1e9 / fs
        start = last_ns - delta * (n_samples - 1)
    else:
        raise ValidationError("give previous_ns or a positive fs", parameter="fs")
    times: NDArray[np.int64] = np.rint(start + delta * np.arange(n_samples)).astype(np.int64)
    times[-1] = last_ns
    return times
