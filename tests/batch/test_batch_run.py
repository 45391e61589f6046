from __future__ import annotations

import sqlite3
from pathlib import Path

import batch_faults
import pandas as pd
import pytest
from batch_material import N_BOOT

from nkt_motion.batch import Settings
from nkt_motion.batch.run import run_batch
from nkt_motion.errors import ValidationError

SETTINGS = Settings(n_boot=N_BOOT)
#: Two copies of one session: the first in path order is analysed, the other repeats it.
FIRST = "backup/sub-01/ses-01/emg/sub-01_ses-01_task-hipflexion_emg.bdf"
DUP = "clinic_a/sub-01/ses-01/emg/sub-01_ses-01_task-hipflexion_emg.bdf"
#: Paths found in the material, and the ones that cannot be analysed.
N_PATHS, BAD = 7, {"edf/corrupt.bdf", "edf/half.bdf"}


def sessions(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["row_type"] == "session"].set_index("source")


def test_local_run_writes_one_tidy_table(tree: Path, tmp_path: Path) -> None:
    calls: list[tuple[int, int, str]] = []
    out = tmp_path / "res" / "results.parquet"
    s = run_batch(tree, out, jobs=2, settings=SETTINGS, progress=lambda *a: calls.append(a))
    assert (s.n_sessions, s.n_analysed, s.n_reused, s.n_duplicates) == (N_PATHS, 6, 0, 1)
    assert {src for src, _ in s.failures} == BAD and s.n_failed == 2
    assert dict(s.skipped).keys() == {"csv/notes.csv", "csv/s04_events.csv"}
    assert sorted(c[0] for c in calls) == list(range(1, 7)) and {c[1] for c in calls} == {6}
    table = pd.read_parquet(out)
    ses = sessions(table)
    assert list(ses.index) == sorted(ses.index)
    assert ses.loc[DUP, "duplicate_of"] == FIRST and pd.isna(ses.loc[FIRST, "duplicate_of"])
    assert ses.loc[DUP, "content_hash"] == ses.loc[FIRST, "content_hash"]
    assert ses.loc["edf/half.bdf", "error"].endswith("(Filesize))")
    assert set(ses["status"]) == {"ok", "failed"}
    pairs = table[table["row_type"] == "pair"]
    assert pairs.groupby("source").size().to_dict() == {
        DUP: 1, FIRST: 1, "clinic_a/sub-02/ses-01/emg/sub-02_ses-01_task-hipflexion_emg.bdf": 1,
        "csv/s04.csv": 2, "edf/s03.bdf": 2,
    }  # fmt: skip
    dup_rows = table[table["source"] == DUP].drop(columns=["source", "duplicate_of"])
    first = table[table["source"] == FIRST].drop(columns=["source", "duplicate_of"])
    pd.testing.assert_frame_equal(dup_rows.reset_index(drop=True), first.reset_index(drop=True))
    csv = pd.read_csv(out.with_suffix(".csv"))
    assert csv.shape == table.shape and list(csv.columns) == list(table.columns)
    assert len(list((out.parent / "results.parquet.sessions").glob("*.parquet"))) == 4


