from __future__ import annotations

import multiprocessing
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import batch_faults
import pandas as pd
import pytest
from batch_material import N_BOOT

from nkt_motion.batch import Settings
from nkt_motion.batch.executors import PRELOAD
from nkt_motion.batch.run import run_batch
from nkt_motion.errors import ValidationError

SETTINGS = Settings(n_boot=N_BOOT)


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """Two worker processes, forked from the forkserver that has imported nkt-motion.

    Workers (and the one restarted after a kill) then start in milliseconds
    instead of importing SciPy, pandas and scikit-learn for seconds each.
    """
    import dask
    from distributed import LocalCluster

    multiprocessing.get_context("forkserver").set_forkserver_preload([*PRELOAD, "distributed"])
    with (
        dask.config.set({"distributed.worker.multiprocessing-method": "forkserver"}),
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as c,
    ):
        yield c.scheduler_address


@pytest.fixture(scope="module")
def local_table(material: Path, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("local") / "results.parquet"
    run_batch(material, out, jobs=2, settings=SETTINGS)
    return pd.read_parquet(out)


def test_the_cluster_gives_the_local_results_exactly(
    material: Path, tmp_path: Path, cluster: str, local_table: pd.DataFrame
) -> None:
    out = tmp_path / "results.parquet"
    s = run_batch(material, out, scheduler=cluster, settings=SETTINGS)
    assert (s.workers, s.n_analysed, s.n_failed) == (cluster, 6, 2)
    pd.testing.assert_frame_equal(pd.read_parquet(out), local_table)


def test_a_worker_killed_mid_task_is_retried_and_the_result_exact(
    tree: Path, tmp_path: Path, cluster: str, local_table: pd.DataFrame
) -> None:
    out = tmp_path / "results.parquet"
    run_batch(tree, out, scheduler=cluster, settings=SETTINGS, analyse=batch_faults.die_once)
    assert (tree / "edf" / ".died-s03.bdf").exists()
    pd.testing.assert_frame_equal(pd.read_parquet(out), local_table)


def test_a_scheduler_that_does_not_answer_fails_within_seconds(tree: Path, tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.perf_counter()
    with pytest.raises(ValidationError, match=rf"scheduler 'tcp://127.0.0.1:{port}' did not"):
        run_batch(tree, tmp_path / "r.parquet", scheduler=f"tcp://127.0.0.1:{port}", timeout=2.0)
    assert time.perf_counter() - start < 10.0
    assert list(tmp_path.iterdir()) == [tree]
