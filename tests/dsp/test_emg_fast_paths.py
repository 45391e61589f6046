"""The fast paths of the offline EMG chain against slow, obvious implementations."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import signal

from nkt_motion import ValidationError
from nkt_motion.dsp import (
    StreamingEmgChain,
    bandpass,
    bandpass_notch,
    bandpass_notch_sos,
    bandpass_sos,
    check_quality,
    detect_onsets,
    envelope,
    lowpass_sos,
    moving_rms,
    notch,
    notch_sos,
    settle_length,
)

envelope_mod = importlib.import_module("nkt_motion.dsp.envelope")
quality_mod = importlib.import_module("nkt_motion.dsp.quality")
onset_test = importlib.import_module("nkt_motion.dsp._onset_test")

FS = 2000.0
RNG = np.random.default_rng(2026)


def _bursty(n: int, seed: int, *, rows: int = 2, fs: float = FS) -> np.ndarray:
    """Noise whose amplitude steps between rest and bursts of a few seconds."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / fs
    level = 1.0 + rng.uniform(2, 9) * (np.sin(2 * np.pi * rng.uniform(0.1, 0.4) * t) > 0.3)
    return rng.normal(size=(rows, n)) * level + 0.5 * np.sin(2 * np.pi * 50.0 * t)


# -- band-pass + notch as one cascade -------------------------------------------------


CASCADES = [{}, {"mains": 60.0, "quality": 10.0}, {"low": 10.0, "order": 2}]


@pytest.mark.parametrize(
    "n, kw",
    [(n, kw) for n in (28, 5_000, 70_000, 300_000) for kw in CASCADES]
    + [(n, {"harmonics": True}) for n in (5_000, 70_000)],
)
def test_bandpass_notch_equals_the_two_passes(n: int, kw: dict[str, float]) -> None:
    x = RNG.normal(size=(2, n)) * 30.0 + 5.0
    bp = {k: v for k, v in kw.items() if k in ("low", "high", "order")}
    hum = {k: v for k, v in kw.items() if k in ("quality", "harmonics")}
    mains = kw.get("mains", 50.0)
    two = notch(bandpass(x, FS, **bp), FS, freq=mains, **hum)  # type: ignore[arg-type]
    one = bandpass_notch(x, FS, **kw)  # type: ignore[arg-type]
    # to rounding everywhere, the ends included (they are recomputed by the two passes)
    np.testing.assert_allclose(one, two, rtol=0, atol=1e-12 * np.abs(two).max())
    causal = notch(
        bandpass(x, FS, zero_phase=False, **bp), FS, freq=mains, zero_phase=False, **hum
    )  # type: ignore[arg-type]
    np.testing.assert_array_equal(bandpass_notch(x, FS, zero_phase=False, **kw), causal)  # type: ignore[arg-type]


def test_bandpass_notch_axis_and_integers() -> None:
    x = (RNG.normal(size=(80_000, 3)) * 100).astype(np.int32)
    got = bandpass_notch(x, FS, axis=0)
    ref = notch(bandpass(x, FS, axis=0), FS, axis=0)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-10)


def test_streaming_chain_uses_the_same_cascade() -> None:
    chain = StreamingEmgChain(FS, n_channels=1)
    np.testing.assert_array_equal(chain.filter.sos, np.vstack([bandpass_sos(FS), notch_sos(FS)]))
    assert bandpass_notch_sos(FS, mains=None).shape == (4, 6)


@pytest.mark.parametrize(
    "sos", [lowpass_sos(FS, cutoff=50.0, order=2), notch_sos(FS), bandpass_notch_sos(FS)]
)
def test_settle_length_bounds_the_free_response(sos: np.ndarray) -> None:
    impulse = np.zeros(settle_length(sos) + 200)
    impulse[0] = 1.0
    h = np.abs(signal.sosfilt(sos, impulse))
    n = settle_length(sos, tol=1e-12)
    assert h[n:].max() < 1e-10 * h.max()  # some slack for the modes' coefficients
    assert settle_length(sos, tol=1e-6) < n < settle_length(sos)


def test_settle_length_of_fir_and_unstable_sections() -> None:
    assert settle_length(np.array([[1.0, 1.0, 0.0, 1.0, 0.0, 0.0]])) == 2
    with pytest.raises(ValidationError, match="sos must be stable"):
        settle_length(np.array([[1.0, 0.0, 0.0, 1.0, -2.0, 1.0]]))  # double pole at 1


# -- quality: Welch share of mains, flat line and clipping -----------------------------


