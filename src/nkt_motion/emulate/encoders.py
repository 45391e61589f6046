"""Payload encoders of the emulated Polar PMD and WitMotion sensors (pure functions).

They are the inverses of the decoders in :mod:`nkt_motion.devices`: a PMD frame
header with raw or delta-compressed samples (deltas packed LSB first), and the
WitMotion ``55 61`` data and ``55 71`` register packets. Physical values are
turned into device counts with :func:`quantise`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from nkt_motion.devices import polar_cp as cp
from nkt_motion.errors import ValidationError

__all__ = [
    "PMD_HEADER_LEN",
    "WITMOTION_SCALE",
    "delta_frame_capacity",
    "encode_delta_content",
    "encode_pmd_frame",
    "encode_pmd_response",
    "encode_pmd_settings",
    "encode_raw_content",
    "encode_register_answer",
    "encode_witmotion_packets",
    "pack_signed_lsb_first",
    "quantise",
]

PMD_HEADER_LEN: Final = 10
#: Physical units per count of the 9 values of a ``55 61`` packet (g, deg/s, deg).
WITMOTION_SCALE: Final = np.array([16.0] * 3 + [2000.0] * 3 + [180.0] * 3) / 32768.0
_MAX_BLOCK: Final = 255


def quantise(values: ArrayLike, scale: float | ArrayLike, bits: int) -> NDArray[np.int64]:
    """Round physical values to signed counts of ``bits`` bits, saturating.

    Parameters
    ----------
    values : array_like
        Physical values; channels on axis 0 when ``scale`` is per channel.
    scale : float or array_like
        Physical units per count (broadcast against ``values`` along axis 0).
    bits : int
        Width of the signed integer (1..32).

    Returns
    -------
    ndarray of int64
        ``clip(rint(values / scale))``, same shape as ``values``.

    Examples
    --------
    >>> quantise([0.0014, -1.0, 99.0], 0.001, 16).tolist()
    [1, -1000, 32767]
    """
    if not 1 <= bits <= 32:
        raise ValidationError(f"bits must be in 1..32, got {bits}", parameter="bits")
    arr = np.asarray(values, dtype=np.float64)
    step = np.asarray(scale, dtype=np.float64)
    if step.ndim == 1 and arr.ndim == 2:
        step = step[:, None]
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return np.clip(np.rint(arr / step), lo, hi).astype(np.int64)


def encode_pmd_frame(
    measurement: int, timestamp_ns: int, frame_type: int, content: bytes
) -> bytes:
    """Prefix PMD frame content with its 10-byte header.

    Parameters
    ----------
    measurement : int
        Measurement type (0 ECG, 2 ACC, 5 gyro, ...).
    timestamp_ns : int
        Device time of the last sample, ns since 2000-01-01 (u64).
    frame_type : int
        Frame type byte (bit 7 set for delta-compressed frames).
    content : bytes
        Samples.

    Returns
    -------
    bytes
        The frame.

    Examples
    --------
    >>> encode_pmd_frame(0, 2_000_000_000, 0, bytes.fromhex("0280ff")).hex()
    '000094357700000000000280ff'
    """
    if not (0 <= measurement < 64 and 0 <= frame_type < 256 and 0 <= timestamp_ns < 1 << 64):
        raise ValidationError(
            f"need measurement 0..63, frame_type 0..255 and a u64 timestamp, got "
            f"{measurement}, {frame_type}, {timestamp_ns}",
            parameter="timestamp_ns",
        )
    return (
        bytes([measurement]) + timestamp_ns.to_bytes(8, "little") + bytes([frame_type]) + content
    )


def encode_pmd_settings(settings: Mapping[str, Sequence[int]]) -> bytes:
    """Encode settings TLVs ``{id, count, count x value LE}...`` (ids of ``polar_cp``).

    Parameters
    ----------
    settings : mapping of str to sequence of int
        ``sample_rate``, ``resolution``, ``range`` or ``channels`` -> values.

    Returns
    -------
    bytes
        The parameters of a get-settings response.

    Examples
    --------
    >>> encode_pmd_settings({"sample_rate": [52], "channels": [3]}).hex()
    '00013400040103'
    """
    ids = {name: (sid, width) for sid, (name, width) in cp.SETTINGS.items()}
    out = bytearray()
    for name, values in settings.items():
        if name not in ids or name in ("factor", "security"):
            raise ValidationError(f"setting {name!r} is not an integer setting", parameter=name)
        sid, width = ids[name]
        out += bytes([sid, len(values)]) + b"".join(v.to_bytes(width, "little") for v in values)
    return bytes(out)


def encode_pmd_response(op: int, measurement: int, status: int, params: bytes = b"") -> bytes:
    """Encode a control-point answer ``F0 <op> <type> <status> 00 <params>``.

    Parameters
    ----------
    op : int
        Op code answered.
    measurement : int
        Measurement type.
    status : int
        0 on success, else a ``polar_cp.STATUS_NAMES`` code.
    params : bytes
        Settings TLVs of a successful answer.

    Returns
    -------
    bytes
        The indication value (``more`` is always 0: one frame per answer).

    Examples
    --------
    >>> encode_pmd_response(2, 2, 8).hex()
    'f002020800'
    """
    return bytes([0xF0, op, measurement, status, 0]) + params


def encode_raw_content(counts: ArrayLike, width: int) -> bytes:
    """Pack samples ``(n_channels, n)`` as signed little-endian integers, sample-major.

    Parameters
    ----------
    counts : array_like of int, shape (n_channels, n_samples)
        Samples in counts; they must fit ``width`` bytes.
    width : {1, 2, 3, 4}
        Bytes per value (3 = int24).

    Returns
    -------
    bytes
        ``n_samples * n_channels * width`` bytes.

    Examples
    --------
    >>> encode_raw_content([[-9, -8], [-1, -2], [999, 997]], 2).hex()
    'f7ffffffe703f8fffeffe503'
    """
    arr = np.asarray(counts, dtype=np.int64)
    if width not in (1, 2, 3, 4) or arr.ndim != 2:
        raise ValidationError(
            f"need width 1..4 and counts of shape (n_channels, n), got {width}, {arr.shape}",
            parameter="counts",
        )
    lo, hi = -(1 << (8 * width - 1)), (1 << (8 * width - 1)) - 1
    if arr.size and (arr.min() < lo or arr.max() > hi):
        raise ValidationError(f"counts must fit int{8 * width}", parameter="counts")
    flat = arr.T.reshape(-1).astype("<i4").view(np.uint8).reshape(-1, 4)
    return bytes(flat[:, :width].tobytes())


def pack_signed_lsb_first(values: ArrayLike, width: int) -> bytes:
    """Pack integers as ``width``-bit two's complement, least significant bit first.

    Bit ``k`` of the stream is bit ``k % 8`` of byte ``k // 8``; the last byte is
    zero-padded.

    Parameters
    ----------
    values : array_like of int, shape (n,)
        Values in ``[-2**(width-1), 2**(width-1))``.
    width : int
        Bits per value, 1..32.

    Returns
    -------
    bytes
        ``ceil(n * width / 8)`` bytes.

    Examples
    --------
    >>> pack_signed_lsb_first([-5, -3, 0], 6).hex()
    '7b0f00'
    """
    arr = np.asarray(values, dtype=np.int64).reshape(-1)
    if not 1 <= width <= 32:
        raise ValidationError(f"width must be in 1..32, got {width}", parameter="width")
    if arr.size and (arr.min() < -(1 << (width - 1)) or arr.max() >= 1 << (width - 1)):
        raise ValidationError(f"values must fit {width} signed bits", parameter="values")
    unsigned = arr & ((1 << width) - 1)
    bits = (unsigned[:, None] >> np.arange(width, dtype=np.int64)) & 1
    return bytes(np.packbits(bits.astype(np.uint8).reshape(-1), bitorder="little").tobytes())


def _signed_bits(values: NDArray[np.int64]) -> int:
    """Smallest two's-complement width holding every value (at least 1)."""
    if not values.size:
        return 1
    hi = int(max(values.max(), -values.min() - 1, 0))
    return hi.bit_length() + 1


