"""IMU of the simulator, checked by hand-written integration and tilt formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from nkt_motion.simulate import GRAVITY, SITES, ImuModel, gmed_adl_hip_flexion, simulate

FS = 100.0
QUIET = ImuModel(acc_noise_sd=0.0, gyro_noise_sd=0.0, gyro_bias_dps=(0.0, 0.0, 0.0))


def _sim(side="L", imu=QUIET, seed=5):
    return simulate(gmed_adl_hip_flexion(side=side, n_trials=3, seed=seed).replace(imu=imu))


def _qmul(a, b):
    aw, ax, ay, az = a
    bw, bx, by, bz = b
    return (
        aw * bw - ax * bx - ay * by - az * bz,
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
    )


def _integrate(gyr_dps: np.ndarray, fs: float) -> np.ndarray:
    """Integrate body rates with q_{k+1} = q_k * exp(omega_k dt / 2), one sample at a time."""
    q = (1.0, 0.0, 0.0, 0.0)
    out = [q]
    for wx, wy, wz in np.radians(gyr_dps[:, :-1]).T:
        angle = math.sqrt(wx * wx + wy * wy + wz * wz) / fs
        if angle == 0.0:
            dq = (1.0, 0.0, 0.0, 0.0)
        else:
            s = math.sin(angle / 2) / (angle * fs)
            dq = (math.cos(angle / 2), wx * s, wy * s, wz * s)
        q = _qmul(q, dq)
        out.append(q)
    return np.array(out)


def _site(sim, kind: str, site: str) -> np.ndarray:
    imu = sim.session["imu"]
    return np.array([imu.data[imu.channel_index(f"{kind} {ax} {site}")] for ax in "XYZ"])


@pytest.mark.parametrize("site", SITES)
def test_gyroscope_integrates_back_to_the_orientation(site):
    bias = (0.4, -0.3, 0.2)
    sim = _sim(side="R", imu=ImuModel(acc_noise_sd=0.0, gyro_noise_sd=0.0, gyro_bias_dps=bias))
    gyr = _site(sim, "GYR", site) - np.array(bias)[:, None]
    q = _integrate(gyr, FS)
    truth = sim.truth.orientations[site]
    assert np.abs(np.sum(q * truth, axis=1)).min() > 1 - 1e-9
    assert np.abs(gyr).max() > 1.0  # the site really moves


def test_accelerometer_of_a_still_sensor_reads_gravity():
    sim = _sim()
    rest = sim.session.events.query("label == 'rest'").iloc[0]
    k = slice(0, int(rest.duration * FS))
    for site in SITES:
        acc = _site(sim, "ACC", site)
        still = np.broadcast_to(np.array([[0.0], [0.0], [GRAVITY]]), acc[:, k].shape)
        np.testing.assert_allclose(acc[:, k], still, atol=1e-12)
        np.testing.assert_allclose(np.linalg.norm(acc, axis=0), GRAVITY, rtol=1e-12)


def _tilt_roll(acc: np.ndarray, row) -> float:
    k = slice(int(np.ceil(row.plateau_start_s * FS)), int(row.plateau_stop_s * FS))
    ay, az = acc[1, k].mean(), acc[2, k].mean()
    return math.degrees(math.atan2(ay, az))


@pytest.mark.parametrize("side", ["L", "R"])
def test_pelvic_drop_trunk_lean_and_hip_adduction_from_accelerometer_tilt(side):
    sim = _sim(side=side)
    sign = 1.0 if side == "L" else -1.0
    pelvis, trunk = _site(sim, "ACC", "pelvis"), _site(sim, "ACC", "trunk")
    stance = _site(sim, "ACC", f"thigh_{side}")
    kin = sim.truth.kinematics
    assert len(kin) == 6
    for row in kin.itertuples():
        obliquity = _tilt_roll(pelvis, row)
        # stance on the left: the right side drops, so the left side is higher (positive)
        assert obliquity == pytest.approx(sign * row.pelvic_drop_deg, abs=0.5)
        # a trunk leaning toward the left stance side tips its top toward +y; the
        # sensor then feels gravity toward its -y axis: a negative tilt roll
        assert _tilt_roll(trunk, row) == pytest.approx(-sign * row.trunk_lean_deg, abs=0.5)
        relative = _tilt_roll(stance, row) - obliquity
        assert relative == pytest.approx(-sign * row.hip_adduction_deg, abs=0.5)
    pre = kin.query("phase == 'pre'").pelvic_drop_deg.mean()
    post = kin.query("phase == 'post'").pelvic_drop_deg.mean()
    assert pre == pytest.approx(8.0, abs=1.5)
    assert post == pytest.approx(3.0, abs=1.5)


def test_noisy_pelvis_tilt_still_matches_within_half_a_degree():
    sim = _sim(imu=ImuModel())
    acc = _site(sim, "ACC", "pelvis")
    for row in sim.truth.kinematics.itertuples():
        assert _tilt_roll(acc, row) == pytest.approx(row.pelvis_obliquity_deg, abs=0.5)


@pytest.mark.parametrize("side", ["L", "R"])
def test_moving_thigh_flexion_brings_the_knee_forward(side):
    sim = _sim(side=side)
    moving = "thigh_R" if side == "L" else "thigh_L"
    pelvis = Rotation.from_quat(sim.truth.orientations["pelvis"], scalar_first=True)
    thigh = Rotation.from_quat(sim.truth.orientations[moving], scalar_first=True)
    euler = (pelvis.inv() * thigh).as_euler("ZYX", degrees=True)
    for row in sim.truth.kinematics.itertuples():
        k = int(np.ceil(row.plateau_start_s * FS)) + 5
        assert euler[k, 1] == pytest.approx(-row.hip_flexion_deg, abs=1e-6)
        assert euler[k, 2] == pytest.approx(0.0, abs=1e-6)
        # the knee (0.4 m down the thigh's long axis) moves forward and up
        knee = (pelvis.inv() * thigh)[k].apply([0.0, 0.0, -0.4])
        flex = math.radians(row.hip_flexion_deg)
        np.testing.assert_allclose(
            knee, [0.4 * math.sin(flex), 0.0, -0.4 * math.cos(flex)], atol=1e-9
        )
    acc = _site(sim, "ACC", moving)
    expected = thigh.inv().apply([0.0, 0.0, GRAVITY]).T
    np.testing.assert_allclose(acc, expected, atol=1e-9)


def test_gyro_bias_and_noise_are_as_specified():
    imu = ImuModel(acc_noise_sd=0.05, gyro_noise_sd=0.2, gyro_bias_dps=(0.5, -0.25, 0.1))
    sim = _sim(imu=imu)
    rest = int(sim.session.events.query("label == 'rest'").iloc[0].duration * FS)
    gyr = _site(sim, "GYR", "trunk")[:, :rest]
    acc = _site(sim, "ACC", "trunk")[:, :rest]
    np.testing.assert_allclose(gyr.mean(axis=1), [0.5, -0.25, 0.1], atol=0.05)
    np.testing.assert_allclose(gyr.std(axis=1), 0.2, rtol=0.15)
    np.testing.assert_allclose(acc.std(axis=1), 0.05, rtol=0.15)
