"""LiveProcessor: the live figures equal the offline trial table of the same samples."""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nkt_motion import Session, SignalError, Stream, ValidationError, VocabularyError
from nkt_motion.dsp import bridge_nans
from nkt_motion.dsp.angles import pelvis_obliquity
from nkt_motion.dsp.envelope import envelope
from nkt_motion.dsp.filters import bandpass
from nkt_motion.dsp.orientation import madgwick
from nkt_motion.features import trial_table
from nkt_motion.retest.processor import LiveProcessor, TrialSummary
from nkt_motion.simulate import (
    EmgModel,
    SimulatedSession,
    gmed_adl_hip_flexion,
    healthy_hip_flexion,
    simulate,
)

PROTOCOL = "hip_flexion_gmed_adl"
SITES = ("sacrum", "trunk", "thigh_L", "thigh_R")  # the simulator's "pelvis" is pushed as sacrum


def _imu_rows(imu: Stream, site: str) -> list[int]:
    src = "pelvis" if site == "sacrum" else site
    return [imu.channel_index(f"{k} {a} {src}") for k in ("ACC", "GYR") for a in "XYZ"]


def replay(
    session: Session,
    live: LiveProcessor,
    rng: np.random.Generator,
    *,
    labels: Iterable[str] | None = None,
    max_block: int = 300,
    skip: Iterable[tuple[int, int]] = (),
    sites: Iterable[str] = (),
    until_s: float = np.inf,
) -> list[TrialSummary]:
    """Feed a session in random blocks, marking its events as a practitioner would.

    A trial start is marked either before or after the block holding it is
    pushed (a key press ahead of or behind the data); a trial end after its
    samples are in. ``skip`` holds (first sample, count) of EMG never sent;
    ``sites`` the IMU sites to push; EMG stops at ``until_s``.
    """
    emg, imu, sites = session["emg"], session["imu"], tuple(sites)
    ev = session.events
    if labels is not None:
        ev = ev[ev["label"].isin(list(labels))]
    marks = sorted(
        [(float(o), 1, str(lab)) for o, lab in zip(ev["onset"], ev["label"], strict=True)]
        + [(float(o + d), 0, "") for o, d in zip(ev["onset"], ev["duration"], strict=True)]
    )
    lost = np.zeros(emg.n_samples, dtype=bool)
    for first, count in skip:
        lost[first : first + count] = True
    i = j = k = 0
    last = emg.n_samples if until_s == np.inf else round((until_s - emg.t0) * emg.fs)
    while i < last:
        n = min(int(rng.integers(1, max_block)), last - i)
        end_s = emg.t0 + (i + n) / emg.fs
        while k < len(marks) and marks[k][1] == 1 and marks[k][0] < end_s and rng.random() < 0.5:
            live.begin_trial(marks[k][2], marks[k][0])  # marked ahead of its samples
            k += 1
        keep = np.flatnonzero(~lost[i : i + n])
        for run in np.split(keep, np.flatnonzero(np.diff(keep) > 1) + 1) if keep.size else []:
            live.push_emg(emg.data[:, i + run], emg.t0 + (i + run[0]) / emg.fs)
        i += n
        jn = min(imu.n_samples, int(np.floor((i / emg.fs) * imu.fs)))
        for site in sites if jn > j else ():
            live.push_imu(site, imu.data[_imu_rows(imu, site), j:jn], j / imu.fs)
        j = max(j, jn)
        while k < len(marks) and marks[k][0] < live.time_s:
            if marks[k][1]:
                live.begin_trial(marks[k][2], marks[k][0])
            else:
                live.end_trial(marks[k][0])
            k += 1
    return live.trials


def make(sim: SimulatedSession, protocol: str = PROTOCOL, **kw: object) -> LiveProcessor:
    emg = sim.session["emg"]
    return LiveProcessor(protocol, sim.scenario.side, emg_labels=emg.ch_names, emg_fs=emg.fs, **kw)


def _test_trials(trials: list[TrialSummary]) -> list[TrialSummary]:
    return [t for t in trials if t.phase in ("pre", "post")]


@pytest.fixture(scope="module")
def compensated() -> SimulatedSession:
    return simulate(gmed_adl_hip_flexion(n_trials=4, seed=1))


