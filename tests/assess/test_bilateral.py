"""Side-to-side comparison on simulated bilateral sessions with known truth."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from nkt_motion import make_events, write_bids
from nkt_motion.assess import assess_session
from nkt_motion.cli import main
from nkt_motion.simulate import (
    bilateral_hip_flexion,
    gmed_adl_hip_flexion,
    simulate,
    simulate_bilateral,
)

SHORT = {"trial_s": 1.5, "gap_s": 0.3, "rest_s": 1.5, "ref_s": 1.5, "correction_s": 0.5}
OTHER = {"L": "R", "R": "L"}


def _bilateral(compensating, n=5, seed=0):
    left, right = bilateral_hip_flexion(compensating=compensating, n_trials=n, seed=seed)
    return simulate_bilateral(left.replace(**SHORT), right.replace(**SHORT))


def _geo_truth(sim, side, phase, partner="ADL"):
    r = sim.truth.ratios.query("side == @side and phase == @phase and partner == @partner")
    return float(np.exp(np.log(r["event_ratio"]).mean()))


@pytest.fixture(scope="module", params=["L", "R"])
def case(request):
    sim = _bilateral(request.param, seed=3 if request.param == "L" else 8)
    return request.param, sim, assess_session(sim.session, n_boot=500, seed=1)


def test_both_sides_are_assessed_left_first(case):
    _, _, a = case
    assert [t.side for t in a.tests] == ["L", "R"]
    assert {(t.tested, t.partner) for t in a.tests} == {("GMED", "ADL")}
    assert {c["channel"] for c in a.quality["channels"]} == {
        "EMG GMED L", "EMG ADL L", "EMG GMED R", "EMG ADL R"}  # fmt: skip
    assert set(a.trials["side"]) == {"L", "R"}


def test_side_to_side_rule_flags_the_compensating_side_only(case):
    bad, _, a = case
    sick = next(t for t in a.tests if t.side == bad)
    well = next(t for t in a.tests if t.side != bad)
    assert sick.pre.other_side.flag and sick.pre.flag
    assert sick.pre.p_compensation > 0.95
    assert not well.pre.other_side.flag and not well.pre.flag and not well.post.flag
    assert well.pre.p_compensation < 0.05
    assert not any("lower)" in r for r in (*well.pre.reasons, *well.post.reasons))
    words = {"L": "left", "R": "right"}
    pattern = (
        rf"gluteus medius : adductor longus was (\d\.\d\d) on the {words[bad]} vs "
        rf"(\d\.\d\d) on the {words[OTHER[bad]]} \((\d+) % lower\)"
    )
    found = [m for r in sick.pre.reasons if (m := re.fullmatch(pattern, r))]
    assert len(found) == 1
    here, there, pct = (float(g) for g in found[0].groups())
    assert pct == pytest.approx(100 * (1 - here / there), abs=1.0)


def test_side_to_side_numbers_match_the_truth_within_10_percent(case):
    _, sim, a = case
    for t in a.tests:
        for ph in (t.pre, t.post):
            o = ph.other_side
            assert o.side == OTHER[t.side] and o.n_trials == 5
            here, there = _geo_truth(sim, t.side, ph.phase), _geo_truth(sim, o.side, ph.phase)
            assert ph.ratio == pytest.approx(here, rel=0.1)
            assert o.ratio == pytest.approx(there, rel=0.1)
            assert 1 + o.difference == pytest.approx(here / there, rel=0.1)
            lo, hi = o.difference_ci
            assert lo < o.difference < hi
            assert o.ci[0] < o.ratio < o.ci[1]


def test_json_has_the_other_side_per_pair_and_no_nan(case):
    bad, _, a = case
    text = json.dumps(a.to_dict(), allow_nan=False)
    doc = json.loads(text)
    sick = next(t for t in doc["tests"] if t["side"] == bad)
    assert sick["other_side"]["side"] == OTHER[bad]
    for phase in ("pre", "post"):
        o = sick["other_side"][phase]
        assert set(o) >= {"side", "ratio", "ci", "n_trials", "difference", "flag", "reason"}
    assert sick["other_side"]["pre"]["flag"] is True
    assert len(sick["trials"]) == 10
    for t in doc["tests"]:  # the schema of ARCHITECTURE.md is kept
        assert set(t) >= {"protocol", "tested_muscle", "partner_muscle", "side", "pre", "post",
                          "change", "verdict"}  # fmt: skip


def test_one_side_asked_for_is_still_compared_with_the_other():
    sim = _bilateral("R", n=3, seed=5)
    a = assess_session(sim.session, side="R", n_boot=300)
    (t,) = a.tests
    assert t.side == "R" and t.pre.other_side.side == "L" and t.pre.other_side.flag
    assert a.trials["side"].unique().tolist() == ["R"]


def test_unrecorded_other_side_is_said_in_the_caveats():
    s = simulate(gmed_adl_hip_flexion(n_trials=3).replace(**SHORT)).session
    a = assess_session(s, "hip_flexion_gmed_adl", n_boot=200)
    (t,) = a.tests
    assert t.pre.other_side is None and t.to_dict()["other_side"] is None
    assert any(c.startswith("the right side was not recorded") for c in t.caveats)


def test_other_side_recorded_without_sided_trials_is_said():
    sim = _bilateral("L", n=3, seed=2)
    ev = sim.session.events
    unsided = make_events(ev.onset, ev.duration, [re.sub(r"/[LR]$", "", x) for x in ev.label])
    a = assess_session(sim.session.replace(events=unsided), side="L", n_boot=200)
    (t,) = a.tests
    assert t.pre.other_side is None
    assert any("no test trial names that side (e.g. pre/test/GMED/R)" in c for c in t.caveats)


def test_too_few_trials_on_the_other_side_are_not_judged():
    sim = _bilateral("L", n=4, seed=6)
    ev = sim.session.events
    right_pre = ev.index[ev.label == "pre/test/GMED/R"]
    a = assess_session(sim.session.replace(events=ev.drop(right_pre[1:])), side="L", n_boot=200)
    (t,) = a.tests
    o = t.pre.other_side
    assert o.n_trials == 1 and not o.flag and "not judged" in o.reason
    assert any("pre: only 1 valid trial(s) on the right side" in c for c in t.caveats)
    assert t.pre.flag  # the within-side rules still flag the compensating side
    assert t.post.other_side.n_trials == 4


def test_dead_partner_on_the_other_side_gives_no_comparison_not_a_crash():
    from nkt_motion.simulate import Fault

    left, right = bilateral_hip_flexion(compensating="L", n_trials=3, seed=7)
    right = right.replace(faults=(Fault("ADL", "dead"),), **SHORT)
    sim = simulate_bilateral(left.replace(**SHORT), right)
    a = assess_session(sim.session, n_boot=200)
    left_t, right_t = a.tests
    assert right_t.verdict == "inconclusive"
    assert left_t.pre.other_side.n_trials == 0 and not left_t.pre.other_side.flag
    assert any("no valid trial on the right side" in c for c in left_t.caveats)
    assert left_t.pre.flag  # ratio and onset rules of the left side still apply
    json.dumps(a.to_dict(), allow_nan=False)


def test_analyze_cli_on_a_bilateral_bids_session(tmp_path):
    sim = _bilateral("L", n=3, seed=4)
    root = write_bids(sim.session, tmp_path / "bids")
    out = tmp_path / "out.json"
    assert main(["analyze", str(root), "--json", str(out), "--n-boot", "200"]) == 0
    doc = json.loads(out.read_text())
    assert [t["side"] for t in doc["tests"]] == ["L", "R"]
    assert doc["tests"][0]["other_side"]["pre"]["flag"] is True
    assert doc["tests"][1]["other_side"]["pre"]["flag"] is False


def test_missing_channels_of_the_other_side_are_named():
    sim = _bilateral("L", n=3, seed=9)
    only_left = sim.session.pick(["EMG GMED L", "EMG ADL L", "EMG TFL L"])
    left_t, right_t = assess_session(only_left, n_boot=200).tests
    assert right_t.verdict == "inconclusive" and "no EMG channel" in right_t.verdict_reason
    assert any(c.startswith("the right side was not recorded") for c in left_t.caveats)
    assert left_t.pre.other_side is None and left_t.pre.flag


def test_quality_keeps_each_sides_normalisation():
    """Reference contractions on the left only: the left is normalised to them, the right not."""
    sim = _bilateral("L", n=3, seed=4)
    ev = sim.session.events
    session = sim.session.replace(events=ev[~ev["label"].str.match(r"ref/.*/R$")])
    q = assess_session(session, n_boot=200, seed=1).quality
    assert set(q["sides"]) == {"L", "R"} and "side" not in q
    left, right = q["sides"]["L"]["normalisation"], q["sides"]["R"]["normalisation"]
    assert set(left.values()) == {"reference"}
    assert "reference" not in set(right.values())
    assert q["normalisation"]["gluteus_medius"] == " / ".join(
        sorted({left["gluteus_medius"], right["gluteus_medius"]})
    )
    assert sum(s["n_trials"] for s in q["sides"].values()) == q["n_trials"]
    by_channel = {c["channel"]: c["normalisation"] for c in q["channels"]}
    assert by_channel["EMG GMED L"] == "reference" and by_channel["EMG GMED R"] != "reference"
    assert json.loads(json.dumps(q)) == q
