from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from batch_material import N_BOOT

from nkt_motion.cli import main


def test_batch_command(material: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "results.parquet"
    argv = ["batch", str(material), "--out", str(out), "--jobs", "2", "--n-boot", str(N_BOOT)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert (
        "7 sessions: 6 analysed, 0 unchanged since the last run, 1 duplicates, 2 failed"
        in captured.out
    )
    assert "failed: edf/corrupt.bdf: edf/corrupt.bdf: not a readable EDF/BDF file" in captured.out
    assert "skipped 2 files that are not sessions" in captured.out
    assert f"wrote {out}" in captured.out and f"wrote {out.with_suffix('.csv')}" in captured.out
    assert "6/6" in captured.err  # the progress bar, on stderr
    table = pd.read_parquet(out)
    assert set(table["row_type"]) == {"session", "pair", "trial"}
    assert main([*argv, "--no-progress"]) == 0
    assert "0 analysed" not in capsys.readouterr().out  # the two bad files are retried


def test_batch_command_errors(
    material: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "blocker").write_text("x")
    out = tmp_path / "blocker" / "r.parquet"
    assert main(["batch", str(material), "--out", str(out), "--no-progress"]) == 2
    assert "nkt-motion: error: cannot write the results to" in capsys.readouterr().err
    assert (
        main(["batch", str(material), "--out", "r.parquet", "--side", "L", "--n-boot", "5"]) == 2
    )
    assert "n_boot must be an integer >= 100, got 5" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(
            [
                "batch",
                str(material),
                "--out",
                "r.parquet",
                "--jobs",
                "2",
                "--scheduler",
                "tcp://x:1",
            ]
        )
    assert "not allowed with argument" in capsys.readouterr().err
