"""Signal-quality checks per EMG channel, as rows of the session quality table.

Each check has a documented threshold and, when it fails, a plain-language reason:

- ``flat_line``: fraction of successive samples that do not change; above 0.5
  the electrode is probably off or disconnected.
- ``clipping``: fraction of samples at the observed minimum or maximum (the
  amplifier rails); above 0.01 the signal is saturating.
- ``mains``: fraction of the 20-450 Hz power within +/-1 Hz of the mains
  frequency (Welch, 1 Hz bins; spectra in single precision, within about 1e-6
  of the double-precision value, 1e-5 under a baseline wander 30 times the
  EMG); above 0.10 the notch is needed or an electrode has poor contact. Clean
  EMG puts about 1 % there (3 bins of about 430).
- ``baseline_noise``: RMS of the quietest 100 ms blocks (10th percentile), in
  the signal unit; judged only against ``noise_limit`` when given, since gain
  and unit differ between sensors.
- ``snr``: pseudo-SNR, 20 log10 of the loudest (99th percentile) over the
  quietest (10th percentile) 100 ms block RMS, in dB; below 6 dB there is little
  activity above the baseline. The 99th percentile keeps a session whose
  contractions fill only a few per cent of the time (long rests between
  trials) from reading as inactive; pure noise still stays near 1-2 dB.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike, NDArray
from scipy import fft as sp_fft

from nkt_motion.dsp._validate import FloatArray, as_signal, check_length, map_rows, validate_fs
from nkt_motion.model.tables import make_quality

__all__ = ["QUALITY_THRESHOLDS", "check_quality"]

#: Welch segments transformed, and samples of 100 ms blocks handled, at a time.
_SEGMENTS_AT_ONCE, _SAMPLES_AT_ONCE = 128, 1 << 16

#: Thresholds of the checks (see the module notes).
QUALITY_THRESHOLDS: dict[str, float] = {
    "flat_line": 0.5,
    "clipping": 0.01,
    "mains": 0.10,
    "snr": 6.0,
}


def _flat_fraction(x: FloatArray) -> FloatArray:
    """Fraction of successive samples that are equal (a zero first difference)."""
    same = np.count_nonzero(x[..., 1:] == x[..., :-1], axis=-1)
    out: FloatArray = same / (x.shape[-1] - 1)
    return out


def _clip_fraction(x: FloatArray) -> FloatArray:
    lo, hi = x.min(axis=-1, keepdims=True), x.max(axis=-1, keepdims=True)
    at_rails = np.count_nonzero(x == lo, axis=-1) + np.count_nonzero(x == hi, axis=-1)
    frac: FloatArray = at_rails / x.shape[-1]
    return np.where(hi[..., 0] > lo[..., 0], frac, 0.0)


def _band_power(x: NDArray[np.float32], fs: float) -> tuple[FloatArray, FloatArray]:
    """Welch power (Hann, 50 % overlap, 1 Hz bins) per bin of 20-450 Hz, unscaled.

    ``x`` is the signal less its mean, in single precision. Returns the bin
    frequencies and the power per row and bin, proportional to
    :func:`scipy.signal.welch` (``detrend="constant"``, double precision) to
    within about 1e-7 times the ratio of the signal's amplitude to its in-band
    amplitude; the sums over segments are in double precision. The periodic
    Hann window is applied in the frequency domain as the three-tap kernel
    (-1/4, 1/2, -1/4) on the unwindowed spectrum of each segment, and the
    per-segment mean removal is left out: the window's spectrum is zero beyond
    the first bin, so the mean reaches bins 0 and 1 only, while the band starts
    at 20 Hz, bin 2 or higher for any segment of at least 100 ms.
    """
    nperseg = min(x.shape[-1], round(fs))
    f = sp_fft.rfftfreq(nperseg, 1.0 / fs)
    tol = 1e-9 * fs  # rfftfreq's Nyquist bin may land a rounding error above fs / 2
    (inside,) = np.nonzero((f >= 20.0 - tol) & (f <= min(450.0, fs / 2) + tol))
    if inside.size == 0:
        return f[:0], np.zeros((*x.shape[:-1], 0))
    lo, hi = int(inside[0]), int(inside[-1])
    segments = sliding_window_view(x, nperseg, axis=-1)[..., :: nperseg - nperseg // 2, :]
    power = np.zeros((*x.shape[:-1], hi - lo + 1))
    for i in range(0, segments.shape[-2], _SEGMENTS_AT_ONCE):  # spectra stay in cache
        power += _windowed_power(segments[..., i : i + _SEGMENTS_AT_ONCE, :], lo, hi)
    if nperseg % 2 == 0 and f[inside[-1]] == f[-1]:  # the Nyquist bin is not doubled
        power[..., -1] /= 2.0
    return f[inside], power


def _windowed_power(segments: NDArray[np.float32], lo: int, hi: int) -> FloatArray:
    """Power in bins ``lo`` to ``hi`` of the Hann-windowed segments, summed over segments."""
    nperseg = segments.shape[-1]
    spec = sp_fft.rfft(segments, axis=-1)
    if hi + 1 == spec.shape[-1]:  # the bin above the last is the mirror image of one below
        mirror = np.conj(spec[..., nperseg - hi - 1 : nperseg - hi])
        spec = np.concatenate([spec[..., lo - 1 :], mirror], axis=-1)
        lo, hi = 1, hi - lo + 1
    windowed = spec[..., lo - 1 : hi] + spec[..., lo + 1 : hi + 2]
    windowed *= -0.5
    windowed += spec[..., lo : hi + 1]
    parts = windowed.view(np.float32)
    np.square(parts, out=parts)
    power: FloatArray = (
        parts.sum(axis=-2, dtype=np.float64).reshape(*parts.shape[:-2], -1, 2).sum(axis=-1)
    )
    return power


def _mains_fraction(x: FloatArray, fs: float, mains: float) -> FloatArray:
    """Share of the 20-450 Hz Welch power within 1 Hz of ``mains``, per row (see the notes)."""
    centred = np.empty(x.shape, dtype=np.float32)  # less the mean in double, then rounded
    np.subtract(x, x.mean(axis=-1, keepdims=True), out=centred, casting="same_kind")
    f, power = _band_power(centred, fs)
    total = power.sum(axis=-1)
    near = power[..., np.abs(f - mains) <= 1.0 + 1e-9].sum(axis=-1)
    out: FloatArray = np.divide(near, total, out=np.zeros_like(total), where=total > 0)
    return out


def _block_rms(x: FloatArray, fs: float) -> tuple[FloatArray, FloatArray]:
    """Quiet (10th percentile) and loud (99th) RMS of the 100 ms blocks, mean removed."""
    w = max(1, round(0.1 * fs))
    n = max(1, x.shape[-1] // w)
    blocks = x[..., : n * w].reshape(*x.shape[:-1], n, w)
    rms = np.empty(blocks.shape[:-1])
    step = max(1, _SAMPLES_AT_ONCE // w)
    for i in range(0, n, step):  # a few blocks at a time: the deviations stay in cache
        part = blocks[..., i : i + step, :]
        dev = part - part.mean(axis=-1, keepdims=True)
        rms[..., i : i + step] = np.sqrt(np.square(dev, out=dev).mean(axis=-1))
    return np.percentile(rms, 10, axis=-1), np.percentile(rms, 99, axis=-1)


def _stats(x: FloatArray, fs: float, mains: float) -> FloatArray:
    """Flat, clip, mains fractions and quiet/loud block RMS per row, shape (n_rows, 5)."""
    hum = _mains_fraction(x, fs, mains)
    return np.stack([_flat_fraction(x), _clip_fraction(x), hum, *_block_rms(x, fs)], axis=-1)


def _row(
    stream: str, ch: str, check: str, value: float, limit: float, ok: bool, why: str
) -> dict[str, object]:
    return {
        "stream": stream,
        "channel": ch,
        "check": check,
        "value": float(value),
        "threshold": float(limit),
        "ok": bool(ok),
        "reason": "" if ok else why,
    }


def check_quality(
    x: ArrayLike,
    fs: float,
    *,
    ch_names: Sequence[str],
    stream: str = "emg",
    mains: float = 50.0,
    noise_limit: float | None = None,
    axis: int = -1,
) -> pd.DataFrame:
    """Run the quality checks on raw EMG and return the quality-table rows.

    Parameters
    ----------
    x : array_like, shape (n_channels, n_samples)
        Raw (unfiltered) EMG, at least 100 ms long, without NaN.
    fs : float
        Sampling rate in Hz.
    ch_names : sequence of str
        Channel names in row order.
    stream : str
        Stream name for the table.
    mains : float
        Mains frequency in Hz (50 or 60).
    noise_limit : float, optional
        Largest acceptable baseline-noise RMS in the unit of ``x``.
    axis : int
        Time axis.

    Returns
    -------
    pandas.DataFrame
        Built by :func:`~nkt_motion.make_quality`: five rows per channel
        (``flat_line``, ``clipping``, ``mains``, ``baseline_noise``, ``snr``).

    Examples
    --------
    >>> q = check_quality(np.zeros((1, 2000)), 2000.0, ch_names=["EMG ADL L"])
    >>> q.loc[q.check == "flat_line", "reason"].item()
    'EMG ADL L looks disconnected: 100 % of samples are flat'
    """
    fs = validate_fs(fs)
    sig = as_signal(x, axis=axis).reshape(-1, np.shape(x)[axis])
    check_length(sig, max(2, round(0.1 * fs)), axis=axis, what="quality checks (100 ms)")
    th = QUALITY_THRESHOLDS
    flat, clip, hum, noise, loud = map_rows(lambda r: _stats(r, fs, mains), sig, width=5).T
    snr = 20 * np.log10(np.divide(loud, noise, out=np.ones_like(loud), where=noise > 0))
    limit = np.nan if noise_limit is None else float(noise_limit)
    rows = []
    for i, ch in enumerate(ch_names):
        rows += [
            _row(
                stream,
                ch,
                "flat_line",
                flat[i],
                th["flat_line"],
                flat[i] <= th["flat_line"],
                f"{ch} looks disconnected: {100 * flat[i]:.0f} % of samples are flat",
            ),
            _row(
                stream,
                ch,
                "clipping",
                clip[i],
                th["clipping"],
                clip[i] <= th["clipping"],
                f"{ch} is clipping: {100 * clip[i]:.1f} % of samples sit at the rails",
            ),
            _row(
                stream,
                ch,
                "mains",
                hum[i],
                th["mains"],
                hum[i] <= th["mains"],
                f"{ch} carries mains interference: {100 * hum[i]:.0f} % of the EMG-band "
                f"power is at {mains:g} Hz",
            ),
            _row(
                stream,
                ch,
                "baseline_noise",
                noise[i],
                limit,
                not noise[i] > limit,
                f"{ch} has a noisy baseline: {noise[i]:.3g} RMS above the limit {limit:g}",
            ),
            _row(
                stream,
                ch,
                "snr",
                snr[i],
                th["snr"],
                snr[i] >= th["snr"] or flat[i] > 0.5,
                f"{ch} shows little activity above its baseline: pseudo-SNR {snr[i]:.1f} dB",
            ),
        ]
    return make_quality(rows)
