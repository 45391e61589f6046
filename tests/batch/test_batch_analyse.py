from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from batch_material import N_BOOT, short_session, write_plain_bdf

import nkt_motion.assess
from nkt_motion.assess import assess_session
from nkt_motion.batch import Settings, analyse_session_path, report_name
from nkt_motion.batch.analyse import load_session
from nkt_motion.batch.discover import describe_session
from nkt_motion.cli import main
from nkt_motion.io import read, write_bids
from nkt_motion.model import make_gaps

BIDS_01 = "clinic_a/sub-01/ses-01/emg/sub-01_ses-01_task-hipflexion_emg.bdf"
FULL = Settings(n_boot=N_BOOT, read="full")
WINDOWS = Settings(n_boot=N_BOOT, read="windows", pad_s=5.0)


def test_full_read_gives_the_numbers_of_analyze(material: Path) -> None:
    path = material / BIDS_01
    r = analyse_session_path(path, Settings(n_boot=N_BOOT))
    a = assess_session(read(path), n_boot=N_BOOT)
    assert (r.status, r.read_mode, r.error) == ("ok", "full", None)
    rows = r.rows
    assert rows["row_type"].tolist() == ["session", "pair"] + ["trial"] * len(a.trial_flags)
    test = a.to_dict()["tests"][0]
    pair = rows[rows["row_type"] == "pair"].iloc[0]
    assert (pair["tested_muscle"], pair["partner_muscle"]) == ("gluteus_medius", "adductor_longus")
    assert pair["verdict"] == test["verdict"] == "resolved"
    assert pair["pre_ratio"] == test["pre"]["ratio"]
    assert [pair["post_ci_lo"], pair["post_ci_hi"]] == test["post"]["ci"]
    assert [pair["change_ci_lo"], pair["change_ci_hi"]] == test["change"]["ci"]
    trials = rows[rows["row_type"] == "trial"]
    assert trials["rms_GMED"].tolist() == a.trials["rms_GMED"].tolist()
    assert trials["trial_ratio"].tolist() == a.trial_flags["ratio"].tolist()
    assert (trials["pre_ratio"] == test["pre"]["ratio"]).all()
    assert set(rows["content_hash"]) == {describe_session(path).content_hash}
    assert set(rows["settings_hash"]) == {Settings(n_boot=N_BOOT).settings_hash}


@pytest.mark.parametrize(
    ("where", "settings"),
    [
        (BIDS_01, WINDOWS),
        ("edf/s03.bdf", WINDOWS),
        (
            BIDS_01,
            Settings(n_boot=N_BOOT, read="windows", pad_s=5.0, protocol="single_leg_stance"),
        ),
    ],
    ids=["bids", "plain-bdf", "bids-with-imu"],
)
def test_windows_covering_the_recording_equal_the_full_read(
    material: Path, where: str, settings: Settings
) -> None:
    full = analyse_session_path(material / where, _full(settings))
    win = analyse_session_path(material / where, settings)
    assert (full.read_mode, win.read_mode) == ("full", "windows")
    assert full.ok and win.ok
    pd.testing.assert_frame_equal(
        full.rows.drop(columns=["read_mode", "settings_hash"]),
        win.rows.drop(columns=["read_mode", "settings_hash"]),
    )


def _full(s: Settings) -> Settings:
    return Settings(n_boot=s.n_boot, protocol=s.protocol, read="full", pad_s=s.pad_s)


def test_windows_read_the_imu_only_for_kinematic_signs(material: Path) -> None:
    src = describe_session(material / BIDS_01)
    plain, _, _ = load_session(src, WINDOWS)
    signs, _, _ = load_session(src, Settings(read="windows", protocol="single_leg_stance"))
    assert sorted(plain.streams) == ["emg"]
    assert plain["emg"].ch_names == ["EMG GMED L", "EMG ADL L"]  # TFL is no partner here
    assert sorted(signs.streams) == ["emg", "imu"]
    assert signs["imu"].n_channels == 24


