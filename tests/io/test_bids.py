from __future__ import annotations

import json

import mne
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nkt_io_conformance import assert_file_error, check_reader, make_session, quantum

import nkt_motion as nm
from nkt_motion.errors import FileFormatError, ValidationError


def test_conformance_synthetic(tmp_path):
    check_reader(make_session, tmp_path=tmp_path)


def test_conformance_without_nan(tmp_path):
    check_reader(lambda: make_session(nan=False, seed=3), tmp_path=tmp_path)


def test_layout_and_sidecars(tmp_path, session):
    ses = nm.write_bids(session, tmp_path)
    assert ses == tmp_path / "sub-07" / "ses-2"
    base = "sub-07_ses-2_task-gmed"
    desc = json.loads((tmp_path / "dataset_description.json").read_text())
    assert desc["BIDSVersion"] == "1.11.0" and desc["DatasetType"] == "raw"
    assert desc["GeneratedBy"][0]["Name"] == "nkt-motion"
    side = json.loads((ses / "emg" / f"{base}_emg.json").read_text())
    for key in (
        "EMGPlacementScheme",
        "EMGReference",
        "SamplingFrequency",
        "PowerLineFrequency",
        "RecordingType",
        "SoftwareFilters",
        "TaskName",
    ):
        assert key in side, key
    assert side["SamplingFrequency"] == 2000.0 and side["PowerLineFrequency"] == 50
    assert side["EMGChannelCount"] == 2 and side["TaskName"] == "gmed"
    ch = pd.read_csv(ses / "emg" / f"{base}_channels.tsv", sep="\t")
    assert list(ch.columns[:5]) == ["name", "type", "units", "target_muscle", "placement"]
    assert ch["type"].tolist() == ["EMG", "EMG", "MISC"]
    assert ch["target_muscle"].tolist()[:2] == ["gluteus_medius", "adductor_longus"]
    ev = pd.read_csv(ses / "emg" / f"{base}_events.tsv", sep="\t")
    assert list(ev.columns) == ["onset", "duration", "trial_type"]
    gaps = ev[ev["trial_type"].str.startswith("BAD_gap")]
    assert gaps["trial_type"].tolist() == [
        "BAD_gap emg|EMG GMED L|packet loss: 3 packets",
        "BAD_gap emg|EMG ADL L|disconnect",
    ]
    # onsets are relative to the first BDF sample (session time 0.5 s)
    assert gaps["onset"].tolist() == pytest.approx([0.05, 1.5])
    mot = ses / "motion" / f"{base}_tracksys-imu"
    mch = pd.read_csv(f"{mot}_channels.tsv", sep="\t")
    assert mch["type"].tolist() == ["ACCEL", "GYRO", "ORNT", "MAGN"]
    assert mch["component"].tolist() == ["x", "z", "quat_w", "y"]
    assert mch["tracked_point"].tolist() == ["pelvis", "pelvis", "thigh_L", "trunk"]
    table = np.loadtxt(f"{mot}_motion.tsv", delimiter="\t")
    np.testing.assert_array_equal(table.T, session["imu"].data)
    mj = json.loads((ses / "motion" / f"{base}_tracksys-imu_motion.json").read_text())
    assert mj["SamplingFrequency"] == 100.0 and mj["TrackingSystemName"] == "imu"


def test_refuses_to_overwrite(tmp_path, session):
    nm.write_bids(session, tmp_path)
    err = assert_file_error(lambda: nm.write_bids(session, tmp_path), path=tmp_path / "sub-07")
    assert "overwrite=True" in str(err)
    other = session.replace(meta={**session.meta, "operator": "B"})
    nm.write_bids(other, tmp_path, overwrite=True)
    assert nm.read(tmp_path).meta["operator"] == "B"


def test_unlisted_nan_becomes_gap(tmp_path, session):
    bare = session.replace(gaps=session.gaps.iloc[:1])
    back = nm.read(nm.write_bids(bare, tmp_path))
    assert back.gaps["reason"].tolist() == ["packet loss: 3 packets", "missing samples"]
    assert back.gaps["onset"].tolist() == pytest.approx([0.55, 2.0])
    assert np.array_equal(np.isnan(back["emg"].data), np.isnan(session["emg"].data))


