import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.spatial.transform import Rotation

from nkt_motion.dsp.quaternion import (
    quat_angle,
    quat_conjugate,
    quat_from_euler,
    quat_from_matrix,
    quat_multiply,
    quat_normalize,
    quat_relative,
    quat_rotate,
    quat_to_euler,
    quat_to_matrix,
)
from nkt_motion.errors import ValidationError

finite = st.floats(-10.0, 10.0, allow_nan=False)
quats = arrays(np.float64, (5, 4), elements=finite).filter(
    lambda q: bool((np.linalg.norm(q, axis=-1) > 1e-3).all())
)
vectors = arrays(np.float64, (5, 3), elements=finite)


def _scipy(q):
    return Rotation.from_quat(np.asarray(q)[..., [1, 2, 3, 0]])


@settings(max_examples=30)
@given(quats)
def test_q_times_conjugate_is_identity(q):
    q = quat_normalize(q)
    ident = quat_multiply(q, quat_conjugate(q))
    np.testing.assert_allclose(ident, np.tile([1.0, 0.0, 0.0, 0.0], (5, 1)), atol=1e-12)


@settings(max_examples=30)
@given(quats)
def test_rotation_matrix_is_orthonormal_and_matches_scipy(q):
    q = quat_normalize(q)
    m = quat_to_matrix(q)
    np.testing.assert_allclose(
        m @ np.swapaxes(m, -1, -2), np.broadcast_to(np.eye(3), m.shape), atol=1e-12
    )
    np.testing.assert_allclose(np.linalg.det(m), 1.0, atol=1e-12)
    np.testing.assert_allclose(m, _scipy(q).as_matrix(), atol=1e-12)


@settings(max_examples=30)
@given(quats)
def test_matrix_round_trip_gives_same_rotation(q):
    q = quat_normalize(q)
    back = quat_from_matrix(quat_to_matrix(q))
    assert np.all(back[:, 0] >= 0)
    np.testing.assert_allclose(quat_angle(q, back), 0.0, atol=1e-6)


@settings(max_examples=30)
@given(quats, vectors)
def test_rotate_equals_matrix_product(q, v):
    q = quat_normalize(q)
    expected = np.einsum("nij,nj->ni", quat_to_matrix(q), v)
    np.testing.assert_allclose(quat_rotate(q, v), expected, atol=1e-9)


@settings(max_examples=30)
@given(
    arrays(
        np.float64,
        (6, 3),
        elements=st.floats(-1.0, 1.0),
    ).map(lambda a: a * np.array([np.pi * 0.999, np.deg2rad(80.0), np.pi * 0.999]))
)
def test_euler_round_trip_away_from_gimbal_lock(e):
    np.testing.assert_allclose(quat_to_euler(quat_from_euler(e)), e, atol=1e-9)
    np.testing.assert_allclose(
        quat_to_euler(quat_from_euler(e)), _scipy(quat_from_euler(e)).as_euler("ZYX"), atol=1e-9
    )


@settings(max_examples=30)
@given(quats, quats)
def test_relative_orientation_composes_back(p, q):
    p, q = quat_normalize(p), quat_normalize(q)
    rel = quat_relative(p, q)
    np.testing.assert_allclose(quat_angle(quat_multiply(p, rel), q), 0.0, atol=1e-6)


@settings(max_examples=25)
@given(
    arrays(np.float64, (2, 4, 7), elements=finite).filter(
        lambda q: bool((np.linalg.norm(q, axis=1) > 1e-3).all())
    )
)
def test_time_last_layout_matches_components_last(q):
    q = quat_normalize(q, axis=-2)
    last = np.moveaxis(q, -2, -1)
    np.testing.assert_allclose(
        np.moveaxis(quat_to_euler(q, axis=-2), -2, -1), quat_to_euler(last), atol=1e-12
    )
    np.testing.assert_allclose(
        np.moveaxis(quat_multiply(q, q, axis=-2), -2, -1), quat_multiply(last, last), atol=1e-12
    )


def test_hamilton_units_and_euler_axes():
    i, j, k = np.eye(4)[1:]
    np.testing.assert_array_equal(quat_multiply(i, j), k)
    np.testing.assert_array_equal(quat_multiply(j, i), -k)
    # positive roll lifts the left (+y) axis, positive pitch tips x down
    roll = quat_from_euler([0.0, 0.0, np.deg2rad(10.0)])
    assert quat_rotate(roll, [0.0, 1.0, 0.0])[2] > 0
    pitch = quat_from_euler([0.0, np.deg2rad(10.0), 0.0])
    assert quat_rotate(pitch, [1.0, 0.0, 0.0])[2] < 0


def test_bad_inputs_raise_validation_errors():
    with pytest.raises(
        ValidationError, match=r"q must have 4 components on axis -1, got shape \(3,\)"
    ):
        quat_conjugate([1.0, 0.0, 0.0])
    with pytest.raises(ValidationError, match="zero quaternion"):
        quat_normalize(np.zeros(4))
    with pytest.raises(ValidationError, match=r"m must have shape \(\.\.\., 3, 3\)"):
        quat_from_matrix(np.eye(4))
    with pytest.raises(ValidationError, match="v must have 3 components"):
        quat_rotate([1.0, 0.0, 0.0, 0.0], [1.0, 0.0])
