"""Reports of bilateral assessments: one block and one figure per side and pair."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from nkt_motion.assess import assess_session
from nkt_motion.report import build_report
from nkt_motion.report._text import verdict_blocks
from nkt_motion.report.plots import plot_ratios
from nkt_motion.simulate import bilateral_hip_flexion, simulate_bilateral

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def assessed():
    short = {"trial_s": 1.5, "gap_s": 0.3, "rest_s": 1.5, "ref_s": 1.5, "correction_s": 0.5}
    left, right = bilateral_hip_flexion(compensating="L", n_trials=3, seed=2)
    sim = simulate_bilateral(left.replace(**short), right.replace(**short))
    return sim.session, assess_session(sim.session, n_boot=200)


def test_blocks_carry_the_other_side_and_per_trial_scores(assessed):
    _, a = assessed
    left, right = verdict_blocks(a)
    assert left.title.endswith("(side L)") and right.title.endswith("(side R)")
    assert left.other_side.startswith("Other side (R) ratio: before ")
    assert "% lower" in left.other_side and "% higher" in right.other_side
    assert left.per_trial.startswith("Per-trial p_compensation (rule-based score")
    assert left.per_trial.count(" ") > 6


def test_ratio_plot_draws_the_sided_trials_of_its_own_side(assessed):
    import matplotlib.pyplot as plt

    _, a = assessed
    for t in a.tests:
        ax = plot_ratios(a.trials, t)
        dots = [ln for ln in ax.lines if ln.get_linestyle() == "None"]
        values = np.concatenate([ln.get_ydata() for ln in dots])
        want = np.exp(a.trials.loc[a.trials.side == t.side, "log_ratio_GMED_ADL"])
        np.testing.assert_allclose(np.sort(values), np.sort(want))
        plt.close(ax.figure)


def test_html_has_one_figure_per_side_and_the_new_lines(assessed, tmp_path):
    session, a = assessed
    html = build_report(session, a, out_html=tmp_path / "r.html").html.read_text()
    assert 'id="fig-pair-GMED-ADL-L"' in html and 'id="fig-pair-GMED-ADL-R"' in html
    assert html.count('<div class="verdict') == 2
    assert "Other side (R) ratio" in html and "Other side (L) ratio" in html
    assert html.count("Per-trial p_compensation (rule-based score") == 2
