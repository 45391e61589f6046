"""Verdicts and ratios on a grid of simulated sessions with known truth."""

import itertools

import numpy as np
import pytest

from nkt_motion.assess.pipeline import assess_session
from nkt_motion.simulate import Activation, EmgModel, Fault, MuscleSpec, Scenario, simulate

PROTOCOL = "hip_flexion_gmed_adl"


def _scenario(pre_ratio, change, n, noise, mains, fault, seed):
    adl_pre, adl_post = 0.5, 0.5 / np.sqrt(change)
    gmed_pre = pre_ratio * adl_pre
    gmed_post = pre_ratio * change * adl_post
    # the partner fires first exactly when the phase is compensated (ratio < 0.8)
    t_pre, t_post = (0.30, 0.22) if pre_ratio < 0.8 else (0.22, 0.26)
    u_pre, u_post = (0.30, 0.22) if pre_ratio * change < 0.8 else (0.22, 0.26)
    muscles = (
        MuscleSpec(
            "GMED", 80.0, pre=Activation(gmed_pre, t_pre), post=Activation(gmed_post, u_pre)
        ),
        MuscleSpec(
            "ADL", 150.0, pre=Activation(adl_pre, t_post), post=Activation(adl_post, u_post)
        ),
    )
    return Scenario(
        side="L", tested="GMED", partners=("ADL",), muscles=muscles, n_pre=n, n_post=n,
        trial_s=1.5, gap_s=0.3, rest_s=1.5, ref_s=1.5, correction_s=0.5,
        emg=EmgModel(baseline_rms_uv=noise, mains_uv=mains),
        faults=(Fault("ADL", "dead"),) if fault else (), seed=seed, fs_imu=50.0,
    )  # fmt: skip


def _expected(change, n, fault):
    """The verdicts the truth allows; None marks an ambiguous case (not scored)."""
    if fault:
        return {"inconclusive"}
    if change >= 1.5 and n >= 5:
        return {"resolved", "improved"}
    if change <= 1 / 1.5 and n >= 5:
        return {"worse"}
    if change == 1.0 and n >= 8:
        return {"unchanged"}
    return None


GRID = [
    (r, c, n, noise, mains, False)
    for (r, c), n, (noise, mains) in itertools.product(
        [(0.4, 2.5), (0.5, 2.0), (0.6, 1.6), (1.5, 0.6), (1.0, 1.0), (2.0, 1.0), (0.8, 1.0)],
        [3, 5, 10],
        [(2.0, 0.0), (8.0, 30.0)],
    )
] + [(0.5, 2.0, 5, 2.0, 0.0, True), (1.0, 1.0, 10, 2.0, 0.0, True)]


@pytest.fixture(scope="module")
def results():
    out = []
    for k, (r, c, n, noise, mains, fault) in enumerate(GRID):
        sim = simulate(_scenario(r, c, n, noise, mains, fault, seed=k))
        a = assess_session(sim.session, PROTOCOL, n_boot=500, seed=k)
        out.append((GRID[k], sim, a))
    return out


def test_ratios_match_truth_within_10_percent(results):
    errors = []
    for (_, _, _, _, _, fault), sim, a in results:
        if fault:
            continue
        truth = sim.truth.ratios.groupby("phase")["event_ratio"]
        geo = truth.apply(lambda v: np.exp(np.log(v).mean()))
        t = a.tests[0]
        errors += [t.pre.ratio / geo["pre"] - 1, t.post.ratio / geo["post"] - 1]
    errors = np.abs(errors)
    assert errors.max() < 0.10, errors.max()
    assert np.median(errors) < 0.03


def test_verdicts_correct_where_truth_is_unambiguous(results):
    scored = correct = 0
    for (_, c, n, _, _, fault), _, a in results:
        allowed = _expected(c, n, fault)
        if allowed is None:
            continue
        scored += 1
        correct += a.tests[0].verdict in allowed
    assert scored >= 15
    assert correct / scored >= 0.95, (correct, scored)


def test_no_confident_wrong_verdict_in_ambiguous_cases(results):
    for (_, c, _, _, _, _), _, a in results:
        v = a.tests[0].verdict
        if c > 1:
            assert v not in ("worse",)
        if c < 1:
            assert v not in ("improved", "resolved")
        if c == 1.0:
            assert v in ("unchanged", "inconclusive")


def test_flags_follow_the_ratio_rule(results):
    for (r, c, _, _, _, fault), _, a in results:
        if fault:
            continue
        t = a.tests[0]
        for ratio, phase in ((r, t.pre), (r * c, t.post)):
            if ratio <= 0.6 or ratio >= 1.0:
                assert phase.flag == (ratio <= 0.6), (ratio, phase)


def test_dead_partner_is_inconclusive_with_reason(results):
    for (_, _, _, _, _, fault), _, a in results:
        if fault:
            t = a.tests[0]
            assert t.verdict == "inconclusive"
            assert "disconnected" in t.verdict_reason
            assert t.pre.ratio is None or np.isnan(t.pre.ratio)
            assert not a.quality["ok"]


def test_mains_is_notched(results):
    for (_, _, _, _, mains, _), _, a in results:
        assert (a.quality["notch_hz"] == 50.0) == (mains > 0)
