"""The EMG chain against the ground-truth simulator: activation levels within 5 %."""

from __future__ import annotations

import numpy as np
import pytest

simulate_mod = pytest.importorskip("nkt_motion.simulate")


@pytest.fixture(scope="module")
def sim():  # type: ignore[no-untyped-def]
    return simulate_mod.simulate(simulate_mod.gmed_adl_hip_flexion(n_trials=3, seed=3))


def _plateau_rms(stream, channel: str, lo: float, hi: float) -> float:  # type: ignore[no-untyped-def]
    seg = stream.crop(lo, hi)
    return float(np.sqrt(np.mean(seg.data[seg.channel_index(channel)] ** 2)))


def test_activation_levels_recovered_within_5_percent(sim) -> None:  # type: ignore[no-untyped-def]
    emg = sim.session["emg"].bandpass().notch()
    acts = sim.truth.activations
    refs = acts[acts.phase == "ref"].set_index("channel")
    tests = acts[acts.phase != "ref"]
    for row in tests.itertuples():
        ref = refs.loc[row.channel]
        level = _plateau_rms(emg, row.channel, row.plateau_start_s, row.plateau_stop_s) / (
            _plateau_rms(emg, row.channel, ref.plateau_start_s, ref.plateau_stop_s)
        )
        assert level == pytest.approx(row.level, rel=0.05), row
