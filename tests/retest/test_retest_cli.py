"""``nkt-motion retest`` through ``nkt_motion.cli.main``: the scripted session with detected
trials against the manual marks, commands typed on stdin (with the dashboard served), and
refused arguments."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nkt_motion import read
from nkt_motion.capture import read_capture
from nkt_motion.cli import main
from nkt_motion.errors import FileFormatError
from nkt_motion.features import trial_table
from nkt_motion.index import open_index
from nkt_motion.model import make_events
from nkt_motion.protocols import load_protocol
from nkt_motion.retest import EmulatedPlan

pytestmark = pytest.mark.slow

#: Detected trials start after the go signal (the first muscle fires 0.22-0.30 s
#: into a simulated trial) and end when the last muscle is quiet again.
START_AFTER = (0.0, 0.4)
STOP_WITHIN = 0.2


def test_auto_with_detected_trials_writes_the_same_events_as_manual_marks(
    short_protocol: Path, short_plan: EmulatedPlan, tmp_path: Path, capsys: Any
) -> None:
    out = tmp_path / "bids"
    code = main(["retest", "--protocol", str(short_protocol), "--side", "L", "--emulate",
                 "--auto", "--marking", "detect", "--speed", "10", "--out", str(out),
                 "--no-pdf", "--no-live", "--n-boot", "300"])  # fmt: skip
    text = capsys.readouterr().out
    assert code == 0, text
    assert "retest finished" in text and "BIDS session:" in text and "report:" in text
    assert "PDF:" not in text
    # the visit is in the client/session index (tests point NKT_MOTION_INDEX at a temp file)
    assert "index:" in text
    with open_index() as idx:
        visits = idx.history("01")
    assert set(visits["verdict"]) <= {"resolved", "improved", "unchanged", "worse", "inconclusive"}
    assert len(visits) >= 1
    saved = read(out / "sub-01" / "ses-01")
    ev = saved.events
    # Manual marks (the script's, at the plan's times) for rest and references;
    # detected ones for the tests. Map the plan to the session with the rest mark.
    plan = [(s.kind, a, b) for s in short_plan.steps for a, b in s.trials]
    t0 = float(ev.loc[ev["label"] == "rest", "onset"].iloc[0]) - plan[0][1]
    marks = ev[ev["label"] != "correction"].reset_index(drop=True)
    assert len(marks) == len(plan)
    manual = make_events([t0 + a for _, a, _ in plan], [b - a for _, a, b in plan],
                         marks["label"].tolist())  # fmt: skip
    for (kind, a, b), (_, row) in zip(plan, marks.iterrows(), strict=True):
        start, stop = row["onset"] - (t0 + a), row["onset"] + row["duration"] - (t0 + b)
        if kind in ("pre_test", "post_test"):
            assert START_AFTER[0] <= start <= START_AFTER[1], (row["label"], start)
            assert abs(stop) <= STOP_WITHIN, (row["label"], stop)
        else:
            assert abs(start) < 1e-6 and abs(stop) < 1e-6
    # Both ways of marking give the same measure: the ratio over the detected trial
    # and over the manual window of the same trial agree within 3 %.
    protocol = load_protocol(short_protocol)
    detected = trial_table(saved, protocol)
    by_hand = trial_table(saved.replace(events=manual), protocol)
    for table in (detected, by_hand):
        assert (table["phase"] == "pre").sum() == 4 and (table["phase"] == "post").sum() == 4
    tests = detected["phase"].isin(["pre", "post"])
    np.testing.assert_allclose(detected.loc[tests, "log_ratio_GMED_ADL"],
                               by_hand.loc[tests, "log_ratio_GMED_ADL"], atol=0.03)  # fmt: skip


def test_commands_typed_on_stdin_drive_the_session(
    short_protocol: Path, tmp_path: Path, monkeypatch: Any, capsys: Any
) -> None:
    read_end, write_end = os.pipe()
    captures = tmp_path / "sourcedata" / "nkt-motion"

    def type_commands() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _streaming(captures):
            time.sleep(0.05)
        with os.fdopen(write_end, "w") as pipe:
            for line, wait in (("s", 0.3), ("next", 0.2), ("q", 1.0)):
                time.sleep(wait)
                pipe.write(line + "\n")
                pipe.flush()

    stdin = os.fdopen(read_end)
    monkeypatch.setattr(sys, "stdin", stdin)
    typist = threading.Thread(target=type_commands, daemon=True)
    typist.start()
    try:
        code = main(["retest", "--protocol", str(short_protocol), "--side", "L", "--emulate",
                     "--speed", "10", "--out", str(tmp_path), "--no-pdf", "--web"])  # fmt: skip
    finally:
        typist.join(10)
        time.sleep(0.1)  # the reader thread sees the end of the pipe
        stdin.close()
    text = capsys.readouterr().out
    assert code == 0, text
    assert "retest stopped" in text and "Stop requested." in text
    assert "dashboard: http://127.0.0.1:" in text and "?token=" in text
    assert "Step 3/7: Reference: gluteus medius" in text
    saved = read(tmp_path / "sub-01" / "ses-01")
    assert saved.meta["retest"]["steps"][0]["status"] == "skipped"
    assert saved.meta["retest"]["steps"][1]["status"] == "done"


def _streaming(folder: Path) -> bool:
    """Whether a capture in ``folder`` holds EMG packets already."""
    for path in folder.glob("*.nktcap"):
        try:
            return len(read_capture(path).packets) > 50
        except FileFormatError:  # created, header not written yet
            return False
    return False


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--auto"], "--auto and --speed play an emulated client"),
        (["--emulate", "--speed", "0"], "--speed must be > 0"),
        (["--emulate", "--protocol", "scapular_control"], "cannot be emulated"),
        ([], "give the sensors with --sensor"),
    ],
)
def test_refused_arguments_say_why(argv: list[str], message: str, tmp_path: Path,
                                   capsys: Any) -> None:  # fmt: skip
    base = ["retest", "--protocol", "hip_flexion_gmed_adl", "--side", "L", "--out", str(tmp_path)]
    assert main(base + argv) == 2
    assert message in capsys.readouterr().err


def test_an_existing_session_folder_is_not_overwritten(tmp_path: Path, capsys: Any) -> None:
    folder = tmp_path / "sub-01" / "ses-01"
    folder.mkdir(parents=True)
    (folder / "keep.txt").write_text("earlier session")
    argv = ["retest", "--protocol", "hip_flexion_gmed_adl", "--side", "L", "--emulate",
            "--out", str(tmp_path)]  # fmt: skip
    assert main(argv) == 2
    assert "already holds a session" in capsys.readouterr().err
    assert (folder / "keep.txt").read_text() == "earlier session"
