"""read_header describes a recording as nkt_motion.read would read it, without its samples."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from nkt_io_conformance import assert_file_error, write_plain

import nkt_motion as nm
from nkt_motion.io import RecordingHeader, read_header, recording_file
from nkt_motion.io.bdf_write import write_bdf


def assert_header_matches(header: RecordingHeader, session: nm.Session) -> None:
    """The header lists what ``session`` (the full read) holds, stream by stream."""
    assert list(header.streams) == list(session.streams)
    for name, stored in header.streams.items():
        st = session[name]
        assert stored.name == name
        assert stored.ch_names == st.ch_names
        assert stored.units == [c.unit for c in st.channels]
        assert stored.channels == st.channels
        assert (stored.fs, stored.n_samples, stored.history) == (st.fs, st.n_samples, st.history)
        assert stored.t0 == pytest.approx(st.t0, abs=1e-12)
    pd.testing.assert_frame_equal(header.events, session.events)
    pd.testing.assert_frame_equal(header.gaps, session.gaps)
    assert (header.subject, header.session_id) == (session.subject, session.session_id)
    assert header.meta == dict(session.meta)
    assert header.n_bytes == sum(s.data.nbytes for s in session.streams.values())
    skeleton = header.skeleton()
    assert {n: s.n_samples for n, s in skeleton.streams.items()} == dict.fromkeys(
        header.streams, 0
    )


def test_bids_header_as_the_reader_reads_it(tmp_path: Path, session: nm.Session) -> None:
    ses = nm.write_bids(session, tmp_path / "bids")
    bdf = next((ses / "emg").glob("*_emg.bdf"))
    full = nm.read(bdf)
    for path in (bdf, ses, tmp_path / "bids", ses.parent):  # file, session, root, subject
        assert recording_file(path) == (bdf, "bids")
        header = read_header(path)
        assert_header_matches(header, full)
    assert list(header.streams) == ["emg", "force", "imu"]
    assert header.streams["imu"].storage == "tsv"  # the BIDS motion file
    assert header.streams["emg"].ch_names == ["EMG GMED L", "EMG ADL L"]
    assert header.streams["emg"].units == ["uV", "mV"]
    assert (header.subject, header.session_id) == ("07", "2")
    assert header.events["label"].tolist() == ["rest", "pre/test/GMED", "ref/ADL"]
    assert header.gaps["reason"].tolist() == ["packet loss: 3 packets", "disconnect"]
    assert header.duration == pytest.approx(full.duration)


def test_bids_header_without_the_nkt_motion_block(tmp_path: Path, session: nm.Session) -> None:
    """A folder from another tool: labels, _channels.tsv, and the date of its _scans.tsv."""
    dated = session.pick(kinds=["emg"]).replace(meta={"recorded_at": "2025-03-04T09:15:01Z"})
    ses = nm.write_bids(dated, tmp_path)
    sidecar = next((ses / "emg").glob("*_emg.json"))
    doc = json.loads(sidecar.read_text())
    del doc["NktMotion"]
    sidecar.write_text(json.dumps(doc))
    header = read_header(ses)
    assert_header_matches(header, nm.read(ses))
    assert header.streams["emg"].t0 == 0.0 and header.streams["emg"].units == ["uV", "mV"]
    assert header.meta["acq_time"] == "2025-03-04T09:15:01.500000Z"  # the first sample's time


@pytest.mark.parametrize("edf", [False, True], ids=["bdf", "edf"])
def test_plain_edf_and_bdf_headers(tmp_path: Path, edf: bool) -> None:
    path = tmp_path / ("rec.edf" if edf else "rec.bdf")
    labels = ["EMG GMED L", "EMG ADL L", "EMG TFL R", "ACC X pelvis"]
    units = ["uV", "mV", "uV", "m/s^2"]
    rates = [2000, 2000, 1000, 100]
    ann = [(0.2, 0.5, "pre/test/GMED"), (1.0, 0.1, "BAD_gap emg|EMG ADL L|loss"), (1.5, 0, "rest")]
    write_plain(path, labels, units, rates, annotations=ann, edf=edf)
    assert recording_file(path) == (path, "edf")
    header = read_header(path)
    assert_header_matches(header, nm.read(path))
    assert list(header.streams) == ["emg", "emg_1000", "imu"]
    emg = header.streams["emg"]
    assert (emg.ch_names, emg.units, emg.fs, emg.n_samples) == (
        labels[:2],
        units[:2],
        2000.0,
        4000,
    )
    assert emg.columns == (0, 1) and header.streams["emg_1000"].columns == (2,)
    assert header.events["label"].tolist() == ["pre/test/GMED", "rest"]
    assert header.gaps[["stream", "channel"]].values.tolist() == [["emg", "EMG ADL L"]]


def test_plain_bdf_written_by_the_package(tmp_path: Path, session: nm.Session) -> None:
    """The package's own BDF (front padding, streams not starting at 0) as read() reads it."""
    path = tmp_path / "own.bdf"
    ev = session.events
    ann = pd.DataFrame({"onset": ev["onset"], "duration": ev["duration"], "text": ev["label"]})
    write_bdf(path, list(session.streams.values()), ann, origin=0.0, subject="07")
    assert_header_matches(read_header(path), nm.read(path))


def test_bad_files_give_errors_naming_them(tmp_path: Path, session: nm.Session) -> None:
    corrupt = tmp_path / "corrupt.bdf"
    corrupt.write_bytes(np.random.default_rng(0).bytes(4096))
    assert_file_error(lambda: read_header(corrupt), path=corrupt, match="not a readable EDF/BDF")
    missing = tmp_path / "missing.edf"
    assert_file_error(lambda: read_header(missing), path=missing, match="does not exist")
    table = tmp_path / "notes.csv"
    table.write_text("time,EMG GMED L\n0,1\n")
    assert recording_file(table) is None
    assert_file_error(lambda: read_header(table), path=table, match="holds no EDF/BDF recording")
    ses = nm.write_bids(session, tmp_path / "bids")
    sidecar = next((ses / "emg").glob("*_emg.json"))
    sidecar.unlink()
    assert_file_error(lambda: read_header(ses), path=sidecar, match="sidecar JSON is missing")
    both = nm.write_bids(session.replace(subject="08"), tmp_path / "bids")
    assert_file_error(lambda: read_header(tmp_path / "bids"), path=tmp_path / "bids",
                      match="2 sessions match")  # fmt: skip
    assert read_header(tmp_path / "bids", subject="08").subject == "08"
    assert recording_file(both / "emg") is None  # not a session folder
