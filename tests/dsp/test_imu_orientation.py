import numpy as np
import pytest
from ahrs.filters import Madgwick, Mahony
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.spatial.transform import Rotation

from nkt_motion.dsp.angles import pelvis_obliquity
from nkt_motion.dsp.imu import (
    STANDARD_GRAVITY,
    accel_tilt,
    detect_still,
    gyro_bias,
    initial_quaternion,
)
from nkt_motion.dsp.orientation import madgwick, madgwick_beta, mahony
from nkt_motion.dsp.quaternion import quat_angle, quat_conjugate, quat_multiply, quat_rotate
from nkt_motion.errors import SignalError, ValidationError

FS = 100.0
MAG_GLOBAL = np.array([20.0, 0.0, -40.0])  # uT, x = magnetic north, field pointing down


def synthesize(rot, *, seed=0, gyr_sd=0.01, acc_sd=0.05, mag_sd=0.3, gyr_bias=(0, 0, 0)):
    """Sensor samples (n, 3) of a known trajectory; gyro sample k carries k-1 to k."""
    rng = np.random.default_rng(seed)
    step = (rot[:-1].inv() * rot[1:]).as_rotvec() * FS
    gyr = np.vstack([step[:1], step]) + np.asarray(gyr_bias)
    acc = rot.inv().apply([0.0, 0.0, STANDARD_GRAVITY])
    mag = rot.inv().apply(MAG_GLOBAL)
    n = len(rot)
    return (
        gyr + rng.normal(0, gyr_sd, (n, 3)),
        acc + rng.normal(0, acc_sd, (n, 3)),
        mag + rng.normal(0, mag_sd, (n, 3)),
    )


def sway(n=1200):
    t = np.arange(n) / FS
    eul = np.c_[0.6 * np.sin(0.3 * t), 0.35 * np.sin(0.7 * t + 1), 0.25 * np.sin(1.1 * t)]
    return Rotation.from_euler("ZYX", eul)


def wxyz(rot):
    return rot.as_quat()[..., [3, 0, 1, 2]]


def max_deg(a, b):
    return float(np.rad2deg(quat_angle(a, b)).max())


def tilt_deg(a, b):
    """Largest angle between the estimated and true vertical seen from the sensor."""
    up_a = quat_rotate(quat_conjugate(a), [0.0, 0.0, 1.0])
    up_b = quat_rotate(quat_conjugate(b), [0.0, 0.0, 1.0])
    return float(np.rad2deg(np.arccos(np.clip(np.sum(up_a * up_b, axis=-1), -1, 1))).max())


def truth_error(q, rot, with_mag):
    # without a magnetometer the heading drifts unobserved; only the tilt is checked
    return max_deg(q, wxyz(rot)) if with_mag else tilt_deg(q, wxyz(rot))


RZ90 = np.array([np.cos(np.pi / 4), 0.0, 0.0, np.sin(np.pi / 4)])


@pytest.mark.parametrize("with_mag", [False, True])
def test_madgwick_agrees_with_ahrs(with_mag):
    rot = sway()
    gyr, acc, mag = synthesize(rot)
    q0 = wxyz(rot[0])
    beta = 0.041 if with_mag else 0.033
    mine = madgwick(gyr.T, acc.T, FS, mag=mag.T if with_mag else None, beta=beta, q0=q0).T
    ref = Madgwick(frequency=FS, gain=beta)
    expected = np.empty_like(mine)
    expected[0] = q0
    for k in range(1, len(gyr)):  # the ahrs batch MARG mode ignores q0, so step it ourselves
        args = (gyr[k], acc[k], mag[k]) if with_mag else (gyr[k], acc[k])
        update = ref.updateMARG if with_mag else ref.updateIMU
        expected[k] = update(expected[k - 1], *args)
    assert max_deg(mine, expected) < 0.5
    assert truth_error(mine, rot, with_mag) < 3.0


@pytest.mark.parametrize("with_mag", [False, True])
def test_mahony_agrees_with_ahrs(with_mag):
    rot = sway()
    gyr, acc, mag = synthesize(rot, gyr_bias=(0.01, -0.02, 0.005))
    q0 = wxyz(rot[0])
    mine = mahony(gyr.T, acc.T, FS, mag=mag.T if with_mag else None, kp=2.0, ki=0.005, q0=q0).T
    # ahrs' Mahony puts magnetic north on its y axis; ours is on x: a 90 deg yaw apart
    start = quat_multiply(RZ90, q0) if with_mag else q0
    ref = Mahony(frequency=FS, k_P=2.0, k_I=0.005, q0=start)
    expected = np.empty_like(mine)
    expected[0] = start
    for k in range(1, len(gyr)):
        if with_mag:
            expected[k] = ref.updateMARG(expected[k - 1], gyr[k], acc[k], mag[k])
        else:
            expected[k] = ref.updateIMU(expected[k - 1], gyr[k], acc[k])
    if with_mag:
        expected = quat_multiply(quat_conjugate(RZ90), expected)
    assert max_deg(mine, expected) < 0.5
    assert truth_error(mine, rot, with_mag) < 3.0


