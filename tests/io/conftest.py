"""Fixtures of the I/O tests; loads the shared conformance helpers under a unique name."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

import nkt_motion as nm

_spec = importlib.util.spec_from_file_location(
    "nkt_io_conformance", Path(__file__).with_name("conformance.py")
)
assert _spec is not None and _spec.loader is not None
conformance = importlib.util.module_from_spec(_spec)
sys.modules["nkt_io_conformance"] = conformance
_spec.loader.exec_module(conformance)


@pytest.fixture
def session() -> nm.Session:
    return conformance.make_session()
