"""Trial tables of bilateral sessions: one side at a time, from sided events."""

from __future__ import annotations

import numpy as np
import pytest

from nkt_motion import ValidationError
from nkt_motion.features import marked_sides, resolve_context, trial_table
from nkt_motion.simulate import bilateral_hip_flexion, simulate_bilateral


@pytest.fixture(scope="module")
def sim():
    short = {"trial_s": 1.5, "gap_s": 0.3, "rest_s": 1.5, "ref_s": 1.5, "correction_s": 0.5}
    left, right = bilateral_hip_flexion(compensating="R", n_trials=3, seed=1)
    return simulate_bilateral(left.replace(**short), right.replace(**short))


def test_both_sides_need_a_choice(sim):
    assert marked_sides(sim.session) == ("L", "R")
    with pytest.raises(ValidationError, match="both sides"):
        trial_table(sim.session)


@pytest.mark.parametrize("side", ["L", "R"])
def test_one_side_uses_its_channels_events_and_references(sim, side):
    table = trial_table(sim.session, side=side)
    assert table.label.str.endswith(f"/{side}").all() and len(table) == 6
    assert (table.side == side).all()
    assert set(table.attrs["normalisation"].values()) == {"reference"}
    truth = sim.truth.ratios.query("partner == 'ADL' and side == @side")
    for phase in ("pre", "post"):
        got = np.exp(table.loc[table.phase == phase, "log_ratio_GMED_ADL"].mean())
        want = np.exp(np.log(truth.loc[truth.phase == phase, "event_ratio"]).mean())
        assert got == pytest.approx(want, rel=0.1)


def test_side_is_inferred_when_the_events_name_one(sim):
    ev = sim.session.events
    left_only = sim.session.replace(events=ev[~ev.label.str.endswith("/R")])
    assert resolve_context(left_only).side == "L"
    assert set(trial_table(left_only).label) == {"pre/test/GMED/L", "post/test/GMED/L"}
