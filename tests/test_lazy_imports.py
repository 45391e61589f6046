"""The command line starts, and a session is assessed by the rules, without scikit-learn."""

from __future__ import annotations

import subprocess
import sys

import pytest

import nkt_motion.assess as assess


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(out.split())


def test_building_the_command_line_imports_neither_sklearn_nor_the_analysis():
    loaded = _modules_after("from nkt_motion.cli import build_parser; build_parser()")
    assert "sklearn" not in loaded and "skops" not in loaded
    assert "nkt_motion.assess.pipeline" not in loaded


def test_assessing_by_the_rules_does_not_import_sklearn():
    code = (
        "from nkt_motion.simulate import gmed_adl_hip_flexion, simulate\n"
        "from nkt_motion.assess import assess_session\n"
        "s = simulate(gmed_adl_hip_flexion(n_trials=2).replace(trial_s=1.0)).session\n"
        "assert assess_session(s, n_boot=200).tests"
    )
    assert "sklearn" not in _modules_after(code)


@pytest.mark.parametrize("name", assess.__all__)
def test_every_public_name_resolves(name):
    assert getattr(assess, name) is not None
    assert name in dir(assess)


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        assess.nope  # noqa: B018
