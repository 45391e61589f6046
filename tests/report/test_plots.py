import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from nkt_motion import Channel, Stream, make_events
from nkt_motion.assess import assess_session
from nkt_motion.model._imu_session import imu_angles
from nkt_motion.protocols import load_protocol
from nkt_motion.report import (
    collect,
    compensation_traces,
    pair_figure,
    plot_emg,
    plot_imu,
    plot_onsets,
    plot_quality,
    plot_ratios,
    sign_thresholds,
)
from nkt_motion.simulate import gmed_adl_hip_flexion, simulate


@pytest.fixture(scope="module")
def case():
    sc = gmed_adl_hip_flexion(n_trials=4).replace(
        trial_s=1.5, gap_s=0.4, rest_s=2.0, ref_s=1.5, correction_s=0.5, fs_imu=50.0
    )
    s = simulate(sc).session
    a = assess_session(s, "hip_flexion_gmed_adl", n_boot=200)
    return s, a, collect(s, a)


def _spans(ax, gid):
    return [p for p in ax.patches if p.get_gid() == gid]


def test_plot_emg_rows_envelopes_and_trial_spans(case):
    s, _, d = case
    ax = plot_emg(d.prepared.filtered, d.prepared.envelope, events=s.events)
    assert isinstance(ax, Axes) and isinstance(ax.figure, Figure)
    n_ch = d.prepared.filtered.n_channels
    assert len(ax.lines) == n_ch
    assert sum(isinstance(c, PolyCollection) for c in ax.collections) == n_ch
    ev = s.events
    assert len(_spans(ax, "trial:pre")) == (ev.phase == "pre").sum() == 4
    assert len(_spans(ax, "trial:post")) == (ev.phase == "post").sum() == 4
    assert len(_spans(ax, "ref")) == (ev.phase == "ref").sum()
    assert len(_spans(ax, "rest")) == 1
    assert [t.get_text().split("\n")[0] for t in ax.get_yticklabels()] == ["EMG GMED L",
                                                                          "EMG ADL L"]  # fmt: skip
    assert ax.get_xlabel() == "time (s)"


def test_plot_emg_on_given_axes_and_long_signal_is_binned():
    x = np.random.default_rng(0).normal(size=(1, 200_000))
    emg = Stream("emg", x, 2000.0, [Channel("EMG TA R", "emg", "uV")])
    ax0 = Figure().add_subplot()
    ax = plot_emg(emg, ax=ax0, max_points=500)
    assert ax is ax0 and not ax.lines
    verts = ax.collections[0].get_paths()[0].vertices
    assert len(verts) < 1100  # bins, not 200 000 samples


def test_plot_ratios_points_means_and_line_at_one(case):
    _, a, _ = case
    pair = a.tests[0]
    ax = plot_ratios(a.trials, pair)
    assert ax.get_yscale() == "log"
    pre, means_pre, post, means_post, one = ax.lines
    assert len(pre.get_xdata()) == len(post.get_xdata()) == 4
    expected = np.exp(a.trials.loc[a.trials.phase == "pre", "log_ratio_GMED_ADL"])
    np.testing.assert_allclose(pre.get_ydata(), expected)
    assert means_pre.get_ydata()[0] == pytest.approx(pair.pre.ratio)
    assert means_post.get_ydata()[0] == pytest.approx(pair.post.ratio)
    assert list(one.get_ydata()) == [1.0, 1.0]
    assert len(ax.collections) == 2  # the two interval bands
    lo, hi = ax.get_ylim()
    assert lo < pair.pre.ci[0] and hi > pair.post.ci[1]


def test_plot_onsets_marks_partner_first_trials(case):
    _, a, _ = case
    ax = plot_onsets(a.trials, a.tests[0], margin_ms=30.0)
    diff = a.trials["onset_diff_ms_GMED_ADL"]
    assert len(_spans(ax, "partner_first")) == int((diff < -30).sum()) == 4
    labels = [t.get_text() for t in ax.get_yticklabels()]
    by_y = sorted(zip(ax.get_yticks(), labels, strict=True))
    assert by_y[-1][1] == "pre 1" and by_y[0][1] == "post 4"  # pre on top
    fewer = plot_onsets(a.trials, a.tests[0], margin_ms=500.0)
    assert not _spans(fewer, "partner_first")


def test_compensation_traces_sign_follows_stance():
    obl = np.r_[np.zeros(50), np.full(50, 6.0)]  # left side 6 deg higher
    ang = Stream("angles", obl[None], 50.0, [Channel("ANGLE pelvis_obliquity", "angle", "deg")])
    ev = make_events([0.0], [1.0], ["rest"])
    left = compensation_traces(ang, events=ev, stance="L")["pelvic_drop"]
    right = compensation_traces(ang, events=ev, stance="R")["pelvic_drop"]
    assert left[-1] == 6.0 and right[-1] == -6.0  # right side drops on a left stance


def test_plot_imu_traces_thresholds_and_positive_compensation(case):
    s, _, d = case
    assert d.angles is not None and d.stance == "L"
    thr = sign_thresholds(load_protocol("single_leg_stance"))
    ax = plot_imu(d.angles, events=s.events, stance="L", thresholds=thr)
    solid = [ln for ln in ax.lines if ln.get_gid() != "threshold" and ln.get_linestyle() == "-"]
    dashed = [ln for ln in ax.lines if ln.get_gid() == "threshold"]
    assert len(solid) == 4  # 3 traces and the zero line
    assert sorted(ln.get_ydata()[0] for ln in dashed) == [9.0, 10.0, 15.0]
    # the simulated pre trials compensate: the pelvic drop trace peaks well above 0
    pelvic = next(ln for ln in solid if ln.get_label().startswith("pelvic drop"))
    assert np.nanmax(pelvic.get_ydata()) > 5.0
    assert len(_spans(ax, "trial:pre")) == 4
    shared = plot_imu(d.angles, events=s.events, stance="L", thresholds=sign_thresholds(None))
    assert [ln.get_gid() for ln in shared.lines].count("threshold") == 1


def test_imu_angles_match_the_stream(case):
    s, _, d = case
    np.testing.assert_allclose(d.angles.data, imu_angles(s).data)


def test_plot_quality_and_pair_figure(case):
    _, a, d = case
    ax = plot_quality(d.quality)
    table = ax.tables[0]
    cells = table.get_celld()
    n_rows = 1 + len(d.quality)
    assert max(r for r, _ in cells) + 1 == n_rows
    assert cells[(0, 0)].get_text().get_text() == "channel"
    fig = pair_figure(a)
    assert len(fig.axes) == 2 and "RESOLVED" in fig._suptitle.get_text()


def test_empty_panels_say_why(case):
    _, a, _ = case
    blank = a.trials.assign(log_ratio_GMED_ADL=np.nan, onset_ms_GMED=np.nan, onset_ms_ADL=np.nan)
    ratio_ax = plot_ratios(blank, a.tests[0])
    onset_ax = plot_onsets(blank, a.tests[0])
    notes = [[t.get_text() for t in ax.texts if t.get_gid() == "no_data"] for ax in
             (ratio_ax, onset_ax)]  # fmt: skip
    assert len(notes[0]) == len(notes[1]) == 1
    assert "no trial has a valid ratio" in notes[0][0] and "no onset detected" in notes[1][0]
    full = plot_ratios(a.trials, a.tests[0])
    assert not [t for t in full.texts if t.get_gid() == "no_data"]  # data present: no note