def encode_delta_content(
    counts: ArrayLike, ref_bytes: int, *, bit_width: int | None = None
) -> bytes:
    """Delta-compress samples ``(n_channels, n)`` into a PMD frame body.

    The first sample is the reference (``ref_bytes`` per channel, signed LE); the
    deltas of the others follow in blocks ``[bit width][count][packed deltas]`` of
    up to 255 samples, each block using the smallest width its deltas need.

    Parameters
    ----------
    counts : array_like of int, shape (n_channels, n_samples)
        Samples in counts, ``n_samples >= 1``.
    ref_bytes : int
        Bytes per channel of the reference sample.
    bit_width : int or None
        Force this delta width in every block (it must hold every delta).

    Returns
    -------
    bytes
        The frame content (decode with ``devices._packing.decode_delta_frame``).

    Examples
    --------
    >>> encode_delta_content([[-15, -20], [20, 17], [1008, 1008]], 2, bit_width=6).hex()
    'f1ff1400f00306017b0f00'
    """
    arr = np.asarray(counts, dtype=np.int64)
    if arr.ndim != 2 or arr.shape[1] < 1:
        raise ValidationError(
            f"counts must have shape (n_channels, n >= 1), got {arr.shape}", parameter="counts"
        )
    out = bytearray(encode_raw_content(arr[:, :1], ref_bytes))
    deltas = np.diff(arr, axis=1).T  # (n - 1, n_channels), sample-major
    for start in range(0, deltas.shape[0], _MAX_BLOCK):
        block = deltas[start : start + _MAX_BLOCK]
        width = bit_width if bit_width is not None else _signed_bits(block)
        out += bytes([width, block.shape[0]]) + pack_signed_lsb_first(block.reshape(-1), width)
    return bytes(out)


