import pytest

from nkt_motion import write_bids
from nkt_motion.cli import main
from nkt_motion.simulate import gmed_adl_hip_flexion, simulate


@pytest.fixture(scope="module")
def bids_root(tmp_path_factory):
    sc = gmed_adl_hip_flexion(n_trials=3).replace(
        trial_s=1.5, gap_s=0.3, rest_s=1.5, ref_s=1.5, correction_s=0.5, fs_imu=50.0
    )
    return write_bids(simulate(sc).session, tmp_path_factory.mktemp("bids") / "bids")


def test_report_writes_html_and_pdf(bids_root, tmp_path, capsys):
    html, pdf = tmp_path / "out" / "r.html", tmp_path / "r.pdf"
    argv = ["report", str(bids_root), "--protocol", "hip_flexion_gmed_adl", "--out", str(html),
            "--pdf", str(pdf), "--n-boot", "200"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"wrote {html}" in out and f"wrote {pdf}" in out
    text = html.read_text()
    assert "hip_flexion_gmed_adl" in text and "not a diagnosis" in text
    assert pdf.read_bytes().startswith(b"%PDF")


def test_analyze_report_option(bids_root, tmp_path, capsys):
    js, html = tmp_path / "a.json", tmp_path / "a.html"
    argv = ["analyze", str(bids_root), "--json", str(js), "--report", str(html), "--n-boot",
            "200"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"wrote {js}" in out and f"wrote {html}" in out
    assert js.exists() and "data:image/png;base64," in html.read_text()


def test_report_bad_protocol_is_an_error(bids_root, tmp_path, capsys):
    argv = ["report", str(bids_root), "--protocol", "no_such_protocol", "--out",
            str(tmp_path / "x.html")]  # fmt: skip
    assert main(argv) == 2
    assert "no_such_protocol" in capsys.readouterr().err
    assert not (tmp_path / "x.html").exists()