@pytest.fixture(scope="module")
def healthy() -> SimulatedSession:
    return simulate(healthy_hip_flexion(n_trials=4, side="R", seed=2))


# -- the key proof: live = offline ----------------------------------------------------
@pytest.mark.parametrize("which", ["compensated", "healthy"])
@pytest.mark.parametrize("normalisation", ["reference", "none"])
def test_live_ratio_and_amplitude_equal_the_trial_table(
    which: str, normalisation: str, request: pytest.FixtureRequest
) -> None:
    sim: SimulatedSession = request.getfixturevalue(which)
    ev = sim.session.events
    labels = ev["label"] if normalisation == "reference" else ev["label"][ev["phase"] != "ref"]
    trials = _test_trials(replay(sim.session, make(sim), np.random.default_rng(7), labels=labels))
    table = trial_table(sim.session, PROTOCOL, normalisation=normalisation)  # type: ignore[arg-type]
    assert [(t.label, t.index) for t in trials] == list(zip(table.label, table.trial, strict=True))
    assert set(table.norm_GMED) == {normalisation}
    for t, (_, row) in zip(trials, table.iterrows(), strict=True):
        assert t.normalised["GMED"] is (normalisation == "reference")
        offline = np.exp(row["log_ratio_GMED_ADL"])
        assert t.ratios["ADL"] == pytest.approx(offline, rel=0.01)
        for code in ("GMED", "ADL"):
            assert t.amplitude[code] == pytest.approx(row[f"rms_{code}"], rel=0.01)
            assert t.amplitude_uv[code] == pytest.approx(row[f"rms_raw_{code}"], rel=0.01)
    truth = sim.truth.ratios.query("partner == 'ADL'")["ratio"].to_numpy()
    if normalisation == "reference":  # normalised ratios are the simulated levels
        live = np.array([t.ratios["ADL"] for t in trials])
        np.testing.assert_allclose(live, truth, rtol=0.1)


def test_mains_hum_needs_the_notch_offline_and_live() -> None:
    sc = gmed_adl_hip_flexion(n_trials=2, seed=3)
    sim = simulate(sc.replace(emg=EmgModel(mains_uv=30.0, mains_harmonics=(0.3, 0.1))))
    table = trial_table(sim.session, PROTOCOL)
    assert table.attrs["notch_hz"] == 50.0
    offline = np.exp(table["log_ratio_GMED_ADL"].to_numpy())
    for mains, close in ((50.0, True), (None, False)):
        trials = _test_trials(
            replay(sim.session, make(sim, mains_hz=mains), np.random.default_rng(1))
        )
        live = np.array([t.ratios["ADL"] for t in trials])
        err = np.abs(live / offline - 1)
        assert err.max() < 0.01 if close else err.max() > 0.05, (mains, err)


def test_onsets_match_the_simulated_truth(compensated: SimulatedSession) -> None:
    trials = _test_trials(replay(compensated.session, make(compensated), np.random.default_rng(3)))
    acts = compensated.truth.activations
    for t in trials:
        rows = acts[(acts["label"] == t.label) & (acts["trial"] == t.index)].set_index("code")
        for code in ("GMED", "ADL"):
            onset = t.onsets_ms[code]
            assert onset is not None
            assert abs(onset - 1000.0 * rows.loc[code, "onset_rel_s"]) < 30.0, (t.label, code)
        truth_order = tuple(rows.loc[["GMED", "ADL"], "onset_s"].sort_values().index)
        assert t.onset_order == truth_order
        if t.phase == "pre":
            assert t.onset_order == ("ADL", "GMED")  # the partner fires first before correction


@pytest.mark.parametrize("side", ["L", "R"])
def test_angles_equal_the_offline_kinematics_and_the_truth(side: str) -> None:
    sim = simulate(gmed_adl_hip_flexion(side=side, n_trials=2, seed=4))  # type: ignore[arg-type]
    live = make(sim, "single_leg_stance", imu_fs=sim.session["imu"].fs, imu_sites=SITES)
    trials = _test_trials(
        replay(sim.session, live, np.random.default_rng(5), max_block=800, sites=SITES)
    )
    table = trial_table(sim.session, "single_leg_stance")
    kin = sim.truth.kinematics
    names = ("pelvic_drop", "trunk_lean", "hip_adduction")
    for t, (_, row), (_, truth) in zip(trials, table.iterrows(), kin.iterrows(), strict=True):
        for name in names:
            assert t.angles[name] == pytest.approx(row[f"{name}_deg"], abs=1e-9)
            assert abs(t.angles[name] - truth[f"{name}_deg"]) < 2.0
        assert set(t.ratios) == {"ADL", "TFL"}
    assert [a["name"] for a in live.snapshot()["angles"]] == list(names)