def test_reruns_skip_what_is_unchanged(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "results.parquet"
    run_batch(tree, out, jobs=2, settings=SETTINGS)
    first = pd.read_parquet(out)
    again = run_batch(tree, out, jobs=2, settings=SETTINGS)
    assert (again.n_analysed, again.n_reused) == (2, 4)  # only the two bad files are retried
    pd.testing.assert_frame_equal(pd.read_parquet(out), first)
    sidecar = (
        tree / "clinic_a" / "sub-02" / "ses-01" / "emg" / "sub-02_ses-01_task-hipflexion_emg.json"
    )
    sidecar.write_text(sidecar.read_text() + " ")
    touched = run_batch(tree, out, jobs=2, settings=SETTINGS)
    assert (touched.n_analysed, touched.n_reused) == (3, 3)
    changed = run_batch(tree, out, jobs=2, settings=Settings(n_boot=N_BOOT, seed=1))
    assert (changed.n_analysed, changed.n_reused) == (6, 0)
    assert sessions(pd.read_parquet(out))["settings_hash"].nunique() == 1


def test_the_previous_table_serves_when_the_session_files_are_gone(
    tree: Path, tmp_path: Path
) -> None:
    out = tmp_path / "results.parquet"
    run_batch(tree, out, jobs=2, settings=SETTINGS)
    first = pd.read_parquet(out)
    for p in (tmp_path / "results.parquet.sessions").iterdir():
        p.unlink()
    again = run_batch(tree, out, jobs=2, settings=SETTINGS)
    assert (again.n_analysed, again.n_reused) == (2, 4)
    pd.testing.assert_frame_equal(pd.read_parquet(out), first)


def test_an_interrupted_batch_keeps_what_it_finished(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "results.parquet"

    def stop_after_three(done: int, total: int, source: str) -> None:
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_batch(tree, out, jobs=1, settings=SETTINGS, progress=stop_after_three)
    assert not out.exists()
    resumed = run_batch(tree, out, jobs=1, settings=SETTINGS)
    assert resumed.n_reused >= 1 and resumed.n_reused + resumed.n_analysed == 6


def test_a_worker_killed_mid_task_is_rerun(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "results.parquet"
    s = run_batch(tree, out, jobs=2, settings=SETTINGS, analyse=batch_faults.die_once)
    assert (tree / "edf" / ".died-s03.bdf").exists()
    assert {src for src, _ in s.failures} == BAD
    clean = tmp_path / "clean.parquet"
    run_batch(tree, clean, jobs=2, settings=SETTINGS)
    pd.testing.assert_frame_equal(pd.read_parquet(out), pd.read_parquet(clean))


def test_a_session_that_always_kills_its_worker_fails_alone(tree: Path, tmp_path: Path) -> None:
    s = run_batch(
        tree, tmp_path / "r.parquet", jobs=2, settings=SETTINGS, analyse=batch_faults.always_die
    )
    failures = dict(s.failures)
    assert failures.keys() == BAD | {"edf/s03.bdf"}
    assert failures["edf/s03.bdf"] == "the worker process died while analysing it, twice"


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("blocker/results.parquet", "cannot write the results to .*blocker/results.parquet"),
        ("results.csv", "out must name a .parquet file"),
        ("folder.parquet", "folder.parquet: it is a folder"),
    ],
)
def test_unwritable_outputs_fail_before_any_analysis(
    tree: Path, tmp_path: Path, out: str, message: str
) -> None:
    (tmp_path / "blocker").write_text("a file where a folder should be")
    (tmp_path / "folder.parquet").mkdir()
    calls: list[object] = []
    with pytest.raises(ValidationError, match=message):
        run_batch(
            tree, tmp_path / out, jobs=1, settings=SETTINGS, progress=lambda *a: calls.append(a)
        )
    assert calls == []


def test_bad_options(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.parquet"
    with pytest.raises(ValidationError, match="not both"):
        run_batch(tree, out, jobs=2, scheduler="tcp://127.0.0.1:1")
    with pytest.raises(ValidationError, match="jobs must be an integer >= 1, got 0"):
        run_batch(tree, out, jobs=0)
    with pytest.raises(ValidationError, match="scheduler must be an address"):
        run_batch(tree, out, scheduler="localhost")
    with pytest.raises(ValidationError, match=r"cannot write reports to .*s03\.bdf/reports"):
        run_batch(tree, out, report_dir=tree / "edf" / "s03.bdf" / "reports")


def test_reports_and_index(tree: Path, tmp_path: Path) -> None:
    out, reports, index = tmp_path / "r.parquet", tmp_path / "reports", tmp_path / "index.sqlite"
    s = run_batch(tree, out, jobs=2, settings=SETTINGS, report_dir=reports, index=index)
    names = sorted(p.name for p in reports.glob("*.html"))
    assert len(names) == 4 and names[0].startswith("sub-01_ses-01_")
    with sqlite3.connect(index) as db:
        sources = sorted(r[0] for r in db.execute("SELECT source FROM sessions"))
        origins = {r[0] for r in db.execute("SELECT origin FROM sessions")}
    assert len(sources) == 4 and origins == {"batch"}  # each analysed session once
    assert str((tree / FIRST).absolute()) in sources and s.index_errors == ()
    next(reports.glob("sub-02_*.html")).unlink()
    again = run_batch(tree, out, jobs=2, settings=SETTINGS, report_dir=reports)
    assert (again.n_analysed, again.n_reused) == (3, 3)  # the bad two and the report missing
    assert len(list(reports.glob("*.html"))) == 4


def test_recording_dates_reach_the_table_and_the_index(tmp_path: Path) -> None:
    """A dated session is dated by its recording, in the results and in the index."""
    from batch_material import short_session

    from nkt_motion.io import write_bids

    root = tmp_path / "root"
    dated = short_session(seed=1)
    dated = dated.replace(meta={**dated.meta, "recorded_at": "2025-03-04T09:15:00+00:00"})
    write_bids(dated, root)
    write_bids(short_session(seed=2).replace(subject="02"), root)
    out, index = tmp_path / "r.parquet", tmp_path / "index.sqlite"
    run_batch(root, out, jobs=1, settings=SETTINGS, index=index)
    table = pd.read_parquet(out)
    when = table.groupby("subject")["recorded_at"].agg(lambda v: set(v.dropna()))
    assert when["01"] == {"2025-03-04T09:15:00+00:00"} and when["02"] == set()
    with sqlite3.connect(index) as db:
        rows = dict(
            db.execute(
                "SELECT c.label, s.recorded_at || ' ' || s.dated_by FROM sessions s "
                "JOIN clients c ON c.id = s.client_id"
            ).fetchall()
        )
    assert rows["01"] == "2025-03-04T09:15:00+00:00 session"
    assert rows["02"].endswith(" analysis")
