"""EMG filters, envelope, RMS, TKEO and their streaming forms against scipy and loops."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

from nkt_motion import SignalError, ValidationError
from nkt_motion.dsp import (
    StreamingEmgChain,
    StreamingFilter,
    StreamingRMS,
    apply_sos,
    bandpass,
    bandpass_sos,
    bridge_nans,
    envelope,
    highpass,
    lowpass,
    lowpass_sos,
    min_length,
    moving_rms,
    notch,
    notch_sos,
    rectify,
    tkeo,
)

FS = 2000.0
RNG = np.random.default_rng(42)
X = RNG.normal(size=(3, 3000)) * 50.0


def test_bandpass_and_envelope_equal_plain_scipy() -> None:
    sos = signal.butter(4, [20.0, 450.0], btype="bandpass", output="sos", fs=FS)
    ref = signal.sosfiltfilt(sos, X, axis=-1)
    np.testing.assert_allclose(bandpass(X, FS), ref, rtol=0, atol=1e-9)
    lp = signal.butter(4, 6.0, output="sos", fs=FS)
    np.testing.assert_allclose(envelope(ref, FS), signal.sosfiltfilt(lp, np.abs(ref)), atol=1e-9)
    np.testing.assert_allclose(
        bandpass(X, FS, zero_phase=False), signal.sosfilt(sos, X, axis=-1), atol=1e-9
    )


@pytest.mark.parametrize("n", [28, 29, 101, 2500])
def test_zero_phase_equals_sosfiltfilt_from_the_shortest_signal(n: int) -> None:
    # the memory-lean forward-backward filter against scipy, 3-D input included
    x = RNG.normal(size=(2, 3, n))
    for sos in (bandpass_sos(FS), notch_sos(FS), lowpass_sos(FS, cutoff=6.0)):
        if n < min_length(sos):
            continue
        np.testing.assert_allclose(
            apply_sos(x, FS, sos), signal.sosfiltfilt(sos, x, axis=-1), rtol=0, atol=1e-12
        )


def test_highpass_lowpass_notch_equal_scipy() -> None:
    hp = signal.butter(2, 10.0, btype="highpass", output="sos", fs=FS)
    np.testing.assert_allclose(highpass(X, FS, cutoff=10.0, order=2), signal.sosfiltfilt(hp, X))
    lp = signal.butter(4, 100.0, output="sos", fs=FS)
    np.testing.assert_allclose(lowpass(X, FS, cutoff=100.0), signal.sosfiltfilt(lp, X))
    b, a = signal.iirnotch(60.0, 30.0, fs=FS)
    np.testing.assert_allclose(notch(X, FS, freq=60.0), signal.filtfilt(b, a, X), atol=1e-6)


def test_notch_harmonics_remove_every_multiple() -> None:
    t = np.arange(20000) / FS
    hum = sum(np.sin(2 * np.pi * 50.0 * k * t) for k in (1, 3, 7))
    y = notch(hum[None], FS, harmonics=True)
    assert np.abs(y[0, 5000:15000]).max() < 0.02
    assert np.abs(notch(hum[None], FS)[0, 5000:15000]).max() > 1.0  # only 50 Hz removed


def test_axis_and_leading_shape() -> None:
    y0 = bandpass(X.T, FS, axis=0)
    np.testing.assert_allclose(y0.T, bandpass(X, FS))
    stacked = np.stack([X, 2 * X])
    np.testing.assert_allclose(bandpass(stacked, FS)[1], 2 * bandpass(X, FS))


def test_integer_input_becomes_float64() -> None:
    xi = (X * 10).astype(np.int32)
    y = bandpass(xi, FS)
    assert y.dtype == np.float64
    np.testing.assert_allclose(y, bandpass(xi.astype(float), FS))


def _tkeo_loop(x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    n = x.shape[-1]
    for c in range(x.shape[0]):
        for i in range(n):
            prev = x[c, i - 1] if i > 0 else 0.0
            nxt = x[c, i + 1] if i < n - 1 else 0.0
            out[c, i] = x[c, i] ** 2 - nxt * prev
    return out


def test_tkeo_equals_loop() -> None:
    x = X[:, :500]
    np.testing.assert_allclose(tkeo(x), _tkeo_loop(x), rtol=1e-12)


def _rms_loop(x: np.ndarray, w: int, centred: bool) -> np.ndarray:
    out = np.empty_like(x)
    n = x.shape[-1]
    left = w // 2 if centred else w - 1
    right = w - 1 - left
    for c in range(x.shape[0]):
        for i in range(n):
            seg = x[c, max(0, i - left) : min(n, i + right + 1)]
            out[c, i] = np.sqrt(np.mean(seg**2))
    return out


@pytest.mark.parametrize("mode", ["centred", "trailing"])
@pytest.mark.parametrize("window", [0.0005, 0.0015, 0.1])
def test_moving_rms_equals_loop(mode: str, window: float) -> None:
    x = X[:, :700]
    w = round(window * FS)
    got = moving_rms(x, FS, window=window, mode=mode)  # type: ignore[arg-type]
    np.testing.assert_allclose(got, _rms_loop(x, w, mode == "centred"), rtol=1e-10)


def test_moving_rms_long_signal_keeps_precision() -> None:
    # a loud first half then a quiet second half: plain cumulative sums lose the quiet part
    n = 600_000
    x = np.concatenate([RNG.normal(size=n) * 1e4, RNG.normal(size=n) * 1e-3])[None]
    got = moving_rms(x, FS, window=0.1, mode="trailing")
    for i in (n + 1000, 2 * n - 1, 2 * n - 12345):
        direct = np.sqrt(np.mean(x[0, i - 199 : i + 1] ** 2))
        assert got[0, i] == pytest.approx(direct, rel=1e-9)


def test_rectify() -> None:
    np.testing.assert_array_equal(rectify(-X), np.abs(X))


def _feed(obj: StreamingFilter | StreamingRMS, x: np.ndarray, sizes: list[int]) -> np.ndarray:
    cuts = np.cumsum(sizes)
    cuts = cuts[cuts < x.shape[1]]
    return np.concatenate([obj.process(b) for b in np.split(x, cuts, axis=1)], axis=1)


block_sizes = st.lists(st.integers(min_value=0, max_value=300), min_size=1, max_size=40)


@settings(max_examples=40, deadline=None)
@given(sizes=block_sizes)
def test_streaming_filters_equal_offline_causal(sizes: list[int]) -> None:
    x = X[:, :1500]
    bp = StreamingFilter.bandpass(FS, n_channels=3)
    np.testing.assert_allclose(
        _feed(bp, x, sizes), bandpass(x, FS, zero_phase=False), rtol=0, atol=1e-9
    )
    env = StreamingFilter.envelope(FS, n_channels=3)
    np.testing.assert_allclose(
        _feed(env, x, sizes), envelope(x, FS, zero_phase=False), rtol=0, atol=1e-9
    )
    nt = StreamingFilter.notch(FS, n_channels=3)
    np.testing.assert_allclose(_feed(nt, x, sizes), notch(x, FS, zero_phase=False), atol=1e-9)
    rms = StreamingRMS(FS, n_channels=3, window=0.05)
    np.testing.assert_allclose(
        _feed(rms, x, sizes), moving_rms(x, FS, window=0.05, mode="trailing"), atol=1e-9
    )


def test_streaming_one_sample_blocks_and_chain() -> None:
    x = X[:, :400]
    chain = StreamingEmgChain(FS, n_channels=3)
    outs = [chain.process(x[:, i : i + 1]) for i in range(x.shape[1])]
    env = np.concatenate([o[0] for o in outs], axis=1)
    rms = np.concatenate([o[1] for o in outs], axis=1)
    y = notch(bandpass(x, FS, zero_phase=False), FS, zero_phase=False)
    np.testing.assert_allclose(env, envelope(y, FS, zero_phase=False), atol=1e-9)
    np.testing.assert_allclose(rms, moving_rms(y, FS, mode="trailing"), atol=1e-9)


def test_streaming_rejects_wrong_block_shape() -> None:
    with pytest.raises(ValidationError, match=r"block must have shape \(3, n_samples\)"):
        StreamingFilter.bandpass(FS, n_channels=3).process(np.zeros((2, 10)))


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(min_value=30, max_value=400),
    ch=st.integers(min_value=1, max_value=4),
    scale=st.floats(min_value=1e-3, max_value=1e3),
)
def test_shape_and_dtype_kept(n: int, ch: int, scale: float) -> None:
    x = np.random.default_rng(n).normal(size=(ch, n)) * scale
    for f in (bandpass, envelope, moving_rms, notch):
        y = f(x, FS)
        assert y.shape == x.shape and y.dtype == np.float64 and np.isfinite(y).all()


# -- bad input ---------------------------------------------------------------
def test_fs_invalid() -> None:
    with pytest.raises(ValidationError, match="fs must be > 0, got -5"):
        bandpass(X, -5)


def test_fs_too_low_for_band() -> None:
    with pytest.raises(ValidationError, match=r"high=450.0 Hz .* Nyquist .* 250 Hz \(fs=500 Hz\)"):
        bandpass(X, 500.0)


def test_too_short_for_padding() -> None:
    with pytest.raises(SignalError, match="needs at least 28 samples"):
        bandpass(X[:, :20], FS)


def test_wrong_axis_is_named() -> None:
    with pytest.raises(SignalError, match="is time on another axis"):
        bandpass(X.T, FS)  # (3000, 3) with time last: 3 samples
    with pytest.raises(ValidationError, match="axis 2 is out of range"):
        bandpass(X, FS, axis=2)


def test_short_nan_run_is_bridged_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    x = X.copy()
    x[1, 1000:1010] = np.nan  # 5 ms
    with caplog.at_level(logging.WARNING):
        y = bandpass(x, FS)
    assert np.isfinite(y).all()
    assert "row 1: bridged 1 run" in caplog.text
    bridged_x, runs = bridge_nans(x, FS)
    assert runs == [(1, 0.5, 0.005)]
    np.testing.assert_allclose(
        bridged_x[1, 1000:1010], np.linspace(x[1, 999], x[1, 1010], 12)[1:-1]
    )


def test_long_nan_run_raises_naming_channel() -> None:
    x = X.copy()
    x[2, 100:200] = np.nan  # 50 ms
    with pytest.raises(SignalError, match=r"channel 'row 2': .*100 missing samples \(50.0 ms\)"):
        envelope(x, FS)
    with pytest.raises(SignalError, match="channel 'EMG GMED L'"):
        bridge_nans(x, FS, ch_names=["a", "b", "EMG GMED L"])


def test_infinite_and_complex_rejected() -> None:
    with pytest.raises(SignalError, match="infinite"):
        bandpass(np.full((1, 100), np.inf), FS)
    with pytest.raises(ValidationError, match="real numbers"):
        bandpass(np.ones((1, 100), complex), FS)
