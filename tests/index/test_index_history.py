import json

import numpy as np
import pytest
from matplotlib.figure import Figure

from nkt_motion.assess import assess_session
from nkt_motion.cli import main
from nkt_motion.errors import ValidationError
from nkt_motion.index import open_index
from nkt_motion.index.plots import VERDICT_STYLE, history_figure, plot_history
from nkt_motion.index.text import CROSS_SESSION_CAVEAT, format_history, pairs
from nkt_motion.simulate import (
    bilateral_hip_flexion,
    gmed_adl_hip_flexion,
    simulate,
    simulate_bilateral,
)

GMED_ADL = ("hip_flexion_gmed_adl", "gluteus_medius", "adductor_longus", "L")


def _history(path, **kw):
    with open_index(path) as idx:
        return idx.history("01", **kw)


def test_history_holds_every_visit_in_time_order(filled, visits):
    h = _history(filled)
    assert h["session"].tolist() == ["01", "02", "03", "03"]
    assert h["visit"].tolist() == [1, 2, 3, 3]
    assert h["recorded_at"].tolist()[:2] == ["2024-03-01T10:00:00", "2024-04-05T07:30:00+00:00"]
    assert h["dated_by"].tolist() == ["session", "session", "analysis", "analysis"]
    assert h["normalisation"].tolist() == ["reference", "task_peak", "reference", "reference"]
    assert pairs(h) == [
        GMED_ADL,
        ("single_leg_stance", "gluteus_medius", "adductor_longus", "L"),
        ("single_leg_stance", "gluteus_medius", "tensor_fasciae_latae", "L"),
    ]
    # the numbers are the assessments' own
    for (a, *_), (_, row) in zip(visits[:2], h.iloc[:2].iterrows(), strict=True):
        t = a.tests[0]
        assert row["verdict"] == t.verdict and row["verdict_reason"] == t.verdict_reason
        assert row["pre_ratio"] == pytest.approx(t.pre.ratio)
        assert (row["post_ci_lo"], row["post_ci_hi"]) == pytest.approx(t.post.ci)
        assert row["ratio_change"] == pytest.approx(t.ratio_change)
        assert row["pre_n_trials"] == t.pre.n_trials == 3
        assert row["pre_p_compensation"] == pytest.approx(t.pre.p_compensation)
        assert bool(row["pre_flag"]) == t.pre.flag
    assert h["verdict"].iloc[0] == "resolved"
    only = _history(filled, protocol="single_leg_stance")
    assert only["visit"].tolist() == [3, 3]
    assert _history(filled, protocol="nothing").empty


def test_history_text_per_pair_with_caveats(filled):
    text = format_history(_history(filled), client="01")
    lines = text.splitlines()
    assert lines[0] == "Client 01: 3 visit(s), 2024-03-01 to " + lines[0][-10:]
    assert text.count("visit  date") == 3  # one table per pair
    block = text.split("gluteus medius : adductor longus (L), protocol hip_flexion_gmed_adl")[1]
    first, second = block.splitlines()[2:4]
    assert first.split()[:3] == ["1", "2024-03-01", "01"] and first.endswith("resolved")
    assert second.split()[:3] == ["2", "2024-04-05", "02"]
    assert "note: " + CROSS_SESSION_CAVEAT in text
    assert (
        "Normalised to reference contractions: visits 1, 3. "
        "Not: visit 2 (every muscle: the peak of its test trials)." in text
    )
    assert "had no usable reference contraction at that visit" in text
    assert "* date of the analysis" in text and "not a diagnosis" in text
    third = [ln for ln in lines if ln.lstrip().startswith("3 ")]
    assert len(third) == 2 and all("*" in ln.split()[1] for ln in third)


def test_plot_history_draws_each_visit(filled):
    h = _history(filled)
    with pytest.raises(ValidationError, match="pair must be one of"):
        plot_history(h)
    ax = plot_history(h, pair=GMED_ADL)
    assert ax.get_yscale() == "log"
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[0].startswith("2024-03-01\nses-01") and "(task_peak)" in labels[1]
    pre, post = (
        next(ln for ln in ax.lines if ln.get_gid() == f"ratio:{p}") for p in ("pre", "post")
    )
    assert np.allclose(pre.get_ydata(), h["pre_ratio"].iloc[:2])
    assert np.allclose(post.get_ydata(), h["post_ratio"].iloc[:2])
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "verdict: resolved" in legend
    assert set(VERDICT_STYLE) >= set(h["verdict"])
    fig = history_figure(h)
    assert isinstance(fig, Figure) and len(fig.axes) == 3


