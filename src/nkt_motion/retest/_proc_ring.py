"""Bounded memory of the live processor: a sample grid, a ring buffer and trial windows.

Every live signal is a *track*: rows of samples on a grid ``t = origin + i / fs``
(``i`` the absolute sample index). A :class:`SampleClock` places incoming blocks
on the grid, a :class:`Ring` keeps the last few seconds of a track's rows (for
trials that begin or end in the recent past, and for the live view), and a
:class:`Window` accumulates one trial: sums of some rows over the trial and a
copy of others (capped in length).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from nkt_motion.errors import SignalError, ValidationError

__all__ = ["Ring", "SampleClock", "Window", "check_block"]

logger = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]


def check_block(block: ArrayLike, rows: int, labels: Sequence[str]) -> FloatArray:
    """Return a pushed block as float64 ``(rows, n)``, or raise naming the row and sample."""
    x = np.asarray(block, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] != rows:
        raise ValidationError(
            f"block must have shape ({rows}, n_samples), got {x.shape}", parameter="block"
        )
    bad = ~np.isfinite(x)
    if bad.any():
        row, col = (int(v) for v in np.argwhere(bad)[0])
        raise SignalError(
            f"block holds NaN or infinity at sample {col}; pass the samples after a gap as "
            "a new block with its own start time",
            channel=labels[row],
        )
    return x


class SampleClock:
    """Place blocks on a uniform sample grid that starts at the first block.

    Parameters
    ----------
    fs : float
        Sampling rate in Hz (validated by the caller).
    name : str
        Track name for log messages.
    origin : float, optional
        Time of sample 0, seconds; by default the start of the first block.

    Examples
    --------
    >>> c = SampleClock(100.0, "emg")
    >>> c.place(10.0, 5), c.place(10.05, 5), c.place(10.2, 5), c.end
    ((0, 0), (0, 0), (0, 10), 25)
    """

    def __init__(self, fs: float, name: str, *, origin: float | None = None) -> None:
        self.fs = fs
        self.name = name
        self.origin = origin
        self.end = 0

    def index(self, t_s: float) -> int:
        """First grid index at or after ``t_s`` (the rule of :meth:`Stream.crop`)."""
        assert self.origin is not None
        return math.ceil((t_s - self.origin) * self.fs - 1e-9)

    def time(self, index: int) -> float:
        """Session time of grid index ``index``, seconds."""
        assert self.origin is not None
        return self.origin + index / self.fs

    @property
    def time_s(self) -> float:
        """End time of the samples placed so far (start time before any block)."""
        return math.nan if self.origin is None else self.time(self.end)

    def place(self, start_s: float, n: int) -> tuple[int, int]:
        """Place a block of ``n`` samples that starts at ``start_s``.

        Returns
        -------
        skip : int
            Leading samples of the block already received (to drop).
        missing : int
            Samples missing between the previous block and this one.
        """
        if not math.isfinite(start_s):
            raise ValidationError(f"start_s must be finite, got {start_s}", parameter="start_s")
        if self.origin is None:
            self.origin = float(start_s)
        first = round((start_s - self.origin) * self.fs)
        skip = max(0, self.end - first)
        missing = max(0, first - self.end)
        if skip:
            logger.warning(
                "%s: block at %.4f s repeats %d sample(s) already received; dropped",
                self.name,
                start_s,
                min(skip, n),
            )
        self.end = max(self.end, first + n)
        return skip, missing


class Ring:
    """The last ``capacity`` samples of a multi-row track, by absolute index.

    Parameters
    ----------
    n_rows : int
        Rows per sample.
    capacity : int
        Samples kept, >= 1.

    Examples
    --------
    >>> r = Ring(1, 4)
    >>> r.append(np.arange(6.0)[None]); r.start, r.end, r.get(3, 6).tolist()
    (2, 6, [[3.0, 4.0, 5.0]])
    """

    def __init__(self, n_rows: int, capacity: int) -> None:
        self.capacity = max(1, int(capacity))
        self.buf = np.full((n_rows, self.capacity), np.nan)
        self.end = 0

    @property
    def start(self) -> int:
        """Oldest absolute index still held."""
        return max(0, self.end - self.capacity)

    def _write(self, first: int, block: FloatArray) -> None:
        n = block.shape[1]
        if n > self.capacity:
            first, block, n = first + n - self.capacity, block[:, -self.capacity :], self.capacity
        pos = first % self.capacity
        head = min(n, self.capacity - pos)
        self.buf[:, pos : pos + head] = block[:, :head]
        self.buf[:, : n - head] = block[:, head:]

    def append(self, block: FloatArray) -> None:
        """Append ``(n_rows, n)`` samples after the current end."""
        self._write(self.end, block)
        self.end += block.shape[1]

    def append_missing(self, n: int) -> None:
        """Append ``n`` missing (NaN) samples."""
        self._write(self.end, np.full((self.buf.shape[0], min(n, self.capacity)), np.nan))
        self.end += n

    def get(self, lo: int, hi: int) -> FloatArray:
        """Copy of the samples ``[lo, hi)``, NaN where a sample is not held."""
        out = np.full((self.buf.shape[0], max(0, hi - lo)), np.nan)
        a, b = max(lo, self.start), min(hi, self.end)
        if b > a:
            out[:, a - lo : b - lo] = self.buf[:, np.arange(a, b) % self.capacity]
        return out

    def put(self, lo: int, block: FloatArray) -> None:
        """Overwrite held samples from ``lo`` on with ``block`` (parts not held are ignored)."""
        hi = min(lo + block.shape[1], self.end)
        first = max(lo, self.start)
        if hi > first:
            self._write(first, block[:, first - lo : hi - lo])

    def last(self) -> FloatArray:
        """Return the newest sample, shape (n_rows,) (NaN before any sample)."""
        if self.end == 0:
            return self.buf[:, 0].copy()
        return self.buf[:, (self.end - 1) % self.capacity].copy()


class Window:
    """One trial on one track: sums of the first rows, a copy of the others.

    Parameters
    ----------
    start : int
        Absolute index of the trial's first sample.
    n_rows : int
        Rows per sample.
    n_sum : int
        The first ``n_sum`` rows are summed over the trial.
    max_keep : int
        The other rows are copied for at most this many samples.

    Attributes
    ----------
    sums : ndarray, shape (n_sum,)
        Sums over the trial's received samples.
    count : int
        Samples received in the trial.
    missing : int
        Samples of the trial lost in gaps.
    """

    def __init__(self, start: int, n_rows: int, n_sum: int, max_keep: int) -> None:
        self.start = start
        self.n_rows = n_rows
        self.end = start
        self.n_sum = n_sum
        self.max_keep = max_keep
        self.sums = np.zeros(n_sum)
        self.count = 0
        self.missing = 0
        self._kept: list[FloatArray] = []
        self._n_kept = 0

    def _keep(self, block: FloatArray) -> None:
        room = self.max_keep - self._n_kept
        if room <= 0:
            return
        if block.shape[1] > room:
            logger.warning("trial longer than %d samples: the rest is summed, not kept", room)
        part = block[self.n_sum :, :room]
        self._kept.append(np.array(part))
        self._n_kept += part.shape[1]

    def add(self, first: int, block: FloatArray) -> None:
        """Add finite samples with absolute indices ``[first, first + n)``."""
        if first < self.start:
            block = block[:, self.start - first :]
        if block.shape[1] == 0:
            return
        self.sums += block[: self.n_sum].sum(axis=1)
        self.count += block.shape[1]
        self._keep(block)
        self.end += block.shape[1]

    def add_missing(self, first: int, n: int) -> None:
        """Add ``n`` lost samples from absolute index ``first`` on (kept rows get NaN)."""
        n = first + n - max(first, self.start)
        if n <= 0:
            return
        self.missing += n
        self._keep(np.full((self.n_rows, n), np.nan))
        self.end += n

    def overwrite(self, first: int, block: FloatArray) -> None:
        """Replace kept samples from absolute index ``first`` on (rows after ``n_sum``)."""
        rows = self.kept()
        lo = max(first, self.start)
        hi = min(first + block.shape[1], self.start + rows.shape[1])
        if hi > lo:
            rows[:, lo - self.start : hi - self.start] = block[
                self.n_sum :, lo - first : hi - first
            ]
            self._kept = [rows]

    def add_past(self, ring: Ring) -> None:
        """Fill the trial from the ring when it starts before the ring's end."""
        if self.start < ring.start:
            logger.warning(
                "trial start is %d samples older than the %d samples held; it starts at the "
                "oldest held sample",
                ring.start - self.start,
                ring.capacity,
            )
            self.start = self.end = ring.start
        past = ring.get(self.start, ring.end)
        ok = np.isfinite(past[0])
        self.sums += np.nansum(past[: self.n_sum], axis=1)
        self.count += int(ok.sum())
        self.missing += int((~ok).sum())
        self._keep(past)
        self.end = max(self.start, ring.end)

    def close(self, stop: int, ring: Ring) -> int:
        """End the trial at absolute index ``stop``; return the stop actually used.

        Samples received after ``stop`` are taken back out using the ring; when
        they are no longer held, the trial ends where the samples end.
        """
        stop = min(max(stop, self.start), self.end)
        if stop < ring.start:
            logger.warning("trial end is older than the samples held; the trial keeps them")
            return self.end
        extra = ring.get(stop, self.end)
        ok = np.isfinite(extra[0])
        self.sums -= np.nansum(extra[: self.n_sum], axis=1)
        self.count -= int(ok.sum())
        self.missing -= int((~ok).sum())
        self.end = stop
        return stop

    def kept(self) -> FloatArray:
        """Return the copied rows over ``[start, end)`` (up to ``max_keep`` samples)."""
        if not self._kept:
            return np.empty((self.n_rows - self.n_sum, 0))
        rows = np.concatenate(self._kept, axis=1)
        return rows[:, : self.end - self.start]
