"""record/recover/scan commands: SIGKILL mid-stream loses at most the last second."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nkt_motion.capture import CaptureHeader, CaptureWriter, Packet, SensorEntry, read_capture
from nkt_motion.cli import main
from nkt_motion.devices import nkt_protocol as proto
from nkt_motion.errors import FileFormatError
from nkt_motion.io import read


def test_sigkill_mid_stream_then_recover_keeps_all_but_the_last_second(tmp_path: Path) -> None:
    capture = tmp_path / "rec.nktcap"
    cmd = [sys.executable, "-m", "nkt_motion", "record", "--emulate", "--duration", "60",
           "--out", str(tmp_path / "bids"), "--capture", str(capture)]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and _packets_so_far(capture) < 300:
            time.sleep(0.1)
        time.sleep(1.0)
        kill_ns = time.monotonic_ns()  # CLOCK_MONOTONIC is shared by all processes
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    cap = read_capture(capture)
    emg = [p for p in cap.packets if p.char_uuid == proto.EMG_UUID]
    seqs = [int.from_bytes(p.payload[:2], "little") for p in emg]
    assert seqs == list(range(len(seqs)))  # nothing missing up to the last record kept
    connect = next(e.host_ns for e in cap.events if e.event == "connect")
    assert emg[-1].host_ns >= kill_ns - 1_000_000_000
    assert len(emg) >= (kill_ns - 1_000_000_000 - connect) / 1e7 * 0.95  # 100 packets/s
    out = tmp_path / "recovered"
    assert main(["recover", str(capture), "--out", str(out)]) == 0
    session = read(out / "sub-01" / "ses-01")
    assert session["emg"].n_samples >= len(emg) * 20 - 40
    assert "EMG GMED L" in session["emg"].ch_names


def test_recorded_and_recovered_sessions_are_dated_by_the_wall_clock_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capture = tmp_path / "rec.nktcap"
    before = datetime.now(UTC)
    assert main(["record", "--emulate", "--duration", "1", "--no-live", "--out",
                 str(tmp_path / "bids"), "--capture", str(capture)]) == 0  # fmt: skip
    after = datetime.now(UTC)
    header = read_capture(capture).header
    stamp = datetime.fromtimestamp(header.created_unix_ns / 1e9, UTC).isoformat(
        timespec="milliseconds"
    )
    assert main(["recover", str(capture), "--out", str(tmp_path / "recovered")]) == 0
    capsys.readouterr()
    for root in ("bids", "recovered"):
        ses = tmp_path / root / "sub-01" / "ses-01"
        saved = read(ses).meta["recorded_at"]
        assert saved == stamp, root
        started = datetime.fromisoformat(saved)
        assert started.utcoffset() == timedelta(0)
        assert before - timedelta(milliseconds=1) <= started <= after
        (scans,) = ses.glob("sub-01_ses-01_scans.tsv")
        acq = pd.read_csv(scans, sep="\t")["acq_time"]
        assert acq.nunique() == 1 and acq.iloc[0].endswith("Z")
        assert started <= datetime.fromisoformat(acq.iloc[0]) <= after + timedelta(seconds=1)


def test_a_capture_without_a_wall_clock_time_gives_an_undated_session(tmp_path: Path) -> None:
    path = tmp_path / "old.nktcap"
    _capture(path, 5)  # created_unix_ns 0
    assert main(["recover", str(path), "--out", str(tmp_path / "bids")]) == 0
    ses = tmp_path / "bids" / "sub-01" / "ses-01"
    assert "recorded_at" not in read(ses).meta
    assert not list(ses.glob("*_scans.tsv"))


def _packets_so_far(capture: Path) -> int:
    """Packets in a capture being written (0 before its header is on disk)."""
    try:
        return len(read_capture(capture).packets)
    except FileFormatError:  # created, header not written yet
        return 0


def _capture(path: Path, n: int) -> list[Packet]:
    entry = SensorEntry("s1", "F0:00:00:00:00:01", "nkt", {}, (proto.EMG_UUID,))
    packets = [
        Packet("s1", proto.EMG_UUID, 1_000_000_000 + i * 10_000_000,
               proto.encode_emg_packet(np.full((4, 20), float(i)), sequence=i,
                                       first_sample=20 * i))
        for i in range(n)
    ]  # fmt: skip
    with CaptureWriter(path, CaptureHeader((entry,), 1_000_000_000, 0)) as w:
        for p in packets:
            w.append_packet(p)
    return packets


def test_capture_truncated_mid_record_keeps_every_whole_record(tmp_path: Path) -> None:
    path = tmp_path / "cut.nktcap"
    packets = _capture(path, 50)
    data = path.read_bytes()
    path.write_bytes(data[:-30])  # cut inside the last record
    cap = read_capture(path)
    assert cap.packets == packets[:-1]
    assert cap.skipped_bytes > 0
    corrupt = bytearray(data)
    corrupt[-5] ^= 0xFF  # a flipped payload bit fails the CRC
    path.write_bytes(bytes(corrupt))
    assert read_capture(path).packets == packets[:-1]
    out = tmp_path / "bids"
    assert main(["recover", str(path), "--out", str(out)]) == 0
    assert read(out / "sub-01" / "ses-01")["emg"].n_samples == 49 * 20


def test_broken_captures_are_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.nktcap"
    bad.write_bytes(b"hello world")
    with pytest.raises(FileFormatError, match="not an nkt-motion capture"):
        read_capture(bad)
    head = tmp_path / "head.nktcap"
    _capture(head, 1)
    head.write_bytes(head.read_bytes()[:20])
    with pytest.raises(FileFormatError, match="header"):
        read_capture(head)
    assert main(["recover", str(tmp_path / "missing.nktcap"), "--out", str(tmp_path)]) == 2


def test_record_with_unknown_profile_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["record", "--emulate", "--out", "x", "--sensor", "F0:00:00:00:00:01=fitbit"]) == 2
    assert "profile must be one of" in capsys.readouterr().err


def test_scan_command_lists_emulated_sensors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--emulate", "--timeout", "0.3", "--battery"]) == 0
    out = capsys.readouterr().out
    assert "nkt-pelvis  nkt  -50 dBm  battery 100 %" in out
    assert "myo" in out
