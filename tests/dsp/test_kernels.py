"""The compiled cascades against scipy.signal.sosfilt (the oracle)."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import signal

from nkt_motion.dsp import bandpass_notch_sos, lowpass_sos
from nkt_motion.dsp._kernels import apply_cascades, sosfilt_rows

FS = 2000.0
#: Ten sections of real filters: the band-pass + notch cascade, then two low-passes.
SECTIONS = np.vstack([bandpass_notch_sos(FS), lowpass_sos(FS, cutoff=6.0), lowpass_sos(FS)])


def _case(n_sections: int, n_rows: int, n: int = 3000, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_rows, n)) * 100.0
    zi = rng.normal(size=(n_sections, n_rows, 2))
    return SECTIONS[:n_sections].copy(), x, zi


@pytest.mark.parametrize("n_sections", range(1, 8))
@pytest.mark.parametrize("n_rows", [1, 2, 3])
@pytest.mark.parametrize("rectify", [False, True])
def test_equals_sosfilt(n_sections, n_rows, rectify):
    sos, x, zi = _case(n_sections, n_rows)
    ref, ref_zf = signal.sosfilt(sos, np.abs(x) if rectify else x, axis=-1, zi=zi)
    y, zf = sosfilt_rows(sos, x, zi, rectify=rectify)
    np.testing.assert_allclose(y, ref, rtol=1e-13, atol=1e-13 * np.abs(ref).max())
    np.testing.assert_allclose(zf, ref_zf, rtol=1e-13, atol=1e-13 * np.abs(ref_zf).max())


@pytest.mark.parametrize("n_sections", [1, 2, 5, 7])
def test_backwards_in_place(n_sections):
    """A reversed view filtered into itself is the backward pass of sosfiltfilt."""
    sos, x, zi = _case(n_sections, 3, seed=1)
    ref, _ = signal.sosfilt(sos, x[:, ::-1], axis=-1, zi=zi)
    work = x.copy()
    back = work[:, ::-1]
    out, _ = sosfilt_rows(sos, back, zi, out=back)
    assert out is back
    np.testing.assert_allclose(back, ref, rtol=1e-13, atol=1e-13 * np.abs(ref).max())


def test_state_and_input_untouched():
    sos, x, zi = _case(2, 2)
    x0, zi0 = x.copy(), zi.copy()
    sosfilt_rows(sos, x, zi)
    assert np.array_equal(x, x0)
    assert np.array_equal(zi, zi0)


def test_blocks_carry_state():
    """Filtering in two blocks with the state carried equals one pass."""
    sos, x, zi = _case(2, 2, n=5001, seed=3)
    whole, _ = sosfilt_rows(sos, x, zi)
    first, z = sosfilt_rows(sos, x[:, :1234], zi)
    second, _ = sosfilt_rows(sos, x[:, 1234:], z)
    np.testing.assert_array_equal(np.hstack([first, second]), whole)


def test_too_many_sections_for_a_loop():
    sos, x, zi = _case(6, 1)
    with pytest.raises(ValueError, match="at most 5 sections, got 6"):
        apply_cascades([(sos, x[0], zi[:, 0], np.empty_like(x[0]))])


@settings(max_examples=60, deadline=None)
@given(
    n_sections=st.integers(1, 5),
    n_rows=st.integers(1, 4),
    n=st.integers(1, 400),
    seed=st.integers(0, 2**31),
)
@example(n_sections=1, n_rows=1, n=241, seed=0)  # odd length in halves: the last sample
def test_property_equals_sosfilt(n_sections, n_rows, n, seed):
    sos, x, zi = _case(n_sections, n_rows, n=n, seed=seed)
    ref, ref_zf = signal.sosfilt(sos, x, axis=-1, zi=zi)
    y, zf = sosfilt_rows(sos, x, zi)
    assert y.shape == x.shape and y.dtype == np.float64
    np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-12 * max(np.abs(ref).max(), 1.0))
    np.testing.assert_allclose(zf, ref_zf, rtol=1e-12, atol=1e-12 * max(np.abs(ref_zf).max(), 1))


@pytest.mark.parametrize("n", [300_000, 300_001])
@pytest.mark.parametrize("cutoff, order", [(6.0, 4), (50.0, 2)])
def test_a_long_single_row_runs_as_two_halves_equal_to_rounding(cutoff, order, n):
    """The second half, warmed up one settle length early, matches one pass to rounding."""
    sos = lowpass_sos(FS, cutoff=cutoff, order=order)
    rng = np.random.default_rng(4)
    x = rng.normal(size=(1, n)) * 100.0 + 50.0
    zi = rng.normal(size=(len(sos), 1, 2))
    ref, ref_zf = signal.sosfilt(sos, x, axis=-1, zi=zi)
    y, zf = sosfilt_rows(sos, x, zi)
    np.testing.assert_allclose(y, ref, rtol=0, atol=1e-13 * np.abs(ref).max())
    np.testing.assert_allclose(zf, ref_zf, rtol=0, atol=1e-13 * np.abs(ref_zf).max())
    back = x.copy()[:, ::-1]
    sosfilt_rows(sos, back, zi, out=back, rectify=True)
    ref_back, _ = signal.sosfilt(sos, np.abs(x[:, ::-1]), axis=-1, zi=zi)
    np.testing.assert_allclose(back, ref_back, rtol=0, atol=1e-13 * np.abs(ref_back).max())


def test_a_running_sum_is_never_split():
    """A pole on the unit circle keeps its state forever: one pass, exact."""
    running_sum = np.array([[1.0, 0.0, 0.0, 1.0, -1.0, 0.0]])
    x = np.random.default_rng(5).normal(size=(1, 300_000))
    y, _ = sosfilt_rows(running_sum, x, np.zeros((1, 1, 2)))
    np.testing.assert_array_equal(y, signal.sosfilt(running_sum, x, axis=-1))


def test_cascades_of_different_lengths_are_not_paired():
    """Each job is filtered over its own length, whatever the others' lengths."""
    sos = lowpass_sos(FS, cutoff=6.0, order=4)
    rng = np.random.default_rng(7)
    xs = [rng.normal(size=n) for n in (500, 301, 500, 7)]
    jobs = [(sos, x, np.zeros((len(sos), 2)), np.full_like(x, np.nan)) for x in xs]
    apply_cascades(jobs)
    for _, x, zf, y in jobs:
        ref, ref_zf = signal.sosfilt(sos, x, zi=np.zeros((len(sos), 2)))
        np.testing.assert_array_equal(y, ref)
        np.testing.assert_array_equal(zf, ref_zf)
