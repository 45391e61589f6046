"""Find trials in a live envelope: contraction onset and offset with hysteresis.

A :class:`TrialDetector` is fed blocks of an envelope-like signal (one row per
muscle, or one combined row) on the session clock and reports when a
contraction starts and stops, so that a guided session can mark trials without
a key press. Thresholds come from a rest recording, as in Hodges & Bui 1996
(Electroencephalogr Clin Neurophysiol 101:511): a channel is *on* when it
reaches its rest mean + ``k`` SD and stays *active* while it is at or above
its rest mean + ``k_off`` SD (``k_off <= k``, the hysteresis). With several
rows, the contraction is on when any row is on and active while any row is
active.

Decisions (sample indices on the detector's grid)
-------------------------------------------------
- A run that crosses the on threshold becomes a trial start once it has stayed
  active for ``min_active_s``; the start is back-dated to the crossing sample.
- An active trial stops at the first sample below the off threshold, once no
  row has come back on within ``min_gap_s`` and stayed active for
  ``min_active_s``; the stop is back-dated to that sample. Such a return
  continues the same trial; a shorter one (a noise spike) is ignored.
- Each event also says when it was confirmed (``confirmed_s``): ``min_active_s``
  after a start and ``min_gap_s`` after a stop, or later when a brief return
  (a spike) delayed the certainty of a stop.

Defaults (``k = 3``, ``k_off = 1.5``, 0.2 s, 0.3 s) suit the 50 Hz low-passed,
25 ms-averaged rectified EMG that :class:`~nkt_motion.retest.processor.LiveProcessor`
feeds: ``k = 3`` is the Hodges & Bui threshold the offline onsets use, and the
two durations reject baseline spikes and brief dips inside a hold.

Block times are placed on the grid ``t = origin + i / fs_env`` set by the first
block: a block that starts later than expected leaves a gap (which counts as
elapsed time in the current state), and samples already seen are dropped.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from nkt_motion.dsp._validate import validate_fs, validate_positive
from nkt_motion.errors import SignalError, ValidationError

__all__ = ["DetectedEvent", "TrialDetector"]

logger = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]
_IDLE, _RISING, _ACTIVE, _FALLING, _RESUMING = range(5)


@dataclass(frozen=True, slots=True)
class DetectedEvent:
    """A trial start or stop found in the envelope.

    Attributes
    ----------
    kind : {"start", "stop"}
        Whether the contraction started or stopped.
    t_s : float
        Time of the threshold-crossing sample on the session clock, seconds.
    confirmed_s : float
        Session time at which the event became certain (at least ``t_s`` plus
        the minimum active or quiet duration), seconds.

    Examples
    --------
    >>> DetectedEvent("start", 12.5, 12.7).kind
    'start'
    """

    kind: Literal["start", "stop"]
    t_s: float
    confirmed_s: float


def _as_rows(block: ArrayLike, name: str) -> FloatArray:
    x = np.asarray(block, dtype=np.float64)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2:
        raise ValidationError(
            f"{name} must have shape (n_samples,) or (n_channels, n_samples), got {x.shape}",
            parameter=name,
        )
    if not np.isfinite(x).all():
        raise SignalError(f"{name} holds NaN or infinite values; pass gaps as later start times")
    return x


class TrialDetector:
    """Detect contraction starts and stops in live envelope blocks.

    Parameters
    ----------
    fs_env : float
        Rate of the envelope blocks in Hz.
    k : float
        On threshold: rest mean + ``k`` rest SD (default 3, as Hodges & Bui).
    k_off : float
        Off threshold in rest SD, ``0 <= k_off <= k`` (default 1.5): the
        hysteresis that keeps a trial going through small dips.
    min_active_s : float
        A run must stay active this long (seconds, > 0) to count as a trial.
    min_gap_s : float
        Quiet time (seconds, > 0) that ends a trial; shorter dips are merged.
    baseline : (array_like, array_like), optional
        Rest mean and SD per row; or call :meth:`set_baseline` later.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> det = TrialDetector(100.0).set_baseline(rng.normal(1.0, 0.1, 500))
    >>> x = np.r_[np.ones(100), np.full(150, 5.0), np.ones(100)]
    >>> [(e.kind, round(e.t_s, 2)) for e in det.push(x, 20.0)]
    [('start', 21.0), ('stop', 22.5)]
    """

    def __init__(
        self,
        fs_env: float,
        *,
        k: float = 3.0,
        k_off: float = 1.5,
        min_active_s: float = 0.2,
        min_gap_s: float = 0.3,
        baseline: tuple[ArrayLike, ArrayLike] | None = None,
    ) -> None:
        self.fs = validate_fs(fs_env)
        self.k = validate_positive(k, name="k")
        self.k_off = validate_positive(k_off, name="k_off", allow_zero=True)
        if self.k_off > self.k:
            raise ValidationError(
                f"k_off must be <= k (the off threshold is the lower one), got k_off={k_off} "
                f"and k={k}",
                parameter="k_off",
            )
        self.min_active = max(
            1, round(validate_positive(min_active_s, name="min_active_s") * self.fs)
        )
        self.min_gap = max(1, round(validate_positive(min_gap_s, name="min_gap_s") * self.fs))
        self._on: FloatArray | None = None
        self._off: FloatArray | None = None
        self.reset()
        if baseline is not None:
            self._set_thresholds(*baseline)

    def reset(self) -> None:
        """Forget the time grid and the state (keep the baseline).

        Examples
        --------
        >>> det = TrialDetector(100.0); det.reset(); det.active
        False
        """
        self._origin: float | None = None
        self._end = 0
        self._state = _IDLE
        self._mark = 0  # candidate start (rising) or stop (falling, resuming)
        self._again = 0  # candidate return of a falling trial (resuming)

    @property
    def ready(self) -> bool:
        """Whether a baseline is set (blocks pushed before are only timed, never detected)."""
        return self._on is not None

    @property
    def active(self) -> bool:
        """Whether a confirmed trial is in progress (started and not yet stopped)."""
        return self._state in (_ACTIVE, _FALLING, _RESUMING)

    @property
    def thresholds(self) -> tuple[FloatArray, FloatArray] | None:
        """On and off thresholds per row, in the envelope unit, or None before a baseline."""
        if self._on is None or self._off is None:
            return None
        return self._on.copy(), self._off.copy()

    def _set_thresholds(self, mean: ArrayLike, sd: ArrayLike) -> None:
        mu = np.atleast_1d(np.asarray(mean, dtype=np.float64))
        sigma = np.atleast_1d(np.asarray(sd, dtype=np.float64))
        if mu.ndim != 1 or mu.shape != sigma.shape:
            raise ValidationError(
                f"baseline mean and SD must be 1-D of equal length, got {mu.shape} and "
                f"{sigma.shape}",
                parameter="baseline",
            )
        if not (np.isfinite(mu).all() and np.isfinite(sigma).all() and (sigma > 0).all()):
            raise SignalError(
                f"baseline needs a finite mean and an SD > 0 on every row, got SD {sigma.tolist()}"
            )
        self._on = mu + self.k * sigma
        self._off = mu + self.k_off * sigma

    def set_baseline(self, rest: ArrayLike) -> TrialDetector:
        """Take the thresholds from a rest recording of the same signal.

        Parameters
        ----------
        rest : array_like, shape (n_samples,) or (n_channels, n_samples)
            The envelope over quiet rest, at least 2 samples.

        Returns
        -------
        TrialDetector
            ``self``, with thresholds set.

        Raises
        ------
        SignalError
            If the rest holds NaN, fewer than 2 samples, or a flat row.

        Examples
        --------
        >>> det = TrialDetector(100.0).set_baseline([[1.0, 3.0]])   # mean 2, SD 1
        >>> [t.tolist() for t in det.thresholds]
        [[5.0], [3.5]]
        """
        x = _as_rows(rest, "rest")
        if x.shape[1] < 2:
            raise SignalError(f"rest must hold at least 2 samples, got {x.shape[1]}")
        self._set_thresholds(x.mean(axis=1), x.std(axis=1))
        return self

    def _place(self, start_s: float, n: int) -> int:
        """Index of the block's first sample on the grid; move the grid end past the block."""
        if not math.isfinite(start_s):
            raise ValidationError(f"start_s must be finite, got {start_s}", parameter="start_s")
        if self._origin is None:
            self._origin = float(start_s)
        first = round((start_s - self._origin) * self.fs)
        if first > self._end:
            logger.info("detector: %d samples missing before %.3f s", first - self._end, start_s)
        return first

    def push(self, block: ArrayLike, start_s: float) -> list[DetectedEvent]:
        """Feed the next envelope block; return the events it confirmed.

        Parameters
        ----------
        block : array_like, shape (n_samples,) or (n_channels, n_samples)
            Envelope samples, rows as in the baseline.
        start_s : float
            Session time of the block's first sample, seconds.

        Returns
        -------
        list of DetectedEvent
            Starts and stops confirmed by this block, in time order (empty
            before a baseline is set).

        Examples
        --------
        >>> det = TrialDetector(10.0, min_active_s=0.2, min_gap_s=0.2, baseline=([0.0], [1.0]))
        >>> first, second = det.push([0, 5], 0.0), det.push([5, 5, 0, 0, 0], 0.2)
        >>> first, [(e.kind, e.t_s, e.confirmed_s) for e in second]
        ([], [('start', 0.1, 0.3), ('stop', 0.4, 0.6)])
        """
        x = _as_rows(block, "block")
        if self._on is not None and x.shape[0] != self._on.size:
            raise ValidationError(
                f"block must have {self._on.size} row(s) like the baseline, got {x.shape[0]}",
                parameter="block",
            )
        first = self._place(start_s, x.shape[1])
        if first < self._end:
            x = x[:, self._end - first :]
            first = self._end
        self._end = first + x.shape[1]
        if self._on is None or self._off is None or x.shape[1] == 0:
            return []
        on: NDArray[np.bool_] = np.asarray((x >= self._on[:, None]).any(axis=0))
        live: NDArray[np.bool_] = np.asarray((x >= self._off[:, None]).any(axis=0))
        return self._run(on, live, first)

    def _time(self, index: int) -> float:
        assert self._origin is not None
        return self._origin + index / self.fs

    def _run(
        self, on: NDArray[np.bool_], live: NDArray[np.bool_], base: int
    ) -> list[DetectedEvent]:
        """Step the state machine over one block, jumping from one change to the next."""
        out: list[DetectedEvent] = []
        i, n = 0, on.size
        while i < n:
            state = self._state
            if state in (_IDLE, _ACTIVE):  # wait for a rise (idle) or a fall (active)
                hits = np.flatnonzero((on if state == _IDLE else ~live)[i:])
                if hits.size == 0:
                    break
                i += int(hits[0])
                self._mark = base + i
                self._state = _RISING if state == _IDLE else _FALLING
                continue
            if state == _FALLING:  # a return to "on" before min_gap may resume the trial
                end = self._mark + self.min_gap - base
                hits = np.flatnonzero(on[i : max(i, min(n, end))])
                if hits.size:
                    i += int(hits[0])
                    self._again, self._state = base + i, _RESUMING
                elif end <= n:
                    out.append(self._event("stop", self._mark, base + i, self.min_gap))
                    self._state, i = _IDLE, max(i, end)
                else:
                    break
                continue
            # rising or resuming: the run must stay active for min_active
            first = self._mark if state == _RISING else self._again
            end = first + self.min_active - base
            hits = np.flatnonzero(~live[i : max(i, min(n, end))])
            if hits.size:  # too short: a spike, not a contraction
                i += int(hits[0])
                self._state = _IDLE if state == _RISING else _FALLING
            elif end <= n:
                if state == _RISING:
                    out.append(self._event("start", self._mark, base + i, self.min_active))
                self._state, i = _ACTIVE, max(i, end)
            else:
                break
        return out

    def _event(
        self, kind: Literal["start", "stop"], mark: int, now: int, wait: int
    ) -> DetectedEvent:
        return DetectedEvent(kind, self._time(mark), self._time(max(now, mark + wait)))