@pytest.fixture(scope="module")
def long_correction(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A session whose 60 s correction is cut by the windows, with a gap in a post trial."""
    s = short_session(seed=5, correction_s=60.0)
    post = s.events[s.events["label"] == "post/test/GMED"].iloc[1]
    gap = make_gaps(["emg"], ["EMG GMED L"], [post["onset"] + 0.5], [0.005], ["packet loss"])
    folder = write_bids(s.replace(gaps=gap), tmp_path_factory.mktemp("long"))
    return next((folder / "emg").glob("*_emg.bdf"))


def test_windows_cut_the_correction_and_keep_the_numbers(long_correction: Path) -> None:
    full = analyse_session_path(long_correction, _full(WINDOWS))
    win = analyse_session_path(long_correction, Settings(n_boot=N_BOOT, read="windows"))
    session, _, _ = load_session(describe_session(long_correction), Settings(read="windows"))
    (_, b0), (a1, _) = session.meta["analysis_windows"]
    assert b0 < a1 and (a1 - b0) > 50.0  # most of the correction is not read
    assert session.duration < read(long_correction).duration - 50.0
    assert session.gaps["channel"].tolist() == ["EMG GMED L"]
    f, w = (
        full.rows.set_index(["row_type", "label", "trial"]),
        win.rows.set_index(["row_type", "label", "trial"]),
    )
    numbers = ["pre_ratio", "post_ratio", "ratio_change", "rms_GMED", "rms_ADL", "env_mean_ADL"]
    np.testing.assert_allclose(w[numbers].astype(float), f[numbers].astype(float), rtol=1e-6)
    same = ["verdict", "quality_reason_GMED", "onset_ms_GMED", "onset_ms_ADL", "trial_flag"]
    pd.testing.assert_frame_equal(w[same], f[same])
    assert any("gap" in str(r) for r in w["quality_reason_GMED"])


def test_auto_switches_to_windows_above_the_threshold(long_correction: Path) -> None:
    src = describe_session(long_correction)
    assert load_session(src, Settings())[2] == "full"
    assert load_session(src, Settings(full_read_mb=0.1))[2] == "windows"


@pytest.mark.parametrize(
    ("threshold", "mode"), [("0.1", "windows"), ("300", "full")], ids=["big", "small"]
)
def test_analyze_reads_and_assesses_as_batch_does(
    long_correction: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    threshold: str,
    mode: str,
) -> None:
    """One session, the same assessment JSON through ``analyze`` and through batch's function.

    A threshold of 0.1 MB makes the session big enough to be read by windows.
    """
    r = analyse_session_path(
        long_correction, Settings(n_boot=N_BOOT, full_read_mb=float(threshold))
    )
    assert (r.status, r.read_mode) == ("ok", mode)
    assert r.assessment is not None
    expected = json.loads(json.dumps(r.assessment.to_dict(), allow_nan=False))
    folder = long_correction.parent.parent
    for i, path in enumerate((long_correction, folder)):  # the data file or its session folder
        out = tmp_path / f"a{i}.json"
        argv = ["analyze", str(path), "--json", str(out), "--n-boot", str(N_BOOT)]
        assert main([*argv, "--full-read-mb", threshold]) == 0
        assert json.loads(out.read_text()) == expected
        printed = capsys.readouterr().out
        said = "event windows" in printed and "above 0.1 MB" in printed
        assert said == (mode == "windows"), printed
        assert "recorded in the index" in printed


def test_analyze_writes_the_report_of_a_session_read_by_windows(
    long_correction: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, html = tmp_path / "a.json", tmp_path / "a.html"
    argv = ["analyze", str(long_correction), "--json", str(out), "--report", str(html)]
    assert main([*argv, "--n-boot", str(N_BOOT), "--read", "windows", "--no-index"]) == 0
    assert "event windows" in capsys.readouterr().out
    assert "not a diagnosis" in html.read_text()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("edf/corrupt.bdf", "corrupt.bdf: not a readable EDF/BDF file"),
        ("edf/half.bdf", "half.bdf: not a readable EDF/BDF file"),
        ("edf/missing.bdf", "missing.bdf: file does not exist"),
        ("csv/notes.csv", "notes.csv: not a tidy CSV recording"),
    ],
)
@pytest.mark.parametrize("mode", ["full", "windows"])
def test_bad_sessions_give_failed_results(
    material: Path, name: str, message: str, mode: str
) -> None:
    r = analyse_session_path(material / name, Settings(read=mode))  # type: ignore[arg-type]
    assert (r.status, r.assessment) == ("failed", None)
    assert message in str(r.error)
    assert r.rows[["row_type", "status"]].values.tolist() == [["session", "failed"]]
    assert r.rows["error"].tolist() == [r.error]


def test_unexpected_errors_are_failed_results_with_a_logged_traceback(
    material: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(nkt_motion.assess, "assess_session", boom)
    r = analyse_session_path(material / "edf" / "s03.bdf", FULL)
    assert (r.status, r.error) == ("failed", "ZeroDivisionError: boom")
    assert "Traceback" in caplog.text


def test_report_written_with_its_name(material: Path, tmp_path: Path) -> None:
    r = analyse_session_path(material / BIDS_01, FULL, report_dir=tmp_path / "reports")
    assert r.ok and r.report is not None
    assert r.report.name == report_name("01", "01", r.source.content_hash)
    assert "not a diagnosis" in r.report.read_text()


def test_a_plain_bdf_without_events_fails_by_windows_with_a_reason(tmp_path: Path) -> None:
    s = short_session(seed=6)
    path = write_plain_bdf(s.replace(events=s.events.iloc[:0]), tmp_path / "no_events.bdf")
    r = analyse_session_path(path, Settings(read="windows", protocol="hip_flexion_gmed_adl"))
    assert r.status == "failed"
    assert "no rest, ref/<CODE> or test event" in str(r.error)


def test_analysis_logs_nothing_above_info_for_a_good_session(
    material: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="nkt_motion.batch"):
        assert analyse_session_path(material / BIDS_01, WINDOWS).ok
    assert caplog.records == []
