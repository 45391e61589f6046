from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
from nkt_io_conformance import assert_file_error, check_reader, write_plain

import nkt_motion as nm
from nkt_motion.io import read_csv, read_edf

LABELS = ["EMG GMED L", "EMG ADL L", "EMG TFL R", "ACC X pelvis", "FORCE load"]
UNITS = ["uV", "uV", "uV", "m/s^2", "N"]
RATES = [2000, 2000, 1000, 100, 100]
ANN = [(0.2, 0.5, "pre/test/GMED"), (1.0, 0.1, "BAD_gap emg|EMG ADL L|loss"), (1.5, 0, "rest")]


@pytest.mark.parametrize("edf", [False, True])
def test_plain_file_conformance(tmp_path, edf):
    path = tmp_path / ("rec.edf" if edf else "rec.bdf")
    signals = write_plain(path, LABELS, UNITS, RATES, annotations=ANN, edf=edf)
    s = check_reader(lambda: read_edf(path), tmp_path=tmp_path, path=path)
    assert list(s.streams) == ["emg", "emg_1000", "imu", "force"]
    assert s["emg"].ch_names == ["EMG GMED L", "EMG ADL L"] and s["emg"].fs == 2000
    assert s["emg_1000"].ch_names == ["EMG TFL R"]
    assert s.events["label"].tolist() == ["pre/test/GMED", "rest"]
    assert s.gaps[["stream", "channel", "reason"]].values.tolist() == [
        ["emg", "EMG ADL L", "loss"]
    ]
    adl = s["emg"].data[1]
    assert np.isnan(adl[2000:2200]).all() and not np.isnan(adl[:2000]).any()
    # values against the independently written samples (16/24-bit step of 400/65535)
    np.testing.assert_allclose(s["emg"].data[0], signals[0], atol=400 / 65535)


def test_unconventional_annotations_kept_in_meta(tmp_path):
    path = tmp_path / "rec.bdf"
    write_plain(path, LABELS[:1], UNITS[:1], RATES[:1], annotations=[(0.1, 0, "blink")])
    s = read_edf(path)
    assert s.meta["other_annotations"] == ["blink"] and len(s.events) == 0


@pytest.mark.parametrize(
    ("label", "unit", "needle"),
    [
        ("EMG GMED X", "uV", "side"),
        ("EMG FOO L", "uV", "unknown muscle"),
        ("EMG TA R", "m/s^2", "unit"),
    ],
)
def test_edf_bad_channels(tmp_path, label, unit, needle):
    path = tmp_path / "bad.bdf"
    write_plain(path, ["EMG GMED L", label], ["uV", unit], [100, 100])
    assert_file_error(lambda: nm.read(path), path=path, channel=label, match=needle)


def test_edf_missing_and_truncated(tmp_path):
    assert_file_error(lambda: read_edf(tmp_path / "x.bdf"), path=tmp_path / "x.bdf")
    path = tmp_path / "cut.bdf"
    write_plain(path, LABELS[:2], UNITS[:2], RATES[:2])
    path.write_bytes(path.read_bytes()[:700])
    assert_file_error(lambda: nm.read(path), path=path)


def _csv(tmp_path, text, name="rec.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _tidy(n=400, fs=200.0, nan=True):
    t = np.arange(n) / fs + 1.0
    rng = np.random.default_rng(2)
    cols = {
        "time": t,
        "EMG GMED L": rng.normal(0, 30, n),
        "EMG ADL L": rng.normal(0, 20, n),
        "ACC Z pelvis": rng.normal(9.8, 0.1, n),
        "GYR X pelvis": rng.normal(0, 5, n),
    }
    if nan:
        cols["EMG GMED L"][50:60] = np.nan
    lines = [",".join(cols)]
    table = np.column_stack(list(cols.values()))
    lines += [",".join("" if np.isnan(v) else repr(float(v)) for v in row) for row in table]
    return "\n".join(lines) + "\n", cols


def test_csv_conformance(tmp_path):
    text, cols = _tidy()
    path = _csv(tmp_path, text)
    (tmp_path / "rec_channels.tsv").write_text(
        "name\tunits\tplacement\nEMG ADL L\tmV\t4 cm distal\n"
    )
    (tmp_path / "rec_events.csv").write_text("onset,duration,label\n1.2,0.5,pre/test/GMED\n")
    (tmp_path / "rec.json").write_text(json.dumps({"subject": "3", "meta": {"task": "abc"}}))
    s = check_reader(lambda: read_csv(path), tmp_path=tmp_path, path=path)
    assert list(s.streams) == ["emg", "imu"] and s["emg"].fs == 200.0 and s["emg"].t0 == 1.0
    adl = s["emg"].channels[1]
    assert (adl.unit, adl.placement) == ("mV", "4 cm distal")
    assert [c.unit for c in s["imu"].channels] == ["m/s^2", "deg/s"]
    assert s.subject == "3" and s.meta["task"] == "abc"
    assert s.gaps[["channel", "onset", "duration"]].values.tolist() == [["EMG GMED L", 1.25, 0.05]]
    np.testing.assert_array_equal(s["emg"].data[0], cols["EMG GMED L"])


def test_csv_gz(tmp_path):
    text, _ = _tidy(nan=False)
    path = tmp_path / "rec.csv.gz"
    path.write_bytes(gzip.compress(text.encode()))
    assert nm.read(path)["emg"].n_samples == 400
    path.write_bytes(gzip.compress(text.encode())[:300])
    assert_file_error(lambda: nm.read(path), path=path)


@pytest.mark.parametrize(
    ("edit", "channel", "needle"),
    [
        (lambda t: t.replace("EMG ADL L", "EMG ADL Q"), "EMG ADL Q", "side"),
        (lambda t: t.replace("EMG ADL L", "EMG XYZ L"), "EMG XYZ L", "unknown muscle"),
        (lambda t: t.replace("\n1.01,", "\n0.5,", 1), None, "increase"),
        (lambda t: t.replace("\n1.01,", "\n1.0125,", 1), None, "uniform"),
        (lambda t: t.replace("time,", "t,"), None, "time"),
        (lambda t: t.replace("\n1.01,", "\n1.01,abc", 1), "EMG GMED L", "non-numeric"),
    ],
)
def test_csv_errors(tmp_path, edit, channel, needle):
    text, _ = _tidy(nan=False)
    path = _csv(tmp_path, edit(text.replace("\n1.01", "\n1.01")))
    assert_file_error(lambda: nm.read(path), path=path, channel=channel, match=needle)


def test_csv_mismatched_rate_and_missing(tmp_path):
    text, _ = _tidy(nan=False)
    path = _csv(tmp_path, text)
    (tmp_path / "rec.json").write_text(json.dumps({"SamplingFrequency": 100}))
    assert_file_error(lambda: nm.read(path), path=path, match="SamplingFrequency")
    assert_file_error(lambda: read_csv(tmp_path / "none.csv"), path=tmp_path / "none.csv")
