"""The open nkt sensor protocol: UUIDs, packet layout, scales and the packet encoder.

The normative text is ``firmware_notes/nkt-sensor-profile.md``; this module is its
executable form, shared by the decoder (:mod:`nkt_motion.devices.nkt`), the
command builders (:mod:`nkt_motion.devices.nkt_commands`), the
emulator and the tests.

Data packet (EMG and IMU characteristics), little endian::

    u16 sequence | u32 first-sample index | u8 config | u8 flags | int16 samples...

Samples are channel-interleaved (sample 0 of every channel, then sample 1, ...).
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from nkt_motion.errors import ValidationError

__all__ = [
    "ACC_RANGES_G",
    "CONTROL_UUID",
    "EMG_RATES",
    "EMG_UUID",
    "EMG_UV_PER_LSB",
    "GYRO_RANGES_DPS",
    "HEADER",
    "IMU_RATES",
    "IMU_UUID",
    "SERVICE_UUID",
    "encode_emg_packet",
    "encode_imu_packet",
    "max_samples_per_packet",
]

_BASE: Final = "-3c4e-4b54-9d2a-6d6f74696f6e"
SERVICE_UUID: Final = "6e6b0001" + _BASE
CONTROL_UUID: Final = "6e6b0002" + _BASE
EMG_UUID: Final = "6e6b0003" + _BASE
IMU_UUID: Final = "6e6b0004" + _BASE

#: struct layout of the 8-byte packet header.
HEADER: Final = np.dtype([("seq", "<u2"), ("first", "<u4"), ("config", "u1"), ("flags", "u1")])
HEADER_LEN: Final = 8
MAX_EMG_CHANNELS: Final = 4

#: EMG: one LSB is 1 uV referred to the electrodes (firmware rescales ADC counts).
EMG_UV_PER_LSB: Final = 1.0
#: Rate codes (config bit 4 for EMG, bit 5 for IMU) -> Hz.
EMG_RATES: Final[dict[int, float]] = {0: 1000.0, 1: 2000.0}
IMU_RATES: Final[dict[int, float]] = {0: 100.0, 1: 200.0}
#: LSM6DS3 full scales: code -> (range, sensitivity). Acc in g and mg/LSB, gyro in
#: deg/s and mdps/LSB (LSM6DS3 datasheet, table 3).
ACC_RANGES_G: Final[dict[int, tuple[float, float]]] = {
    0: (2.0, 0.061),
    1: (4.0, 0.122),
    2: (8.0, 0.244),
    3: (16.0, 0.488),
}
GYRO_RANGES_DPS: Final[dict[int, tuple[float, float]]] = {
    0: (125.0, 4.375),
    1: (250.0, 8.75),
    2: (500.0, 17.5),
    3: (1000.0, 35.0),
    4: (2000.0, 70.0),
}


def code_for(value: float, table: dict[int, float], parameter: str, unit: str) -> int:
    for code, allowed in table.items():
        if value == allowed:
            return code
    allowed_text = ", ".join(f"{v:g}" for v in table.values())
    raise ValidationError(
        f"{parameter} must be one of {allowed_text} {unit}, got {value!r}", parameter=parameter
    )


def range_code(value: float, table: dict[int, tuple[float, float]], parameter: str) -> int:
    return code_for(value, {k: v[0] for k, v in table.items()}, parameter, "")


def channel_mask(channels: tuple[int, ...] | list[int]) -> int:
    if not channels or any(c not in range(1, MAX_EMG_CHANNELS + 1) for c in channels):
        raise ValidationError(
            f"channels must be a non-empty selection of 1..{MAX_EMG_CHANNELS}, got {channels!r}",
            parameter="channels",
        )
    return sum(1 << (c - 1) for c in set(channels))


def max_samples_per_packet(n_channels: int, *, mtu: int = 247) -> int:
    """Return how many samples of ``n_channels`` int16 values fit one notification.

    Parameters
    ----------
    n_channels : int
        Values per sample (EMG: selected channels; IMU: 6).
    mtu : int
        Negotiated ATT MTU; a notification carries ``mtu - 3`` bytes.

    Returns
    -------
    int
        Samples per packet (at least 1 for MTU >= 23 and up to 6 values).

    Examples
    --------
    >>> max_samples_per_packet(4), max_samples_per_packet(4, mtu=23)
    (29, 1)
    """
    if n_channels < 1 or mtu < 23:
        raise ValidationError(
            f"need n_channels >= 1 and mtu >= 23, got {n_channels}, {mtu}", parameter="mtu"
        )
    return (mtu - 3 - HEADER_LEN) // (2 * n_channels)


def _pack(
    counts: NDArray[np.int64], *, sequence: int, first_sample: int, config: int, flags: int
) -> bytes:
    if not 0 <= sequence <= 0xFFFF or not 0 <= first_sample <= 0xFFFFFFFF:
        raise ValidationError(
            f"sequence must fit u16 and first_sample u32, got {sequence} and {first_sample}",
            parameter="sequence",
        )
    header = np.array([(sequence, first_sample, config, flags)], dtype=HEADER).tobytes()
    return header + counts.T.astype("<i2").tobytes()


def _to_counts(
    values: ArrayLike, scale: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Physical values (n_ch, n) -> int16 counts and a per-channel clipped mask."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] < 1 or not np.all(np.isfinite(arr)):
        raise ValidationError(
            f"samples must be finite with shape (n_channels, n_samples >= 1), got {arr.shape}",
            parameter="samples",
        )
    counts = np.rint(arr / scale[:, None])
    clipped = np.any((counts > 32767) | (counts < -32768), axis=1)
    return np.clip(counts, -32768, 32767).astype(np.int64), clipped


def _bits(flags: NDArray[np.bool_]) -> int:
    return int(sum(1 << i for i, f in enumerate(flags) if f))


def encode_emg_packet(
    samples_uv: ArrayLike,
    *,
    sequence: int,
    first_sample: int,
    rate: float = 2000.0,
    channels: tuple[int, ...] = (1, 2, 3, 4),
    saturated: tuple[bool, ...] = (),
    lead_off: tuple[bool, ...] = (),
) -> bytes:
    """Encode EMG samples as one nkt EMG notification.

    Parameters
    ----------
    samples_uv : array_like, shape (len(channels), n_samples)
        EMG in uV at the electrodes; rounded to 1 uV and clipped to int16
        (a clipped channel gets its saturation flag).
    sequence : int
        Packet counter (u16, wraps).
    first_sample : int
        Device index of the first sample (u32, wraps).
    rate : {1000, 2000}
        Sampling rate in Hz.
    channels : tuple of int
        Channel numbers 1..4 in the samples' row order (ascending).
    saturated, lead_off : tuple of bool
        Per row of ``samples_uv``: the firmware's flags (default none).

    Returns
    -------
    bytes
        The packet.

    Examples
    --------
    >>> encode_emg_packet([[1.0], [-2.0]], sequence=7, first_sample=100, channels=(1, 2)).hex()
    '07006400000013000100feff'
    """
    mask = channel_mask(channels)
    if list(channels) != sorted(set(channels)):
        raise ValidationError(
            f"channels must be ascending, got {channels!r}", parameter="channels"
        )
    counts, clipped = _to_counts(samples_uv, np.full(len(channels), EMG_UV_PER_LSB))
    if counts.shape[0] != len(channels):
        raise ValidationError(
            f"samples_uv has {counts.shape[0]} rows for {len(channels)} channels",
            parameter="samples_uv",
        )
    sat = np.zeros(len(channels), dtype=bool)
    sat[: len(saturated)] = saturated[: len(channels)]
    off = np.zeros(len(channels), dtype=bool)
    off[: len(lead_off)] = lead_off[: len(channels)]
    sat |= clipped
    flags = sum(1 << (c - 1) for c, f in zip(channels, sat, strict=True) if f)
    flags |= sum(1 << (c + 3) for c, f in zip(channels, off, strict=True) if f)
    config = mask | code_for(rate, EMG_RATES, "rate", "Hz") << 4
    return _pack(counts, sequence=sequence, first_sample=first_sample, config=config, flags=flags)


def encode_imu_packet(
    acc_g: ArrayLike,
    gyro_dps: ArrayLike,
    *,
    sequence: int,
    first_sample: int,
    rate: float = 100.0,
    acc_range_g: float = 8.0,
    gyro_range_dps: float = 2000.0,
) -> bytes:
    """Encode IMU samples as one nkt IMU notification.

    Parameters
    ----------
    acc_g : array_like, shape (3, n_samples)
        Acceleration x, y, z in g.
    gyro_dps : array_like, shape (3, n_samples)
        Angular rate x, y, z in deg/s.
    sequence, first_sample : int
        Packet counter (u16) and device index of the first sample (u32).
    rate : {100, 200}
        Output rate in Hz.
    acc_range_g : {2, 4, 8, 16}
        Accelerometer full scale; values beyond it clip and set the axis flag.
    gyro_range_dps : {125, 250, 500, 1000, 2000}
        Gyroscope full scale.

    Returns
    -------
    bytes
        The packet.

    Examples
    --------
    >>> len(encode_imu_packet([[0.0], [0.0], [1.0]], [[0.0]] * 3, sequence=0, first_sample=0))
    20
    """
    acc_code = range_code(acc_range_g, ACC_RANGES_G, "acc_range_g")
    gyro_code = range_code(gyro_range_dps, GYRO_RANGES_DPS, "gyro_range_dps")
    acc = np.asarray(acc_g, dtype=np.float64)
    gyro = np.asarray(gyro_dps, dtype=np.float64)
    if acc.ndim != 2 or acc.shape[0] != 3 or gyro.shape != acc.shape:
        raise ValidationError(
            f"acc_g and gyro_dps must both have shape (3, n), got {acc.shape}, {gyro.shape}",
            parameter="acc_g",
        )
    scale = np.array(
        [ACC_RANGES_G[acc_code][1] / 1000.0] * 3 + [GYRO_RANGES_DPS[gyro_code][1] / 1000.0] * 3
    )
    counts, clipped = _to_counts(np.vstack([acc, gyro]), scale)
    limit = np.array([acc_range_g] * 3 + [gyro_range_dps] * 3)
    clipped |= np.any(np.abs(np.vstack([acc, gyro])) > limit[:, None], axis=1)
    config = acc_code | gyro_code << 2 | code_for(rate, IMU_RATES, "rate", "Hz") << 5
    return _pack(
        counts, sequence=sequence, first_sample=first_sample, config=config, flags=_bits(clipped)
    )
