import dataclasses
import shutil
from importlib import resources
from pathlib import Path

import pytest

from nkt_motion.errors import NktMotionError, ProtocolFileError
from nkt_motion.protocols import (
    ENV_VAR,
    KINEMATIC_SIGNS,
    SIGN_SITES,
    UnknownProtocolError,
    list_protocols,
    load_protocol,
)
from nkt_motion.vocab import IMU_SITES, MUSCLES, parse_event_label

BUILTINS = {
    "hip_flexion_gmed_adl": (("GMED",), ("ADL",)),
    "side_lying_abduction": (("GMED",), ("TFL", "QL")),
    "single_leg_stance": (("GMED",), ("ADL", "TFL")),
    "prone_hip_extension": (("GMAX",), ("BF", "ST", "ES")),
    "shoulder_flexion": (("AD",), ("LD", "TRI")),
    "scapular_control": (("LT", "SA"), ("UT",)),
}
# Muscles for which SENIAM has no placement: the files must say "convention".
NO_SENIAM = {"ADL", "TFL", "QL", "LD", "SA"}


def builtin_path(name: str) -> Path:
    return Path(str(resources.files("nkt_motion.protocols").joinpath(f"{name}.toml")))


def test_exactly_the_six_builtins_are_listed(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert [p.name for p in list_protocols()] == sorted(BUILTINS)


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_builtin_muscles_and_pairs(name):
    p = load_protocol(name)
    tested, partners = BUILTINS[name]
    assert p.name == name == p.path.stem
    assert p.tested == tested
    assert tuple(q.code for q in p.partners) == partners
    assert p.tested_id == MUSCLES_BY_CODE[tested[0]]
    assert p.partner_ids == tuple(MUSCLES_BY_CODE[c] for c in partners)
    assert p.pairs == tuple(
        (MUSCLES_BY_CODE[t], MUSCLES_BY_CODE[q]) for t in tested for q in partners
    )
    assert p.side_required


MUSCLES_BY_CODE = {code: mid for mid, code in MUSCLES.items()}


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_builtin_steps_produce_parseable_labels_in_retest_order(name):
    p = load_protocol(name)
    labels = p.event_labels()
    for label in labels:
        assert parse_event_label(label).label == label
    kinds = [s.kind for s in p.steps]
    assert kinds[0] == "sensor_check" and p.steps[0].event is None
    first_fix = kinds.index("correction")
    for code in p.tested:
        assert labels.index(f"pre/test/{code}") < labels.index("correction")
        assert labels.index(f"post/test/{code}") > labels.index("correction")
    assert all(k != "post_test" for k in kinds[:first_fix])
    for step in p.steps:
        if step.kind in ("pre_test", "post_test"):
            assert step.n_trials >= p.rules.min_trials
    refs = {parse_event_label(lbl).muscle for lbl in labels if lbl.startswith("ref/")}
    assert refs == p.muscle_ids


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_builtin_electrodes_sensors_and_rules(name):
    p = load_protocol(name)
    assert [e.muscle for e in p.electrodes] == [*p.tested, *(q.code for q in p.partners)]
    for e in p.electrodes:
        expected = "convention" if e.muscle in NO_SENIAM else "SENIAM"
        assert e.standard == expected, e.muscle
        assert ("SENIAM" in e.source) if expected == "SENIAM" else ("no" in e.source)
    assert set(p.imu_sites) <= set(IMU_SITES)
    for sign in p.kinematic_signs:
        assert sign.sign in KINEMATIC_SIGNS
        assert all(group & set(p.imu_sites) for group in SIGN_SITES[sign.sign])
    assert 0.2 <= p.rules.ratio_change_threshold <= 0.4
    assert p.rules.kinematic_threshold_deg == pytest.approx(3.0)
    assert p.rules.min_trials >= 1


def test_builtin_specifics():
    assert load_protocol("hip_flexion_gmed_adl").imu == ()
    assert [s.sign for s in load_protocol("side_lying_abduction").kinematic_signs] == ["hip_hike"]
    sls = load_protocol("single_leg_stance")
    signs = {s.sign: s.threshold_deg for s in sls.kinematic_signs}
    assert signs == {"contralateral_pelvic_drop": 10.0, "trunk_lean": 9.0, "hip_adduction": 15.0}
    assert "Nakagawa" in sls.kinematic_signs[0].source
    assert "Morrissey" in load_protocol("hip_flexion_gmed_adl").rules.source


def test_protocol_is_frozen_and_loads_the_same_by_path():
    p = load_protocol("shoulder_flexion")
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.name = "x"  # type: ignore[misc]
    assert load_protocol(builtin_path("shoulder_flexion")) == p
    assert load_protocol(str(builtin_path("shoulder_flexion"))) == p
    assert repr(p) == "<Protocol shoulder_flexion | AD vs LD, TRI>"
    assert p.electrode("latissimus_dorsi").muscle == "LD"
    with pytest.raises(KeyError):
        p.electrode("GMED")


def test_unknown_name_lists_the_known_names():
    with pytest.raises(UnknownProtocolError) as info:
        load_protocol("hip_flexion")
    assert isinstance(info.value, NktMotionError)
    assert info.value.known == tuple(sorted(BUILTINS))
    assert "hip_flexion_gmed_adl" in str(info.value)


def _user_copy(folder: Path, new_name: str) -> Path:
    text = builtin_path("hip_flexion_gmed_adl").read_text(encoding="utf-8")
    target = folder / f"{new_name}.toml"
    target.write_text(text.replace('"hip_flexion_gmed_adl"', f'"{new_name}"'), encoding="utf-8")
    return target


def test_user_directory_by_parameter_and_environment(tmp_path, monkeypatch):
    _user_copy(tmp_path, "my_hip_test")
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert "my_hip_test" in [p.name for p in list_protocols(user_dir=tmp_path)]
    assert "my_hip_test" not in [p.name for p in list_protocols()]
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert load_protocol("my_hip_test").path == tmp_path / "my_hip_test.toml"
    assert len(list_protocols()) == len(BUILTINS) + 1


def test_user_protocol_may_not_reuse_a_builtin_name(tmp_path):
    shutil.copy(builtin_path("single_leg_stance"), tmp_path / "single_leg_stance.toml")
    with pytest.raises(ProtocolFileError) as info:
        list_protocols(user_dir=tmp_path)
    assert info.value.field == "name"
    assert info.value.path == tmp_path / "single_leg_stance.toml"


def test_missing_user_directory_is_an_error(tmp_path):
    with pytest.raises(ProtocolFileError, match="does not exist"):
        list_protocols(user_dir=tmp_path / "nope")


def test_readme_example_is_a_valid_protocol(tmp_path):
    readme = resources.files("nkt_motion.protocols").joinpath("README.md").read_text("utf-8")
    example = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "my_test.toml"
    path.write_text(example, encoding="utf-8")
    p = load_protocol(path)
    assert p.event_labels() == ("pre/test/GMED", "correction", "post/test/GMED")
    assert p.imu == () and p.kinematic_signs == ()