def test_history_cli_prints_plots_and_exports(filled, tmp_path, capsys):
    png, out = tmp_path / "fig" / "h.png", tmp_path / "h.json"
    argv = ["history", "01", "--index", str(filled), "--plot", str(png), "--json", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("Client 01: 3 visit(s)")
    assert f"wrote {png}" in printed and f"wrote {out}" in printed
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 20_000
    doc = json.loads(out.read_text())
    assert doc["client"] == "01" and doc["visits"] == 3 and len(doc["tests"]) == 4
    assert doc["caveats"][0] == CROSS_SESSION_CAVEAT and "identifying" not in doc
    assert doc["tests"][0]["verdict"] == "resolved"
    assert {"name", "birth_date", "notes"}.isdisjoint(doc["tests"][0])


def test_history_cli_by_env_and_protocol(filled, monkeypatch, capsys):
    monkeypatch.setenv("NKT_MOTION_INDEX", str(filled))
    assert main(["history", "01", "--protocol", "hip_flexion_gmed_adl"]) == 0
    out = capsys.readouterr().out
    assert "single_leg_stance" not in out and "Client 01: 2 visit(s)" in out
    assert main(["history", "01", "--protocol", "nope"]) == 2
    err = capsys.readouterr().err
    assert "no tests of protocol 'nope'" in err and "hip_flexion_gmed_adl" in err


def test_history_cli_errors_are_clear(filled, tmp_path, capsys):
    assert main(["history", "zz", "--index", str(filled)]) == 2
    assert "no client 'zz'" in capsys.readouterr().err
    missing = tmp_path / "none.sqlite"
    assert main(["history", "01", "--index", str(missing)]) == 2
    assert "no index here yet" in capsys.readouterr().err and not missing.exists()


def test_history_cli_identifying_only_when_asked(filled, tmp_path, capsys):
    with open_index(filled) as idx:
        idx.set_identifying("01", name="Jane Example", notes="prefers mornings")
    plain, full = tmp_path / "plain.json", tmp_path / "full.json"
    assert main(["history", "01", "--index", str(filled), "--json", str(plain)]) == 0
    shown = capsys.readouterr().out
    assert "Jane" not in shown and "Jane" not in plain.read_text()
    argv = ["history", "01", "--index", str(filled), "--json", str(full), "--include-identifying"]
    assert main(argv) == 0
    assert "name Jane Example" in capsys.readouterr().out
    doc = json.loads(full.read_text())
    assert doc["identifying"]["name"] == "Jane Example"
    assert doc["tests"][0]["notes"] == "prefers mornings"


def _without(session, prefix):
    keep = ~session.events["label"].astype(str).str.startswith(prefix)
    return session.replace(events=session.events[keep].reset_index(drop=True))


def test_a_visit_normalised_two_ways_names_each_muscles_normalisation(tmp_path):
    short = {"trial_s": 1.5, "gap_s": 0.3, "rest_s": 1.5, "ref_s": 1.5, "correction_s": 0.5}
    one = _without(simulate(gmed_adl_hip_flexion(n_trials=3).replace(**short)).session, "ref/ADL")
    left, right = (sc.replace(**short) for sc in bilateral_hip_flexion(n_trials=3))
    both = _without(simulate_bilateral(left, right).session.replace(session_id="02"), "ref/ADL/R")
    path = tmp_path / "index.sqlite"
    with open_index(path) as idx:
        for i, s in enumerate((one, both)):
            idx.record(assess_session(s, n_boot=200), source=f"/s{i}", content_hash=f"h{i}",
                       origin="analyze", recorded_at=f"2024-0{i + 1}-01T10:00:00")  # fmt: skip
    h = _history(path)
    mixed = "gluteus_medius: reference, adductor_longus: task_peak"
    # per side: the left side kept its reference contractions
    assert list(zip(h["visit"], h["side"], h["normalisation"], strict=True)) == [
        (1, "L", mixed), (2, "L", "reference"), (2, "R", mixed),
    ]  # fmt: skip
    text = format_history(h, client="01")
    assert "mixed" not in text
    assert (
        "Normalised to reference contractions: none. Not: visit 1 (gluteus medius: reference "
        "contractions; adductor longus: the peak of its test trials), visit 2 (gluteus medius "
        "(L): reference contractions; adductor longus (L): reference contractions; gluteus "
        "medius (R): reference contractions; adductor longus (R): the peak of its test trials)."
    ) in text
    assert "had no usable reference contraction at that visit" in text
