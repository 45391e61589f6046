"""Fixtures for every test and doctest of the repository."""

import pytest


@pytest.fixture(autouse=True)
def _private_index(tmp_path_factory, monkeypatch):
    """Keep every test's session index in a temporary folder of its own, never in the home."""
    folder = tmp_path_factory.mktemp("nkt-index")
    monkeypatch.setenv("NKT_MOTION_INDEX", str(folder / "index.sqlite"))


def pytest_ignore_collect(collection_path, config):
    """Keep conftest files out of doctest collection (they are loaded as plugins anyway).

    Several test folders have a ``conftest.py``; collecting them as doctest modules
    imports each under the one name ``conftest``, which clashes depending on the order.
    """
    if collection_path.name == "conftest.py":
        return True
    return None
