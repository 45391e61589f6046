"""A retest is dated by the wall-clock start of its recording, through save, read, the
index and ``nkt-motion history``, also when the emulated session runs faster than real
time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from nkt_motion import read
from nkt_motion.cli import main
from nkt_motion.index import open_index

pytestmark = pytest.mark.slow


def test_a_retest_is_dated_by_its_wall_clock_start(
    short_protocol: Path, tmp_path: Path, capsys: Any
) -> None:
    out = tmp_path / "bids"
    before = datetime.now(UTC)
    code = main(["retest", "--protocol", str(short_protocol), "--side", "L", "--emulate",
                 "--auto", "--speed", "10", "--out", str(out), "--no-pdf", "--no-live",
                 "--n-boot", "200"])  # fmt: skip
    after = datetime.now(UTC)
    assert code == 0, capsys.readouterr().out
    # saved and read back: the start on the wall clock, in UTC
    ses = out / "sub-01" / "ses-01"
    saved = read(ses)
    started = datetime.fromisoformat(saved.meta["recorded_at"])
    assert started.utcoffset() == timedelta(0)
    assert before - timedelta(milliseconds=1) <= started <= after
    # the emulated host clock ran 10 times faster: the session is longer than the run took
    assert (after - started).total_seconds() < saved.duration / 2
    # the standard place: acq_time of the first data point, after the start
    (scans,) = ses.glob("sub-01_ses-01_scans.tsv")
    acq = pd.read_csv(scans, sep="\t")["acq_time"]
    assert acq.nunique() == 1 and acq.iloc[0].endswith("Z")
    assert started <= datetime.fromisoformat(acq.iloc[0]) <= after
    # the index dates the visit by it, and analysing the saved folder again keeps it
    day = started.isoformat()[:10]
    stamp = started.replace(microsecond=0).isoformat()
    again = ["analyze", str(ses), "--protocol", str(short_protocol), "--json",
             str(tmp_path / "a.json"), "--n-boot", "200"]  # fmt: skip
    assert main(again) == 0
    with open_index() as idx:
        history = idx.history("01")
    assert history["session_id"].nunique() == 1 and set(history["origin"]) == {"analyze"}
    assert set(history["recorded_at"]) == {stamp} and set(history["dated_by"]) == {"session"}
    capsys.readouterr()
    assert main(["history", "01"]) == 0
    text = capsys.readouterr().out
    assert f"    1  {day}   " in text and f"{day}*" not in text
    assert "date of the analysis" not in text
