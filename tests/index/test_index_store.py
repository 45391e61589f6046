import dataclasses
import sqlite3

import pytest

from nkt_motion.errors import FileFormatError, ValidationError
from nkt_motion.index import (
    HISTORY_COLUMNS,
    MIGRATIONS,
    SCHEMA_VERSION,
    Migration,
    default_index_path,
    migrate,
    open_index,
)
from nkt_motion.index._schema import APPLICATION_ID


def _tables(path):
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
        return set(rows.fetchall())


def _header(path):
    conn = sqlite3.connect(path)
    try:
        return tuple(conn.execute(f"PRAGMA {p}").fetchone()[0]
                     for p in ("user_version", "application_id", "journal_mode"))  # fmt: skip
    finally:
        conn.close()


def test_new_index_has_the_current_schema_in_wal_mode(tmp_path):
    path = tmp_path / "deep" / "folder" / "index.sqlite"
    with open_index(path) as idx:
        assert idx.schema_version == SCHEMA_VERSION == 2
        assert repr(idx) == f"<SessionIndex {path} | schema v2>"
    assert _header(path) == (2, APPLICATION_ID, "wal")
    names = {name for _, name in _tables(path)}
    assert names >= {"clients", "client_identity", "sessions", "tests", "sessions_content",
                     "sessions_client_time"}  # fmt: skip
    with sqlite3.connect(path) as conn:
        cols = [r[1] for r in conn.execute("PRAGMA table_info(sessions)")]
    assert "normalisation" in cols and "content_hash" in cols
    # opening again changes nothing
    with open_index(path) as idx:
        assert idx.clients() == [] and idx.integrity_check() == "ok"


def test_migrations_are_numbered_in_order():
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))
    assert all(m.description and m.statements for m in MIGRATIONS)


def _v1_database(path):
    """A database as the first release wrote it: schema v1 and one analysed visit."""
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, path=path, migrations=MIGRATIONS[:1]) == 0
    conn.execute("INSERT INTO clients (id, label, created_at) VALUES (1, '07', '2023-01-01')")
    conn.execute(
        "INSERT INTO sessions (id, client_id, session_label, recorded_at, dated_by, source,"
        " content_hash, origin, protocol, software_version, analysed_at) VALUES"
        " (1, 1, '01', '2023-01-02T10:00:00', 'session', '/old/s.bdf', 'aa', 'analyze',"
        " 'hip_flexion_gmed_adl', '0.0.9', '2023-01-02T11:00:00+00:00')"
    )
    conn.execute(
        "INSERT INTO tests (session_id, protocol, tested, partner, side, pre_ratio, pre_ci_lo,"
        " pre_ci_hi, pre_n_trials, pre_p_compensation, pre_flag, post_ratio, post_ci_lo,"
        " post_ci_hi, post_n_trials, post_p_compensation, post_flag, ratio_change,"
        " change_ci_lo, change_ci_hi, verdict, verdict_reason) VALUES (1,"
        " 'hip_flexion_gmed_adl', 'gluteus_medius', 'adductor_longus', 'L', 0.5, 0.4, 0.6, 5,"
        " 0.9, 1, 1.1, NULL, NULL, 5, 0.1, 0, 2.2, 1.8, 2.6, 'resolved', 'because')"
    )
    conn.close()


def test_v1_database_is_migrated_and_keeps_its_data(tmp_path):
    path = tmp_path / "old.sqlite"
    _v1_database(path)
    assert _header(path)[0] == 1
    assert "normalisation" not in {n for _, n in _tables(path)}
    with open_index(path) as idx:
        assert idx.schema_version == 2
        h = idx.history("07")
    assert _header(path)[0] == 2
    assert ("index", "sessions_client_time") in _tables(path)
    assert list(h.columns) == list(HISTORY_COLUMNS)
    (row,) = h.itertuples()
    assert row.normalisation == "unknown"  # not kept before v2
    assert row.pre_ratio == 0.5 and row.pre_flag and not row.post_flag
    assert row.post_ci_lo != row.post_ci_lo  # NULL read as NaN
    assert (row.verdict, row.software_version, row.visit) == ("resolved", "0.0.9", 1)


