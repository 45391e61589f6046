"""Fixtures of the batch tests: a small tree of every kind of session, written once."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from batch_material import short_session, write_plain_bdf, write_tidy_csv

from nkt_motion.io import write_bids
from nkt_motion.simulate import healthy_hip_flexion


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
