from __future__ import annotations

import logging
from pathlib import Path

import pytest

from nkt_motion.batch import describe_session, discover_sessions
from nkt_motion.errors import FileFormatError
from nkt_motion.index import content_hash

BIDS_01 = "clinic_a/sub-01/ses-01/emg/sub-01_ses-01_task-hipflexion_emg.bdf"


def test_every_kind_once_in_path_order(material: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="nkt_motion.batch.discover"):
        found = discover_sessions(material)
    kinds = {s.source: s.kind for s in found.sessions}
    assert list(kinds) == sorted(kinds)
    assert kinds == {
        "backup/sub-01/ses-01/emg/sub-01_ses-01_task-hipflexion_emg.bdf": "bids",
        BIDS_01: "bids",
        "clinic_a/sub-02/ses-01/emg/sub-02_ses-01_task-hipflexion_emg.bdf": "bids",
        "csv/s04.csv": "csv",
        "edf/corrupt.bdf": "edf",
        "edf/half.bdf": "edf",
        "edf/s03.bdf": "edf",
    }
    skipped = dict(found.skipped)
    assert skipped.keys() == {"csv/notes.csv", "csv/s04_events.csv"}
    assert "no 'time' column" in skipped["csv/notes.csv"]
    assert "events sidecar of s04.csv" in skipped["csv/s04_events.csv"]
    assert "skipped csv/notes.csv" in caplog.text
    assert found.unreadable == ()


def test_bids_hash_covers_sidecars_and_motion(tree: Path) -> None:
    s = describe_session(tree / BIDS_01, root=tree)
    names = sorted(p.name.split("task-hipflexion_")[1] for p in s.files)
    assert names == [
        "channels.tsv", "emg.bdf", "emg.json", "events.tsv",
        "tracksys-imu_channels.tsv", "tracksys-imu_motion.json", "tracksys-imu_motion.tsv",
    ]  # fmt: skip
    events = next(p for p in s.files if p.name.endswith("_events.tsv"))
    events.write_text(events.read_text() + "\n")
    assert describe_session(tree / BIDS_01).content_hash != s.content_hash


def test_duplicates_share_a_hash_and_single_files_hash_like_the_index(material: Path) -> None:
    by_source = {s.source: s for s in discover_sessions(material).sessions}
    dup = by_source["backup/sub-01/ses-01/emg/sub-01_ses-01_task-hipflexion_emg.bdf"]
    assert dup.content_hash == by_source[BIDS_01].content_hash
    plain = by_source["edf/s03.bdf"]
    assert plain.files == (material / "edf" / "s03.bdf",)
    assert plain.content_hash == content_hash(material / "edf" / "s03.bdf")
    assert by_source["csv/s04.csv"].files == (
        material / "csv" / "s04.csv", material / "csv" / "s04_events.csv",
    )  # fmt: skip


def test_outputs_hidden_and_derivatives_are_not_searched(tree: Path) -> None:
    (tree / "derivatives" / "x").mkdir(parents=True)
    (tree / "derivatives" / "x" / "d.bdf").write_bytes(b"0")
    (tree / ".cache").mkdir()
    (tree / ".cache" / "c.bdf").write_bytes(b"0")
    (tree / "out").mkdir()
    (tree / "out" / "r.csv").write_text("time,EMG GMED L\n0,1\n")
    sources = [s.source for s in discover_sessions(tree, exclude=[tree / "out"]).sessions]
    assert not [s for s in sources if s.startswith(("derivatives", ".cache", "out"))]


def test_bad_roots_and_files(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match="batch root must be an existing folder"):
        discover_sessions(tmp_path / "missing")
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(FileFormatError, match=r"a\.txt: not a session file"):
        describe_session(tmp_path / "a.txt")
