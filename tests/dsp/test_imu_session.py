import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from nkt_motion import Session, Stream, channel_from_label, make_events
from nkt_motion.errors import SignalError, ValidationError
from nkt_motion.model._imu_session import imu_angles, trial_compensation

FS = 100.0


def imu_stream(rots, *, gyr_unit="deg/s", mag=False, bias=0.0):
    """IMU stream with ACC/GYR (and MAG) channels for each site's Rotation trajectory."""
    rows, chans = [], []
    for site, rot in rots.items():
        step = (rot[:-1].inv() * rot[1:]).as_rotvec() * FS
        gyr = np.vstack([step[:1], step]) + bias
        if gyr_unit == "deg/s":
            gyr = np.rad2deg(gyr)
        parts = [("ACC", "m/s^2", rot.inv().apply([0, 0, 9.80665])), ("GYR", gyr_unit, gyr)]
        if mag:
            parts.append(("MAG", "uT", rot.inv().apply([20.0, 0.0, -40.0])))
        for kind, unit, data in parts:
            for i, axis in enumerate("XYZ"):
                rows.append(data[:, i])
                chans.append(channel_from_label(f"{kind} {axis} {site}", unit))
    return Stream("imu", np.array(rows), FS, chans)


def posture(n, roll=0.0, pitch=0.0, start=300):
    ramp = np.clip((np.arange(n) - start) / 50.0, 0.0, 1.0)
    zero = np.zeros(n)
    return Rotation.from_euler("ZYX", np.c_[zero, pitch * ramp, roll * ramp], degrees=True)


def test_angles_of_a_known_posture_in_both_gyro_units():
    n = 700
    pelvis = posture(n, roll=-8.0)
    rots = {
        "pelvis": pelvis,
        "trunk": posture(n, roll=-5.0),  # top of the trunk 5 deg to the left
        "thigh_R": pelvis * posture(n, roll=10.0),  # right hip 10 deg adducted
        "thigh_L": pelvis * posture(n, pitch=-45.0),  # left hip flexed 45 deg
    }
    for unit in ("deg/s", "rad/s"):
        for method in ("madgwick", "mahony"):
            ang = imu_angles(Session([imu_stream(rots, gyr_unit=unit)]), method=method)
            assert ang.ch_names == [
                "ANGLE pelvis_obliquity",
                "ANGLE trunk_lean",
                "ANGLE hip_adduction_L",
                "ANGLE hip_flexion_L",
                "ANGLE hip_adduction_R",
                "ANGLE hip_flexion_R",
            ]
            assert {c.unit for c in ang.channels} == {"deg"}
            end = ang.data[:, -1]
            np.testing.assert_allclose(end, [-8.0, 5.0, 0.0, 45.0, 10.0, 0.0], atol=2.0)


def test_gyro_bias_is_removed_over_the_rest_event():
    n = 1500
    rots = {"pelvis": posture(n, roll=-8.0, start=600)}
    imu = imu_stream(rots, bias=0.05, mag=True)
    ev = make_events([0.0, 6.0], [5.0, 9.0], ["rest", "pre/test/GMED"])
    rest = imu_angles(Session([imu], events=ev), bias="rest").data[0]
    raw = imu_angles(Session([imu], events=ev), bias="none").data[0]
    assert abs(rest[-1] + 8.0) < 0.5
    assert abs(raw[-1] + 8.0) > abs(rest[-1] + 8.0)
    with_mag = imu_angles(Session([imu], events=ev), magnetometer="use").data[0]
    assert abs(with_mag[-1] + 8.0) < 0.5


def test_missing_channels_and_nan_are_named():
    n = 200
    imu = imu_stream({"pelvis": posture(n), "thigh_L": posture(n)})
    no_gyr_z = imu.pick([c for c in imu.ch_names if c != "GYR Z thigh_L"])
    with pytest.raises(ValidationError, match=r"lacks channel\(s\) \['GYR Z thigh_L'\]"):
        imu_angles(Session([no_gyr_z]))
    no_pelvis = imu.pick([c for c in imu.ch_names if "pelvis" not in c])
    with pytest.raises(
        ValidationError, match=r"\['GYR X pelvis', 'GYR Y pelvis', 'GYR Z pelvis'\]"
    ):
        imu_angles(Session([no_pelvis]))
    with pytest.raises(ValidationError, match=r"lacks channel\(s\) \['MAG X pelvis'"):
        imu_angles(Session([imu]), magnetometer="use")
    with pytest.raises(ValidationError, match="session has no stream 'imu2'"):
        imu_angles(Session([imu]), stream="imu2")
    data = np.array(imu.data)
    data[imu.channel_index("ACC Y thigh_L"), 50] = np.nan
    with pytest.raises(
        SignalError, match="channel 'ACC Y thigh_L': holds NaN at sample 50"
    ) as err:
        imu_angles(Session([imu.replace(data=data)]))
    assert err.value.channel == "ACC Y thigh_L"


def test_simulated_session_end_to_end():
    from nkt_motion.simulate import gmed_adl_hip_flexion, simulate

    sim = simulate(gmed_adl_hip_flexion(n_trials=2, side="R"))
    ang = imu_angles(sim.session)
    kin = sim.truth.kinematics
    for phase in ("pre", "post"):
        got = trial_compensation(sim.session, ang, label=f"{phase}/test/GMED", stance="R")
        want = kin[kin.phase == phase].reset_index(drop=True)
        np.testing.assert_allclose(got.pelvic_drop, want.pelvic_drop_deg, atol=2.0)
        np.testing.assert_allclose(got.trunk_lean, want.trunk_lean_deg, atol=2.0)
        np.testing.assert_allclose(got.hip_adduction, want.hip_adduction_deg, atol=2.0)
    with pytest.raises(ValidationError, match="session has no 'ref/VL' event for the baseline"):
        trial_compensation(sim.session, ang, label="pre/test/GMED", stance="R", baseline="ref/VL")
