"""Counters: unwrap rolling sequence numbers, drop duplicates, restore order, count loss."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from nkt_motion.errors import ValidationError

__all__ = ["SequenceReport", "order_by_sequence", "unwrap_counter"]


def unwrap_counter(values: ArrayLike, *, bits: int) -> NDArray[np.int64]:
    """Unwrap a rolling ``bits``-bit counter into a monotonic-ish int64 sequence.

    Each step is taken as the shortest signed distance modulo ``2**bits``, so a
    wrap-around (65535 -> 0) is one step forward and a late packet is a small
    step back, as long as fewer than ``2**(bits-1)`` packets pass between two
    packets that arrive.

    Parameters
    ----------
    values : array_like of int, shape (n,)
        Counter values in arrival order.
    bits : int
        Counter width (16 for the nkt sequence, 32 for its sample index).

    Returns
    -------
    ndarray of int64, shape (n,)
        Unwrapped values; the first equals ``values[0]``.

    Examples
    --------
    >>> unwrap_counter([65534, 65535, 0, 2, 1], bits=16).tolist()
    [65534, 65535, 65536, 65538, 65537]
    """
    if not 1 <= bits <= 62:
        raise ValidationError(f"bits must be in 1..62, got {bits}", parameter="bits")
    v = np.asarray(values, dtype=np.int64).ravel()
    if v.size == 0:
        return v
    mod, half = 1 << bits, 1 << (bits - 1)
    step = (np.diff(v) + half) % mod - half
    return np.concatenate([v[:1], v[0] + np.cumsum(step)])


@dataclass(frozen=True, slots=True)
class SequenceReport:
    """What the counters of one packet stream say.

    Parameters
    ----------
    order : ndarray of int
        Indices of the packets to keep, in sequence order (duplicates removed).
    duplicates : int
        Packets whose sequence number was already seen (dropped).
    reordered : int
        Packets that arrived after a later-numbered one (put back in place).
    lost : int
        Sequence numbers missing between the first and the last packet kept.
    missing : ndarray of int64
        The unwrapped missing sequence numbers.

    Examples
    --------
    >>> r = order_by_sequence([0, 1, 1, 3, 2, 6])
    >>> r.order.tolist(), r.duplicates, r.reordered, r.lost, r.missing.tolist()
    ([0, 1, 4, 3, 5], 1, 1, 2, [4, 5])
    """

    order: NDArray[np.intp]
    duplicates: int
    reordered: int
    lost: int
    missing: NDArray[np.int64]


def order_by_sequence(unwrapped: ArrayLike) -> SequenceReport:
    """Sort packets by (unwrapped) sequence number, drop repeats, count gaps.

    Parameters
    ----------
    unwrapped : array_like of int, shape (n,)
        Unwrapped sequence numbers in arrival order.

    Returns
    -------
    SequenceReport
        The kept order and the counts (see the class example).
    """
    seq = np.asarray(unwrapped, dtype=np.int64).ravel()
    empty = np.zeros(0, dtype=np.int64)
    if seq.size == 0:
        return SequenceReport(np.zeros(0, dtype=np.intp), 0, 0, 0, empty)
    _, first = np.unique(seq, return_index=True)  # first arrival of each number, sorted
    duplicates = int(seq.size - first.size)
    kept = np.sort(first)  # arrival order of the kept packets
    running_max = np.maximum.accumulate(seq[kept])
    reordered = int(np.count_nonzero(seq[kept][1:] < running_max[:-1]))
    order = first.astype(np.intp)  # np.unique sorts by value: sequence order
    present = seq[order]
    span = np.arange(present[0], present[-1] + 1, dtype=np.int64)
    missing = (
        np.setdiff1d(span, present, assume_unique=True) if span.size != present.size else empty
    )
    return SequenceReport(order, duplicates, reordered, int(missing.size), missing)
