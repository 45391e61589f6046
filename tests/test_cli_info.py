from __future__ import annotations

import numpy as np

import nkt_motion as nm
from nkt_motion.cli import main
from nkt_motion.io import sample_root


def test_info_on_santuz(capsys):
    assert main(["info", str(sample_root() / "santuz_walking")]) == 0
    out = capsys.readouterr().out
    assert "subject ID0012, session 01" in out
    assert "emg: emg, 13 ch at 1000 Hz, 7.62 s" in out
    assert "stance: 6" in out and "swing: 5" in out
    assert "task=walking" in out


def test_info_on_bids_with_gaps(tmp_path, capsys):
    x = np.ones((1, 200))
    x[0, 10:20] = np.nan
    emg = nm.Stream("emg", x, 100.0, [nm.Channel("EMG TA R", "emg", "uV")])
    s = nm.Session([emg], events=nm.make_events([0.5, 1.0], [0.1, 0.1], ["rest"] * 2))
    nm.write_bids(s, tmp_path)
    assert main(["info", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "rest: 2" in out
    assert "gaps (1, 0.100 s in total)" in out and "emg/EMG TA R: 0.100 s" in out


def test_info_error_exit(tmp_path, capsys):
    assert main(["info", str(tmp_path / "missing.bdf")]) == 2
    err = capsys.readouterr().err
    assert "missing.bdf" in err and "does not exist" in err