@pytest.mark.parametrize("method", [madgwick, mahony])
def test_held_pelvic_drop_is_recovered_within_2_deg(method):
    n = 600
    t = np.arange(n) / FS
    ramp = np.clip((t - 1.0) / 0.5, 0.0, 1.0) - np.clip((t - 3.5) / 0.5, 0.0, 1.0)
    truth = -8.0 * ramp  # right stance: left side drops 8 deg, held 2 s
    rot = Rotation.from_euler("ZYX", np.c_[np.zeros(n), np.zeros(n), truth], degrees=True)
    gyr, acc, _ = synthesize(rot, seed=3)
    q = method(gyr.T, acc.T, FS)
    obl = pelvis_obliquity(q)
    assert np.abs(obl - truth).max() < 2.0
    held = (t >= 1.5) & (t < 3.5)
    assert abs(obl[held].mean() + 8.0) < 1.0


def test_sensors_are_filtered_independently_and_together_alike():
    rots = [sway(500), Rotation.from_euler("ZYX", np.tile([0.3, -0.2, 0.1], (500, 1)))]
    data = [synthesize(r, seed=i) for i, r in enumerate(rots)]
    gyr = np.stack([d[0].T for d in data])
    acc = np.stack([d[1].T for d in data])
    for method in (madgwick, mahony):
        together = method(gyr, acc, FS)
        assert together.shape == (2, 4, 500)
        for i in range(2):
            np.testing.assert_allclose(together[i], method(gyr[i], acc[i], FS), atol=1e-12)
    grid = madgwick(gyr[None].repeat(3, 0), acc[None].repeat(3, 0), FS)
    assert grid.shape == (3, 2, 4, 500)


@settings(max_examples=15, deadline=None)
@given(
    arrays(np.float64, (2, 3, 40), elements=st.floats(-20.0, 20.0)),
    arrays(np.float64, (2, 3, 40), elements=st.floats(-30.0, 30.0)).filter(
        lambda a: bool((np.linalg.norm(a, axis=1) > 1e-3).all())
    ),
    st.sampled_from([madgwick, mahony]),
)
def test_quaternions_stay_unit_for_random_input(gyr, acc, method):
    q = method(gyr, acc, 50.0, mag=acc[:, ::-1])
    np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-9)


def test_initial_orientation_defaults_to_accelerometer_tilt_and_magnetic_heading():
    rot = Rotation.from_euler("ZYX", [[40.0, 12.0, -7.0]] * 50, degrees=True)
    gyr, acc, mag = synthesize(rot, gyr_sd=0.0, acc_sd=0.0, mag_sd=0.0)
    q6 = madgwick(gyr.T, acc.T, FS)
    tilt_only = Rotation.from_euler("ZYX", [0.0, 12.0, -7.0], degrees=True)
    assert max_deg(q6[:, 0], wxyz(tilt_only)) < 1e-6
    q9 = mahony(gyr.T, acc.T, FS, mag=mag.T)
    assert max_deg(q9.T, wxyz(rot)) < 1e-3
    np.testing.assert_allclose(
        quat_angle(initial_quaternion(acc[0], mag[0]), wxyz(rot[0])), 0.0, atol=1e-9
    )


def test_static_tilt_from_accelerometer_is_exact():
    rot = Rotation.from_euler("ZYX", [[25.0, -30.0, 15.0], [-90.0, 5.0, -60.0]], degrees=True)
    f = rot.inv().apply([0.0, 0.0, STANDARD_GRAVITY])
    roll, pitch = accel_tilt(f.T)
    np.testing.assert_allclose(np.rad2deg(roll), [15.0, -60.0], atol=1e-12)
    np.testing.assert_allclose(np.rad2deg(pitch), [-30.0, 5.0], atol=1e-12)


def test_gyro_bias_is_recovered_from_the_still_period():
    n = 1500
    t = np.arange(n) / FS
    roll = np.where(t > 5.0, 20.0 * np.sin(2 * np.pi * 0.8 * (t - 5.0)), 0.0)
    rot = Rotation.from_euler("ZYX", np.c_[np.zeros(n), np.zeros(n), roll], degrees=True)
    bias = np.array([0.02, -0.015, 0.01])
    gyr, acc, _ = synthesize(rot, gyr_sd=0.005, acc_sd=0.03, gyr_bias=bias)
    still = detect_still(gyr.T, acc.T, FS)
    assert still[: int(4.5 * FS)].all() and not still[int(5.5 * FS) :].any()
    np.testing.assert_allclose(gyro_bias(gyr.T, FS, acc=acc.T), bias, atol=1e-3)
    np.testing.assert_allclose(gyro_bias(gyr.T, FS, interval=(0.0, 4.0)), bias, atol=1e-3)
    with pytest.raises(SignalError, match="no still period found for sensor"):
        gyro_bias(gyr.T[:, 600:], FS, acc=acc.T[:, 600:])


