import json

import numpy as np
import pytest

from nkt_motion import make_events, make_gaps, read, write_bids
from nkt_motion.assess.pipeline import assess_session
from nkt_motion.cli import main
from nkt_motion.errors import ValidationError
from nkt_motion.simulate import Fault, gmed_adl_hip_flexion, simulate


def _session(n=3, **kw):
    sc = gmed_adl_hip_flexion(n_trials=n).replace(
        trial_s=1.5, gap_s=0.3, rest_s=1.5, ref_s=1.5, correction_s=0.5, fs_imu=50.0, **kw
    )
    return simulate(sc).session


def test_analyze_writes_schema_json(tmp_path, capsys):
    root = write_bids(_session(), tmp_path / "bids")
    out = tmp_path / "out.json"
    assert main(["analyze", str(root), "--json", str(out), "--n-boot", "300"]) == 0
    doc = json.loads(out.read_text())
    assert set(doc) >= {"tests", "quality", "disclaimer", "software"}
    assert "NaN" not in out.read_text()
    pairs = {(t["tested_muscle"], t["partner_muscle"]) for t in doc["tests"]}
    # the protocol recorded with the session (standing hip flexion) names ADL only
    assert pairs == {("gluteus_medius", "adductor_longus")}
    assert {t["protocol"] for t in doc["tests"]} == {"hip_flexion_gmed_adl"}
    for t in doc["tests"]:
        assert set(t) >= {"protocol", "tested_muscle", "partner_muscle", "side", "pre", "post",
                          "change", "verdict"}  # fmt: skip
        for ph in ("pre", "post"):
            p = t[ph]
            assert isinstance(p["ratio"], float) and len(p["ci"]) == 2
            assert isinstance(p["n_trials"], int) and isinstance(p["flag"], bool)
            assert 0.0 <= p["p_compensation"] <= 1.0 and isinstance(p["reasons"], list)
        assert set(t["change"]) >= {"ratio_change", "ci"}
        assert t["side"] == "L"
    adl = next(t for t in doc["tests"] if t["partner_muscle"] == "adductor_longus")
    assert adl["verdict"] == "resolved" and adl["pre"]["flag"] and not adl["post"]["flag"]
    assert any("fired" in r for r in adl["pre"]["reasons"])
    assert "RESOLVED" in capsys.readouterr().out


def test_analyze_with_protocol_and_dead_partner_writes_nulls(tmp_path):
    root = write_bids(_session(faults=(Fault("ADL", "dead"),)), tmp_path / "bids")
    out = tmp_path / "out.json"
    args = ["analyze", str(root), "--json", str(out), "--protocol", "hip_flexion_gmed_adl"]
    assert main([*args, "--side", "L", "--n-boot", "200"]) == 0
    doc = json.loads(out.read_text())
    (t,) = doc["tests"]
    assert t["verdict"] == "inconclusive" and t["pre"]["ratio"] is None
    assert not doc["quality"]["ok"]


def test_bad_sessions_are_inconclusive_or_clear_errors(capsys, tmp_path):
    s = _session()
    one = _session(n=1)
    a = assess_session(one, "hip_flexion_gmed_adl", n_boot=200)
    assert a.tests[0].verdict == "inconclusive" and "too few" in a.tests[0].verdict_reason
    a = assess_session(s.replace(events=make_events([], [], [])), "hip_flexion_gmed_adl")
    assert a.tests[0].verdict == "inconclusive" and "no pre/test" in a.quality["problem"]
    no_gmed = s.pick(["EMG ADL L", "EMG TFL L"])
    a = assess_session(no_gmed, "hip_flexion_gmed_adl", n_boot=200)
    assert a.tests[0].verdict == "inconclusive"
    assert "no EMG channel for gluteus medius" in a.tests[0].verdict_reason
    # without events, without a recorded protocol and with one muscle nothing says what was tested
    bare = s.pick(["EMG GMED L"]).replace(events=make_events([], [], []), meta={})
    with pytest.raises(ValidationError, match="cannot tell which muscle was tested"):
        assess_session(bare)
    root = write_bids(bare, tmp_path)
    assert main(["analyze", str(root), "--json", str(tmp_path / "o.json")]) == 2
    assert "cannot tell which muscle" in capsys.readouterr().err


def test_analyze_a_bids_session_with_a_gap(tmp_path):
    s = _session(n=4)
    emg = s["emg"]
    onset = float(s.events.query("label == 'pre/test/GMED'").onset.iloc[1]) + 0.5
    x = emg.data.copy()
    a = round((onset - emg.t0) * emg.fs)
    x[:, a : a + round(0.6 * emg.fs)] = np.nan
    gaps = make_gaps(["emg"], [""], [onset], [0.6], ["sensor reconnected"])
    root = write_bids(s.with_stream(emg.replace(data=x)).replace(gaps=gaps), tmp_path / "bids")
    assert len(read(root).gaps) == 1  # kept on disk as a BAD_gap annotation
    out = tmp_path / "out.json"
    assert main(["analyze", str(root), "--json", str(out), "--n-boot", "200"]) == 0
    (t,) = json.loads(out.read_text())["tests"]
    assert t["pre"]["n_trials"] == 3 and t["post"]["n_trials"] == 4
    assert t["verdict"] == "resolved"
