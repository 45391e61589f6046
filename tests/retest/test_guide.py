"""The guide: steps, labels, skip/repeat/override/stop, and out-of-order commands."""

from __future__ import annotations

import contextlib
import itertools

import pytest

from nkt_motion.errors import ValidationError
from nkt_motion.protocols import load_protocol
from nkt_motion.retest.guide import COMMANDS, Guide

HIP = load_protocol("hip_flexion_gmed_adl")


def run_through(g: Guide, t: float = 0.0, *, until: str | None = None) -> float:
    """Mark every trial of every step (1 s each, 1 s apart) until step ``until``."""
    while g.state == "running" and g.step.id != until:
        for _ in range(g.n_trials() or 0):
            g.apply("trial_start", t)
            g.apply("trial_stop", t + 1.0)
            t += 2.0
        t += 1.0
        g.apply("next", t)
    return t


def test_a_full_walk_gives_the_protocol_events_in_order() -> None:
    g = Guide(HIP)
    run_through(g)
    assert g.state == "finished"
    labels = [e.label for e in g.events]
    assert (
        labels
        == ["rest"]
        + ["ref/GMED"] * 3
        + ["ref/ADL"] * 3
        + ["pre/test/GMED"] * 5
        + ["correction"]
        + ["post/test/GMED"] * 5
    )
    assert g.statuses == ["done"] * len(HIP.steps)
    onsets = [e.onset for e in g.events]
    assert onsets == sorted(onsets)
    corr = next(e for e in g.events if e.label == "correction")
    pre_end = max(e.onset + e.duration for e in g.events if e.label == "pre/test/GMED")
    post_start = min(e.onset for e in g.events if e.label == "post/test/GMED")
    assert pre_end < corr.onset and corr.onset + corr.duration <= post_start
    assert all(e.status == "complete" for e in g.records)


def test_sensor_check_and_correction_take_no_trials() -> None:
    g = Guide(HIP)
    assert g.step.kind == "sensor_check" and not g.can_mark and g.n_trials() is None
    with pytest.raises(ValidationError, match="takes no trials"):
        g.apply("trial_start", 1.0)
    run_through(g, until="correction")
    with pytest.raises(ValidationError, match="takes no trials"):
        g.apply("trial_toggle", 99.0)
    with pytest.raises(ValidationError, match="takes no trials"):
        g.apply("repeat", 99.0)


def test_out_of_order_commands_raise_clear_errors_and_change_nothing() -> None:
    g = Guide(HIP)
    g.apply("next", 1.0)
    with pytest.raises(ValidationError, match="no trial is running"):
        g.apply("trial_stop", 2.0)
    with pytest.raises(ValidationError, match="no complete trial to discard"):
        g.apply("repeat", 2.0)
    g.apply("trial_start", 2.0)
    for name in ("trial_start", "next", "skip", "repeat"):
        with pytest.raises(ValidationError, match="a trial is running"):
            g.apply(name, 3.0)
    with pytest.raises(ValidationError, match="after the trial start"):
        g.apply("trial_stop", 1.5)
    with pytest.raises(ValidationError, match="command must be one of"):
        g.apply("jump", 3.0)
    with pytest.raises(ValidationError, match="t must be a finite time"):
        g.apply("trial_stop", float("nan"))
    with pytest.raises(ValidationError, match="takes no argument 'note'"):
        g.apply("next", 3.0, note="x")
    assert g.active == ("rest", 2.0) and g.records == []
    g.apply("trial_toggle", 12.0)
    assert [(e.label, e.duration) for e in g.events] == [("rest", 10.0)]


def test_every_command_in_every_state_either_works_or_raises_validation_error() -> None:
    """A random-order stress: no command sequence crashes or corrupts the state."""
    for seq in itertools.islice(itertools.product(COMMANDS, repeat=3), 0, None, 7):
        g = Guide(HIP)
        t = 0.0
        for name in (*seq, *seq):
            t += 0.5
            with contextlib.suppress(ValidationError):
                g.apply(name, t)
        onsets = [r.onset for r in g.records]
        assert onsets == sorted(onsets)
        assert all(r.duration >= 0 for r in g.records)
        assert g.statuses.count("current") <= 1


def test_skip_is_recorded_with_a_note_and_a_skipped_correction_has_no_event() -> None:
    g = Guide(HIP)
    g.apply("skip", 1.0, note="electrodes checked before")
    assert g.statuses[0] == "skipped" and g.step.id == "rest"
    assert "electrodes checked before" in g.notes[-1]
    t = run_through(g, 1.0, until="correction")
    g.apply("skip", t)
    assert "correction" not in [e.label for e in g.events]
    assert g.statuses[HIP.steps.index(next(s for s in HIP.steps if s.kind == "correction"))] == (
        "skipped"
    )


