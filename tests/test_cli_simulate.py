"""`nkt-motion simulate` + `info`: the demo path, checked end to end and with MNE."""

import numpy as np
import pandas as pd
import pytest

import nkt_motion as nm
from nkt_motion.cli import main


def test_simulate_then_info(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["simulate", "--out", str(out), "--seed", "7", "--trials", "3"]) == 0
    text = capsys.readouterr().out
    assert "wrote BIDS-EMG session" in text
    assert "true pre ratio GMED:ADL" in text
    assert main(["info", str(out)]) == 0
    summary = capsys.readouterr().out
    assert "EMG GMED L [uV]" in summary
    assert "pre/test/GMED: 3" in summary and "post/test/GMED: 3" in summary


def test_truth_tables_match_written_session(tmp_path):
    out = tmp_path / "d"
    main(["simulate", "--out", str(out), "--trials", "2", "--seed", "3"])
    truth = out / "derivatives" / "nkt-motion" / "sub-01" / "ses-01"
    ratios = pd.read_csv(truth / "sub-01_ses-01_desc-truth_ratios.tsv", sep="\t")
    session = nm.read(out)
    tests = session.events.query("phase in ['pre', 'post']")
    assert len(ratios.query("partner == 'ADL'")) == len(tests) == 4
    # the written onsets are the truth's trial starts
    np.testing.assert_allclose(sorted(set(ratios.start_s)), tests.onset.to_numpy(), atol=1e-6)


def test_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "d"
    assert main(["simulate", "--out", str(out), "--trials", "1"]) == 0
    assert main(["simulate", "--out", str(out), "--trials", "1"]) == 2
    assert "overwrite" in capsys.readouterr().err
    assert main(["simulate", "--out", str(out), "--trials", "1", "--overwrite"]) == 0


def test_mains_option_adds_line_noise(tmp_path):
    from scipy.signal import welch

    out = tmp_path / "d"
    main(["simulate", "--out", str(out), "--trials", "1", "--mains", "60", "--seed", "1"])
    s = nm.read(out)
    assert s.meta["power_line_frequency"] == 60
    rest = s.events.query("label == 'rest'").iloc[0]
    x = s["emg"].crop(rest.onset, rest.onset + rest.duration).data[0]
    f, p = welch(x, fs=2000.0, nperseg=2000)
    assert f[np.argmax(p)] == pytest.approx(60.0)


def test_demo_output_opens_in_mne(tmp_path):
    mne = pytest.importorskip("mne")
    out = tmp_path / "demo"
    main(["simulate", "--out", str(out), "--trials", "2"])
    (bdf,) = out.glob("sub-01/ses-01/emg/*_emg.bdf")
    raw = mne.io.read_raw_bdf(bdf, preload=True, infer_types=True, verbose="error")
    types = dict(zip(raw.ch_names, raw.get_channel_types(), strict=True))
    emg = {name: kind for name, kind in types.items() if name.startswith(("EMG", "GMED", "ADL"))}
    assert emg and set(emg.values()) == {"emg"}, types
    assert "pre/test/GMED" in set(raw.annotations.description)
