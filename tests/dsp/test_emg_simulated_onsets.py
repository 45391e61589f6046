"""Onsets on simulated hip-flexion sessions against the simulator's truth.

The simulated activation rises from exactly zero at the true onset along a
75 ms raised cosine, so every amplitude detector reports it a little late; for
these clear bursts (plateau RMS at least 15 times the band-passed baseline RMS) both
Hodges & Bui and the TKEO detector must land within 20 ms of the truth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nkt_motion.model._processing import session_onsets

simulate_mod = pytest.importorskip("nkt_motion.simulate")

SEEDS = (0, 1, 2, 3)
TOLERANCE_S = 0.020


@pytest.fixture(scope="module", params=SEEDS)
def sim(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    out = simulate_mod.simulate(simulate_mod.gmed_adl_hip_flexion(n_trials=3, seed=request.param))
    session = out.session.with_stream(out.session["emg"].bandpass())
    return out, session


def _first_onsets(detected: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Per test trial and muscle: the first detected onset inside the trial window."""
    tests = truth[truth.phase.isin(["pre", "post"])].copy()
    first = []
    for row in tests.itertuples():
        mine = detected[(detected.channel == row.channel) & (detected.onset >= row.start_s)]
        mine = mine[mine.onset < row.stop_s]
        first.append(float(mine.onset.iloc[0]) if len(mine) else np.nan)
    tests["detected_s"] = first
    return tests


@pytest.mark.parametrize("method", ["hodges_bui", "tkeo"])
def test_first_onset_within_20_ms_of_truth(sim, method: str) -> None:  # type: ignore[no-untyped-def]
    out, session = sim
    rows = _first_onsets(session_onsets(session, method=method), out.truth.activations)
    rest = session.events[session.events.label == "rest"].iloc[0]
    quiet = session["emg"].crop(rest.onset, rest.onset + rest.duration).data
    base_rms = float(np.sqrt(np.mean(quiet**2)))  # band-passed baseline noise, uV
    assert (rows.plateau_rms_uv >= 15 * base_rms).all()  # the bursts are clear
    err = rows.detected_s - rows.onset_s
    assert err.notna().all(), rows[err.isna()]
    assert err.abs().max() <= TOLERANCE_S, rows.assign(err_ms=err * 1e3)


@pytest.mark.parametrize("method", ["hodges_bui", "tkeo"])
def test_onset_order_per_trial(sim, method: str) -> None:  # type: ignore[no-untyped-def]
    out, session = sim
    rows = _first_onsets(session_onsets(session, method=method), out.truth.activations)
    tested = out.scenario.tested
    for (phase, _trial), trial in rows.groupby(["phase", "trial"]):
        t = trial.set_index("code")
        for partner in out.scenario.partners:
            truth_lead = t.onset_s[partner] - t.onset_s[tested]
            got_lead = t.detected_s[partner] - t.detected_s[tested]
            assert np.sign(got_lead) == np.sign(truth_lead), (phase, partner, t)
        if phase == "pre":  # the compensating partner fires before the tested muscle
            assert t.detected_s["ADL"] < t.detected_s[tested]
