import json
import os
import sqlite3

import pytest

from nkt_motion.batch import describe_session
from nkt_motion.cli import main
from nkt_motion.index import content_hash, default_index_path, open_index


def _analyze(root, out, *extra):
    return main(["analyze", str(root), "--json", str(out), "--n-boot", "200", *extra])


def test_analyze_records_into_the_env_index_once(bids, tmp_path, capsys):
    index = default_index_path()
    assert os.environ["NKT_MOTION_INDEX"] == str(index) and not index.exists()
    out = bids / "derivatives" / "out.json"  # results beside the data do not change its hash
    assert _analyze(bids, out) == 0
    assert f"recorded in the index {index} (session 1)" in capsys.readouterr().out
    assert _analyze(bids, tmp_path / "again.json", "--report", str(bids / "r.html")) == 0
    assert "(session 1)" in capsys.readouterr().out
    with open_index(index) as idx:
        h = idx.history("01")
    (row,) = h.itertuples()
    doc = json.loads(out.read_text())
    (bdf,) = bids.glob("sub-01/ses-01/emg/*_emg.bdf")
    assert row.source == str(bdf.resolve())
    assert row.content_hash == describe_session(bdf).content_hash  # as nkt-motion batch says
    assert (row.origin, row.session, row.protocol) == ("analyze", "01", "hip_flexion_gmed_adl")
    assert (row.recorded_at, row.dated_by) == ("2024-03-01T10:00:00", "session")
    assert row.verdict == doc["tests"][0]["verdict"] == "resolved"
    assert row.pre_ratio == pytest.approx(doc["tests"][0]["pre"]["ratio"])
    assert row.normalisation == "reference"


def test_analyze_names_a_recording_like_batch(bids, tmp_path, capsys):
    (bdf,) = bids.glob("sub-01/ses-01/emg/*_emg.bdf")
    index = tmp_path / "i.sqlite"
    for path in (bids, bids / "sub-01", bdf.parent.parent, bdf):  # dataset ... data file
        assert _analyze(path, tmp_path / "a.json", "--index", str(index)) == 0
        assert "(session 1)" in capsys.readouterr().out
    edf = tmp_path / "plain" / "s.bdf"
    edf.parent.mkdir()
    edf.write_bytes(bdf.read_bytes())
    assert _analyze(edf, tmp_path / "b.json", "--index", str(index)) == 0
    assert "(session 2)" in capsys.readouterr().out  # other bytes: the sidecars are not read
    with open_index(index) as idx:
        h = idx.history("01")
    visits = h.drop_duplicates("session_id")  # a visit has a row per test
    assert visits["source"].tolist() == [str(bdf.resolve()), str(edf.resolve())]
    assert visits["content_hash"].iloc[1] == content_hash(edf)


def test_analyze_index_option_and_no_index(bids, tmp_path, capsys):
    chosen = tmp_path / "clinic.sqlite"
    assert _analyze(bids, tmp_path / "a.json", "--index", str(chosen)) == 0
    assert f"recorded in the index {chosen}" in capsys.readouterr().out
    with open_index(chosen) as idx:
        assert idx.clients() == ["01"]
    assert _analyze(bids, tmp_path / "b.json", "--no-index") == 0
    assert "recorded in the index" not in capsys.readouterr().out
    assert not default_index_path().exists()
    with pytest.raises(SystemExit):
        _analyze(bids, tmp_path / "c.json", "--no-index", "--index", str(chosen))


def test_unwritable_index_is_only_a_warning(bids, tmp_path, capsys):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("")
    out = tmp_path / "a.json"
    assert _analyze(bids, out, "--index", str(blocker / "index.sqlite")) == 0
    captured = capsys.readouterr()
    assert "warning: not recorded in the index" in captured.err
    assert "cannot create or open the index" in captured.err
    assert json.loads(out.read_text())["tests"][0]["verdict"] == "resolved"
    newer = tmp_path / "newer.sqlite"
    with open_index(newer), sqlite3.connect(newer) as conn:
        conn.execute("PRAGMA user_version = 7")
    assert _analyze(bids, out, "--index", str(newer)) == 0
    assert "newer than the 2" in capsys.readouterr().err
