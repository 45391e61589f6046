import pytest

from nkt_motion.errors import VocabularyError
from nkt_motion.protocols import AmbiguousProtocolError, list_protocols, match_protocol

PROTOCOLS = {p.name: p for p in list_protocols()}


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
def test_each_builtin_session_matches_its_protocol(name):
    p = PROTOCOLS[name]
    assert match_protocol(p.muscle_ids, set(p.event_labels())) == p  # default: fresh read
    codes = {*p.tested, *(q.code for q in p.partners)}
    assert match_protocol(codes, set(p.event_labels()), protocols=PROTOCOLS.values()) is p


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
def test_muscles_alone_match_when_exact(name):
    p = PROTOCOLS[name]
    assert match_protocol(p.muscle_ids, set(), protocols=PROTOCOLS.values()) is p


def test_extra_muscles_and_foreign_labels_do_not_prevent_a_match():
    muscles = {"gluteus_medius", "adductor_longus", "tibialis_anterior"}
    events = {"rest", "pre/test/GMED", "post/test/GMED", "walk", "stance"}
    assert match_protocol(muscles, events).name == "hip_flexion_gmed_adl"


def test_most_specific_protocol_wins():
    events = {"pre/test/GMED", "correction", "post/test/GMED"}
    assert match_protocol({"GMED", "ADL", "TFL"}, events).name == "single_leg_stance"
    assert match_protocol({"GMED", "TFL", "QL"}, events).name == "side_lying_abduction"


def test_unrelated_sessions_match_nothing():
    assert match_protocol({"TA", "SOL", "MG"}, {"pre/test/TA"}) is None
    assert match_protocol({"GMED"}, {"pre/test/GMED"}) is None  # partner missing
    # muscles fit, but the session tested the partner, not the protocol's muscle
    assert match_protocol({"GMED", "ADL"}, {"pre/test/ADL", "post/test/ADL"}) is None
    assert match_protocol(set(), set()) is None


def test_tested_set_must_equal_for_two_muscle_protocol():
    muscles = {"LT", "SA", "UT"}
    assert match_protocol(muscles, {"pre/test/LT", "pre/test/SA"}).name == "scapular_control"
    assert match_protocol(muscles, {"pre/test/LT"}) is None


def test_ambiguous_session_names_the_candidates():
    with pytest.raises(AmbiguousProtocolError) as info:
        match_protocol({"GMED", "ADL", "TFL", "QL"}, {"pre/test/GMED"})
    assert info.value.candidates == ("side_lying_abduction", "single_leg_stance")
    assert "side_lying_abduction, single_leg_stance" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_unknown_muscle_is_a_vocabulary_error():
    with pytest.raises(VocabularyError):
        match_protocol({"GLUTE"}, set())
