"""Per-trial rule checks and compensation scores: known truth, invariants, NaN reasons."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

from nkt_motion.assess import assess_session
from nkt_motion.assess.rules import DEFAULT_RULES
from nkt_motion.assess.trials import score_pair, score_trials
from nkt_motion.assess.uncertainty import SD_FLOORS, exceed_probability, pooled_sd
from nkt_motion.simulate import Fault, gmed_adl_hip_flexion, healthy_hip_flexion, simulate

SHORT = {"trial_s": 1.5, "gap_s": 0.3, "rest_s": 1.5, "ref_s": 1.5, "correction_s": 0.5}
PROTOCOL = "hip_flexion_gmed_adl"


def _assess(scenario, **kw):
    sim = simulate(scenario.replace(**SHORT))
    return sim, assess_session(sim.session, PROTOCOL, n_boot=200, **kw)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_compensating_trials_score_high_and_healthy_trials_low(seed):
    _, a = _assess(gmed_adl_hip_flexion(n_trials=5, seed=seed))
    (t,) = a.tests
    pre = [r.p_compensation for r in t.trials if r.phase == "pre"]
    post = [r.p_compensation for r in t.trials if r.phase == "post"]
    assert len(pre) == len(post) == 5
    assert min(pre) > 0.9, pre  # truth: ratio 0.5, partner 80 ms first
    assert max(post) < 0.2, post  # truth: ratio 1.2, tested muscle first
    _, h = _assess(healthy_hip_flexion(n_trials=5, seed=seed))
    assert max(r.p_compensation for r in h.tests[0].trials) < 0.05  # truth: ratio 1.5


def test_trials_are_in_the_json_and_in_trial_flags():
    _, a = _assess(gmed_adl_hip_flexion(n_trials=3, seed=4))
    doc = json.loads(json.dumps(a.to_dict(), allow_nan=False))
    trials = doc["tests"][0]["trials"]
    assert [(r["phase"], r["trial"]) for r in trials] == [
        ("pre", 0), ("pre", 1), ("pre", 2), ("post", 0), ("post", 1), ("post", 2)]  # fmt: skip
    first = trials[0]
    assert set(first) >= {"phase", "trial", "ratio", "onset_diff_ms", "flags", "reasons",
                          "p_compensation", "p_model"}  # fmt: skip
    assert first["flags"] == ["ratio", "onset"] and len(first["reasons"]) == 2
    assert first["p_model"] is None
    f = a.trial_flags
    assert "p_model" not in f  # no classifier given
    np.testing.assert_allclose(f["p_compensation"], [r["p_compensation"] for r in trials])
    assert f["flag"].tolist() == [bool(r["flags"]) for r in trials]
    assert f["flag_ratio"].tolist() == [True] * 3 + [False] * 3


def test_classifier_probability_per_trial():
    sim, a = _assess(gmed_adl_hip_flexion(n_trials=4, seed=5))
    X = a.trials[["log_ratio_GMED_ADL"]]
    model = LogisticRegression().fit(X, (a.trials["phase"] == "pre").astype(int))
    m = assess_session(sim.session, PROTOCOL, n_boot=200, model=model)
    want = model.predict_proba(X)[:, 1]
    got = [r.p_model for r in m.tests[0].trials]
    np.testing.assert_allclose(got, want)
    np.testing.assert_allclose(m.trial_flags["p_model"], want)
    assert m.tests[0].pre.p_model == pytest.approx(want[:4].mean())


def test_nan_never_appears_without_a_reason():
    faults = (Fault("ADL", "dead", start_s=0.0),)
    _, dead = _assess(gmed_adl_hip_flexion(n_trials=3, seed=6).replace(faults=faults))
    _, ok = _assess(gmed_adl_hip_flexion(n_trials=3, seed=6))
    for a in (dead, ok):
        for r in a.tests[0].trials:
            text = " ".join(r.notes)
            if not math.isfinite(r.ratio) or not math.isfinite(r.p_compensation):
                assert "no ratio:" in text
            if not math.isfinite(r.onset_diff_ms):
                assert "onset rule not checked:" in text
            assert math.isfinite(r.ratio) == math.isfinite(r.p_compensation)
    dead_trials = dead.tests[0].trials
    assert all(not math.isfinite(r.p_compensation) for r in dead_trials)
    assert all("disconnected" in " ".join(r.notes) for r in dead_trials)
    assert all(not math.isfinite(r.p_compensation) for r in dead_trials)
    assert not any(r.flag for r in dead_trials)  # nothing confident from a dead channel


def test_one_trial_per_phase_says_the_spread_was_assumed():
    _, a = _assess(gmed_adl_hip_flexion(n_trials=1, seed=7))
    (t,) = a.tests
    assert t.verdict == "inconclusive"
    for r in t.trials:
        assert math.isfinite(r.p_compensation)
        assert any("spread could not be estimated" in n for n in r.notes)


def _rows(pre, post, onsets=None):
    n = len(pre) + len(post)
    return pd.DataFrame(
        {
            "phase": ["pre"] * len(pre) + ["post"] * len(post),
            "trial": list(range(len(pre))) + list(range(len(post))),
            "label": ["pre/test/GMED"] * len(pre) + ["post/test/GMED"] * len(post),
            "log_ratio_GMED_ADL": np.r_[pre, post],
            "onset_diff_ms_GMED_ADL": np.zeros(n) if onsets is None else onsets,
            "rms_GMED": np.full(n, 0.5),
            "rms_ADL": np.full(n, 0.5),
        }
    )


logs = st.lists(st.floats(-2.0, 2.0), min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(pre=logs, post=logs, other=st.none() | st.lists(st.floats(-1.0, 1.0), min_size=3))
def test_score_never_rises_with_the_ratio(pre, post, other):
    others = None if other is None else {"pre": np.array(other), "post": np.array(other)}
    res = score_pair(_rows(pre, post), "GMED", "ADL", other=others, sides=("L", "R"))
    for phase in ("pre", "post"):
        mine = sorted((r.ratio, r.p_compensation) for r in res if r.phase == phase)
        p = [x[1] for x in mine]
        assert all(a >= b - 1e-12 for a, b in itertools.pairwise(p)), mine
        assert all(0.0 <= x <= 1.0 for x in p)


@settings(max_examples=40, deadline=None)
@given(onsets=st.lists(st.floats(-200.0, 200.0), min_size=2, max_size=8))
def test_score_never_falls_as_the_partner_fires_earlier(onsets):
    pre = [0.0] * len(onsets)
    res = score_pair(_rows(pre, [], onsets=onsets), "GMED", "ADL")
    mine = sorted((r.onset_diff_ms, r.p_compensation) for r in res)
    p = [x[1] for x in mine]
    assert all(a >= b - 1e-12 for a, b in itertools.pairwise(p)), mine


@given(st.floats(-3, 3), st.floats(-3, 3), st.floats(0.01, 2))
def test_exceed_probability_is_monotone_and_halves_at_the_threshold(a, b, sd):
    lo, hi = sorted((a, b))
    p = exceed_probability(np.array([lo, hi]), 0.0, sd)
    assert p[0] <= p[1]
    assert exceed_probability(np.array([b]), b, sd)[0] == pytest.approx(0.5)


def test_pooled_sd_against_a_loop():
    rng = np.random.default_rng(0)
    values = rng.normal(size=12)
    groups = ["a"] * 5 + ["b"] * 7
    ss = sum(((values[g] - values[g].mean()) ** 2).sum() for g in (slice(0, 5), slice(5, 12)))
    sd, df = pooled_sd(values, groups)
    assert df == 10 and sd == pytest.approx(math.sqrt(ss / 10))


def test_floors_bound_the_certainty_of_identical_trials():
    # every trial at the threshold exactly: one half, whatever the (zero) spread
    limit = math.log(1 - DEFAULT_RULES.ratio_change_threshold)
    res = score_pair(_rows([limit] * 4, [limit] * 4, onsets=np.full(8, 100.0)), "GMED", "ADL")
    assert [r.p_checks["ratio"] for r in res] == pytest.approx([0.5] * 8)
    # one floor's width below the threshold is Phi(1)
    res = score_pair(_rows([limit - SD_FLOORS["ratio"]] * 3, []), "GMED", "ADL")
    assert res[0].p_checks["ratio"] == pytest.approx(0.8413, abs=1e-4)


def test_score_trials_keeps_its_columns_and_sides_apart():
    t = _rows(np.log([0.5, 0.55]), np.log([1.2, 1.3])).assign(side="L")
    both = pd.concat([t, t.assign(side="R", label=t.label + "/R")], ignore_index=True)
    f = score_trials(both, [("GMED", "ADL")])
    old = {"phase", "trial", "label", "tested", "partner", "ratio", "flag_ratio", "flag_onset"}
    assert set(f) >= old | {"flag_kinematic", "flag", "reasons", "p_compensation"}
    assert f["side"].tolist() == ["L"] * 4 + ["R"] * 4
    assert "p_model" not in f


def test_missing_post_phase_is_inconclusive_not_a_crash():
    sim = simulate(gmed_adl_hip_flexion(n_trials=3, seed=8).replace(**SHORT))
    ev = sim.session.events
    a = assess_session(sim.session.replace(events=ev[ev.phase != "post"]), PROTOCOL, n_boot=200)
    (t,) = a.tests
    assert t.verdict == "inconclusive" and "0 in post" in t.verdict_reason
    assert t.pre.flag and t.post.n_trials == 0
    assert [r.phase for r in t.trials] == ["pre"] * 3
    json.dumps(a.to_dict(), allow_nan=False)