def test_repeat_discards_the_last_trial_but_keeps_it_in_the_records() -> None:
    g = Guide(HIP)
    t = run_through(g, until="pre_test")
    for k in range(5):
        g.apply("trial_start", t + 2 * k)
        g.apply("trial_stop", t + 2 * k + 1)
    assert g.trials_done() == 5 and not g.can_mark
    with pytest.raises(ValidationError, match="has its 5 trial"):
        g.apply("trial_start", t + 20)
    g.apply("repeat", t + 20)
    assert g.trials_done() == 4 and g.can_mark
    discarded = [r for r in g.records if r.status == "discarded"]
    assert len(discarded) == 1 and discarded[0].onset == t + 8
    assert "repeated" in discarded[0].note
    assert t + 8 not in [e.onset for e in g.events]
    g.apply("trial_start", t + 21)
    g.apply("trial_stop", t + 22)
    assert [e.onset for e in g.events if e.label == "pre/test/GMED"][-1] == t + 21
    g.apply("repeat", t + 23)
    g.apply("repeat", t + 23.5)  # repeating twice discards the two last ones
    assert g.trials_done() == 3


def test_next_with_missing_trials_is_allowed_and_noted() -> None:
    g = Guide(HIP)
    t = run_through(g, until="ref_gmed")
    g.apply("trial_start", t)
    g.apply("trial_stop", t + 1)
    g.apply("next", t + 2)
    assert g.step.id == "ref_adl"
    assert "left with 1 of 3" in g.notes[-1]


def test_dead_channel_blocks_guarded_steps_until_override() -> None:
    g = Guide(HIP)
    g.set_quality({"EMG ADL L": "EMG ADL L looks disconnected"})
    g.apply("next", 1.0)
    g.apply("trial_start", 2.0)  # rest is not guarded
    g.apply("trial_stop", 12.0)
    g.apply("next", 13.0)
    assert g.step.kind == "reference" and not g.can_mark
    assert "looks disconnected" in (g.blocked_reason or "")
    with pytest.raises(ValidationError, match="trial_start refused: EMG ADL L"):
        g.apply("trial_start", 14.0)
    g.apply("override", 15.0)
    assert g.can_mark and g.blocked_reason is None and "override" in g.notes[-1]
    g.apply("trial_start", 16.0)
    g.apply("trial_stop", 17.0)
    g.apply("next", 18.0)  # the override holds for its step only
    assert not g.can_mark
    g.set_quality({})
    assert g.can_mark


def test_override_quality_for_the_whole_session() -> None:
    g = Guide(HIP, override_quality=True)
    g.set_quality({"EMG GMED L": "clipping"})
    run_through(g)
    assert g.state == "finished" and len(g.events) == 18


def test_a_trial_flagged_incomplete_is_not_an_event_nor_counted() -> None:
    g = Guide(HIP)
    t = run_through(g, until="pre_test")
    assert not g.flag_incomplete("nothing running")
    g.apply("trial_start", t)
    assert g.flag_incomplete("sensor nkt-0001 disconnected")
    g.apply("trial_stop", t + 3)
    assert g.trials_done() == 0
    bad = [r for r in g.records if r.status == "incomplete"]
    assert len(bad) == 1 and "disconnected" in bad[0].note and bad[0].duration == 3.0
    assert all(e.onset != t for e in g.events)
    g.apply("trial_start", t + 4)
    g.apply("trial_stop", t + 5, complete=False, note="client lost balance")
    assert g.records[-1].status == "incomplete" and g.records[-1].note == "client lost balance"


def test_stop_keeps_a_running_trial_as_incomplete_and_ends_the_guide() -> None:
    g = Guide(HIP)
    t = run_through(g, until="pre_test")
    g.apply("trial_start", t)
    g.apply("stop", t + 1.5)
    assert g.state == "stopped" and g.active is None
    assert g.records[-1].status == "incomplete" and "stopped" in g.records[-1].note
    for name in COMMANDS:
        with pytest.raises(ValidationError, match="the retest has stopped"):
            g.apply(name, t + 2)
    assert g.blocked_reason == "the retest has stopped" and not g.can_mark


def test_stop_during_the_correction_records_it_up_to_the_stop() -> None:
    g = Guide(HIP)
    t = run_through(g, until="correction")
    g.apply("stop", t + 30)
    corr = [e for e in g.events if e.label == "correction"]
    assert len(corr) == 1 and corr[0].onset == t and corr[0].duration == 30
    assert g.step.kind == "correction"


def test_constructor_checks_its_protocol() -> None:
    with pytest.raises(ValidationError, match="protocol must be a Protocol"):
        Guide("hip_flexion_gmed_adl")  # type: ignore[arg-type]
    assert "step 1/" in repr(Guide(HIP))


@pytest.mark.parametrize("name", ["scapular_control", "single_leg_stance"])
def test_other_protocols_walk_through(name: str) -> None:
    protocol = load_protocol(name)
    g = Guide(protocol)
    run_through(g)
    assert g.state == "finished"
    assert set(protocol.event_labels()) <= {e.label for e in g.events}
