"""Per-hold features: against signals of known content, and on real holds."""

import numpy as np
import pandas as pd
import pytest

from nkt_motion import Channel, Session, Stream, ValidationError, make_events
from nkt_motion.features.holds import ANTAGONIST, bbs_label, hold_table, subject_table
from nkt_motion.io import read_elderly_hold, sample_root

FS = 2000.0
CODES = ("VL", "BF", "TA", "LG")


def _hold(subject="07", held="VL", amps=(4.0, 1.0, 2.0, 0.5), seconds=6.0, bbs=50.0):
    """Sines at 100 Hz (in band) of known amplitude; VL a chirp falling 5 Hz/s."""
    t = np.arange(round(seconds * FS)) / FS
    rows = [a * np.sin(2 * np.pi * 100.0 * t) for a in amps]
    rows[0] = amps[0] * np.sin(2 * np.pi * (150.0 * t - 2.5 * t**2))
    chans = tuple(Channel(f"EMG {c} R", "emg", "uV", muscle=c, side="R") for c in CODES)
    emg = Stream("emg", np.array(rows), FS, chans)
    force = Stream(
        "force", (10.0 + 2.0 * np.sin(2 * np.pi * 0.5 * t))[None], FS,
        (Channel("FORCE load", "force", "kgf"),),
    )  # fmt: skip
    meta = {"held_muscle": held, "berg_balance_score": bbs}
    events = make_events([0.0], [emg.duration], [f"ref/{held}"])
    return Session([emg, force], events=events, subject=subject, meta=meta)


def test_features_of_known_signals():
    row = hold_table([_hold()]).iloc[0]
    assert (row.subject, row.held, row.antagonist, row.bbs) == ("07", "VL", "BF", 50.0)
    # RMS of a sine of amplitude a is a / sqrt(2) (band-pass edges trimmed)
    for code, amp in zip(CODES, (4.0, 1.0, 2.0, 0.5), strict=True):
        assert row[f"rms_{code}"] == pytest.approx(amp / np.sqrt(2), rel=0.02)
    assert row.log_ratio == pytest.approx(np.log(4.0), abs=0.02)
    # envelopes 4*2/pi and 2/pi: FW = 2*lower/(lower+higher) = 40 %, Winter the same
    assert row.cci_fw == pytest.approx(40.0, abs=1.0)
    assert row.cci_winter == pytest.approx(40.0, abs=1.0)
    assert row.cci_rudolph == pytest.approx(0.25 * 5 * 2 / np.pi, rel=0.05)
    assert row.mdf_BF == pytest.approx(100.0, abs=7.8)  # one Welch bin (2000 / 256 Hz)
    assert row.mdf_slope_BF == pytest.approx(0.0, abs=0.5)
    assert row.mdf_slope_VL == pytest.approx(-5.0, abs=0.5)
    assert row.force_mean_kgf == pytest.approx(10.0, abs=0.01)
    assert row.force_cv == pytest.approx(2.0 / np.sqrt(2) / 10.0, rel=0.01)


def test_antagonist_follows_the_held_muscle():
    table = hold_table([_hold(held=c) for c in CODES])
    assert dict(zip(table.held, table.antagonist, strict=True)) == ANTAGONIST
    # TA hold: agonist TA (2), antagonist LG (0.5)
    assert table.set_index("held").log_ratio["TA"] == pytest.approx(np.log(4.0), abs=0.02)


def test_subject_table_one_row_per_subject():
    holds = hold_table([_hold(s, c, bbs=40.0 + i) for i, s in enumerate("12") for c in CODES])
    wide = subject_table(holds)
    assert wide.subject.tolist() == ["1", "2"] and wide.bbs.tolist() == [40.0, 41.0]
    assert wide.shape == (2, 2 + 4 * 5)
    # default mdf_slope is the agonist's: VL's chirp in the VL hold
    assert wide.VL_mdf_slope.to_numpy() == pytest.approx([-5.0, -5.0], abs=0.5)
    assert wide.BF_mdf_slope.to_numpy() == pytest.approx([0.0, 0.0], abs=0.5)
    with pytest.raises(ValidationError, match="two holds"):
        subject_table(pd.concat([holds, holds]))
    with pytest.raises(ValidationError, match="not in the hold table"):
        subject_table(holds, features=["nope"])


def test_bbs_label_rules():
    y, rule = bbs_label(pd.Series([30.0] * 6 + [50.0] * 6))
    assert y.tolist() == [True] * 6 + [False] * 6 and rule == "BBS < 45; 6 vs 6"
    y, rule = bbs_label(pd.Series([30.0, 50.0, 51.0, 52.0, 53.0, 54.0]))
    assert rule.startswith("median split: BBS < 51.5") and int(y.sum()) == 3
    with pytest.raises(ValidationError, match="one class empty"):
        bbs_label(pd.Series([50.0, 50.0]))
    with pytest.raises(ValidationError, match="missing"):
        bbs_label(pd.Series([50.0, np.nan]))


def test_errors():
    with pytest.raises(ValidationError, match="no hold"):
        hold_table([])
    s = _hold()
    bare = Session(dict(s.streams), events=s.events, subject="07", meta={})
    with pytest.raises(ValidationError, match="held_muscle"):
        hold_table([bare])


@pytest.mark.skipif(
    not (sample_root() / "elderly_isometric").is_dir(), reason="sample data not in checkout"
)
def test_real_holds_are_finite_and_agonist_dominates():
    table = hold_table([read_elderly_hold(subject="03", task=c) for c in CODES])
    assert len(table) == 4 and table.bbs.eq(51.0).all()
    numeric = table.select_dtypes("number")
    assert np.isfinite(numeric.to_numpy()).all()
    # thigh and shin holds: the held muscle is louder than its antagonist
    assert (table.set_index("held").log_ratio[["VL", "BF", "TA"]] > 0).all()
