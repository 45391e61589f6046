"""EMG of the simulator, checked against independent, obvious computations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import welch

from nkt_motion.simulate import (
    EmgModel,
    Fault,
    activation_envelope,
    gmed_adl_hip_flexion,
    semg_noise,
    simulate,
)

FS = 2000.0


def _window(x: np.ndarray, start: float, stop: float, fs: float = FS) -> np.ndarray:
    return x[..., int(np.ceil(start * fs)) : int(np.floor(stop * fs))]


def _noise_free(**changes):
    sc = gmed_adl_hip_flexion(n_trials=3, seed=3)
    return sc.replace(emg=EmgModel(baseline_rms_uv=0.0), **changes)


def test_ratio_of_normalised_plateau_rms_matches_truth_within_5_percent():
    sim = simulate(gmed_adl_hip_flexion(n_trials=4, seed=11).replace(emg=EmgModel(5.0)))
    emg = sim.session["emg"]
    acts = sim.truth.activations
    rest = sim.session.events.query("label == 'rest'").iloc[0]
    noise_power = np.mean(_window(emg.data, rest.onset, rest.onset + rest.duration) ** 2, axis=1)

    def amplitude(code: str, row) -> float:
        ch = emg.channel_index(f"EMG {code} L")
        x = _window(emg.data[ch], row.plateau_start_s, row.plateau_stop_s)
        return float(np.sqrt(np.mean(x**2) - noise_power[ch]))

    ref = {
        c: amplitude(c, acts.query("phase == 'ref' and code == @c").iloc[0])
        for c in ["GMED", "ADL"]
    }
    checked = 0
    for row in sim.truth.ratios.query("partner == 'ADL'").itertuples():
        sel = acts.query("label == @row.label and trial == @row.trial")
        tested = amplitude("GMED", sel.query("code == 'GMED'").iloc[0]) / ref["GMED"]
        partner = amplitude("ADL", sel.query("code == 'ADL'").iloc[0]) / ref["ADL"]
        assert tested / partner == pytest.approx(row.ratio, rel=0.05)
        checked += 1
    assert checked == 8
    # raw amplitudes are not comparable between muscles: the electrode gains differ
    raw = ref["GMED"] / ref["ADL"]
    assert raw == pytest.approx(80.0 / 150.0, rel=0.05)


def test_noise_free_plateau_rms_is_exactly_the_truth():
    sim = simulate(_noise_free())
    emg = sim.session["emg"]
    for row in sim.truth.activations.itertuples():
        x = emg.data[emg.channel_index(row.channel)]
        lo = int(np.ceil(row.plateau_start_s * FS - 1e-9))
        hi = int(np.ceil(row.plateau_stop_s * FS - 1e-9))
        assert np.sqrt(np.mean(x[lo:hi] ** 2)) == pytest.approx(row.plateau_rms_uv, rel=1e-9)


def test_event_rms_and_event_ratio_against_the_noise_free_signal():
    sim = simulate(_noise_free())
    emg = sim.session["emg"]
    acts = sim.truth.activations
    rms = {}
    for row in acts.itertuples():
        x = _window(emg.data[emg.channel_index(row.channel)], row.start_s, row.stop_s)
        rms[(row.label, row.trial, row.code)] = np.sqrt(np.mean(x**2))
        assert row.event_rms_uv == pytest.approx(rms[(row.label, row.trial, row.code)], rel=1e-3)
        assert row.event_rms_uv < row.plateau_rms_uv
    for row in sim.truth.ratios.itertuples():
        t = rms[(row.label, row.trial, "GMED")] / rms[("ref/GMED", 0, "GMED")]
        p = rms[(row.label, row.trial, row.partner)] / rms[(f"ref/{row.partner}", 0, row.partner)]
        assert row.event_ratio == pytest.approx(t / p, rel=2e-3)
        assert row.event_ratio == pytest.approx(row.ratio, rel=0.05)


def test_onset_truth_is_where_the_noise_free_signal_starts():
    sim = simulate(_noise_free())
    emg = sim.session["emg"]
    tests = sim.truth.activations.query("phase != 'ref'")
    for row in tests.itertuples():
        x = emg.data[emg.channel_index(row.channel)]
        k = round(row.start_s * FS)
        while x[k] == 0.0:
            k += 1
        first_active = k / FS
        assert row.onset_s < first_active <= row.onset_s + 1.0 / FS
        assert first_active - row.start_s == pytest.approx(row.onset_rel_s, abs=1.0 / FS)


def test_partner_fires_first_before_the_correction():
    sim = simulate(_noise_free())
    leads = sim.truth.ratios.query("partner == 'ADL'").groupby("phase").partner_lead_ms.mean()
    assert leads["pre"] == pytest.approx(80.0, abs=20.0)
    assert leads["post"] < 0


def test_spectrum_is_semg_like():
    sim = simulate(_noise_free())
    x = sim.session["emg"].data[0]
    f, p = welch(x, fs=FS, nperseg=1024)
    band = (f >= 20) & (f <= 450)
    assert p[band].sum() / p.sum() > 0.97
    assert 50.0 <= f[np.argmax(p)] <= 130.0


def test_semg_noise_is_unit_rms_and_independent_between_channels():
    c = semg_noise(3, 20000, FS, rng=np.random.default_rng(1))
    np.testing.assert_allclose(np.sqrt(np.mean(c**2, axis=1)), 1.0, rtol=1e-12)
    assert np.max(np.abs(np.corrcoef(c)[np.triu_indices(3, 1)])) < 0.05


def test_envelope_against_a_loop():
    t = np.arange(0, 1.2, 1 / 500)
    env = activation_envelope(t, onset=0.2, stop=1.0, ramp=0.1)
    for ti, e in zip(t, env, strict=True):
        if ti <= 0.2 or ti >= 1.0:
            expected = 0.0
        elif ti < 0.3:
            expected = 0.5 - 0.5 * np.cos(np.pi * (ti - 0.2) / 0.1)
        elif ti <= 0.9:
            expected = 1.0
        else:
            expected = 0.5 - 0.5 * np.cos(np.pi * (1.0 - ti) / 0.1)
        assert e == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("freq", [50, 60])
def test_mains_is_at_exactly_the_power_line_frequency(freq):
    base = _noise_free(power_line_hz=freq)
    with_mains = base.replace(emg=EmgModel(0.0, mains_uv=20.0, mains_harmonics=(0.5,)))
    x0 = simulate(base).session["emg"].data[1]
    sim = simulate(with_mains)
    x1 = sim.session["emg"].data[1]
    assert sim.session.meta["power_line_frequency"] == freq
    spectrum = 2 * np.abs(np.fft.rfft(x1 - x0)) / x0.size
    f = np.fft.rfftfreq(x0.size, 1 / FS)
    assert f[np.argmax(spectrum)] == freq
    assert spectrum[f == freq][0] == pytest.approx(20.0, rel=1e-6)
    assert spectrum[f == 2 * freq][0] == pytest.approx(10.0, rel=1e-6)
    others = (f != freq) & (f != 2 * freq)
    assert spectrum[others].max() < 1e-6


def test_clipping_saturates_inside_its_window_only():
    fault = Fault("ADL", "clipping", start_s=20.0, clip_uv=40.0)
    clean = simulate(_noise_free()).session["emg"]
    faulty = simulate(_noise_free(faults=(fault,))).session["emg"]
    ch = clean.channel_index("EMG ADL L")
    k = int(20.0 * FS)
    np.testing.assert_array_equal(faulty.data[ch, :k], clean.data[ch, :k])
    np.testing.assert_array_equal(faulty.data[[0, 2]], clean.data[[0, 2]])
    after = faulty.data[ch, k:]
    assert np.abs(after).max() == 40.0
    assert np.mean(np.abs(after) == 40.0) > 0.05
    assert np.abs(clean.data[ch, k:]).max() > 40.0


def test_electrode_off_is_a_near_flat_line_with_drift_and_dead_is_zero():
    faults = (
        Fault("GMED", "electrode_off", start_s=10.0, stop_s=30.0, drift_uv=25.0),
        Fault("TFL", "dead"),
    )
    sim = simulate(_noise_free(faults=faults).replace(emg=EmgModel(3.0)))
    x = sim.session["emg"].data
    off = x[0, int(10 * FS) : int(30 * FS)]
    trend = np.polyval(np.polyfit(np.arange(off.size), off, 1), np.arange(off.size))
    assert np.std(off - trend) < 0.2
    assert off[-1000:].mean() - off[:1000].mean() == pytest.approx(25.0, abs=1.0)
    assert np.std(x[0, int(35 * FS) : int(40 * FS)]) > 2.0
    assert not x[2].any()
    table = sim.truth.faults
    assert table.kind.tolist() == ["electrode_off", "dead"]
    assert table.channel.tolist() == ["EMG GMED L", "EMG TFL L"]
    assert sim.session.quality.empty