def delta_frame_capacity(payload_size: int, n_channels: int, ref_bytes: int, bits: int) -> int:
    """Most samples a delta-compressed PMD frame can hold in ``payload_size`` bytes.

    Counts the worst case: every delta of ``bits``-bit samples needs ``bits + 1``
    bits, in one block (at most 256 samples).

    Parameters
    ----------
    payload_size : int
        Bytes of one notification (ATT MTU - 3).
    n_channels : int
        Channels per sample.
    ref_bytes : int
        Bytes per channel of the reference sample.
    bits : int
        Resolution of the samples.

    Returns
    -------
    int
        Samples per frame (0 when not even the reference fits).

    Examples
    --------
    >>> delta_frame_capacity(244, 3, 2, 16)
    36
    """
    room = payload_size - PMD_HEADER_LEN - n_channels * ref_bytes - 2
    if room < 0:
        return 0
    return int(min(1 + (room * 8) // (n_channels * (bits + 1)), _MAX_BLOCK + 1))


def encode_witmotion_packets(samples: ArrayLike) -> bytes:
    """Encode ``55 61`` packets from physical samples.

    Parameters
    ----------
    samples : array_like, shape (9, n)
        Acceleration xyz (g), angular rate xyz (deg/s), roll/pitch/yaw (deg).

    Returns
    -------
    bytes
        ``20 * n`` bytes, one packet per sample, values saturated to int16.

    Examples
    --------
    >>> pkt = encode_witmotion_packets([[1.0], [0], [-1.0], [0], [0], [0], [0], [0], [90.0]])
    >>> pkt.hex(" ", 2)
    '5561 0008 0000 00f8 0000 0000 0000 0000 0000 0040'
    """
    arr = np.asarray(samples, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] != 9:
        raise ValidationError(
            f"samples must have shape (9, n), got {arr.shape}", parameter="samples"
        )
    counts = np.ascontiguousarray(quantise(arr, WITMOTION_SCALE, 16).T, dtype="<i2")
    head = np.tile(np.array([0x55, 0x61], dtype=np.uint8), (counts.shape[0], 1))
    return bytes(np.hstack([head, counts.view(np.uint8)]).tobytes())


def encode_register_answer(register: int, values: ArrayLike) -> bytes:
    """Encode the ``55 71`` answer to a register read.

    Parameters
    ----------
    register : int
        First register read (0..65535).
    values : array_like of int, shape (8,)
        Raw int16 contents of that register and the 7 after it.

    Returns
    -------
    bytes
        20 bytes.

    Examples
    --------
    >>> encode_register_answer(0x3A, [360, 105, 122, 0, 0, 0, 0, 0]).hex()[:20]
    '55713a00680169007a00'
    """
    arr = np.asarray(values, dtype=np.int64)
    if arr.shape != (8,) or not 0 <= register <= 0xFFFF:
        raise ValidationError(
            f"need a register 0..65535 and 8 values, got {register}, shape {arr.shape}",
            parameter="values",
        )
    return b"\x55\x71" + register.to_bytes(2, "little") + encode_raw_content(arr[:, None], 2)
