import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from nkt_motion.dsp.angles import (
    compensation_peaks,
    hip_adduction,
    hip_flexion,
    pelvis_obliquity,
    segment_euler,
    trunk_lean,
)
from nkt_motion.errors import SignalError, ValidationError


def series(euler_deg):
    """(4, n) quaternions from (n, 3) yaw/pitch/roll in degrees."""
    q = Rotation.from_euler("ZYX", np.atleast_2d(euler_deg), degrees=True).as_quat()
    return q[:, [3, 0, 1, 2]].T


def test_pelvis_obliquity_is_positive_when_the_left_side_is_higher():
    q = series([[20.0, 0.0, 6.0], [-35.0, 4.0, -8.0]])
    np.testing.assert_allclose(pelvis_obliquity(q), [6.0, -8.0], atol=1e-9)
    left_iliac = Rotation.from_euler("ZYX", [0.0, 0.0, 6.0], degrees=True).apply([0, 0.15, 0])
    assert left_iliac[2] > 0  # positive obliquity lifts the left side


def test_trunk_lean_is_positive_when_the_top_moves_left():
    q = series([[0.0, 5.0, -7.0]])
    top = Rotation.from_quat(q[:, 0], scalar_first=True).apply([0.0, 0.0, 0.5])
    assert top[1] > 0  # the top of the trunk is on the subject's left (+y)
    np.testing.assert_allclose(trunk_lean(q), [7.0], atol=1e-9)


def test_hip_flexion_is_positive_when_the_knee_moves_forward():
    pelvis = series([[0.0, 0.0, 0.0]])
    thigh = series([[0.0, -40.0, 0.0]])
    knee = Rotation.from_quat(thigh[:, 0], scalar_first=True).apply([0.0, 0.0, -0.4])
    assert knee[0] > 0  # forward (+x)
    np.testing.assert_allclose(hip_flexion(pelvis, thigh), [40.0], atol=1e-9)


@pytest.mark.parametrize(("side", "roll"), [("L", -12.0), ("R", 12.0)])
def test_hip_adduction_relative_to_a_tilted_turned_pelvis(side, roll):
    pelvis = Rotation.from_euler("ZYX", [30.0, 3.0, -8.0], degrees=True)
    thigh = pelvis * Rotation.from_euler("ZYX", [0.0, 0.0, roll], degrees=True)
    qp, qt = (
        series(pelvis.as_euler("ZYX", degrees=True)),
        series(thigh.as_euler("ZYX", degrees=True)),
    )
    np.testing.assert_allclose(hip_adduction(qp, qt, side=side), [12.0], atol=1e-9)
    # adduction carries the knee toward the midline (y = 0 in the pelvis frame)
    knee = Rotation.from_euler("ZYX", [0.0, 0.0, roll], degrees=True).apply([0, 0, -0.4])
    assert np.sign(knee[1]) == (-1 if side == "L" else 1)


def test_hip_flexion_is_minus_the_relative_pitch():
    pelvis = Rotation.from_euler("ZYX", [-15.0, 0.0, 4.0], degrees=True)
    thigh = pelvis * Rotation.from_euler("ZYX", [0.0, -60.0, 0.0], degrees=True)
    qp, qt = (
        series(pelvis.as_euler("ZYX", degrees=True)),
        series(thigh.as_euler("ZYX", degrees=True)),
    )
    np.testing.assert_allclose(hip_flexion(qp, qt), [60.0], atol=1e-9)


def test_segment_euler_shape_and_values():
    q = np.stack([series([[10.0, 20.0, 30.0]] * 5)] * 2)
    e = segment_euler(q)
    assert e.shape == (2, 3, 5)
    np.testing.assert_allclose(e[..., 0], [[10.0, 20.0, 30.0]] * 2, atol=1e-9)


@pytest.mark.parametrize("stance", ["L", "R"])
def test_compensation_peaks_are_signed_by_stance_side(stance):
    s = 1.0 if stance == "L" else -1.0
    t = np.linspace(0.0, 1.0, 101)
    bump = np.sin(np.pi * t)
    obl = 1.0 + s * 9.0 * bump  # opposite side drops 9 deg from a 1 deg baseline
    lean = -0.5 + s * 6.0 * bump
    add = 2.0 + 11.0 * bump
    p = compensation_peaks(obl, lean, add, stance=stance, baseline=(1.0, -0.5, 2.0))
    assert p.stance == stance
    assert p.pelvic_drop == pytest.approx(9.0)
    assert p.trunk_lean == pytest.approx(6.0)
    assert p.hip_adduction == pytest.approx(11.0)
    hike = compensation_peaks(-obl + 2.0, None, stance=stance, baseline=(1.0, 0.0, 0.0))
    assert hike.pelvic_drop == pytest.approx(0.0)
    assert np.isnan(hike.trunk_lean) and np.isnan(hike.hip_adduction)


def test_bad_angle_inputs():
    q = series([[0.0, 0.0, 0.0]] * 3)
    with pytest.raises(ValidationError, match=r"q_thigh must have shape \(\.\.\., 4, n_samples\)"):
        hip_adduction(q, q[:3], side="L")
    with pytest.raises(ValidationError, match="same number of samples, got 3 and 2"):
        hip_flexion(q, q[:, :2])
    with pytest.raises(ValidationError, match="side must be 'L' or 'R', got 'left'"):
        hip_adduction(q, q, side="left")  # type: ignore[arg-type]
    with pytest.raises(SignalError, match="obliquity or its baseline holds NaN"):
        compensation_peaks([0.0, np.nan], [0.0, 0.0], stance="R")
    with pytest.raises(ValidationError, match="lean must be a non-empty 1-D array"):
        compensation_peaks([0.0], [], stance="R")