def test_failed_migration_step_leaves_the_database_untouched(tmp_path):
    path = tmp_path / "old.sqlite"
    _v1_database(path)
    broken = (*MIGRATIONS[:1], Migration(2, "broken", ("CREATE TABLE extra (a)", "NOT SQL")))
    conn = sqlite3.connect(path, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn, path=path, migrations=broken)
    assert not conn.in_transaction
    conn.close()
    assert _header(path)[0] == 1
    assert "extra" not in {n for _, n in _tables(path)}
    with open_index(path) as idx:  # the real step still applies afterwards
        assert len(idx.history("07")) == 1


def test_newer_database_is_refused_unchanged(tmp_path):
    path = tmp_path / "new.sqlite"
    with open_index(path):
        pass
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(FileFormatError, match="version 99 is newer than the 2") as info:
        open_index(path)
    assert info.value.path == path and _header(path)[0] == 99


def test_foreign_files_are_refused(tmp_path):
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (x)")
    with pytest.raises(FileFormatError, match="not an nkt-motion index"):
        open_index(other)
    assert {n for _, n in _tables(other)} == {"notes"}
    text = tmp_path / "notes.txt"
    text.write_text("hello, this is no database at all\n" * 100)
    with pytest.raises(FileFormatError, match=r"notes\.txt: cannot open the index"):
        open_index(text)
    blocked = tmp_path / "a_file"
    blocked.write_text("")
    with pytest.raises(FileFormatError, match="cannot create or open the index"):
        open_index(blocked / "index.sqlite")
    with pytest.raises(FileFormatError, match="no index here yet"):
        open_index(tmp_path / "missing.sqlite", create=False)
    assert not (tmp_path / "missing.sqlite").exists()


def test_default_path_follows_env_then_xdg(tmp_path, tmp_path_factory, monkeypatch):
    # the autouse fixture of tests/conftest.py keeps the index out of the home
    assert default_index_path().is_relative_to(tmp_path_factory.getbasetemp())
    assert default_index_path({"NKT_MOTION_INDEX": "~/x.sqlite"}) == tmp_path.home() / "x.sqlite"
    assert default_index_path({"XDG_DATA_HOME": "/xdg"}).as_posix() == (
        "/xdg/nkt-motion/index.sqlite"
    )
    home = default_index_path({"XDG_DATA_HOME": "relative/ignored"})
    assert home == tmp_path.home() / ".local/share/nkt-motion/index.sqlite"
    monkeypatch.setenv("NKT_MOTION_INDEX", str(tmp_path / "env.sqlite"))
    with open_index() as idx:
        assert idx.path == tmp_path / "env.sqlite"
    assert (tmp_path / "env.sqlite").is_file()


def _count(path, table):
    with sqlite3.connect(path) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_record_is_idempotent_for_the_same_source_and_hash(tmp_path, visits):
    a, source, _ = visits[0]
    path = tmp_path / "i.sqlite"
    with open_index(path) as idx:
        first = idx.record(a, source=source, content_hash="h1", origin="analyze")
        when = idx.history("01")["recorded_at"].iloc[0]
        again = idx.record(a, source=source, content_hash="h1", origin="batch")
        assert again == first
        h = idx.history("01")
        assert len(h) == len(a.tests) and h["origin"].tolist() == ["batch"]
        assert h["recorded_at"].iloc[0] == when and h["dated_by"].iloc[0] == "analysis"
        # a date from the session replaces the analysis date
        idx.record(a, source=source, content_hash="h1", origin="batch",
                   recorded_at="2024-01-02T03:04:05")  # fmt: skip
        assert idx.history("01")["recorded_at"].tolist() == ["2024-01-02T03:04:05"]
        # the same content elsewhere is the same recording; the source is the latest
        assert idx.record(a, source="/copy/elsewhere", content_hash="h1", origin="batch") == first
        assert idx.history("01")["source"].tolist() == ["/copy/elsewhere"]
        # another content at the same path is another recording
        other = idx.record(a, source=source, content_hash="h2", origin="analyze")
        # without a hash the source decides
        unhashed = idx.record(a, source=source, origin="analyze")
        assert unhashed == idx.record(a, source=source, content_hash=None, origin="retest")
        assert unhashed != idx.record(a, source="/other", origin="retest")
        assert len({first, other, unhashed}) == 3
        assert idx.history("01")["visit"].tolist() == [1, 2, 3, 4]
    assert (_count(path, "sessions"), _count(path, "tests"), _count(path, "clients")) == (4, 4, 1)