def _mains_by_welch(x: np.ndarray, fs: float, mains: float) -> np.ndarray:
    """The definition: Welch PSD (Hann, 1 Hz bins, 50 % overlap), band 20-450 Hz."""
    f, p = signal.welch(x, fs=fs, nperseg=min(x.shape[-1], round(fs)), axis=-1)
    band = (f >= 20.0) & (f <= min(450.0, fs / 2) * (1 + 1e-12))  # Nyquist bin rounded up
    near = np.abs(f - mains) <= 1.0 + 1e-9
    total = p[..., band].sum(axis=-1)
    return np.where(total > 0, p[..., near].sum(axis=-1) / np.where(total > 0, total, 1), 0.0)


@settings(max_examples=40, deadline=None)
@example(fs=100.0, seconds=0.21875, offset=0.0, wander=0.0, seed=0)  # mains at Nyquist
@given(
    fs=st.sampled_from([30.0, 100.0, 512.0, 801.0, 900.0, 999.0, 1000.0, 2000.0, 2048.0]),
    seconds=st.floats(0.1, 4.0),
    offset=st.sampled_from([0.0, 1e4]),
    wander=st.sampled_from([0.0, 30.0]),
    seed=st.integers(0, 1000),
)
def test_mains_fraction_equals_welch(
    fs: float, seconds: float, offset: float, wander: float, seed: int
) -> None:
    # spectra in single precision: within 1e-6 of scipy's double-precision Welch, the
    # error growing with the share of the signal outside the band (a slow baseline
    # wander 30 times the EMG: about 1e-5)
    n = max(round(0.1 * fs), round(seconds * fs))
    rng = np.random.default_rng(seed)
    t = np.arange(n) / fs
    x = rng.normal(size=(2, n)) + rng.uniform(0, 3) * np.sin(2 * np.pi * 50.0 * t) + offset
    x += wander * np.sin(2 * np.pi * 0.3 * t)
    ref = _mains_by_welch(x - x.mean(axis=-1, keepdims=True), fs, 50.0)
    got = quality_mod._mains_fraction(x, fs, 50.0)
    np.testing.assert_allclose(got, ref, rtol=1e-6 * (1 + wander), atol=1e-9)


def test_flat_and_clip_fractions_by_hand() -> None:
    x = np.round(RNG.normal(size=(3, 5000)) * 2)
    x[1, :4000] = 0.0
    x[2] = np.clip(x[2], -1, 1)
    np.testing.assert_array_equal(
        quality_mod._flat_fraction(x), (np.diff(x, axis=-1) == 0).mean(-1)
    )
    lo, hi = x.min(-1, keepdims=True), x.max(-1, keepdims=True)
    np.testing.assert_array_equal(quality_mod._clip_fraction(x), ((x == lo) | (x == hi)).mean(-1))
    assert quality_mod._clip_fraction(np.ones((1, 10)))[0] == 0.0


def test_quality_of_a_long_recording_is_unchanged() -> None:
    x = _bursty(120_000, 3, rows=2)
    q = check_quality(x, FS, ch_names=["a", "b"]).set_index(["channel", "check"])["value"]
    xm = x - x.mean(axis=-1, keepdims=True)
    np.testing.assert_allclose(
        q.loc[(["a", "b"], "mains")], _mains_by_welch(xm, FS, 50.0), rtol=1e-6
    )
    np.testing.assert_array_equal(q.loc[(["a", "b"], "flat_line")], 0.0)


# -- moving means: block-wise window sums (compiled) against numpy's cumsum ----------


