"""Fixtures for every test and doctest of the repository."""

import pytest


@pytest.fixture(autouse=True)
def _private_index(tmp_path_factory, monkeypatch):
    """Keep every test's session index in a temporary folder of its own, never in the home."""
    folder = tmp_path_factory.mktemp("nkt-index")
    monkeypatch.setenv("NKT_MOTION_INDEX", str(folder / "index.sqlite"))