def test_record_replaces_the_tests_of_a_session(tmp_path, visits):
    a, source, _ = visits[0]
    three, *_ = visits[2]  # two pairs
    with open_index(tmp_path / "i.sqlite") as idx:
        sid = idx.record(three, source=source, origin="analyze")
        assert len(idx.history("01")) == 2
        assert idx.record(a, source=source, origin="analyze") == sid
        h = idx.history("01")
    assert h[["tested", "partner"]].values.tolist() == [["gluteus_medius", "adductor_longus"]]


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"origin": "manual"}, r"origin must be one of \['analyze', 'batch', 'retest'\]"),
        ({"source": ""}, "source must be a non-empty string, got ''"),
        ({"content_hash": ""}, "content_hash must be a non-empty string"),
        ({"recorded_at": "yesterday"}, "recorded_at must be an ISO 8601 date.*'yesterday'"),
    ],
)
def test_record_validates_its_arguments(tmp_path, visits, kw, match):
    a = visits[0][0]
    args = {"source": "/s.bdf", "origin": "analyze", **kw}
    with open_index(tmp_path / "i.sqlite") as idx:
        with pytest.raises(ValidationError, match=match):
            idx.record(a, **args)
        with pytest.raises(ValidationError, match="alphanumeric BIDS label, got 'a-b'"):
            idx.record(dataclasses.replace(a, subject="a-b"), source="/s", origin="batch")
        assert idx.clients() == []


def test_times_are_normalised(tmp_path, visits):
    a = visits[0][0]
    with open_index(tmp_path / "i.sqlite") as idx:
        idx.record(a, source="/a", origin="retest", recorded_at="2024-04-05T09:30:00+02:00")
        idx.record(a, source="/b", origin="retest", recorded_at="2024-04-05")
        h = idx.history("01")
    assert h["recorded_at"].tolist() == ["2024-04-05T00:00:00", "2024-04-05T07:30:00+00:00"]
    assert h["analysed_at"].str.endswith("+00:00").all()


def test_unknown_client_says_how_many_there_are(filled):
    with open_index(filled) as idx:
        with pytest.raises(ValidationError, match=r"no client 'zz' .* holds 1 client\(s\): 01"):
            idx.history("zz")
        with pytest.raises(ValidationError, match="holds 1 client"):
            idx.identifying("zz")


def test_identifying_details_are_exported_only_when_asked(filled):
    secret = ("Jane Example", "1980-02-29", "left knee surgery 2019")
    with open_index(filled) as idx:
        idx.set_identifying("01", name=secret[0], birth_date=secret[1] + "T00:00", notes=secret[2])
        plain = idx.history("01")
        full = idx.history("01", include_identifying=True)
        assert idx.identifying("01") == dict(
            zip(("name", "birth_date", "notes"), secret, strict=True)
        )
        with pytest.raises(ValidationError, match="birth_date must be an ISO 8601"):
            idx.set_identifying("01", birth_date="29/02/1980")
        with pytest.raises(ValidationError, match="client must be an alphanumeric"):
            idx.set_identifying("sub-01", name="x")
    dumped = plain.to_json() + plain.to_csv()
    assert not any(s in dumped for s in secret)
    assert list(plain.columns) == list(HISTORY_COLUMNS)
    assert set(full["name"]) == {secret[0]} and set(full["notes"]) == {secret[2]}
    assert full.drop(columns=["name", "birth_date", "notes"]).equals(plain)


def test_reading_is_not_blocked_by_a_writer(filled):
    writer = sqlite3.connect(filled, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("DELETE FROM tests")  # uncommitted
    try:
        with open_index(filled, timeout=0.2) as idx:
            assert len(idx.history("01")) == 4
            with pytest.raises(
                FileFormatError, match="cannot write the index: database is locked"
            ):
                idx.set_identifying("01", name="x")
    finally:
        writer.execute("ROLLBACK")
        writer.close()