def test_bad_task_and_meta(tmp_path, session):
    with pytest.raises(ValidationError, match="task"):
        nm.write_bids(session.replace(meta={"task": "gmed test"}), tmp_path / "a")
    bad = session.replace(meta={"task": "x", "obj": object()})
    assert_file_error(lambda: nm.write_bids(bad, tmp_path / "b"), path=tmp_path / "b")


def test_mismatched_rate_in_sidecar(tmp_path, session):
    ses = nm.write_bids(session, tmp_path)
    side_path = ses / "emg" / "sub-07_ses-2_task-gmed_emg.json"
    side = json.loads(side_path.read_text())
    side["SamplingFrequency"] = 1000.0
    side_path.write_text(json.dumps(side))
    assert_file_error(lambda: nm.read(ses), path=side_path, match="SamplingFrequency")


def test_foreign_bids_without_block(tmp_path, session):
    """A folder from another tool (no NktMotion block) is read from labels and tsv."""
    ses = nm.write_bids(session.pick(kinds=["emg"]), tmp_path)
    side_path = ses / "emg" / "sub-07_ses-2_task-gmed_emg.json"
    side = json.loads(side_path.read_text())
    del side["NktMotion"]
    side_path.write_text(json.dumps(side))
    back = nm.read(ses)
    assert back.subject == "07" and back.session_id == "2"
    assert back["emg"].ch_names == ["EMG GMED L", "EMG ADL L"]
    assert [c.unit for c in back["emg"].channels] == ["uV", "mV"]
    assert back.events["label"].tolist() == ["rest", "pre/test/GMED", "ref/ADL"]


def test_mne_reads_the_bdf(tmp_path, session):
    """Peer library as oracle: MNE sees EMG channel types, the annotations and the data."""
    ses = nm.write_bids(session, tmp_path)
    bdf = ses / "emg" / "sub-07_ses-2_task-gmed_emg.bdf"
    # infer_types=True: MNE sets the type from the "EMG " label prefix and drops it
    raw = mne.io.read_raw_bdf(bdf, preload=True, infer_types=True, verbose="error")
    types = dict(zip(raw.ch_names, raw.get_channel_types(), strict=True))
    assert types["GMED L"] == "emg" and types["ADL L"] == "emg"
    assert types["FORCE load"] != "emg"
    desc = list(raw.annotations.description)
    assert "pre/test/GMED" in desc and sum(d.startswith("BAD_gap") for d in desc) == 2
    onsets = dict(zip(desc, raw.annotations.onset, strict=True))
    assert onsets["rest"] == pytest.approx(0.6 - 0.5, abs=1e-4)
    # MNE scales uV to V; compare in uV within the quantisation step
    emg = session["emg"]
    got = raw.get_data(picks=["GMED L"])[0, : emg.n_samples] * 1e6
    want = np.nan_to_num(emg.data[0])
    assert np.abs(got - want).max() <= quantum(emg)[0] / 2 + 1e-6


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    scale=st.floats(1e-2, 1e5),
    n=st.integers(1, 300),
    seed=st.integers(0, 2**16),
)
def test_round_trip_within_quantisation(tmp_path_factory, scale, n, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, scale, (1, n))
    s = nm.Session([nm.Stream("emg", x, 500.0, [nm.Channel("EMG TA R", "emg", "uV")])])
    back = nm.read(nm.write_bids(s, tmp_path_factory.mktemp("h")))
    step = quantum(s["emg"])[0]
    assert back["emg"].n_samples == n
    assert np.abs(back["emg"].data - x).max() <= step / 2 + 1e-12 * scale


def test_read_errors(tmp_path):
    assert_file_error(lambda: nm.read(tmp_path / "nope"), path=tmp_path / "nope")
    (tmp_path / "notes.txt").write_text("hello")
    err = assert_file_error(lambda: nm.read(tmp_path / "notes.txt"), path=tmp_path / "notes.txt")
    assert ".bdf" in str(err) and "BIDS" in str(err)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_file_error(lambda: nm.read(empty), path=empty)
    with pytest.raises(FileFormatError):
        nm.io.read_bids(empty)
