"""Co-contraction, spectral frequencies, normalisation and quality checks."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from nkt_motion import SignalError, ValidationError
from nkt_motion.dsp import (
    bandpass,
    check_quality,
    cocontraction,
    envelope,
    median_frequency_slope,
    moving_rms,
    normalise,
    spectral_frequencies,
)

FS = 2000.0


def test_cocontraction_by_hand() -> None:
    a = np.array([[2.0, 1.0, 0.0, 4.0]])
    b = np.array([[1.0, 3.0, 0.0, 4.0]])
    # Rudolph per sample: (1/2)*3=1.5, (1/3)*4=4/3, 0, 1*8=8 -> mean
    assert cocontraction(a, b, method="rudolph")[0] == pytest.approx((1.5 + 4 / 3 + 0 + 8) / 4)
    # Falconer & Winter on mean amplitudes 7/4 and 8/4
    assert cocontraction(a, b, method="falconer_winter")[0] == pytest.approx(
        100 * 2 * 1.75 / (1.75 + 2.0)
    )
    # Winter: common area 1+1+0+4=6, areas 7 and 8
    assert cocontraction(a, b, method="winter")[0] == pytest.approx(100 * 2 * 6 / 15)
    assert cocontraction(a, a, method="winter")[0] == pytest.approx(100.0)
    assert cocontraction(np.zeros((1, 3)), np.zeros((1, 3)), method="rudolph")[0] == 0.0


def test_cocontraction_bad_input() -> None:
    with pytest.raises(ValidationError, match="non-negative"):
        cocontraction([[-1.0, 2.0]], [[1.0, 1.0]])
    with pytest.raises(ValidationError, match="same shape"):
        cocontraction([[1.0, 2.0]], [[1.0]])


def test_median_and_mean_frequency_of_known_spectra() -> None:
    rng = np.random.default_rng(0)
    white = rng.normal(size=(1, 40_000))
    sf = spectral_frequencies(white, FS, window=2.0, nperseg=512)
    np.testing.assert_allclose(sf.median, FS / 4, rtol=0.05)  # flat spectrum 0..fs/2
    np.testing.assert_allclose(sf.mean, FS / 4, rtol=0.05)
    # two tones 60 Hz (power 1) and 200 Hz (power 3): mean = (60 + 600) / 4
    t = np.arange(8000) / FS
    x = np.sin(2 * np.pi * 60 * t) + np.sqrt(3) * np.sin(2 * np.pi * 200 * t)
    sf2 = spectral_frequencies(x[None], FS, window=2.0, nperseg=4000)
    assert sf2.mean[0, 0] == pytest.approx(165.0, rel=0.01)
    assert 60.0 < sf2.median[0, 0] <= 200.0
    np.testing.assert_allclose(sf.times, np.arange(1, 20, 2))


def test_spectral_frequencies_against_welch_loop() -> None:
    x = bandpass(np.random.default_rng(1).normal(size=(2, 6000)), FS)
    sf = spectral_frequencies(x, FS, window=0.5, step=0.25, nperseg=256)
    w, hop = 1000, 500
    for c in range(2):
        for k, start in enumerate(range(0, 6000 - w + 1, hop)):
            f, p = signal.welch(x[c, start : start + w], fs=FS, nperseg=256)
            assert sf.mean[c, k] == pytest.approx((f * p).sum() / p.sum())
            cum = np.cumsum(p)
            i = int(np.searchsorted(cum, cum[-1] / 2))
            assert f[i - 1] <= sf.median[c, k] <= f[i]


def test_median_frequency_slope_of_a_fatiguing_signal() -> None:
    # band-limited noise whose centre frequency falls 4 Hz/s over 10 s
    rng = np.random.default_rng(2)
    pieces = []
    for k in range(10):
        fc = 140.0 - 4.0 * k
        sos = signal.butter(4, [fc - 20, fc + 20], btype="bandpass", output="sos", fs=FS)
        pieces.append(signal.sosfiltfilt(sos, rng.normal(size=2000)))
    slope = median_frequency_slope(np.concatenate(pieces)[None], FS, window=1.0)
    assert slope[0] == pytest.approx(-4.0, abs=1.0)


def test_envelope_and_rms_ratio_of_two_channels() -> None:
    rng = np.random.default_rng(3)
    sos = signal.butter(4, [30.0, 300.0], btype="bandpass", output="sos", fs=FS)
    carrier = signal.sosfiltfilt(sos, rng.normal(size=(2, 20_000)))
    carrier /= carrier.std(axis=1, keepdims=True)
    x = carrier * np.array([[120.0], [40.0]])  # true ratio 3
    y = bandpass(x, FS)
    env, rms = envelope(y, FS), moving_rms(y, FS)
    for amp in (env, rms):
        ratio = amp[0, 2000:-2000].mean() / amp[1, 2000:-2000].mean()
        assert ratio == pytest.approx(3.0, rel=0.05)


def test_normalise_options() -> None:
    x = np.array([[1.0, 3.0, 2.0], [2.0, 2.0, 8.0]])
    y, s = normalise(x, method="peak")
    np.testing.assert_allclose(s, [3.0, 8.0])
    np.testing.assert_allclose(y, x / s[:, None])
    _, s = normalise(x, method="mean")
    np.testing.assert_allclose(s, [2.0, 4.0])
    y, s = normalise(x, method="reference", reference=[[1.0, 3.0], [4.0, 4.0]])
    np.testing.assert_allclose(s, [2.0, 4.0])
    y, s = normalise(x, method="none")
    np.testing.assert_array_equal(y, x)
    with pytest.raises(ValidationError, match="needs the reference"):
        normalise(x, method="reference")
    with pytest.raises(SignalError, match=r"row\(s\) \[1\]"):
        normalise(x, method="reference", reference=[1.0, 0.0])


def _clean(rng: np.random.Generator, n: int = 20_000) -> np.ndarray:
    sos = signal.butter(4, [30.0, 300.0], btype="bandpass", output="sos", fs=FS)
    burst = (np.arange(n) % 8000 > 4000) * 20.0 + 1.0
    return signal.sosfiltfilt(sos, rng.normal(size=n)) * burst


def test_quality_flags_bad_channels_and_passes_clean() -> None:
    rng = np.random.default_rng(4)
    clean = _clean(rng)
    flat = np.zeros_like(clean)
    flat[:200] = clean[:200]
    clipped = np.clip(clean * 4, -5.0, 5.0)
    t = np.arange(clean.size) / FS
    hum = clean + 10.0 * np.sin(2 * np.pi * 50.0 * t)
    names = ["EMG GMED L", "EMG ADL L", "EMG TFL L", "EMG QL L"]
    q = check_quality(np.stack([clean, flat, clipped, hum]), FS, ch_names=names)
    failed = {(r.channel, r.check) for r in q.itertuples() if not r.ok}
    # the hum fills the quiet blocks too, but the bursts still rise above it
    assert failed == {
        ("EMG ADL L", "flat_line"),
        ("EMG TFL L", "clipping"),
        ("EMG QL L", "mains"),
    }
    reason = q.set_index(["channel", "check"]).loc[("EMG ADL L", "flat_line"), "reason"]
    assert reason == "EMG ADL L looks disconnected: 99 % of samples are flat"
    assert len(q) == 5 * len(names)
    assert q.loc[q.check == "snr", "value"].iloc[0] > 20.0


def test_sparse_activity_is_not_read_as_inactive() -> None:
    # 2 s of contraction in 60 s of rest (3 % of the time), as in a long session
    rng = np.random.default_rng(6)
    x = rng.normal(size=120_000)
    x[60_000:64_000] *= 20.0
    q = check_quality(x[None], FS, ch_names=["EMG GMED L"])
    assert bool(q.set_index("check").loc["snr", "ok"])
    noise = check_quality(rng.normal(size=(1, 120_000)), FS, ch_names=["EMG GMED L"])
    assert not bool(noise.set_index("check").loc["snr", "ok"])


def test_quality_noise_limit_and_low_snr() -> None:
    rng = np.random.default_rng(5)
    q = check_quality(rng.normal(size=(1, 4000)) * 30.0, FS, ch_names=["EMG VL R"], noise_limit=10)
    failed = set(q.loc[~q.ok, "check"])
    assert failed == {"baseline_noise", "snr"}
