"""Bilateral simulated sessions: both sides' channels, sided events, truth on one clock."""

from __future__ import annotations

import numpy as np
import pytest

from nkt_motion import ValidationError, read, write_bids
from nkt_motion.simulate import (
    bilateral_hip_flexion,
    gmed_adl_hip_flexion,
    simulate,
    simulate_bilateral,
)


def _short(sc):
    return sc.replace(trial_s=1.5, gap_s=0.3, rest_s=1.5, ref_s=1.5, correction_s=0.5)


@pytest.fixture(scope="module")
def sim():
    left, right = bilateral_hip_flexion(compensating="L", n_trials=3, seed=4)
    return simulate_bilateral(_short(left), _short(right))


def test_channels_events_and_meta(sim):
    s = sim.session
    assert s["emg"].ch_names == [
        f"EMG {c} {side}" for side in "LR" for c in ("GMED", "ADL", "TFL")
    ]
    assert {c.side for c in s["emg"].channels} == {"L", "R"}
    ev = s.events
    counts = ev.label.value_counts()
    for side in "LR":
        assert counts[f"pre/test/GMED/{side}"] == counts[f"post/test/GMED/{side}"] == 3
        assert counts[f"ref/ADL/{side}"] == 1
    assert counts["rest"] == 2 and counts["correction"] == 2
    # every left event comes before every right one
    last_left = ev[ev.label.str.endswith("/L")].onset.max()
    assert last_left < ev[ev.label.str.endswith("/R")].onset.min()
    assert s.meta["seeds"] == [4, 5] and s.meta["protocol"] == "hip_flexion_gmed_adl"
    assert s["emg"].duration == pytest.approx(s["imu"].duration)


def test_truth_is_on_the_session_clock_and_names_the_side(sim):
    ev = sim.session.events
    tests = ev[ev.phase.isin(["pre", "post"])].reset_index(drop=True)
    kin = sim.truth.kinematics
    np.testing.assert_allclose(kin.start_s.to_numpy(), tests.onset.to_numpy())
    assert kin.label.tolist() == tests.label.tolist()
    assert (kin.side == kin.stance_side).all()
    r = sim.truth.ratios.query("partner == 'ADL'")
    pre = r[r.phase == "pre"].groupby("side").ratio.mean()
    assert pre["L"] == pytest.approx(0.5, rel=0.15) and pre["R"] == pytest.approx(1.5, rel=0.15)
    # one single-side session reproduces the left block exactly
    alone = simulate(sim.scenarios[0])
    n = alone.session["emg"].n_samples
    np.testing.assert_array_equal(sim.session["emg"].data[:3, :n], alone.session["emg"].data)


def test_relaxed_side_carries_baseline_noise_only(sim):
    emg = sim.session["emg"]
    right_block = sim.session.events.query("label == 'pre/test/GMED/R'").onset.iloc[0]
    quiet = emg.crop(right_block, right_block + 1.5).data[:3]
    rms = np.sqrt(np.mean(quiet**2, axis=-1))
    np.testing.assert_allclose(rms, sim.scenarios[0].emg.baseline_rms_uv, rtol=0.1)


def test_sided_labels_round_trip_through_bids_and_bdf_annotations(sim, tmp_path):
    root = write_bids(sim.session, tmp_path / "bids")
    again = read(root)
    assert again.events.label.tolist() == sim.session.events.label.tolist()
    for tsv in root.rglob("*_events.tsv"):
        tsv.unlink()
    from_bdf = read(root)
    assert from_bdf.events.label.tolist() == sim.session.events.label.tolist()


def test_bad_pairs_are_rejected():
    left = gmed_adl_hip_flexion(side="L")
    with pytest.raises(ValidationError, match="other side"):
        simulate_bilateral(left, left.replace(seed=3))
    with pytest.raises(ValidationError, match="fs_emg"):
        simulate_bilateral(left, gmed_adl_hip_flexion(side="R").replace(fs_emg=4000.0))
    with pytest.raises(ValidationError, match="must be a Scenario"):
        simulate_bilateral(left, "R")
    with pytest.raises(ValidationError, match="compensating"):
        bilateral_hip_flexion(compensating="both")