def test_streaming_orientation_equals_the_offline_filter_block_by_block() -> None:
    rng = np.random.default_rng(0)
    fs, n = 100.0, 400
    t = np.arange(n) / fs
    roll = np.deg2rad(5.0) * np.sin(2 * np.pi * 0.5 * t)
    acc = np.stack([np.zeros(n), 9.80665 * np.sin(roll), 9.80665 * np.cos(roll)])
    acc += rng.normal(0, 0.05, acc.shape)
    gyr = np.stack([np.gradient(roll, 1 / fs), np.zeros(n), np.zeros(n)])
    gyr += rng.normal(0, 0.01, gyr.shape)
    offline = pelvis_obliquity(madgwick(gyr, acc, fs))
    live = LiveProcessor(
        "single_leg_stance", "L", emg_labels=["EMG GMED L"], emg_fs=1000.0, imu_fs=fs,
        imu_sites=["pelvis"], gyro_unit="rad/s",
    )  # fmt: skip
    i = 0
    while i < n:
        m = int(rng.integers(1, 30))
        live.push_imu("pelvis", np.vstack([acc, gyr])[:, i : i + m], i / fs)
        i = min(n, i + m)
        value = {a["name"]: a["value"] for a in live.snapshot()["angles"]}["pelvic_drop"]
        assert value == pytest.approx(offline[i - 1], abs=1e-9)  # stance L: drop = obliquity


# -- gaps, memory, the live view --------------------------------------------------------
def test_a_short_gap_is_bridged_as_offline_and_a_long_one_is_recorded(
    compensated: SimulatedSession,
) -> None:
    s, fs = compensated.session, compensated.session["emg"].fs
    pre = s.events[s.events["label"] == "pre/test/GMED"].iloc[0]
    short = (round((pre.onset + 1.0) * fs), 10)  # 5 ms inside the first pre trial
    long_ = (round((pre.onset + 1.5) * fs), 400)  # 200 ms further on
    live = make(compensated)
    trials = _test_trials(replay(s, live, np.random.default_rng(2), skip=[short]))
    data = np.array(s["emg"].data)
    data[:, short[0] : short[0] + short[1]] = np.nan
    bridged, runs = bridge_nans(data, fs)  # what the offline chain does to a short NaN run
    assert len(runs) == 3
    filled = s.with_stream(s["emg"].replace(data=bridged))
    offline = np.exp(trial_table(filled, PROTOCOL)["log_ratio_GMED_ADL"].to_numpy())
    np.testing.assert_allclose([t.ratios["ADL"] for t in trials], offline, rtol=0.01)
    assert [(g.stream, g.bridged) for g in live.gaps] == [("emg", True)]
    assert live.gaps[0].start_s == pytest.approx(short[0] / fs)

    live = make(compensated)
    trials = _test_trials(replay(s, live, np.random.default_rng(2), skip=[long_]))
    assert [(g.bridged, round(g.duration_s, 6)) for g in live.gaps] == [(False, 0.2)]
    assert trials[0].missing_s == pytest.approx(0.2) and trials[1].missing_s == 0.0
    assert live.time_s == pytest.approx(s.duration)  # time is never shifted by a gap
    assert trials[0].ratios["ADL"] == pytest.approx(trials[1].ratios["ADL"], rel=0.3)


def test_repeated_samples_are_dropped_not_counted_twice(compensated: SimulatedSession) -> None:
    emg = compensated.session["emg"]
    whole, twice = make(compensated), make(compensated)
    x = emg.crop(0.0, 1.0).data
    whole.push_emg(x, 0.0)
    whole.begin_trial("pre/test/GMED", 0.2)
    twice.push_emg(x[:, :1200], 0.0)
    twice.begin_trial("pre/test/GMED", 0.2)
    twice.push_emg(x[:, 1000:], 0.5)  # 200 samples sent again
    assert twice.time_s == whole.time_s == 1.0
    assert twice.end_trial(0.9).amplitude == whole.end_trial(0.9).amplitude


