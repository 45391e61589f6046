"""The recording date of a BIDS session: ``acq_time`` in ``_scans.tsv``, the BDF start date,
``meta["recorded_at"]`` read back; a session without a date is written and read as before."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import mne
import pandas as pd
import pyedflib

import nkt_motion as nm
from nkt_motion.index import recorded_at_of
from nkt_motion.io.dates import recording_start

STARTED = "2025-03-04T09:15:01.250+00:00"


def _scans(ses):
    return pd.read_csv(ses / "sub-07_ses-2_scans.tsv", sep="\t", dtype=str)


def test_a_dated_session_carries_its_date_in_the_standard_places(tmp_path, session):
    dated = session.replace(meta={**session.meta, "recorded_at": STARTED})
    ses = nm.write_bids(dated, tmp_path)
    # the files start at the first EMG sample, 0.5 s into the session
    first = "2025-03-04T09:15:01.750000Z"
    scans = _scans(ses)
    assert sorted(scans["filename"]) == sorted(
        p.relative_to(ses).as_posix() for p in [*ses.glob("emg/*.bdf"), *ses.glob("motion/*.tsv")]
        if not p.name.endswith("_channels.tsv")
    )  # fmt: skip
    assert set(scans["acq_time"]) == {first}
    (bdf,) = ses.glob("emg/*_emg.bdf")
    with pyedflib.EdfReader(str(bdf)) as r:
        assert r.getStartdatetime() == datetime(2025, 3, 4, 9, 15, 1)
    raw = mne.io.read_raw_bdf(bdf, verbose="error")
    assert raw.info["meas_date"] == datetime(2025, 3, 4, 9, 15, 1, tzinfo=UTC)
    back = nm.read(ses)
    assert back.meta["recorded_at"] == STARTED
    assert recorded_at_of(back.meta) == "2025-03-04T09:15:01+00:00"


def test_a_folder_without_the_nktmotion_date_reads_acq_time_from_scans(tmp_path, session):
    ses = nm.write_bids(session.replace(meta={**session.meta, "recorded_at": STARTED}), tmp_path)
    for sidecar in [*ses.glob("emg/*_emg.json"), *ses.glob("motion/*_motion.json")]:
        doc = json.loads(sidecar.read_text())
        del doc["NktMotion"]["meta"]["recorded_at"]
        sidecar.write_text(json.dumps(doc))
    meta = nm.read(ses).meta
    assert "recorded_at" not in meta and meta["acq_time"] == "2025-03-04T09:15:01.750000Z"
    assert recorded_at_of(meta) == "2025-03-04T09:15:01+00:00"
    # n/a, as BIDS allows, is no date
    scans = _scans(ses).assign(acq_time="n/a")
    scans.to_csv(ses / "sub-07_ses-2_scans.tsv", sep="\t", index=False)
    assert recorded_at_of(nm.read(ses).meta) is None


def test_a_session_without_a_date_is_written_and_read_as_before(tmp_path, session):
    ses = nm.write_bids(session, tmp_path)
    assert not list(ses.glob("*_scans.tsv"))
    meta = nm.read(ses).meta
    assert recorded_at_of(meta) is None and "acq_time" not in meta
    assert meta == session.meta


def test_odd_dates(tmp_path, session, caplog):
    # naive: local time, written as given (no Z); a shifted date EDF cannot hold
    old = session.replace(meta={**session.meta, "recorded_at": "1925-06-15T13:45:30"})
    with caplog.at_level(logging.WARNING, logger="nkt_motion.io.bdf_write"):
        ses = nm.write_bids(old, tmp_path)
    assert "outside the years EDF holds" in caplog.text
    assert set(_scans(ses)["acq_time"]) == {"1925-06-15T13:45:30.500000"}
    with pyedflib.EdfReader(str(next(ses.glob("emg/*_emg.bdf")))) as r:
        assert r.getStartdatetime() == datetime(1985, 1, 1)
    assert nm.read(ses).meta["recorded_at"] == "1925-06-15T13:45:30"
    # text that is no date is skipped, the next key is used
    assert recording_start({"recorded_at": "soon", "acq_time": "2024-05-01"}) == datetime(
        2024, 5, 1
    )
