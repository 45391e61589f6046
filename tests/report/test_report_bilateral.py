"""Reports of bilateral assessments: one block and one figure per side and pair, and one
group of EMG, quality and IMU panels per side."""

from __future__ import annotations

import base64
import io
import re

import matplotlib
import matplotlib.image as mpimg
import numpy as np
import pytest

from nkt_motion.assess import assess_session
from nkt_motion.report import build_report, collect_sides, report_figures
from nkt_motion.report._html import ReportContent
from nkt_motion.report._pdf import text_lines
from nkt_motion.report._text import electrode_table, verdict_blocks
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


def test_every_side_has_its_emg_quality_and_imu_panels(assessed, tmp_path):
    session, a = assessed
    paths = build_report(session, a, out_html=tmp_path / "r.html", out_pdf=tmp_path / "r.pdf")
    html = paths.html.read_text()
    ids = re.findall(r'<figure id="fig-([^"]+)"', html)
    assert ids == ["emg-L", "pair-GMED-ADL-L", "imu-L", "emg-R", "pair-GMED-ADL-R", "imu-R"]
    quality = html[html.index('<section id="quality">') : html.index('<section id="figures">')]
    assert quality.index("<h3>Left side (L)</h3>") < quality.index("<h3>Right side (R)</h3>")
    for side in "LR":
        assert quality.count(f"<td>EMG GMED {side}</td>") == 1
        assert quality.count(f"<td>EMG ADL {side}</td>") == 1
    for fid, side in (("emg-L", "left"), ("emg-R", "right"), ("imu-R", "right")):
        caption = re.search(f'id="fig-{fid}"><img alt="([^"]+)"', html)
        assert caption is not None and f"{side} side" in caption.group(1)
    for src in re.findall(r'src="data:image/png;base64,([^"]+)"', html):
        img = mpimg.imread(io.BytesIO(base64.b64decode(src)), format="png")
        assert img.shape[1] >= 300 and float(np.var(img[..., :3])) > 1e-3
    # the PDF: the text pages, six figures and one quality table per side
    pages = re.findall(rb"/Type\s*/Page(?![s\w])", paths.pdf.read_bytes())
    assert len(pages) >= 2 + 6 + 2


def test_side_panels_draw_their_own_channels_trials_and_stance(assessed):
    session, a = assessed
    per_side = collect_sides(session, a)
    assert [d.stance for d in per_side] == ["L", "R"]
    figures = {fid: fig for fid, _, fig in report_figures(session, a, per_side)}
    for side in "LR":
        (emg,) = figures[f"emg-{side}"].axes
        channels = [t.get_text().split("\n")[0] for t in emg.get_yticklabels()]
        assert channels == [f"EMG GMED {side}", f"EMG ADL {side}"]
        assert emg.get_title(loc="left").startswith(f"{'Left' if side == 'L' else 'Right'} side")
        trials = [p for p in emg.patches if str(p.get_gid()).startswith("trial:")]
        ev = session.events
        mine = ev[ev["label"].str.endswith(f"/{side}") & ev["phase"].isin(["pre", "post"])]
        assert len(trials) == len(mine)
        (imu,) = figures[f"imu-{side}"].axes
        assert imu.get_title(loc="left").endswith(f"stance side {side}")


def _placement(html):
    protocol = html[html.index('<section id="protocol">') : html.index('<section id="quality">')]
    table = protocol[protocol.index("<table><thead>") :]
    head = re.findall(r"<th>([^<]*)</th>", table)
    rows = [re.findall(r"<td>([^<]*)</td>", r) for r in re.findall(r"<tr>(.*?)</tr>", table)[1:]]
    return head, rows


def test_the_placement_table_names_each_sides_channels(assessed, tmp_path):
    session, a = assessed
    html = build_report(session, a, out_html=tmp_path / "r.html").html.read_text()
    head, rows = _placement(html)
    assert head[:3] == ["side", "muscle", "channel"] and len(head) == 8
    assert [(r[0], r[2]) for r in rows] == [
        ("left (L)", "EMG GMED L"), ("left (L)", "EMG ADL L"),
        ("right (R)", "EMG GMED R"), ("right (R)", "EMG ADL R"),
    ]  # fmt: skip
    assert rows[0][3:] == rows[2][3:] and rows[1][3:] == rows[3][3:]  # one protocol
    # the PDF's placement lines name the side too
    head_t, rows_t = electrode_table(collect_sides(session, a), a)
    content = ReportContent(title="t", header=[], verdicts=[], protocol=[], electrodes=rows_t,
                            electrode_head=head_t, quality={}, figures=[], caveats=[],
                            methods=[], disclaimer="d")  # fmt: skip
    lines = [text for kind, text in text_lines(content) if kind == "p"]
    assert any(x.startswith("gluteus medius, right (R) (EMG GMED R, SENIAM): ") for x in lines)
    assert any(x.startswith("adductor longus, left (L) (EMG ADL L, convention): ") for x in lines)
