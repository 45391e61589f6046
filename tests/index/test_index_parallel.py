import dataclasses
import multiprocessing
import sqlite3

from nkt_motion.index import open_index

N_WORKERS = 3
N_OWN = 100
N_SHARED = 20


def _writer(path, assessment, worker, barrier, results):
    """Record own sessions and, interleaved, sessions every worker records too."""
    try:
        barrier.wait(timeout=120)
        ids = []
        idx = open_index(path)  # every worker opens (creates, migrates) the new file at once
        for i in range(N_OWN):
            if i % 20 == 19:  # reconnect now and then: opening races with writers too
                idx.close()
                idx = open_index(path)
            a = dataclasses.replace(assessment, subject=f"w{worker}", session=f"{i:03d}")
            src, digest = f"/data/w{worker}/{i}.bdf", f"w{worker}-{i}"
            ids.append(idx.record(a, source=src, content_hash=digest, origin="batch"))
            if i % 4 == 0:
                j = (i // 4 + worker) % N_SHARED
                shared = dataclasses.replace(assessment, subject="shared", session=f"{j:02d}")
                idx.record(shared, source=f"/data/shared/{j}.bdf", content_hash=f"shared-{j}",
                           origin="batch")  # fmt: skip
        idx.close()
        results.put((worker, ids, None))
    except BaseException as exc:  # report any failure to the parent
        results.put((worker, [], repr(exc)))


def test_parallel_writers_lose_and_duplicate_nothing(tmp_path, visits):
    path = tmp_path / "shared" / "index.sqlite"
    assessment = visits[2][0]  # two tests per session
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(N_WORKERS), ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(path, assessment, w, barrier, results))
             for w in range(N_WORKERS)]  # fmt: skip
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert [err for _, _, err in outcomes if err] == []
    own = [sid for _, ids, _ in outcomes for sid in ids]
    assert len(own) == len(set(own)) == N_WORKERS * N_OWN
    n_tests = len(assessment.tests)
    with open_index(path) as idx:
        assert idx.integrity_check() == "ok"
        assert idx.clients() == sorted(["shared", *(f"w{w}" for w in range(N_WORKERS))])
        for w in range(N_WORKERS):
            h = idx.history(f"w{w}")
            assert len(h) == N_OWN * n_tests
            assert h["session"].unique().tolist() == [f"{i:03d}" for i in range(N_OWN)]
        shared = idx.history("shared")
    assert shared["session_id"].nunique() == N_SHARED and len(shared) == N_SHARED * n_tests
    with sqlite3.connect(path) as conn:
        n_sessions = conn.execute("SELECT count(*) FROM sessions").fetchone()[0]
        n_rows = conn.execute("SELECT count(*) FROM tests").fetchone()[0]
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert n_sessions == N_WORKERS * N_OWN + N_SHARED
    assert n_rows == n_sessions * n_tests
