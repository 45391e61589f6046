from importlib import resources
from pathlib import Path

import pytest

from nkt_motion.cli import main
from nkt_motion.protocols import ENV_VAR

NAMES = [
    "hip_flexion_gmed_adl",
    "prone_hip_extension",
    "scapular_control",
    "shoulder_flexion",
    "side_lying_abduction",
    "single_leg_stance",
]


@pytest.fixture(autouse=True)
def _no_user_dir(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)


def test_list_shows_every_protocol_with_muscles(capsys):
    assert main(["protocols"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert [line.split()[0] for line in lines[::2]] == NAMES
    assert "hip_flexion_gmed_adl  GMED vs ADL" in out
    assert "scapular_control      LT + SA vs UT" in out
    assert "prone_hip_extension   GMAX vs BF, ST, ES" in out
    assert "Shoulder flexion: anterior deltoid vs latissimus dorsi and triceps" in out


def test_show_prints_a_practitioner_sheet(capsys):
    assert main(["protocols", "show", "single_leg_stance"]) == 0
    out = capsys.readouterr().out
    for text in (
        "[single_leg_stance v1.0]",
        "Tested: GMED (gluteus medius)",
        "ADL (adductor longus): Adductor longus",
        "Start position: Standing on the tested leg",
        'Say to the client: "Stand on your test leg',
        "GMED (gluteus medius) [SENIAM]",
        "TFL (tensor fasciae latae) [convention]",
        "sacrum: Flat over the sacrum",
        "contralateral pelvic drop: flagged above 10 deg",
        "Ratio change that matters: 20%",
        "1. Check the sensors [sensor_check]",
        "2. Quiet standing on both legs [rest, event rest, 10 s]",
        "[pre_test, event pre/test/GMED, 5 trials, 7 s each]",
        "Nakagawa TH",
        "it does not diagnose",
    ):
        assert text in out, text
    assert out.index("event pre/test/GMED") < out.index("event correction")
    assert out.index("event correction") < out.index("event post/test/GMED")


def test_show_without_imu_says_none(capsys):
    assert main(["protocols", "show", "hip_flexion_gmed_adl"]) == 0
    out = capsys.readouterr().out
    assert "IMU sensors\n  none" in out
    assert "Kinematic signs of compensation\n  none" in out


def test_unknown_name_exits_2_and_lists_known_names(capsys):
    assert main(["protocols", "show", "gmed"]) == 2
    err = capsys.readouterr().err
    assert "unknown protocol 'gmed'" in err
    assert ", ".join(NAMES) in err


def test_user_directory_option_and_show_by_path(tmp_path, capsys):
    src = Path(str(resources.files("nkt_motion.protocols").joinpath("shoulder_flexion.toml")))
    text = src.read_text(encoding="utf-8").replace('"shoulder_flexion"', '"my_shoulder"')
    (tmp_path / "my_shoulder.toml").write_text(text, encoding="utf-8")
    assert main(["protocols", "--dir", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split() for line in lines if line.startswith("my_shoulder")] == [
        ["my_shoulder", "AD", "vs", "LD,", "TRI"]
    ]
    assert main(["protocols", "show", "my_shoulder", "--dir", str(tmp_path)]) == 0
    assert "[my_shoulder v1.0]" in capsys.readouterr().out
    assert main(["protocols", "show", str(tmp_path / "my_shoulder.toml")]) == 0
    assert "[my_shoulder v1.0]" in capsys.readouterr().out


def test_broken_user_file_exits_2_naming_file_and_field(tmp_path, capsys):
    (tmp_path / "bad.toml").write_text('name = "bad"\ntitle = 3\n', encoding="utf-8")
    assert main(["protocols", "--dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "bad.toml" in err
    assert "field 'version'" in err or "field 'title'" in err
