"""Fixtures of the batch tests: a small tree of every kind of session, written once."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nkt_motion.io import write_bids
from nkt_motion.io.bdf_write import write_bdf
from nkt_motion.simulate import gmed_adl_hip_flexion, healthy_hip_flexion, simulate

#: A few seconds of signal per trial keep every analysis well under a second.
SHORT = {"trial_s": 1.5, "gap_s": 0.5, "correction_s": 1.0, "rest_s": 2.0, "ref_s": 1.5}
N_BOOT = 200


def short_session(preset=gmed_adl_hip_flexion, *, seed=0, **changes):
    scenario = preset(n_trials=3, seed=seed).replace(**{**SHORT, **changes})
    return simulate(scenario).session


def write_plain_bdf(session, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    ev = session.events
    ann = pd.DataFrame({"onset": ev["onset"], "duration": ev["duration"], "text": ev["label"]})
    write_bdf(path, list(session.streams.values()), ann, origin=0.0, subject=session.subject)
    return path


def write_tidy_csv(session, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    emg = session["emg"]
    frame = pd.DataFrame(emg.data.T, columns=list(emg.ch_names))
    frame.insert(0, "time", emg.t0 + np.arange(emg.n_samples) / emg.fs)
    frame.to_csv(path, index=False)
    ev = session.events[["onset", "duration", "label"]]
    ev.to_csv(path.with_name(path.name.removesuffix(".csv") + "_events.csv"), index=False)
    return path


@pytest.fixture(scope="session")
def material(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every kind of session, good and bad, under one root (copy it before changing it)."""
    root = tmp_path_factory.mktemp("batch_material")
    write_bids(short_session(seed=1), root / "clinic_a")
    write_bids(short_session(healthy_hip_flexion, seed=2).replace(subject="02"), root / "clinic_a")
    shutil.copytree(root / "clinic_a" / "sub-01", root / "backup" / "sub-01")  # a duplicate
    plain = write_plain_bdf(short_session(seed=3).replace(subject="03"), root / "edf" / "s03.bdf")
    write_tidy_csv(short_session(seed=4), root / "csv" / "s04.csv")
    (root / "csv" / "notes.csv").write_text("name,age\nx,1\n")
    rng = np.random.default_rng(0)
    (root / "edf" / "corrupt.bdf").write_bytes(rng.bytes(4096))
    (root / "edf" / "half.bdf").write_bytes(plain.read_bytes()[: plain.stat().st_size * 3 // 5])
    return root


@pytest.fixture
def tree(material: Path, tmp_path: Path) -> Path:
    """A private copy of the material."""
    return Path(shutil.copytree(material, tmp_path / "root"))