def test_memory_is_bounded_and_long_trials_are_still_summed(
    compensated: SimulatedSession, caplog: pytest.LogCaptureFixture
) -> None:
    s = compensated.session
    live = make(compensated, lookback_s=1.0, max_trial_s=0.5)
    trials = _test_trials(replay(s, live, np.random.default_rng(4)))
    offline = np.exp(trial_table(s, PROTOCOL)["log_ratio_GMED_ADL"].to_numpy())
    np.testing.assert_allclose([t.ratios["ADL"] for t in trials], offline, rtol=0.01)
    assert live._emg.ring.buf.shape == (9, 2000)  # 3 rows per channel x 1 s
    assert "summed, not kept" in caplog.text
    with caplog.at_level(logging.WARNING):
        live.begin_trial("rest", s.duration - 5.0)  # older than the 1 s held
    assert "older than" in caplog.text
    assert live.end_trial(s.duration).start_s == s.duration - 5.0


def test_levels_are_the_causal_envelope_normalised_once_a_reference_exists(
    compensated: SimulatedSession,
) -> None:
    emg = compensated.session["emg"]
    live = make(compensated)
    x = emg.crop(0.0, 10.0).data
    assert live.normalised == dict.fromkeys(emg.ch_names, False)
    live.push_emg(x[:, :14000], 0.0)
    env = envelope(bandpass(x[:, :14000], emg.fs, zero_phase=False), emg.fs, zero_phase=False)
    assert list(live.levels().values()) == pytest.approx(env[:, -1].tolist(), rel=1e-9)
    live.begin_trial("ref/GMED", 7.0)
    live.push_emg(x[:, 14000:], 7.0)
    live.end_trial(10.0)
    env = envelope(bandpass(x, emg.fs, zero_phase=False), emg.fs, zero_phase=False)
    flt = bandpass(x, emg.fs, zero_phase=False)
    assert live.normalised == {"EMG GMED L": True, "EMG ADL L": False, "EMG TFL L": False}
    assert live.references == {"GMED": pytest.approx(np.sqrt(np.mean(flt[0, 14000:] ** 2)))}
    assert live.levels()["EMG GMED L"] == pytest.approx(env[0, -1] / env[0, 14000:].mean())


