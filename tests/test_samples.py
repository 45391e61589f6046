"""The committed synthetic samples equal a fresh run of data/samples/make_samples.py."""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import nkt_motion as nm

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    spec = importlib.util.spec_from_file_location("make_samples", SAMPLES / "make_samples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path_factory.mktemp("samples")
    module.main(out)
    return out


def _same_session(a, b, atol):
    assert sorted(a.streams) == sorted(b.streams)
    for name in a.streams:
        assert a[name].ch_names == b[name].ch_names
        assert a[name].fs == b[name].fs
        np.testing.assert_allclose(a[name].data, b[name].data, atol=atol)
    pd.testing.assert_frame_equal(a.events, b.events)


@pytest.mark.parametrize("subject", ["01", "02"])
def test_bids_samples_are_reproducible(fresh, subject):
    committed = nm.read(SAMPLES / "synthetic" / "bids", subject=subject)
    again = nm.read(fresh / "bids", subject=subject)
    _same_session(committed, again, atol=0.0)
    assert committed.meta["simulated"] is True


def test_csv_sample_is_reproducible(fresh):
    name = "csv/sub-03_hipflexion.csv.gz"
    _same_session(nm.read(SAMPLES / "synthetic" / name), nm.read(fresh / name), atol=0.0)


def test_truth_tables_are_reproducible(fresh):
    for path in sorted((SAMPLES / "synthetic").rglob("*desc-truth_*.tsv")):
        rel = path.relative_to(SAMPLES / "synthetic")
        pd.testing.assert_frame_equal(
            pd.read_csv(path, sep="\t"), pd.read_csv(fresh / rel, sep="\t")
        )


def test_samples_stay_small():
    total = sum(p.stat().st_size for p in (SAMPLES / "synthetic").rglob("*") if p.is_file())
    assert total < 6e6
