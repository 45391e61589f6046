"""Simulated sessions: events, channels, meta, reproducibility, validation, invariants."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nkt_motion import Session, ValidationError
from nkt_motion.simulate import (
    Activation,
    EmgModel,
    Fault,
    ImuModel,
    MuscleSpec,
    Posture,
    Scenario,
    Variability,
    gmed_adl_hip_flexion,
    healthy_hip_flexion,
    simulate,
)


def _muscles(**gmed_pre):
    return (
        MuscleSpec(
            "GMED", 80.0, pre=Activation(**{"level": 0.5, **gmed_pre}), post=Activation(0.8)
        ),
        MuscleSpec("ADL", 150.0, pre=Activation(0.8), post=Activation(0.5)),
    )


def test_events_have_the_conventional_labels_counts_and_order():
    sim = simulate(gmed_adl_hip_flexion(n_trials=4, seed=2).replace(n_post=6))
    ev = sim.session.events
    counts = ev.label.value_counts().to_dict()
    assert counts == {
        "rest": 1,
        "ref/GMED": 1,
        "ref/ADL": 1,
        "ref/TFL": 1,
        "pre/test/GMED": 4,
        "correction": 1,
        "post/test/GMED": 6,
    }
    order = ev.label.drop_duplicates().tolist()
    assert order == [
        "rest",
        "ref/GMED",
        "ref/ADL",
        "ref/TFL",
        "pre/test/GMED",
        "correction",
        "post/test/GMED",
    ]
    tests = ev[ev.label.str.contains("/test/")]
    assert (tests.duration == 3.0).all()
    assert (tests.muscle == "gluteus_medius").all()
    ends = ev.onset + ev.duration
    assert (ev.onset.iloc[1:].to_numpy() >= ends.iloc[:-1].to_numpy()).all()
    assert ends.max() <= sim.session.duration
    # the truth's test trials are exactly the test events
    kin = sim.truth.kinematics
    np.testing.assert_array_equal(kin.start_s, tests.onset)
    assert [len(list(sim.session.trials(lab))) for lab in ("pre/test/GMED", "post/test/GMED")] == [
        4,
        6,
    ]


def test_channels_streams_and_meta():
    sim = simulate(gmed_adl_hip_flexion(side="R", n_trials=2))
    emg, imu = sim.session["emg"], sim.session["imu"]
    assert isinstance(sim.session, Session)
    assert emg.ch_names == ["EMG GMED R", "EMG ADL R", "EMG TFL R"]
    assert {c.unit for c in emg.channels} == {"uV"}
    assert [c.muscle for c in emg.channels] == [
        "gluteus_medius",
        "adductor_longus",
        "tensor_fasciae_latae",
    ]
    assert all(c.side == "R" for c in emg.channels)
    assert emg.channels[0].placement.startswith("SENIAM")
    assert "convention" in emg.channels[1].placement
    assert (emg.fs, imu.fs) == (2000.0, 100.0)
    assert imu.n_channels == 24
    assert imu.ch_names[:3] == ["ACC X pelvis", "ACC Y pelvis", "ACC Z pelvis"]
    assert imu.ch_names[-1] == "GYR Z thigh_R"
    assert {c.unit for c in imu.channels if c.kind == "acc"} == {"m/s^2"}
    assert {c.unit for c in imu.channels if c.kind == "gyr"} == {"deg/s"}
    assert emg.duration == imu.duration == sim.session.duration
    meta = sim.session.meta
    assert meta["simulated"] is True
    assert meta["power_line_frequency"] == 50
    assert meta["seed"] == 0
    assert meta["task"] == "hipflexion"
    assert json.loads(json.dumps(meta["scenario"]))["side"] == "R"
    assert sim.session.quality.empty


def test_same_seed_same_arrays_and_other_seed_differs():
    a = simulate(gmed_adl_hip_flexion(n_trials=2, seed=4))
    b = simulate(gmed_adl_hip_flexion(n_trials=2, seed=4))
    c = simulate(gmed_adl_hip_flexion(n_trials=2, seed=5))
    for name in ("emg", "imu"):
        np.testing.assert_array_equal(a.session[name].data, b.session[name].data)
        assert not np.array_equal(a.session[name].data, c.session[name].data)
    pd.testing.assert_frame_equal(a.truth.activations, b.truth.activations)
    pd.testing.assert_frame_equal(a.truth.kinematics, b.truth.kinematics)
    assert not a.truth.activations.level.equals(c.truth.activations.level)


def test_presets_compensating_and_healthy():
    comp = simulate(gmed_adl_hip_flexion(n_trials=5, seed=1)).truth
    ok = simulate(healthy_hip_flexion(n_trials=5, seed=1)).truth
    r = comp.ratios.query("partner == 'ADL'").groupby("phase").ratio.mean()
    assert r["pre"] == pytest.approx(0.5, rel=0.1)
    assert r["post"] / r["pre"] > 2.0
    drop = comp.kinematics.groupby("phase").pelvic_drop_deg.mean()
    assert drop["pre"] - drop["post"] > 3.0
    h = ok.ratios.query("partner == 'ADL'").groupby("phase").ratio.mean()
    assert h["post"] / h["pre"] == pytest.approx(1.0, rel=0.1)
    assert ok.ratios.query("partner == 'ADL'").partner_lead_ms.max() < 0


def test_four_muscle_session_has_every_muscle():
    sc = gmed_adl_hip_flexion(n_trials=3)
    extra = MuscleSpec("GMAX", 70.0, pre=Activation(0.3), post=Activation(0.3))
    sim = simulate(sc.replace(muscles=(*sc.muscles, extra)))
    assert sim.session["emg"].n_channels == 4
    assert sim.session.duration >= 60.0


@pytest.mark.parametrize(
    ("make", "parameter"),
    [
        (
            lambda: MuscleSpec("XYZ", 50.0, pre=Activation(0.5), post=Activation(0.5)),
            "MuscleSpec.code",
        ),
        (lambda: Activation(-0.1), "Activation.level"),
        (lambda: Activation(0.5, onset_s=-0.01), "Activation.onset_s"),
        (
            lambda: MuscleSpec("GMED", 0.0, pre=Activation(1), post=Activation(1)),
            "MuscleSpec.gain_uv",
        ),
        (lambda: Posture(pelvic_drop_deg=60.0), "Posture.pelvic_drop_deg"),
        (lambda: Variability(level_sd=-1.0), "Variability.level_sd"),
        (lambda: EmgModel(baseline_rms_uv=float("nan")), "EmgModel.baseline_rms_uv"),
        (lambda: ImuModel(gyro_bias_dps=(1.0, 2.0)), "ImuModel.gyro_bias_dps"),
        (lambda: Fault("GMED", "unplugged"), "Fault.kind"),
        (lambda: Fault("GMED", "dead", start_s=5.0, stop_s=4.0), "Fault.stop_s"),
        (lambda: Scenario("X", "GMED", ("ADL",), _muscles()), "side"),
        (lambda: Scenario("L", "GMED", ("GMED",), _muscles()), "partners"),
        (lambda: Scenario("L", "GMED", ("TFL",), _muscles()), "muscles"),
        (lambda: Scenario("L", "GMED", ("ADL",), _muscles(), n_pre=0), "n_pre"),
        (lambda: Scenario("L", "GMED", ("ADL",), _muscles(), n_post=2.5), "n_post"),
        (lambda: Scenario("L", "GMED", ("ADL",), _muscles(onset_s=2.9)), "trial_s"),
        (lambda: Scenario("L", "GMED", ("ADL",), _muscles(), fs_emg=500.0), "fs_emg"),
        (lambda: Scenario("L", "GMED", ("ADL",), _muscles(), power_line_hz=55), "power_line_hz"),
        (
            lambda: Scenario("L", "GMED", ("ADL",), _muscles(), faults=(Fault("TFL", "dead"),)),
            "faults",
        ),
        (
            lambda: Scenario(
                "L",
                "GMED",
                ("ADL",),
                _muscles(),
                emg=EmgModel(mains_uv=5, mains_harmonics=(1,) * 30),
            ),
            "emg.mains_harmonics",
        ),
        (lambda: gmed_adl_hip_flexion(n_trials=0), "n_trials"),
    ],
)
def test_bad_specs_raise_validation_errors_naming_the_parameter(make, parameter):
    with pytest.raises(ValidationError) as info:
        make()
    assert info.value.parameter == parameter
    assert parameter.split(".")[-1] in str(info.value)
    assert isinstance(info.value, ValueError)


def test_partner_level_zero_and_non_scenario_are_rejected():
    muscles = (
        MuscleSpec("GMED", 80.0, pre=Activation(0.5), post=Activation(0.8)),
        MuscleSpec("ADL", 150.0, pre=Activation(0.0), post=Activation(0.5)),
    )
    with pytest.raises(ValidationError, match="partner 'ADL' must have levels > 0"):
        Scenario("L", "GMED", ("ADL",), muscles)
    with pytest.raises(ValidationError, match="scenario must be a Scenario"):
        simulate({"side": "L"})  # type: ignore[arg-type]


def test_codes_and_ids_are_canonicalised():
    sc = Scenario("L", "gluteus_medius", ("adl",), _muscles())
    assert (sc.tested, sc.partners) == ("GMED", ("ADL",))


_levels = st.floats(0.05, 2.0, allow_nan=False)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_pre=st.integers(1, 3),
    n_post=st.integers(1, 3),
    trial_s=st.floats(1.0, 2.5),
    levels=st.lists(_levels, min_size=4, max_size=4),
    side=st.sampled_from(["L", "R"]),
    fs_imu=st.sampled_from([50.0, 100.0]),
    seed=st.integers(0, 2**32),
)
def test_invariants_for_random_valid_specs(n_pre, n_post, trial_s, levels, side, fs_imu, seed):
    muscles = (
        MuscleSpec("GMED", 60.0, pre=Activation(levels[0], 0.1), post=Activation(levels[1], 0.2)),
        MuscleSpec("ADL", 90.0, pre=Activation(levels[2], 0.0), post=Activation(levels[3], 0.3)),
    )
    sc = Scenario(
        side,
        "GMED",
        ("ADL",),
        muscles,
        n_pre=n_pre,
        n_post=n_post,
        trial_s=trial_s,
        gap_s=0.5,
        rest_s=1.0,
        ref_s=1.0,
        correction_s=1.0,
        fs_emg=1000.0,
        fs_imu=fs_imu,
        variability=Variability(level_sd=0.3, onset_sd_s=0.05),
        seed=seed,
        imu=ImuModel(posture_ramp_s=0.3),
    )
    sim = simulate(sc)
    emg, imu = sim.session["emg"], sim.session["imu"]
    duration = sim.session.duration
    assert emg.data.shape == (2, round(duration * 1000.0))
    assert imu.data.shape == (24, round(duration * fs_imu))
    assert duration == float(int(duration))
    acts = sim.truth.activations
    assert len(acts) == 2 + 2 * (n_pre + n_post)
    assert (acts.level > 0).all() and np.isfinite(acts.level).all()
    assert (acts.onset_s >= acts.start_s).all()
    assert (acts.plateau_stop_s - acts.plateau_start_s >= -1e-12).all()
    assert (acts.stop_s <= duration).all()
    assert len(sim.truth.ratios) == n_pre + n_post
    np.testing.assert_allclose(
        sim.truth.ratios.ratio, sim.truth.ratios.tested_level / sim.truth.ratios.partner_level
    )
    for q in sim.truth.orientations.values():
        assert q.shape == (imu.n_samples, 4)
        np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-12)
    assert np.isfinite(emg.data).all() and np.isfinite(imu.data).all()
