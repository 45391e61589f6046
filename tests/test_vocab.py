"""Vocabulary: muscle codes, channel labels, event labels (ARCHITECTURE.md strings)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nkt_motion import VocabularyError
from nkt_motion.vocab import (
    IMU_SITES,
    MUSCLES,
    format_emg_label,
    format_event_label,
    format_imu_label,
    muscle_code,
    muscle_id,
    muscle_name,
    parse_channel_label,
    parse_event_label,
)

# The table of ARCHITECTURE.md, typed out independently of the module.
ARCHITECTURE_TABLE = {
    "gluteus_medius": "GMED",
    "adductor_longus": "ADL",
    "tensor_fasciae_latae": "TFL",
    "gluteus_maximus": "GMAX",
    "quadratus_lumborum": "QL",
    "erector_spinae": "ES",
    "biceps_femoris": "BF",
    "semitendinosus": "ST",
    "rectus_femoris": "RF",
    "vastus_lateralis": "VL",
    "vastus_medialis": "VM",
    "tibialis_anterior": "TA",
    "gastrocnemius_medialis": "MG",
    "gastrocnemius_lateralis": "LG",
    "soleus": "SOL",
    "upper_trapezius": "UT",
    "lower_trapezius": "LT",
    "serratus_anterior": "SA",
    "latissimus_dorsi": "LD",
    "triceps_brachii": "TRI",
    "anterior_deltoid": "AD",
    "pectoralis_major": "PM",
    "sternocleidomastoid": "SCM",
    "masseter": "MAS",
    "flexor_digitorum_superficialis": "FDS",
}


def test_table_matches_architecture():
    for mid, code in ARCHITECTURE_TABLE.items():
        assert MUSCLES[mid] == code
        assert muscle_id(code) == mid
        assert muscle_code(mid) == code
    assert len(set(MUSCLES.values())) == len(MUSCLES), "codes must be unique"


def test_codes_fit_edf_labels():
    for code in MUSCLES.values():
        assert len(format_emg_label(code, "L")) <= 16


def test_code_is_case_insensitive():
    assert muscle_id("gmed") == "gluteus_medius"
    assert muscle_name("TFL") == "tensor fasciae latae"


def test_unknown_code_lists_known_codes():
    with pytest.raises(VocabularyError, match="unknown muscle 'GLUT'") as info:
        muscle_id("GLUT")
    assert "GMED" in str(info.value) and "ADL" in str(info.value)
    assert info.value.value == "GLUT"
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("label", "kind", "muscle", "side", "axis", "site"),
    [
        ("EMG GMED L", "emg", "gluteus_medius", "L", None, None),
        ("EMG ADL R", "emg", "adductor_longus", "R", None, None),
        ("ACC X pelvis", "acc", None, None, "X", "pelvis"),
        ("GYR Z thigh_L", "gyr", None, None, "Z", "thigh_L"),
        ("MAG Y trunk", "mag", None, None, "Y", "trunk"),
        ("QUAT W sacrum", "quat", None, None, "W", "sacrum"),
    ],
)
def test_parse_channel_label(label, kind, muscle, side, axis, site):
    p = parse_channel_label(label)
    assert (p.kind, p.muscle, p.side, p.axis, p.site) == (kind, muscle, side, axis, site)


def test_angle_and_force_labels():
    assert parse_channel_label("ANGLE pelvis_obliquity").name == "pelvis_obliquity"
    assert parse_channel_label("FORCE load").kind == "force"


@pytest.mark.parametrize(
    ("label", "fragment"),
    [
        ("EMG GMED", "does not follow"),
        ("EMG GMED X", "side must be L or R"),
        ("EMG FOO L", "unknown muscle 'FOO'"),
        ("ACC W pelvis", "axis must be one of X, Y, Z"),
        ("ACC X knee", "unknown site 'knee'"),
        ("", "does not follow"),
        ("TEMP 1", "does not follow"),
    ],
)
def test_bad_channel_labels(label, fragment):
    with pytest.raises(VocabularyError, match=fragment):
        parse_channel_label(label)


@given(
    st.sampled_from(sorted(MUSCLES)),
    st.sampled_from(["L", "R"]),
)
def test_emg_label_round_trip(mid, side):
    p = parse_channel_label(format_emg_label(mid, side))
    assert (p.muscle, p.side) == (mid, side)


@given(
    st.sampled_from(["acc", "gyr", "mag"]),
    st.sampled_from(["X", "Y", "Z"]),
    st.sampled_from(IMU_SITES),
)
def test_imu_label_round_trip(kind, axis, site):
    p = parse_channel_label(format_imu_label(kind, axis, site))
    assert (p.kind, p.axis, p.site) == (kind, axis, site)


@pytest.mark.parametrize(
    ("label", "phase", "muscle"),
    [
        ("rest", "rest", None),
        ("correction", "correction", None),
        ("ref/GMED", "ref", "gluteus_medius"),
        ("pre/test/GMED", "pre", "gluteus_medius"),
        ("post/test/ADL", "post", "adductor_longus"),
        ("stance", "stance", None),
    ],
)
def test_parse_event_label(label, phase, muscle):
    p = parse_event_label(label)
    assert (p.label, p.phase, p.muscle) == (label, phase, muscle)
    assert p.is_test == (phase in ("pre", "post"))


def test_event_label_canonicalised():
    assert parse_event_label("pre/test/gmed").label == "pre/test/GMED"
    assert parse_event_label("ref/gluteus_medius").label == "ref/GMED"


@pytest.mark.parametrize("label", ["pre/GMED", "during/test/GMED", "ref", "rest/GMED", "x"])
def test_bad_event_labels(label):
    with pytest.raises(VocabularyError, match="does not follow the conventions"):
        parse_event_label(label)


@given(st.sampled_from(["pre", "post", "ref"]), st.sampled_from(sorted(MUSCLES)))
def test_event_label_round_trip(phase, mid):
    p = parse_event_label(format_event_label(phase, mid))
    assert (p.phase, p.muscle) == (phase, mid)


def test_format_event_label_needs_muscle():
    with pytest.raises(VocabularyError, match="needs a muscle"):
        format_event_label("pre")
    assert format_event_label("rest") == "rest"


@pytest.mark.parametrize(
    ("label", "canonical", "side"),
    [
        ("pre/test/GMED/L", "pre/test/GMED/L", "L"),
        ("post/test/gmed/r", "post/test/GMED/R", "R"),
        ("ref/adductor_longus/R", "ref/ADL/R", "R"),
        ("pre/test/GMED", "pre/test/GMED", None),
    ],
)
def test_event_label_side(label, canonical, side):
    p = parse_event_label(label)
    assert (p.label, p.side) == (canonical, side)
    assert p.muscle is not None


@pytest.mark.parametrize("label", ["pre/test/GMED/X", "rest/L", "correction/R", "pre/test/L"])
def test_bad_sided_event_labels(label):
    with pytest.raises(VocabularyError):
        parse_event_label(label)


@given(
    st.sampled_from(["pre", "post", "ref"]),
    st.sampled_from(sorted(MUSCLES)),
    st.sampled_from(["L", "R"]),
)
def test_sided_event_label_round_trip(phase, mid, side):
    p = parse_event_label(format_event_label(phase, mid, side=side))
    assert (p.phase, p.muscle, p.side) == (phase, mid, side)


def test_format_event_label_side_checks():
    with pytest.raises(VocabularyError, match="takes no side"):
        format_event_label("rest", side="L")
    with pytest.raises(VocabularyError, match="side must be"):
        format_event_label("pre", "GMED", side="left")