def test_snapshot_schema_running_ratio_and_lists(compensated: SimulatedSession) -> None:
    s = compensated.session
    live = make(compensated)
    empty = live.snapshot()
    assert list(empty) == ["channels", "ratios", "onsets", "angles"]
    assert empty["onsets"] is None and empty["angles"] == []
    assert empty["ratios"] == [
        {"partner": "ADL", "current": None, "previous": None, "pre": [], "post": []}
    ]
    replay(s, live, np.random.default_rng(0), until_s=38.5)  # inside the fourth pre trial
    assert [t.label for t in live.trials][-1] == "pre/test/GMED"
    snap = live.snapshot()
    json.dumps(snap, allow_nan=False)
    done = _test_trials(live.trials)
    (ratio,) = snap["ratios"]
    assert ratio["pre"] == [t.ratios["ADL"] for t in done] and ratio["post"] == []
    assert ratio["previous"] == done[-1].ratios["ADL"]
    running = ratio["current"]
    last = live.end_trial(38.5, complete=False)
    assert last.ratios["ADL"] == pytest.approx(running, rel=1e-12)
    after = live.snapshot()
    assert after["ratios"][0]["current"] == running and len(after["ratios"][0]["pre"]) == 3
    onsets = after["onsets"]
    assert onsets["label"] == "pre/test/GMED" and onsets["order"] == ["ADL", "GMED"]
    assert onsets["delays_ms"]["ADL"] == 0.0 and 40.0 < onsets["delays_ms"]["GMED"] < 120.0
    assert [c["muscle"] for c in after["channels"]] == ["GMED", "ADL", "TFL"]
    assert all(c["normalised"] for c in after["channels"])
    assert json.loads(json.dumps(last.to_dict()))["complete"] is False


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cuts=st.lists(st.integers(1, 3999), max_size=12, unique=True), seed=st.integers(0, 99))
def test_any_block_partition_gives_the_same_trial(cuts: list[int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    gain = np.r_[np.ones(1500), np.full(2500, 6.0)][None] * [[1.0], [3.0]]
    x = rng.normal(size=(2, 4000)) * gain
    results = []
    for edges in ([0, 4000], [0, *sorted(cuts), 4000]):
        live = LiveProcessor(PROTOCOL, "L", emg_labels=["EMG GMED L", "EMG ADL L"], emg_fs=2000.0)
        live.begin_trial("rest", 3.0)  # before the first sample
        for a, b in itertools.pairwise(edges):
            live.push_emg(x[:, a:b], 3.0 + a / 2000.0)  # the session clock need not start at 0
        live.end_trial(3.6)
        live.begin_trial("pre/test/GMED", 3.7)  # in the past: taken from the recent samples
        results.append(live.end_trial(4.9))
    a, b = results
    assert a.ratios["ADL"] == pytest.approx(b.ratios["ADL"], rel=1e-9)
    assert a.onsets_ms == pytest.approx(b.onsets_ms, abs=1e-6)
    assert a.onsets_ms["GMED"] == pytest.approx(50.0, abs=20.0)  # the step at 3.75 s


# -- errors name what is wrong ------------------------------------------------------------
def test_bad_input_raises_clear_errors() -> None:
    live = LiveProcessor(PROTOCOL, "L", emg_labels=["EMG GMED L", "EMG ADL L"], emg_fs=2000.0)
    with pytest.raises(ValidationError, match=r"block must have shape \(2, n_samples\)"):
        live.push_emg(np.zeros((3, 10)), 0.0)
    bad = np.zeros((2, 10))
    bad[1, 4] = np.nan
    with pytest.raises(SignalError, match=r"channel 'EMG ADL L'.*sample 4"):
        live.push_emg(bad, 0.0)
    with pytest.raises(VocabularyError, match="'pre/GMED'"):
        live.begin_trial("pre/GMED", 0.0)
    with pytest.raises(ValidationError, match="no trial is running"):
        live.end_trial(1.0)
    live.begin_trial("rest", 0.0)
    with pytest.raises(ValidationError, match="'rest' started at 0 s is still running"):
        live.begin_trial("ref/GMED", 1.0)
    with pytest.raises(ValidationError, match="t_s must be >= the trial start"):
        live.end_trial(-1.0)
    with pytest.raises(ValidationError, match="no IMU sites"):
        live.push_imu("pelvis", np.zeros((6, 2)), 0.0)
    with pytest.raises(ValidationError, match="tested muscle GMED on side R"):
        LiveProcessor(PROTOCOL, "R", emg_labels=["EMG GMED L"], emg_fs=2000.0)
    with pytest.raises(VocabularyError, match="'ACC X pelvis'"):
        LiveProcessor(PROTOCOL, "L", emg_labels=["EMG GMED L", "ACC X pelvis"], emg_fs=2000.0)
    with pytest.raises(ValidationError, match="side must be 'L' or 'R', got 'left'"):
        LiveProcessor(PROTOCOL, "left", emg_labels=["EMG GMED L"], emg_fs=2000.0)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="imu_fs is required"):
        LiveProcessor(PROTOCOL, "L", emg_labels=["EMG GMED L"], emg_fs=2e3, imu_sites=["trunk"])
    with pytest.raises(ValidationError, match="imu_sites must be distinct sites"):
        LiveProcessor(PROTOCOL, "L", emg_labels=["EMG GMED L"], emg_fs=2e3, imu_sites=["head"])
    imu = LiveProcessor(
        PROTOCOL, "L", emg_labels=["EMG GMED L"], emg_fs=2e3, imu_fs=100.0, imu_sites=["trunk"]
    )
    with pytest.raises(ValidationError, match=r"site must be one of .*'trunk'.*got 'pelvis'"):
        imu.push_imu("pelvis", np.zeros((6, 2)), 0.0)


# -- trials taken back (a repeated trial) ----------------------------------------------
def _mark_live(
    session: Session, live: LiveProcessor, marks: list[tuple[float, float, str, bool]]
) -> None:
    """Push the EMG in 20 ms blocks, marking ``(onset, duration, label, discard)`` trials;
    a trial with ``discard`` is taken back right after it ends (the practitioner repeats it)."""
    emg = session["emg"]
    step = round(0.02 * emg.fs)
    for i in range(0, emg.n_samples, step):
        live.push_emg(emg.data[:, i : i + step], emg.t0 + i / emg.fs)
        for onset, duration, label, discard in marks:
            if live.time_s - 0.02 <= onset + duration < live.time_s:
                live.end_trial(onset + duration)
                if discard:
                    assert live.discard_trial().label == label
            if live.time_s - 0.02 <= onset < live.time_s:
                live.begin_trial(label, onset)


def test_a_discarded_reference_leaves_the_kept_ones_normalising(
    compensated: SimulatedSession,
) -> None:
    s = compensated.session
    rows = s.events[["onset", "duration", "label"]].to_numpy()
    kept = [(float(o), float(d), str(lab), False) for o, d, lab in rows]
    # a reference marked over quiet standing (the client did not contract): repeated
    bad = (5.2, 1.5, "ref/GMED", True)
    live = make(compensated)
    _mark_live(s, live, [kept[0], bad, *kept[1:]])
    table = trial_table(s, PROTOCOL)  # the saved session holds the kept reference only
    trials = _test_trials(live.trials)
    assert [t.label for t in live.trials if t.phase == "ref"] == ["ref/GMED", "ref/ADL", "ref/TFL"]
    assert len(trials) == len(table)
    for t, (_, row) in zip(trials, table.iterrows(), strict=True):
        assert t.normalised["GMED"]
        assert t.amplitude["GMED"] == pytest.approx(row["rms_GMED"], rel=0.01)
        assert t.ratios["ADL"] == pytest.approx(np.exp(row["log_ratio_GMED_ADL"]), rel=0.01)
    # the reference is that of the kept trial: without the repeat it would be the mean
    both = make(compensated)
    _mark_live(s, both, [kept[0], (*bad[:3], False), *kept[1:]])
    assert both.references["GMED"] < 0.8 * live.references["GMED"]


def test_a_discarded_reference_restores_none_and_a_discarded_rest_the_baseline(
    compensated: SimulatedSession,
) -> None:
    s = compensated.session
    live = make(compensated)
    _mark_live(s, live, [(0.0, 5.0, "rest", True), (7.0, 3.0, "ref/GMED", True)])
    assert live.trials == [] and not any(live.normalised.values())
    assert live.references == {}
    live.begin_trial("pre/test/GMED", live.time_s - 1.0)
    trial = live.end_trial(live.time_s)
    assert not trial.normalised["GMED"]
    assert set(trial.onsets_ms.values()) == {None}  # no rest baseline kept


def test_a_discarded_test_trial_leaves_the_snapshot_lists(compensated: SimulatedSession) -> None:
    s = compensated.session
    rows = s.events[["onset", "duration", "label"]].to_numpy()
    marks = [(float(o), float(d), str(lab), i == 5) for i, (o, d, lab) in enumerate(rows)]
    live = make(compensated)
    _mark_live(s, live, marks)
    tests = _test_trials(live.trials)
    assert [t.start_s for t in tests if t.phase == "pre"] == [22.0, 32.0, 37.0]
    (ratio,) = live.snapshot()["ratios"]
    assert ratio["pre"] == [t.ratios["ADL"] for t in tests if t.phase == "pre"]
    assert len(ratio["pre"]) == 3 and len(ratio["post"]) == 4
    offline = trial_table(s.replace(events=s.events.drop(index=5)), PROTOCOL)
    pre = offline[offline["phase"] == "pre"]
    np.testing.assert_allclose(ratio["pre"], np.exp(pre["log_ratio_GMED_ADL"]), rtol=0.01)


@pytest.mark.parametrize("index", [3, -4, 1.0, True])
def test_discard_trial_checks_the_index(compensated: SimulatedSession, index: object) -> None:
    live = make(compensated)
    refs = [(7.0, 3.0, "ref/GMED", False), (12.0, 3.0, "ref/ADL", False)]
    _mark_live(compensated.session.crop(0, 16), live, refs)
    with pytest.raises(ValidationError, match=r"index must be an int in \[-2, 2\)"):
        live.discard_trial(index)  # type: ignore[arg-type]
    assert len(live.trials) == 2
