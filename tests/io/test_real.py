from __future__ import annotations

import csv
import gzip
import itertools

import numpy as np
import pytest
from nkt_io_conformance import assert_file_error, check_reader

import nkt_motion as nm
from nkt_motion.io import real, sample_root

ROOT = sample_root()


def test_santuz_conformance(tmp_path):
    folder = ROOT / "santuz_walking"
    s = check_reader(nm.read_santuz_walking, tmp_path=tmp_path, path=folder)
    assert nm.read(folder / "emg.csv")["emg"].n_samples == 7618
    emg = s["emg"]
    assert emg.fs == 1000.0 and emg.t0 == pytest.approx(0.014) and emg.n_channels == 13
    assert emg.ch_names[:3] == ["EMG GMED R", "EMG GMAX R", "EMG TFL R"]
    assert {c.unit for c in emg.channels} == {"uV"} and {c.side for c in emg.channels} == {"R"}
    assert "EMG PL R" in emg.ch_names and "EMG SOL R" in emg.ch_names
    # oracle: the stdlib csv module on the raw file
    with (folder / "emg.csv").open() as f:
        rows = list(itertools.islice(csv.DictReader(f), 3))
    assert emg.data[0, :3].tolist() == [float(r["ME"]) for r in rows]
    assert emg.data[-1, :3].tolist() == [float(r["SO"]) for r in rows]
    ev = s.events
    stance, swing = ev[ev.label == "stance"], ev[ev.label == "swing"]
    assert len(stance) == 6 and len(swing) == 5
    assert stance.onset.iloc[0] == pytest.approx(1.414)
    assert stance.duration.iloc[0] == pytest.approx(2.074 - 1.414)
    assert swing.onset.iloc[0] == pytest.approx(2.074)
    assert swing.duration.iloc[0] == pytest.approx(2.448 - 2.074)


def test_elderly_hold_conformance(tmp_path):
    file = ROOT / "elderly_isometric" / "sub-05_task-vastus_lateralis.csv.gz"
    s = check_reader(
        lambda: nm.read_elderly_hold(subject="5", task="VL"), tmp_path=tmp_path, path=file
    )
    assert s.subject == "05" and s.meta["task"] == "holdVL"
    assert s["emg"].ch_names == ["EMG VL R", "EMG BF R", "EMG TA R", "EMG LG R"]
    assert s["force"].channels[0] == nm.Channel("FORCE load", "force", "kgf")
    assert s.events[["label", "onset"]].values.tolist() == [["ref/VL", 0.0]]
    assert s.events.duration.iloc[0] == pytest.approx(s["emg"].duration)
    assert "unknown" in s.meta["side_note"]
    with (ROOT / "elderly_isometric" / "participants.csv").open() as f:
        row = next(r for r in csv.DictReader(f) if r["subject"] == "05")
    assert s.meta["age"] == float(row["age_years"])
    assert s.meta["berg_balance_score"] == float(row["berg_balance_score"])
    with gzip.open(file, "rt") as f:
        first = next(itertools.islice(csv.DictReader(f), 1))
    assert s["force"].data[0, 0] == float(first["force_kgf"])
    assert s["emg"].data[1, 0] == float(first["biceps_femoris"])


def test_elderly_cohort_and_errors(tmp_path):
    folder = ROOT / "elderly_isometric"
    assert len(list(folder.glob("sub-*_task-*.csv.gz"))) == 120
    first = list(itertools.islice(nm.read_elderly_cohort(folder), 2))
    assert [s.meta["task"] for s in first] == ["holdBF", "holdLG"]
    assert nm.read(folder, subject="02", task="tibialis_anterior").meta["task"] == "holdTA"
    assert_file_error(lambda: nm.read(folder), path=folder, match="subject")
    assert_file_error(
        lambda: nm.read_elderly_hold(folder, subject="02", task="FOO"), path=folder, match="FOO"
    )
    missing = folder / "sub-99_task-vastus_lateralis.csv.gz"
    assert_file_error(lambda: nm.read_elderly_hold(folder, subject="99", task="VL"), path=missing)
    with pytest.raises(nm.FileFormatError):
        next(nm.read_elderly_cohort(tmp_path))


def test_sample_root_absent(monkeypatch, tmp_path):
    monkeypatch.setattr(real, "__file__", str(tmp_path / "pkg" / "real.py"))
    with pytest.raises(nm.FileFormatError, match="data/samples/real"):
        sample_root()


def test_real_data_is_unchanged_copy():
    """The shipped copy keeps its licences and attribution."""
    for name in ("santuz_walking", "elderly_isometric"):
        assert (ROOT / name / "LICENSE").is_file() and (ROOT / name / "README.md").is_file()
    assert "CC0" in (ROOT / "README.md").read_text()
    values = np.loadtxt(ROOT / "santuz_walking" / "cycles.csv", delimiter=",", skiprows=1)
    assert values.shape == (6, 2)
