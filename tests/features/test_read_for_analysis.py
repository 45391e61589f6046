"""read_for_analysis: by windows, the assessment of a full read; small and other files in full."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from nkt_motion import write_bids
from nkt_motion.assess import assess_session
from nkt_motion.errors import ValidationError
from nkt_motion.features import read_for_analysis
from nkt_motion.simulate import bilateral_hip_flexion, gmed_adl_hip_flexion, simulate_bilateral

SHORT = {"trial_s": 1.5, "gap_s": 0.3, "rest_s": 1.5, "ref_s": 1.5}
N_BOOT = 200


def _doc(r, side=None):  # type: ignore[no-untyped-def]
    a = assess_session(r.session, r.protocol, side=side, n_boot=N_BOOT)
    return json.loads(json.dumps(a.to_dict(), allow_nan=False))


def _flat(x: object, at: str = "") -> dict[str, object]:
    """Every leaf of a JSON document by its path."""
    if isinstance(x, dict):
        return {k: v for key, item in x.items() for k, v in _flat(item, f"{at}/{key}").items()}
    if isinstance(x, list):
        return {k: v for i, item in enumerate(x) for k, v in _flat(item, f"{at}[{i}]").items()}
    return {at: x}


@pytest.fixture(scope="module")
def bilateral(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both sides tested, each side's trials after a 40 s correction the windows cut."""
    left, right = bilateral_hip_flexion(compensating="L", n_trials=3, seed=4)
    sim = simulate_bilateral(
        left.replace(**SHORT, correction_s=40.0), right.replace(**SHORT, correction_s=40.0)
    )
    return write_bids(sim.session, tmp_path_factory.mktemp("bilateral"))


@pytest.mark.parametrize("side", [None, "R"])
def test_a_bilateral_session_by_windows_is_assessed_as_in_full(
    bilateral: Path, side: str | None
) -> None:
    full = read_for_analysis(bilateral, side=side)  # type: ignore[arg-type]
    win = read_for_analysis(bilateral, side=side, full_read_mb=0.01)  # type: ignore[arg-type]
    assert (full.mode, win.mode) == ("full", "windows")
    assert win.session.duration < full.session.duration - 30.0
    assert sorted(win.session["emg"].ch_names) == [
        "EMG ADL L", "EMG ADL R", "EMG GMED L", "EMG GMED R"
    ]  # fmt: skip
    assert "event windows" in win.note and "above 0.01 MB" in win.note
    assert full.n_bytes == win.n_bytes and full.n_bytes is not None
    doc, ref = _doc(win, side), _doc(full, side)
    # the same document; onset times differ by rounding (the windows move them earlier)
    got, want = _flat(doc), _flat(ref)
    assert got.keys() == want.keys()
    numbers = [k for k, v in want.items() if isinstance(v, float)]
    assert {k: got[k] for k in numbers} == pytest.approx({k: want[k] for k in numbers}, rel=1e-9)
    assert {k: v for k, v in got.items() if k not in numbers} == {
        k: v for k, v in want.items() if k not in numbers
    }
    assert [t["side"] for t in doc["tests"]] == (["L", "R"] if side is None else ["R"])
    assert [t["verdict"] for t in doc["tests"]] == [t["verdict"] for t in ref["tests"]]
    assert [t["pre"]["ratio"] for t in doc["tests"]] == [t["pre"]["ratio"] for t in ref["tests"]]


def test_files_without_an_edf_header_are_read_in_full(tmp_path: Path) -> None:
    from nkt_motion.simulate import simulate

    session = simulate(gmed_adl_hip_flexion(n_trials=2).replace(**SHORT)).session
    emg = session["emg"]
    path = tmp_path / "s.csv"
    frame = pd.DataFrame(emg.data.T, columns=emg.ch_names)
    frame.insert(0, "time", emg.times)
    frame.to_csv(path, index=False)
    r = read_for_analysis(path, read="windows")
    assert (r.mode, r.n_bytes) == ("full", None)
    assert r.session["emg"].n_samples == emg.n_samples


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"read": "lazy"}, "read must be one of 'auto', 'full', 'windows', got 'lazy'"),
        ({"full_read_mb": 0}, "full_read_mb must be a finite number > 0.0, got 0"),
        ({"pad_s": 0.1}, "pad_s must be a finite number >= 0.5, got 0.1"),
    ],
)
def test_bad_options_are_named(bilateral: Path, options: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        read_for_analysis(bilateral, **options)  # type: ignore[arg-type]