def test_madgwick_beta_follows_the_paper():
    assert madgwick_beta(0.1) == pytest.approx(np.sqrt(0.75) * 0.1)
    with pytest.raises(ValidationError, match="gyro_error must be > 0"):
        madgwick_beta(0.0)


def test_bad_inputs_are_reported_clearly():
    gyr = np.zeros((2, 3, 10))
    acc = np.zeros((2, 3, 10))
    acc[:, 2] = 9.8
    with pytest.raises(ValidationError, match=r"acc must have the same shape as gyr \(2, 3, 10\)"):
        madgwick(gyr, acc[:, :, :9], FS)
    with pytest.raises(ValidationError, match=r"gyr must have shape \(\.\.\., 3, n_samples\)"):
        mahony(gyr[:, :2], acc, FS)
    for fs in (0.0, -5.0, np.nan):
        with pytest.raises(ValidationError, match="fs must be a finite number > 0 Hz"):
            madgwick(gyr, acc, fs)
    bad = gyr.copy()
    bad[1, 2, 7] = np.nan
    with pytest.raises(SignalError, match=r"gyr of sensor 1 holds NaN .* axis z, sample 7"):
        madgwick(bad, acc, FS)
    with pytest.raises(SignalError, match="acc of sensor 0 has zero norm at sample 0"):
        mahony(gyr, np.zeros_like(acc), FS)
    with pytest.raises(ValidationError, match=r"q0 must be finite with shape \(2, 4\)"):
        madgwick(gyr, acc, FS, q0=[1.0, 0.0, 0.0, 0.0])
    with pytest.raises(ValidationError, match="beta must be >= 0"):
        madgwick(gyr, acc, FS, beta=-1.0)
    with pytest.raises(ValidationError, match="kp and ki must be >= 0"):
        mahony(gyr, acc, FS, ki=-0.1)
    with pytest.raises(ValidationError, match="gyro_bias needs acc"):
        gyro_bias(gyr, FS)
    with pytest.raises(ValidationError, match="interval must lie within"):
        gyro_bias(gyr, FS, interval=(0.0, 5.0))


def _numpy_reference(method, gyr, acc, mag, *, beta=0.033, kp=2.0, ki=0.005):
    """The recurrence stepped in NumPy, all sensors at once, one sample per step (slow)."""
    from nkt_motion.dsp import orientation as o

    dt = 1.0 / FS
    g = np.transpose(gyr, (2, 1, 0)) * dt
    a = np.transpose(acc / np.linalg.norm(acc, axis=1, keepdims=True), (2, 1, 0))
    m = (
        None
        if mag is None
        else np.transpose(mag / np.linalg.norm(mag, axis=1, keepdims=True), (2, 1, 0))
    )
    q = tuple(initial_quaternion(acc[..., 0], None if mag is None else mag[..., 0]).T)
    out, integral = [np.array(q)], np.zeros((3, gyr.shape[0]))
    for k in range(1, gyr.shape[-1]):
        if method == "madgwick":
            grad = o._gravity_gradient(q, a[k])
            if m is not None:
                bx, bz = o._earth_field(q, m[k])
                grad = tuple(
                    u + v for u, v in zip(grad, o._field_gradient(q, bx, bz, m[k]), strict=True)
                )
            scale = (beta * dt) / np.maximum(np.sqrt(sum(v * v for v in grad)), 1e-300)
            step = o._gyro_step(q, *g[k])
            q = o._normalised(tuple(s - scale * v for s, v in zip(step, grad, strict=True)))
        else:
            err = np.array(o._cross3(a[k], o._gravity_direction(q)))
            if m is not None:
                bx, bz = o._earth_field(q, m[k])
                err = err + np.array(o._cross3(m[k], o._field_direction(q, bx, bz)))
            integral += err * dt
            inc = g[k] + (kp * dt) * err + (ki * dt) * integral
            q = o._normalised(o._gyro_step(q, *inc))
        out.append(np.array(q))
    return np.transpose(np.array(out), (2, 1, 0))


@pytest.mark.parametrize("with_mag", [False, True])
@pytest.mark.parametrize("method", ["madgwick", "mahony"])
def test_compiled_recurrence_equals_the_numpy_steps(method, with_mag):
    """The compiled loop computes what the formulas compute in NumPy, sensor by sensor."""
    data = [synthesize(sway(300), seed=i, gyr_bias=(0.02, -0.01, 0.03)) for i in range(3)]
    gyr, acc, mag = (np.stack([d[j].T for d in data]) for j in range(3))
    mag = mag if with_mag else None
    fn = madgwick if method == "madgwick" else mahony
    got = fn(gyr, acc, FS, mag=mag)
    np.testing.assert_allclose(got, _numpy_reference(method, gyr, acc, mag), rtol=0, atol=1e-14)
