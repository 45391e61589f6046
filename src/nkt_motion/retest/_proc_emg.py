"""The live EMG chain: causal forms of the offline feature chain, block by block.

Per channel, each block of raw EMG (uV) goes through:

1. the mains notch at the fundamental and its harmonics (when a mains
   frequency is given) and the 20-450 Hz Butterworth band-pass (high edge
   ``min(450, 0.45 fs)``), as :func:`nkt_motion.features.trial_table` applies
   them, but causal and with state carried across blocks
   (:class:`~nkt_motion.dsp.StreamingFilter`);
2. the square of the result (summed over a trial: RMS), its 6 Hz linear
   envelope (summed: envelope mean; the live level), and its rectified 50 Hz
   2nd-order low-pass, the Hodges & Bui test signal before its 25 ms moving
   mean (kept for a trial's onsets, and averaged over a trailing 25 ms for the
   trial detector).

A missing stretch of up to 10 ms is bridged by linear interpolation, exactly as
:func:`~nkt_motion.dsp.bridge_nans` bridges it offline; a longer gap is left
missing, and the band-pass restarts from the steady state of the first sample
after it while the envelopes hold their state.

The causal filters start from rest (zero state), so their first output rings:
for about 0.15 s after the band-pass starts, and about 1.3 s with the mains
notch (Q = 30, time constant 0.19 s at 50 Hz). The onset baseline taken from a
rest trial leaves out the samples before the filters settled (seven time
constants of the slowest pole), which offline zero-phase filtering, padded at
the edges, does not need to.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import signal

from nkt_motion.dsp._validate import MAX_NAN_GAP
from nkt_motion.dsp.envelope import _moving_mean, window_samples
from nkt_motion.dsp.filters import bandpass_sos, lowpass_sos, notch_sos
from nkt_motion.dsp.onsets import DEFAULT_THRESHOLDS, _bursts
from nkt_motion.dsp.streaming import StreamingFilter
from nkt_motion.retest._proc_ring import Ring, SampleClock, Window

__all__ = [
    "EmgTrack",
    "Gap",
    "OnsetBaseline",
    "TrailingMean",
    "detector_rest",
    "onset_baseline",
    "trial_onsets",
]

logger = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]
#: Hodges & Bui averaging window (s) and low-pass (Hz), as the offline defaults.
ONSET_WINDOW_S = 0.025
ONSET_LOWPASS_HZ = 50.0
#: Shortest burst kept, seconds (the offline default).
ONSET_MIN_S = 0.030
#: Seconds before a trial that its onset analysis also looks at.
ONSET_LEAD_S = 0.100


@dataclass(frozen=True, slots=True)
class Gap:
    """Samples of one live stream that never arrived.

    Attributes
    ----------
    stream : str
        ``"emg"`` or ``"imu <site>"``.
    start_s : float
        Session time of the first missing sample, seconds.
    duration_s : float
        Length of the gap, seconds.
    bridged : bool
        Whether it was bridged by linear interpolation (EMG gaps up to 10 ms).

    Examples
    --------
    >>> Gap("emg", 12.0, 0.005, True).bridged
    True
    """

    stream: str
    start_s: float
    duration_s: float
    bridged: bool


@dataclass(frozen=True, slots=True)
class OnsetBaseline:
    """Rest mean and SD per channel of the Hodges & Bui test signal (uV).

    Examples
    --------
    >>> OnsetBaseline(np.ones(2), np.ones(2)).threshold(3.0).tolist()
    [4.0, 4.0]
    """

    mean: FloatArray
    sd: FloatArray

    def threshold(self, h: float) -> FloatArray:
        """Mean + ``h`` SD per channel."""
        return self.mean + h * self.sd


class TrailingMean:
    """Mean over the last ``w`` samples (fewer at the start), carried across blocks.

    Examples
    --------
    >>> m = TrailingMean(1, 2)
    >>> m.process(np.array([[2.0, 4.0]])).tolist(), m.process(np.array([[6.0]])).tolist()
    ([[2.0, 3.0]], [[5.0]])
    """

    def __init__(self, n_rows: int, w: int) -> None:
        self.w = w
        self.n_rows = n_rows
        self.reset()

    def reset(self) -> None:
        """Forget the past samples."""
        self._tail = np.zeros((self.n_rows, self.w))
        self.seen = 0

    def process(self, x: FloatArray) -> FloatArray:
        """Return the trailing mean at each sample of ``x``, shape (n_rows, n)."""
        n, w = x.shape[1], self.w
        ext = np.concatenate([self._tail, x], axis=1)
        cs = np.cumsum(ext, axis=1)
        out: FloatArray = cs[:, w:] - cs[:, :n]
        out /= np.minimum(self.seen + np.arange(1, n + 1), w)
        self._tail = ext[:, n:]
        self.seen += n
        return out


def settle_samples(sos: FloatArray) -> int:
    """Return the samples the slowest pole of ``sos`` takes to decay by ``e**-7`` (1e-3)."""
    r = max(float(np.abs(np.roots([1.0, sec[4], sec[5]])).max()) for sec in sos)
    return math.ceil(7.0 / -math.log(r)) if 0.0 < r < 1.0 else 1


class EmgTrack:
    """Causal EMG chain with a ring of recent samples and the open trial's window.

    Rows of the ring, each ``n_channels`` long: squared band-passed EMG (uV^2),
    6 Hz envelope (uV), 50 Hz low-passed rectified EMG (uV).
    """

    def __init__(
        self,
        fs: float,
        n_channels: int,
        *,
        mains_hz: float | None,
        lookback_s: float,
        max_trial_s: float,
    ) -> None:
        self.fs, self.n = fs, n_channels
        sos = bandpass_sos(fs, low=20.0, high=min(450.0, 0.45 * fs))
        if mains_hz is not None:
            sos = np.vstack([notch_sos(fs, freq=mains_hz, harmonics=True), sos])
        self.band = StreamingFilter(sos, n_channels)
        self.settle = self.settled_at = settle_samples(sos)
        self.env = StreamingFilter(lowpass_sos(fs, cutoff=6.0, order=4), n_channels)
        self.hb = StreamingFilter(lowpass_sos(fs, cutoff=ONSET_LOWPASS_HZ, order=2), n_channels)
        self.mean = TrailingMean(n_channels, window_samples(ONSET_WINDOW_S, fs))
        self.clock = SampleClock(fs, "emg")
        self.ring = Ring(3 * n_channels, round(lookback_s * fs))
        self.max_keep = round(max_trial_s * fs)
        self.window: Window | None = None
        self.gaps: list[Gap] = []
        self._pending: float | None = None
        self._last: FloatArray | None = None

    # -- trials ---------------------------------------------------------------
    def open(self, t_s: float) -> None:
        """Start a trial window at session time ``t_s`` (past, present or future)."""
        if self.clock.origin is None:
            self._pending, self.window = t_s, None
            return
        start = max(0, self.clock.index(t_s))
        self.window = Window(start, 3 * self.n, 2 * self.n, self.max_keep)
        if start < self.ring.end:
            self.window.add_past(self.ring)

    def close(self, t_s: float) -> tuple[Window | None, int]:
        """End the open window at ``t_s``; return it (None when no sample came) and its stop."""
        window, self.window, self._pending = self.window, None, None
        if window is None or self.clock.origin is None:
            return None, 0
        return window, window.close(self.clock.index(t_s), self.ring)

    # -- samples --------------------------------------------------------------
    def push(self, x: FloatArray, start_s: float) -> tuple[int, FloatArray] | None:
        """Process a checked raw block; return its first index and detector rows."""
        skip, missing = self.clock.place(start_s, x.shape[1])
        x = x[:, skip:]
        if x.shape[1] == 0:
            return None
        if self._pending is not None:
            self.open(self._pending)
            self._pending = None
        if missing:
            x = self._gap(missing, x)
        y = self.band.process(x)
        r = np.abs(y)
        rows = np.concatenate([np.square(y, out=y), self.env.process(r), self.hb.process(r)])
        first = self.ring.end
        self.ring.append(rows)
        if self.window is not None:
            self.window.add(first, rows)
        self._last = x[:, -1].copy()
        return first, self.mean.process(rows[2 * self.n :])

    def _gap(self, missing: int, x: FloatArray) -> FloatArray:
        """Bridge a short gap (return the block with the bridge in front) or leave it missing."""
        t0 = self.clock.time(self.ring.end)
        bridged = missing <= math.floor(MAX_NAN_GAP * self.fs + 1e-9) and self._last is not None
        self.gaps.append(Gap("emg", t0, missing / self.fs, bridged))
        if bridged:
            assert self._last is not None
            frac = np.arange(1, missing + 1) / (missing + 1)
            fill = self._last[:, None] + (x[:, :1] - self._last[:, None]) * frac
            logger.info("emg: bridged %d missing sample(s) at %.3f s", missing, t0)
            return np.concatenate([fill, x], axis=1)
        logger.warning("emg: %d sample(s) missing at %.3f s; filters restarted", missing, t0)
        if self.window is not None:
            self.window.add_missing(self.ring.end, missing)
        self.ring.append_missing(missing)
        zi = signal.sosfilt_zi(self.band.sos)
        self.band.zi = zi[:, None, :] * x[None, :, 0, None]
        self.settled_at = self.ring.end + self.settle
        self.mean.reset()
        return x

    def rest_rows(self, window: Window) -> FloatArray:
        """Low-passed rows of a closed rest window once the filters had settled."""
        low = window.kept()
        skip = min(max(0, self.settled_at - window.start), low.shape[1])
        if low.shape[1] - skip >= 2:
            return low[:, skip:]
        logger.warning("rest trial ends before the EMG filters settled; baseline may be high")
        return low

    def onsets_ms(self, window: Window, base: OnsetBaseline, start_s: float) -> list[float | None]:
        """First onset per channel in a closed window, ms after ``start_s`` (None if none).

        The analysis starts :data:`ONSET_LEAD_S` before the window, from the
        ring: a burst that began in that lead and lasts into the trial has a
        small negative onset (a trial begun at a detected contraction onset
        keeps its first muscle), one under way for longer is "already active".
        """
        if not window.count:
            return [None] * self.n
        lead = self.ring.get(window.start - round(ONSET_LEAD_S * self.fs), window.start)
        low = np.concatenate([lead[2 * self.n :], window.kept()], axis=1)
        t_first = self.clock.time(window.start - lead.shape[1])
        found = trial_onsets(low, self.fs, base, lead=lead.shape[1])
        return [
            None if i is None else 1000.0 * (t_first + i / self.fs - start_s) for i, _ in found
        ]

    # -- live view ------------------------------------------------------------
    def levels(self) -> FloatArray:
        """Latest envelope value per channel, uV (NaN before any sample)."""
        return self.ring.last()[self.n : 2 * self.n]


def detector_rest(low_passed: FloatArray, fs: float) -> FloatArray:
    """Trailing 25 ms mean of a rest's low-passed rectified EMG: the detector's rest signal."""
    rest = _moving_mean(low_passed, window_samples(ONSET_WINDOW_S, fs), centred=False)
    return rest[:, np.isfinite(rest).all(axis=0)]


def hodges_bui_signal(low_passed: FloatArray, fs: float) -> FloatArray:
    """Centred 25 ms moving mean of the low-passed rectified EMG, shape kept."""
    if low_passed.shape[-1] == 0:
        return low_passed.copy()
    return _moving_mean(low_passed, window_samples(ONSET_WINDOW_S, fs), centred=True)


def onset_baseline(low_passed: FloatArray, fs: float) -> OnsetBaseline | None:
    """Rest statistics of the Hodges & Bui test signal, or None without 2 finite samples."""
    test = hodges_bui_signal(low_passed, fs)
    ok = np.isfinite(test).all(axis=0)
    if ok.sum() < 2:
        return None
    return OnsetBaseline(test[:, ok].mean(axis=1), test[:, ok].std(axis=1))


def trial_onsets(
    low_passed: FloatArray,
    fs: float,
    base: OnsetBaseline,
    *,
    h: float | None = None,
    lead: int = 0,
) -> list[tuple[float | None, Literal["", "active", "none"]]]:
    """First burst of each channel in a trial, in samples after the first sample given.

    ``lead`` samples before the trial come first: bursts that end before the
    trial are skipped. Returns one ``(onset, why)`` per channel: ``why`` is
    ``"active"`` when the first burst that reaches into the trial began before
    the samples given, ``"none"`` when no burst of at least 30 ms reaches into it.
    """
    thr = base.threshold(DEFAULT_THRESHOLDS["hodges_bui"] if h is None else h)
    test = hodges_bui_signal(low_passed, fs)
    with np.errstate(invalid="ignore"):
        active = test >= thr[:, None]
    out: list[tuple[float | None, Literal["", "active", "none"]]] = []
    min_len = round(ONSET_MIN_S * fs)
    for row in active:
        runs = _bursts(row, min_len, 0)
        runs = runs[runs[:, 1] > lead]
        if len(runs) == 0:
            out.append((None, "none"))
        elif runs[0, 0] == 0:
            out.append((None, "active"))
        else:
            out.append((float(runs[0, 0]), ""))
    return out
