"""Vectorised byte and bit unpacking shared by the decoders.

Every function here raises :class:`ValueError` (never anything else) on bad input;
the profiles turn that into a :class:`~nkt_motion.errors.DecodeError` carrying the
device and payload length.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["decode_delta_frame", "signed_le", "unpack_signed_lsb_first"]

#: Widest delta a PMD block may declare; wider widths would not fit an int64 sum.
MAX_DELTA_BITS = 32


def signed_le(buf: bytes, width: int) -> NDArray[np.int64]:
    """Read consecutive signed little-endian integers of ``width`` bytes.

    Parameters
    ----------
    buf : bytes
        Packed integers; the length must be a multiple of ``width``.
    width : {1, 2, 3, 4}
        Bytes per integer (3 = int24, which NumPy has no dtype for).

    Returns
    -------
    ndarray of int64, shape (len(buf) // width,)
        The values.

    Examples
    --------
    >>> signed_le(bytes.fromhex("0280ff028000"), 3).tolist()
    [-32766, 32770]
    """
    if width not in (1, 2, 3, 4) or len(buf) % width:
        raise ValueError(f"{len(buf)} bytes is not a whole number of {width}-byte integers")
    if width != 3:
        return np.frombuffer(buf, dtype=f"<i{width}").astype(np.int64)
    b = np.frombuffer(buf, dtype=np.uint8).reshape(-1, 3).astype(np.int64)
    raw = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
    return raw - ((raw & 0x800000) << 1)


def unpack_signed_lsb_first(buf: bytes, width: int, count: int) -> NDArray[np.int64]:
    """Unpack ``count`` two's-complement integers of ``width`` bits, packed LSB first.

    Bit ``k`` of the stream is bit ``k % 8`` of byte ``k // 8``; value ``i`` takes
    stream bits ``i*width`` to ``i*width + width - 1``, least significant first
    (the Polar PMD delta layout).

    Parameters
    ----------
    buf : bytes
        At least ``ceil(width * count / 8)`` bytes.
    width : int
        Bits per value, 0 to 32 (0 gives zeros).
    count : int
        Number of values.

    Returns
    -------
    ndarray of int64, shape (count,)
        The signed values.

    Examples
    --------
    >>> unpack_signed_lsb_first(bytes([0x7B, 0x0F, 0x08]), 6, 3).tolist()
    [-5, -3, 0]
    """
    if not 0 <= width <= MAX_DELTA_BITS:
        raise ValueError(f"bit width must be 0..{MAX_DELTA_BITS}, got {width}")
    n_bits = width * count
    if len(buf) * 8 < n_bits:
        raise ValueError(f"{len(buf)} bytes cannot hold {count} values of {width} bits")
    if width == 0:
        return np.zeros(count, dtype=np.int64)
    bits = np.unpackbits(np.frombuffer(buf, dtype=np.uint8), bitorder="little")[:n_bits]
    weights = np.left_shift(np.int64(1), np.arange(width, dtype=np.int64))
    values = bits.reshape(count, width).astype(np.int64) @ weights
    sign = np.int64(1) << (width - 1)
    result: NDArray[np.int64] = values - ((values & sign) << 1)
    return result


def decode_delta_frame(content: bytes, n_channels: int, ref_bytes: int) -> NDArray[np.int64]:
    """Decode a PMD delta-compressed frame body into absolute samples.

    Layout: a reference sample (``n_channels`` signed LE integers of ``ref_bytes``
    bytes), then blocks ``[bit width u8][sample count u8][deltas]`` where the deltas
    are ``count * n_channels`` values packed LSB first (sample-major, channels
    interleaved). Samples are the reference plus the cumulative sum of the deltas.

    Parameters
    ----------
    content : bytes
        The frame after the 10-byte PMD header.
    n_channels : int
        Channels per sample.
    ref_bytes : int
        Bytes per channel of the reference sample.

    Returns
    -------
    ndarray of int64, shape (n_channels, n_samples)
        Samples including the reference sample.

    Examples
    --------
    >>> decode_delta_frame(bytes.fromhex("f1ff1400f003" "0601" "7b0f08"), 3, 2).tolist()
    [[-15, -20], [20, 17], [1008, 1008]]
    """
    head = n_channels * ref_bytes
    if len(content) < head:
        raise ValueError(f"frame of {len(content)} bytes has no full reference sample")
    parts = [signed_le(content[:head], ref_bytes).reshape(1, n_channels)]
    offset = head
    while offset < len(content):
        if offset + 2 > len(content):
            raise ValueError(f"truncated delta block header at byte {offset}")
        width, count = content[offset], content[offset + 1]
        n_bytes = -(-width * count * n_channels // 8)
        block = content[offset + 2 : offset + 2 + n_bytes]
        if len(block) < n_bytes:
            raise ValueError(f"delta block at byte {offset} needs {n_bytes} bytes")
        deltas = unpack_signed_lsb_first(block, width, count * n_channels)
        parts.append(deltas.reshape(count, n_channels))
        offset += 2 + n_bytes
    stacked = np.concatenate(parts, axis=0)
    samples: NDArray[np.int64] = np.cumsum(stacked, axis=0).T
    return samples
