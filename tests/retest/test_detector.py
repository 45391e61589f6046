"""TrialDetector: held against a slow per-sample oracle and against simulated sessions."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from nkt_motion import SignalError, ValidationError
from nkt_motion.retest.detector import DetectedEvent, TrialDetector
from nkt_motion.retest.processor import LiveProcessor
from nkt_motion.simulate import (
    SimulatedSession,
    gmed_adl_hip_flexion,
    healthy_hip_flexion,
    simulate,
)

FS = 100.0


def slow_detect(on: np.ndarray, live: np.ndarray, min_active: int, min_gap: int) -> list:
    """The documented rules, one sample at a time: (kind, index of the crossing) per event."""
    state, mark, again, out = "idle", 0, 0, []
    for i in range(on.size):
        if state == "idle" and on[i]:
            state, mark = "rising", i
        elif state == "active" and not live[i]:
            state, mark = "falling", i
        elif state == "falling" and on[i]:
            state, again = "resuming", i
        elif state == "resuming" and not live[i]:
            state = "falling"  # a spike: the fall goes on from its first sample
        if state == "rising" and not live[i]:
            state = "idle"
        elif state == "rising" and i - mark + 1 >= min_active:
            state = "active"
            out.append(("start", mark))
        elif state == "resuming" and i - again + 1 >= min_active:
            state = "active"
        elif state == "falling" and i - mark + 1 >= min_gap:
            state = "idle"
            out.append(("stop", mark))
    return out


def run_blocks(det: TrialDetector, x: np.ndarray, cuts: list[int], t0: float = 0.0) -> list:
    edges = [0, *sorted(c for c in set(cuts) if 0 < c < x.shape[-1]), x.shape[-1]]
    out: list[DetectedEvent] = []
    for a, b in itertools.pairwise(edges):
        out += det.push(x[..., a:b], t0 + a / det.fs)
    return out


signals = st.lists(
    st.tuples(st.integers(1, 60), st.sampled_from([0.0, 1.0, 2.0, 4.0])), min_size=1, max_size=25
)


@settings(max_examples=200, deadline=None)
# a spike inside the quiet period delays the certainty of the stop
@example(runs=[(3, 4.0), (5, 0.0), (2, 4.0), (1, 0.0)], cuts=[], min_active=3, min_gap=6)
@given(
    runs=signals,
    cuts=st.lists(st.integers(1, 1500), max_size=8),
    min_active=st.integers(1, 12),
    min_gap=st.integers(1, 12),
)
def test_blocks_equal_the_slow_oracle_and_events_alternate(
    runs: list[tuple[int, float]], cuts: list[int], min_active: int, min_gap: int
) -> None:
    x = np.concatenate([np.full(n, level) for n, level in runs])
    det = TrialDetector(
        FS, k=3.0, k_off=1.5, min_active_s=min_active / FS, min_gap_s=min_gap / FS,
        baseline=([0.0], [1.0]),
    )  # fmt: skip
    events = run_blocks(det, x, cuts, t0=5.0)
    expected = slow_detect(x >= 3.0, x >= 1.5, min_active, min_gap)
    assert [(e.kind, round((e.t_s - 5.0) * FS)) for e in events] == expected
    assert [e.kind for e in events] == ["start", "stop"][: len(events)] * (len(events) // 2) + (
        ["start"] if len(events) % 2 else []
    )
    times = [e.t_s for e in events]
    assert times == sorted(times) and len(set(times)) == len(times)
    # an event is certain no sooner than its minimum duration after the crossing (later
    # when a brief return interrupted a quiet period) and no later than the data seen
    end = 5.0 + x.size / FS
    for e in events:
        wait = min_active if e.kind == "start" else min_gap
        assert e.t_s + wait / FS - 1e-9 <= e.confirmed_s <= end + 1e-9
    assert det.active == (len(events) % 2 == 1)


def test_start_is_back_dated_to_the_crossing_and_stop_to_the_fall() -> None:
    det = TrialDetector(FS, min_active_s=0.2, min_gap_s=0.3, baseline=([1.0], [0.5]))
    x = np.r_[np.ones(50), np.linspace(1.0, 6.0, 20), np.full(100, 6.0), np.ones(60)]
    assert det.push(x[:75], 10.0) == []  # 19 samples above the threshold are not yet a trial
    (start,) = det.push(x[75:170], 10.75)
    crossing = 10.0 + np.argmax(x >= 2.5) / FS  # mean + 3 SD
    assert start.t_s == pytest.approx(crossing)
    assert start.confirmed_s == pytest.approx(crossing + 0.2)
    assert det.push(x[170:199], 11.7) == []  # not quiet for 0.3 s yet
    (stop,) = det.push(x[199:], 11.99)
    assert stop.t_s == pytest.approx(11.7) and stop.confirmed_s == pytest.approx(12.0)


def test_spikes_and_dips_are_absorbed() -> None:
    det = TrialDetector(FS, min_active_s=0.1, min_gap_s=0.2, baseline=([0.0], [1.0]))
    spike = np.r_[np.zeros(20), np.full(5, 9.0), np.zeros(40)]  # 50 ms: too short for a trial
    assert det.push(spike, 0.0) == []
    hold = np.r_[np.full(50, 9.0), np.zeros(10), np.full(50, 9.0)]  # 100 ms dip: same trial
    noise_after = np.r_[np.zeros(8), np.full(3, 9.0), np.zeros(60)]  # spike while falling
    events = det.push(np.r_[hold, noise_after], 1.0)
    assert [(e.kind, round(e.t_s, 2)) for e in events] == [("start", 1.0), ("stop", 2.1)]


def test_gaps_count_as_time_and_repeated_samples_are_dropped() -> None:
    det = TrialDetector(FS, min_active_s=0.1, min_gap_s=0.2, baseline=([0.0], [1.0]))
    assert [e.kind for e in det.push(np.full(20, 9.0), 0.0)] == ["start"]
    assert det.push(np.full(20, 9.0), 0.5) == [] and det.active  # 300 ms lost while active
    events = det.push(np.r_[np.full(10, 9.0), np.zeros(30)], 0.6)  # the first 10 repeat
    assert [(e.kind, round(e.t_s, 2)) for e in events] == [("stop", 0.7)]


def test_baseline_and_validation() -> None:
    det = TrialDetector(FS)
    assert not det.ready and det.thresholds is None
    assert det.push(np.full(100, 50.0), 0.0) == []  # no baseline: nothing is detected
    det.set_baseline(np.stack([np.r_[1.0, 3.0], np.r_[0.0, 4.0]]))
    on, off = det.thresholds  # type: ignore[misc]
    assert on.tolist() == [5.0, 8.0] and off.tolist() == [3.5, 5.0]
    with pytest.raises(ValidationError, match="block must have 2 row"):
        det.push(np.zeros((3, 4)), 1.0)
    with pytest.raises(SignalError, match="NaN"):
        det.push(np.full((2, 4), np.nan), 1.0)
    with pytest.raises(SignalError, match="SD > 0"):
        det.set_baseline(np.ones((1, 10)))
    with pytest.raises(ValidationError, match="k_off must be <= k"):
        TrialDetector(FS, k=2.0, k_off=3.0)
    with pytest.raises(ValidationError, match="min_gap_s must be > 0"):
        TrialDetector(FS, min_gap_s=0.0)
    with pytest.raises(ValidationError, match="fs must be > 0"):
        TrialDetector(-1.0)


# -- simulated sessions through the live processor -----------------------------------------
def _detect(sim: SimulatedSession, *, guided: bool = False) -> tuple[list, LiveProcessor]:
    """Push a session in 50 ms blocks, marking the rest; guided, also the detected trials."""
    s = sim.session
    emg = s["emg"]
    live = LiveProcessor(
        "hip_flexion_gmed_adl", sim.scenario.side, emg_labels=emg.ch_names, emg_fs=emg.fs,
        auto_detect=True,
    )  # fmt: skip
    rest = s.events[s.events["label"] == "rest"].iloc[0]
    rest_end = float(rest.onset + rest.duration)
    steps = iter([label for label, _, _ in _activity(sim, ("GMED", "ADL"))])
    events: list[DetectedEvent] = []
    live.begin_trial("rest", float(rest.onset))
    assert live.detector is not None and not live.detector.ready
    for i in range(0, emg.n_samples, 100):
        live.push_emg(emg.data[:, i : i + 100], i / emg.fs)
        if not live.trials and live.time_s >= rest_end:
            live.end_trial(rest_end)
        for e in live.detector_events():
            events.append(e)
            if guided and e.kind == "start":
                live.begin_trial(next(steps), e.t_s)  # the step the guided session is on
            elif guided:
                live.end_trial(e.t_s)
    return events, live


def _activity(sim: SimulatedSession, codes: tuple[str, ...]) -> list[tuple[str, float, float]]:
    acts = sim.truth.activations
    acts = acts[acts["code"].isin(codes)]
    spans = acts.groupby(["start_s", "label"], sort=True).agg(
        on=("onset_s", "min"), off=("stop_s", "max")
    )
    return [(lab, float(r.on), float(r.off)) for (_, lab), r in spans.iterrows()]


@pytest.mark.parametrize(
    "sim",
    [gmed_adl_hip_flexion(n_trials=4, seed=5), healthy_hip_flexion(n_trials=4, side="R", seed=6)],
    ids=["compensated", "healthy-R"],
)
def test_every_simulated_trial_is_found_and_nothing_else(sim: object) -> None:
    sim = simulate(sim)  # type: ignore[arg-type]
    events, _ = _detect(sim)
    truth = _activity(sim, ("GMED", "ADL"))  # the protocol's muscles; TFL is not watched
    assert [e.kind for e in events] == ["start", "stop"] * len(truth)
    for (label, on, off), start, stop in zip(truth, events[::2], events[1::2], strict=True):
        assert abs(start.t_s - on) < 0.100, label
        assert abs(stop.t_s - off) < 0.200, label
    assert {lab for lab, _, _ in truth} >= {"pre/test/GMED", "post/test/GMED", "ref/GMED"}


def test_detected_trials_write_the_same_summaries_as_key_presses() -> None:
    sim = simulate(gmed_adl_hip_flexion(n_trials=3, seed=7))
    events, live = _detect(sim, guided=True)
    assert [t.label for t in live.trials[:3]] == ["rest", "ref/GMED", "ref/ADL"]
    assert [(t.start_s, t.stop_s) for t in live.trials[1:]] == [
        (a.t_s, b.t_s) for a, b in zip(events[::2], events[1::2], strict=True)
    ]
    trials = [t for t in live.trials if t.phase in ("pre", "post")]
    truth = sim.truth.ratios.query("partner == 'ADL'")
    assert [(t.label, t.index) for t in trials] == list(zip(truth.label, truth.trial, strict=True))
    for t, level_ratio in zip(trials, truth["ratio"], strict=True):
        assert t.normalised["GMED"] and t.normalised["ADL"]
        assert t.ratios["ADL"] == pytest.approx(level_ratio, rel=0.1)
        if t.phase == "pre":
            assert t.onset_order == ("ADL", "GMED")