def _block_sums_by_cumsum(v: np.ndarray, w: int, tail: int, square: bool) -> np.ndarray:
    """The window sums spelt out with numpy: suffix + prefix sums within blocks of w."""
    n_blocks = 1 + -(-(v.shape[-1] + tail) // w)
    padded = np.zeros((*v.shape[:-1], n_blocks * w))
    padded[..., w : w + v.shape[-1]] = v**2 if square else v
    blocks = padded.reshape(*v.shape[:-1], n_blocks, w)
    after = np.zeros_like(blocks)
    after[..., :-1] = np.cumsum(blocks[..., ::-1], axis=-1)[..., ::-1][..., 1:]
    before = np.cumsum(blocks, axis=-1)
    sums = before[..., 1:, :] + after[..., :-1, :]
    return sums.reshape(*v.shape[:-1], -1)[..., : v.shape[-1] + tail]


@pytest.mark.parametrize("w", [1, 2, 7, 50, 200])
@pytest.mark.parametrize("tail", [0, 3, 199])
@pytest.mark.parametrize("square", [True, False])
def test_window_sums_give_the_bits_of_numpy_cumsums(w: int, tail: int, square: bool) -> None:
    x = RNG.normal(size=(3, 10_007)) * np.exp(RNG.normal(size=(3, 10_007)))
    got = envelope_mod._window_sums(x, w, tail=tail, square=square)
    np.testing.assert_array_equal(got, _block_sums_by_cumsum(x, w, tail, square))


@pytest.mark.parametrize("w", [1, 7, 200])
@pytest.mark.parametrize("centred", [True, False])
def test_moving_mean_of_squares_without_a_squared_copy(w: int, centred: bool) -> None:
    x = RNG.normal(size=(2, 5_003))
    np.testing.assert_array_equal(
        envelope_mod._moving_mean(x, w, centred=centred, square=True),
        envelope_mod._moving_mean(x**2, w, centred=centred),
    )


def test_long_moving_rms_against_direct_windows() -> None:
    x = _bursty(400_000, 4, rows=1)
    got = moving_rms(x, FS)
    for i in (0, 57, 99, 100, 123_456, 399_900, 399_999):
        seg = x[0, max(0, i - 100) : i + 100]
        assert got[0, i] == pytest.approx(np.sqrt(np.mean(seg**2)), rel=1e-12)


# -- onsets: low-pass and moving mean fused into the filter passes -------------------


def _test_signal_directly(r: np.ndarray, sos: np.ndarray, w: int) -> np.ndarray:
    """sosfiltfilt, then the centred mean over the samples of each window inside the signal."""
    low = signal.sosfiltfilt(sos, r, axis=-1)
    left, right = w // 2, w - 1 - w // 2
    kernel = np.ones(w)
    sums = np.stack([np.convolve(row, kernel)[right : right + r.shape[-1]] for row in low])
    counts = np.convolve(np.ones(r.shape[-1]), kernel)[right : right + r.shape[-1]]
    assert counts[left] == w
    return sums / counts


@pytest.mark.parametrize("cutoff, window", [(50.0, 0.025), (10.0, 0.05), (150.0, 0.01)])
def test_fused_test_signal_equals_lowpass_then_mean(cutoff: float, window: float) -> None:
    r = np.abs(_bursty(200_000, 5))
    sos = lowpass_sos(FS, cutoff=cutoff, order=2)
    w = round(window * FS)
    got = onset_test.smoothed(r.copy(), sos, w)
    ref = _test_signal_directly(r, sos, w)
    np.testing.assert_allclose(got, ref, rtol=1e-10)
    head = onset_test._direct(r[:, :20_000], sos, w)[:, :1000]  # the ends, the direct way
    np.testing.assert_allclose(got[:, :1000], head, rtol=1e-12)


@pytest.mark.parametrize("seed", [6, 7, 8])
@pytest.mark.parametrize("method", ["hodges_bui", "tkeo"])
def test_long_recording_onsets_equal_the_direct_detector(seed: int, method: str) -> None:
    y = bandpass_notch(_bursty(240_000, seed, rows=2), FS)
    got = detect_onsets(y, FS, baseline=(0.0, 0.1), method=method, min_duration=0.0)  # type: ignore[arg-type]
    if method == "hodges_bui":
        r = np.abs(y)
    else:  # psi[n] = y[n]**2 - y[n + 1] * y[n - 1], zero outside the signal
        r = np.abs(np.square(y) - np.pad(y[:, 2:] * y[:, :-2], ((0, 0), (1, 1))))
    test = _test_signal_directly(r, lowpass_sos(FS, cutoff=50.0, order=2), 50)
    base = test[:, :200]
    k = 3.0 if method == "hodges_bui" else 5.0
    active = test >= base.mean(-1, keepdims=True) + k * base.std(-1, keepdims=True)
    for row, bursts in zip(active, got, strict=True):
        edges = np.diff(row.astype(np.int8), prepend=np.int8(0), append=np.int8(0))
        ref = np.stack([np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)], axis=1) / FS
        assert len(ref) > 20
        np.testing.assert_array_equal(bursts, ref)


def test_envelope_of_a_long_recording_equals_sosfiltfilt() -> None:
    y = bandpass_notch(_bursty(150_000, 9, rows=1), FS)
    lp = signal.butter(4, 6.0, output="sos", fs=FS)
    np.testing.assert_allclose(envelope(y, FS), signal.sosfiltfilt(lp, np.abs(y)), atol=1e-12)
