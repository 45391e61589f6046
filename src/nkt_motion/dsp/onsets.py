"""Onset and offset of muscle activity: Hodges & Bui, Teager-Kaiser, Bonato double threshold.

- ``"hodges_bui"`` (Hodges & Bui 1996, Electroencephalogr Clin Neurophysiol
  101:511): the rectified signal is low-passed (they compared 10/50/500 Hz);
  a sample is active when the mean over a window (20/50/100 ms compared) centred
  on it exceeds the baseline mean + h SD.
- ``"tkeo"`` (Solnik et al. 2010, Eur J Appl Physiol 110:489): the
  Teager-Kaiser energy operator used as signal conditioning before the same
  threshold detector: ``|psi|`` low-passed, averaged over the centred window and
  held against mu_rest + j sigma_rest.
- ``"double_threshold"`` (Bonato, D'Alessio & Knaflitz 1998, IEEE TBME 45:287):
  ``z_k = (x[2k]**2 + x[2k+1]**2) / sigma_n**2`` per pair of samples; pair k is
  active when at least r0 of the m pairs ending at k exceed zeta.

Convention: the baseline mean and SD are taken from the very signal that is
tested (the low-passed, window-averaged one) over the baseline interval, so h
and j count SDs of that signal. BioSPPy takes them from the unsmoothed
rectified rest by default; handing it our statistics gives the same onsets.

Defaults (window 25 ms, 50 Hz low-pass, h = 3, j = 5, 30 ms minimum duration)
place onsets of clear simulated bursts (75 ms raised-cosine rise) within 20 ms
of the truth; amplitude detectors report a rise from zero slightly late, and
the TKEO, an energy (amplitude squared) measure, a little later than Hodges & Bui.
Zero-phase filtering before detection spreads a burst backwards in time: a
zero-phase mains notch (Q = 30) rings for about 200 ms before a strong burst
and makes onsets early, so notch causally (``zero_phase=False``) or not at all
before detecting onsets.

Active runs shorter than ``min_duration`` are dropped after gaps shorter than
``min_gap`` are merged. Times are in seconds from the first sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, stats

from nkt_motion.dsp._onset_test import against_baseline, smoothed
from nkt_motion.dsp._validate import (
    FloatArray,
    as_signal,
    bridge_nans,
    check_length,
    map_rows,
    validate_choice,
    validate_fs,
    validate_positive,
)
from nkt_motion.dsp.envelope import _moving_mean, tkeo, window_samples
from nkt_motion.dsp.filter_design import lowpass_sos, min_length
from nkt_motion.errors import SignalError, ValidationError

__all__ = ["DEFAULT_THRESHOLDS", "bonato_zeta", "detect_onsets", "onsets_to_frame"]

OnsetMethod = Literal["hodges_bui", "tkeo", "double_threshold"]
_METHODS: tuple[OnsetMethod, ...] = ("hodges_bui", "tkeo", "double_threshold")

#: Default threshold per method: h (in baseline SD), j (in baseline SD) and zeta.
#: zeta = 9.2 gives a false-alarm probability of about 0.05 with m=5, r0=1
#: (see :func:`bonato_zeta`).
DEFAULT_THRESHOLDS: dict[str, float] = {"hodges_bui": 3.0, "tkeo": 5.0, "double_threshold": 9.2}


def bonato_zeta(false_alarm: float = 0.05, *, m: int = 5, r0: int = 1) -> float:
    """Return the Bonato threshold zeta for a wanted false-alarm probability.

    Parameters
    ----------
    false_alarm : float
        Probability that a window of m baseline pairs holds at least r0 values of
        z above zeta, in (0, 1).
    m, r0 : int
        Window length in sample pairs and the number of pairs that must exceed zeta.

    Returns
    -------
    float
        zeta, dimensionless. Under Gaussian baseline noise z follows a
        chi-square law with 2 degrees of freedom, so ``P(z > zeta) = exp(-zeta / 2)``.

    Examples
    --------
    >>> round(bonato_zeta(0.05), 2)
    9.17
    """
    if not 0 < false_alarm < 1:
        raise ValidationError(f"false_alarm must be in (0, 1), got {false_alarm}")
    if not 1 <= r0 <= m:
        raise ValidationError(f"r0 must be in [1, m={m}], got {r0}", parameter="r0")
    p = optimize.brentq(lambda q: stats.binom.sf(r0 - 1, m, q) - false_alarm, 1e-15, 1 - 1e-15)
    return float(-2.0 * np.log(p))


def _baseline_slice(baseline: tuple[float, float], fs: float, n: int) -> slice:
    t0, t1 = (float(v) for v in baseline)
    a, b = round(t0 * fs), round(t1 * fs)
    if not 0 <= a < b <= n or b - a < 2:
        raise ValidationError(
            f"baseline must be an interval (start, stop) in seconds inside the signal "
            f"(0 to {n / fs:g} s) holding at least 2 samples, got {baseline}",
            parameter="baseline",
        )
    return slice(a, b)


def _hodges_bui(
    x: FloatArray, fs: float, base: slice, h: float, window: float, lowpass: float | None
) -> NDArray[np.bool_]:
    return _smoothed_against_baseline(np.abs(x), fs, base, h, window, lowpass)


def _tkeo(
    x: FloatArray, fs: float, base: slice, j: float, window: float, lowpass: float | None
) -> NDArray[np.bool_]:
    return _smoothed_against_baseline(np.abs(tkeo(x)), fs, base, j, window, lowpass)


def _smoothed_against_baseline(
    r: FloatArray, fs: float, base: slice, k: float, window: float, lowpass: float | None
) -> NDArray[np.bool_]:
    """Active where the centred mean of ``r`` (low-passed) >= mean + k SD over the baseline.

    ``r`` is a new array of the caller's and is overwritten.
    """
    w = window_samples(window, fs)
    if lowpass is None:
        return against_baseline(_moving_mean(r, w, centred=True), base, k)
    sos = lowpass_sos(fs, cutoff=lowpass, order=2)
    check_length(r, min_length(sos), axis=-1, what="zero-phase filtering")
    test = smoothed(r.reshape(-1, r.shape[-1]), sos, w)
    return against_baseline(test, base, k).reshape(r.shape)


def _double_threshold(
    x: FloatArray, base: slice, zeta: float, m: int, r0: int
) -> NDArray[np.bool_]:
    n_pairs = x.shape[-1] // 2
    var = x[..., base].var(axis=-1, keepdims=True)
    if (var <= 0).any():
        raise SignalError("baseline has zero variance; the double threshold needs noise")
    pairs = np.square(x[..., : 2 * n_pairs]).reshape(*x.shape[:-1], n_pairs, 2).sum(axis=-1)
    above = (pairs / var >= zeta).astype(np.int32)
    cs = np.concatenate([np.zeros((*x.shape[:-1], m), np.int32), np.cumsum(above, axis=-1)], -1)
    active_pairs = cs[..., m:] - cs[..., :-m] >= r0
    active = np.zeros(x.shape, dtype=bool)
    active[..., : 2 * n_pairs] = np.repeat(active_pairs, 2, axis=-1)
    return active


def _bursts(active: NDArray[np.bool_], min_len: int, min_gap: int) -> NDArray[np.intp]:
    """(n_bursts, 2) start/stop sample indices of the runs of a 1-D mask."""
    edges = np.diff(active.astype(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    if len(starts) > 1 and min_gap > 0:
        keep = np.concatenate([[True], starts[1:] - stops[:-1] >= min_gap])
        starts = starts[keep]
        stops = stops[np.concatenate([keep[1:], [True]])]
    long_enough = stops - starts >= min_len
    return np.stack([starts[long_enough], stops[long_enough]], axis=1)


def detect_onsets(
    x: ArrayLike,
    fs: float,
    *,
    baseline: tuple[float, float],
    method: OnsetMethod = "hodges_bui",
    threshold: float | None = None,
    window: float = 0.025,
    lowpass: float | None = 50.0,
    min_duration: float = 0.030,
    min_gap: float = 0.0,
    m: int = 5,
    r0: int = 1,
    axis: int = -1,
) -> list[FloatArray]:
    """Detect onsets and offsets of muscle activity per channel.

    Parameters
    ----------
    x : array_like, shape (n_channels, n_samples)
        Band-passed EMG in any unit.
    fs : float
        Sampling rate in Hz.
    baseline : (float, float)
        Rest interval ``(start, stop)`` in seconds from the first sample.
    method : {"hodges_bui", "tkeo", "double_threshold"}
        Detector (see the module notes).
    threshold : float, optional
        h, j or zeta; defaults in :data:`DEFAULT_THRESHOLDS`.
    window : float
        Centred averaging window of Hodges & Bui and TKEO in seconds (default
        25 ms); ``1 / fs`` for none.
    lowpass : float or None
        Low-pass cut-off in Hz of the rectified signal (Hodges & Bui) or of
        ``|psi|`` (TKEO), 2nd-order zero-phase Butterworth; None for none.
    min_duration : float
        Shortest active period kept, in seconds.
    min_gap : float
        Inactive periods shorter than this (seconds) are merged into activity.
    m, r0 : int
        Bonato window length in sample pairs and pairs that must exceed zeta.
    axis : int
        Time axis.

    Returns
    -------
    list of ndarray, one per channel (leading axes flattened), each shape (n_bursts, 2)
        Onset and offset times in seconds; the offset is just after the last
        active sample. Onsets are sorted and lie in ``[0, n_samples / fs)``.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(size=(1, 4000)) * np.r_[np.full(2000, 1.0), np.full(2000, 10.0)]
    >>> detect_onsets(x, 2000.0, baseline=(0.0, 0.5))[0].round(2)
    array([[0.99, 2.  ]])
    """
    fs = validate_fs(fs)
    validate_choice(method, name="method", allowed=_METHODS)
    sig = as_signal(x, axis=axis)
    check_length(sig, 2, axis=axis, what="onset detection")
    sig, _ = bridge_nans(sig, fs)
    base = _baseline_slice(baseline, fs, sig.shape[-1])
    k = (
        DEFAULT_THRESHOLDS[method]
        if threshold is None
        else validate_positive(threshold, name="threshold")
    )

    def detect(block: FloatArray) -> NDArray[np.bool_]:
        if method == "hodges_bui":
            return _hodges_bui(block, fs, base, k, window, lowpass)
        if method == "tkeo":
            return _tkeo(block, fs, base, k, window, lowpass)
        return _double_threshold(block, base, k, int(m), int(r0))

    active = map_rows(detect, sig, dtype=bool)
    min_len = round(validate_positive(min_duration, name="min_duration", allow_zero=True) * fs)
    gap = round(validate_positive(min_gap, name="min_gap", allow_zero=True) * fs)
    rows = active.reshape(-1, active.shape[-1])
    return [_bursts(row, min_len, gap) / fs for row in rows]


def onsets_to_frame(
    bursts: Sequence[ArrayLike], ch_names: Sequence[str], *, t0: float = 0.0
) -> pd.DataFrame:
    """Turn per-channel bursts into a tidy table.

    Parameters
    ----------
    bursts : sequence of array_like, each shape (n_bursts, 2)
        Output of :func:`detect_onsets` (seconds).
    ch_names : sequence of str
        Channel name per entry.
    t0 : float
        Added to every time (e.g. the stream start on the session clock).

    Returns
    -------
    pandas.DataFrame
        Columns ``channel``, ``onset``, ``offset``, ``duration`` (seconds), sorted
        by onset.

    Examples
    --------
    >>> onsets_to_frame([np.array([[1.0, 2.0]])], ["EMG GMED L"], t0=10.0).onset.tolist()
    [11.0]
    """
    if len(bursts) != len(ch_names):
        raise ValidationError(
            f"got {len(bursts)} burst arrays for {len(ch_names)} channel names",
            parameter="ch_names",
        )
    frames = []
    for name, b in zip(ch_names, bursts, strict=True):
        arr = np.asarray(b, dtype=np.float64).reshape(-1, 2) + t0
        frames.append(pd.DataFrame({"channel": name, "onset": arr[:, 0], "offset": arr[:, 1]}))
    cols = ["channel", "onset", "offset"]
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
    df["duration"] = df["offset"] - df["onset"]
    return df.sort_values(["onset", "channel"], kind="stable").reset_index(drop=True)
