from importlib import resources
from pathlib import Path

import pytest

from nkt_motion.errors import ProtocolFileError
from nkt_motion.protocols import load_protocol, parse_protocol, read_protocol_file


def source(name: str) -> str:
    path = resources.files("nkt_motion.protocols").joinpath(f"{name}.toml")
    return Path(str(path)).read_text(encoding="utf-8")


HIP = "hip_flexion_gmed_adl"
SLS = "single_leg_stance"

# (protocol, text to replace, replacement, expected dotted field, words in the message)
BROKEN = [
    ("top_typo", HIP, 'version = "1.0"', 'version = "1.0"\ntitel = "x"', "titel", "unknown key"),
    ("missing", HIP, 'version = "1.0"\n', "", "version", "missing"),
    ("type", HIP, "side_required = true", 'side_required = "yes"', "side_required", "true or"),
    ("muscle", HIP, 'tested = "GMED"', 'tested = "GLUTE"', "tested", "unknown muscle"),
    ("not_code", HIP, 'tested = "GMED"', 'tested = "gluteus_medius"', "tested", "'GMED'"),
    ("partner", HIP, 'muscle = "ADL"', 'muscle = "ADDL"', "partners[0].muscle", "unknown"),
    (
        "partner_dup",
        "side_lying_abduction",
        'muscle = "QL"',
        'muscle = "TFL"',
        "partners[1].muscle",
        "already listed",
    ),
    (
        "tested_list",
        "scapular_control",
        'tested = ["LT", "SA"]',
        'tested = ["LT", "XX"]',
        "tested[1]",
        "unknown muscle",
    ),
    (
        "sign",
        SLS,
        'sign = "trunk_lean"',
        'sign = "knee_valgus"',
        "kinematic_signs[1].sign",
        "known signs",
    ),
    (
        "sign_site",
        SLS,
        'site = "trunk"',
        'site = "shank_L"',
        "kinematic_signs[1].sign",
        "needs an IMU",
    ),
    ("imu_site", SLS, 'site = "trunk"', 'site = "chest"', "imu[1].site", "unknown IMU site"),
    (
        "threshold",
        SLS,
        "threshold_deg = 9.0",
        "threshold_deg = -1",
        "kinematic_signs[1].threshold_deg",
        ">= 0",
    ),
    (
        "electrode_muscle",
        HIP,
        "[electrodes.ADL]",
        "[electrodes.TA]",
        "electrodes.TA",
        "unknown key",
    ),
    (
        "standard",
        HIP,
        'standard = "convention"',
        'standard = "ISEK"',
        "electrodes.ADL.standard",
        "'SENIAM' or 'convention'",
    ),
    (
        "ratio",
        HIP,
        "ratio_change_threshold = 0.2",
        "ratio_change_threshold = 1.5",
        "rules.ratio_change_threshold",
        "<= 1.0",
    ),
    ("bool_int", HIP, "min_trials = 3", "min_trials = true", "rules.min_trials", "an integer"),
    (
        "event_syntax",
        HIP,
        'event = "rest"',
        'event = "resting"',
        "steps[1].event",
        "does not follow",
    ),
    (
        "event_ref",
        HIP,
        'event = "ref/ADL"',
        'event = "ref/TA"',
        "steps[3].event",
        "not a protocol muscle",
    ),
    (
        "event_tested",
        HIP,
        'event = "pre/test/GMED"',
        'event = "pre/test/ADL"',
        "steps[4].event",
        "not a tested muscle",
    ),
    (
        "event_kind",
        HIP,
        'event = "correction"',
        'event = "rest"',
        "steps[5].event",
        "'correction' event",
    ),
    (
        "event_spelling",
        HIP,
        'event = "ref/ADL"',
        'event = "ref/adl"',
        "steps[3].event",
        "'ref/ADL'",
    ),
    (
        "n_trials_zero",
        HIP,
        "n_trials = 3\nduration_s",
        "n_trials = 0\nduration_s",
        "steps[2].n_trials",
        ">= 1",
    ),
    ("n_trials_min", HIP, "n_trials = 5", "n_trials = 2", "steps[4].n_trials", ">= 3"),
    (
        "step_typo",
        HIP,
        'id = "correction"',
        'id = "correction"\nevnet = "x"',
        "steps[5].evnet",
        "unknown key",
    ),
    ("step_kind", HIP, 'kind = "correction"', 'kind = "fix"', "steps[5].kind", "known kinds"),
    ("step_id", HIP, 'id = "post_test"', 'id = "pre_test"', "steps[6].id", "used twice"),
    (
        "check_event",
        HIP,
        'kind = "sensor_check"',
        'kind = "sensor_check"\nevent = "rest"',
        "steps[0].event",
        "records no event",
    ),
    ("rest_duration", HIP, "duration_s = 10.0\n", "", "steps[1].duration_s", "duration"),
    ("no_pre", HIP, 'kind = "pre_test"', 'kind = "reference"', "steps[4].event", "'ref' event"),
    (
        "no_correction",
        HIP,
        'kind = "correction"\n',
        'kind = "rest"\nduration_s = 5.0\n',
        "steps[5].event",
        "'rest' event",
    ),
]


@pytest.mark.parametrize(
    ("base", "old", "new", "field", "words"),
    [case[1:] for case in BROKEN],
    ids=[case[0] for case in BROKEN],
)
def test_broken_file_names_file_and_field(tmp_path, base, old, new, field, words):
    text = source(base)
    assert old in text
    path = tmp_path / f"{base}.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ProtocolFileError) as info:
        load_protocol(path)
    err = info.value
    assert err.path == path
    assert err.field == field
    assert str(path) in str(err)
    assert f"field {field!r}" in str(err)
    assert words in str(err)


def test_name_must_equal_file_stem(tmp_path):
    path = tmp_path / "renamed.toml"
    path.write_text(source(HIP), encoding="utf-8")
    with pytest.raises(ProtocolFileError, match="must equal the file name 'renamed'") as info:
        read_protocol_file(path)
    assert info.value.field == "name"


def test_invalid_toml_names_the_file(tmp_path):
    path = tmp_path / f"{HIP}.toml"
    path.write_text(source(HIP) + "\n[[steps]\n", encoding="utf-8")
    with pytest.raises(ProtocolFileError, match="not valid TOML") as info:
        read_protocol_file(path)
    assert info.value.path == path
    assert info.value.field is None


def test_test_steps_must_straddle_the_correction():
    import tomllib

    data = tomllib.loads(source(HIP))
    steps = data["steps"]
    steps[4], steps[6] = steps[6], steps[4]  # post test before the correction, pre after
    with pytest.raises(ProtocolFileError) as info:
        parse_protocol(data)
    assert info.value.field == "steps[6].event"
    assert "before the correction" in str(info.value)


def test_missing_pre_test_is_reported_on_steps():
    import tomllib

    data = tomllib.loads(source(HIP))
    del data["steps"][4]
    with pytest.raises(ProtocolFileError, match="needs a pre_test step") as info:
        parse_protocol(data)
    assert info.value.field == "steps"
