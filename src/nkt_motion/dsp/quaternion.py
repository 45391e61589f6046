"""Quaternion utilities for IMU orientation.

Conventions
-----------
Quaternions are unit quaternions, **scalar first** ``(w, x, y, z)``, Hamilton
product. A quaternion ``q`` holds the orientation of a sensor: it rotates a
vector from the sensor frame into the global frame,
``v_global = q ⊗ (0, v_sensor) ⊗ q*`` (the same as
``quat_to_matrix(q) @ v_sensor``).

The global frame is right-handed with x anterior, y to the subject's left and
z up. Euler angles are intrinsic Z-Y'-X'' (yaw about z, then pitch about the
new y, then roll about the newest x), in radians, so that
``R = Rz(yaw) @ Ry(pitch) @ Rx(roll)``.

Every function works on any number of leading axes. The quaternion (or vector)
components lie on ``axis`` (default the last axis); pass ``axis=-2`` for arrays
laid out as ``(n_sensors, 4, n_samples)`` with time last.

Examples
--------
>>> import numpy as np
>>> q = quat_from_euler(np.array([0.0, 0.0, np.pi / 2]))   # roll 90 deg about x
>>> np.round(quat_rotate(q, np.array([0.0, 1.0, 0.0])), 6)  # y (left) turns to z (up)
array([0., 0., 1.])
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from nkt_motion.errors import ValidationError

__all__ = [
    "quat_angle",
    "quat_conjugate",
    "quat_from_euler",
    "quat_from_matrix",
    "quat_multiply",
    "quat_normalize",
    "quat_relative",
    "quat_rotate",
    "quat_to_euler",
    "quat_to_matrix",
]

FloatArray = NDArray[np.float64]


def _components(a: ArrayLike, n: int, *, name: str, axis: int) -> FloatArray:
    """Return ``a`` as float64 with its ``n`` components moved to the last axis."""
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim == 0 or arr.shape[axis] != n:
        raise ValidationError(
            f"{name} must have {n} components on axis {axis}, got shape {arr.shape}",
            parameter=name,
        )
    return np.moveaxis(arr, axis, -1)


def _back(a: FloatArray, axis: int) -> FloatArray:
    return np.moveaxis(a, -1, axis)


def _mul(p: FloatArray, q: FloatArray) -> FloatArray:
    pw, px, py, pz = np.moveaxis(p, -1, 0)
    qw, qx, qy, qz = np.moveaxis(q, -1, 0)
    out: FloatArray = np.stack(
        [
            pw * qw - px * qx - py * qy - pz * qz,
            pw * qx + px * qw + py * qz - pz * qy,
            pw * qy - px * qz + py * qw + pz * qx,
            pw * qz + px * qy - py * qx + pz * qw,
        ],
        axis=-1,
    )
    return out


def _conj(q: FloatArray) -> FloatArray:
    out: FloatArray = q * np.array([1.0, -1.0, -1.0, -1.0])
    return out


def _unit(q: FloatArray) -> FloatArray:
    norm = np.linalg.norm(q, axis=-1, keepdims=True)
    if not np.all(norm > 0):
        raise ValidationError("q holds a zero quaternion, which has no direction", parameter="q")
    out: FloatArray = q / norm
    return out


def quat_multiply(p: ArrayLike, q: ArrayLike, *, axis: int = -1) -> FloatArray:
    """Hamilton product ``p ⊗ q``.

    Parameters
    ----------
    p, q : array_like, shape (..., 4)
        Quaternions, scalar first, broadcast against each other.
    axis : int
        Axis holding the 4 components.

    Returns
    -------
    ndarray, shape (..., 4)
        The product; applying it rotates by ``q`` first, then by ``p``.

    Examples
    --------
    >>> quat_multiply([0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0])   # i j = k
    array([0., 0., 0., 1.])
    """
    pa = _components(p, 4, name="p", axis=axis)
    qa = _components(q, 4, name="q", axis=axis)
    return _back(_mul(pa, qa), axis)


def quat_conjugate(q: ArrayLike, *, axis: int = -1) -> FloatArray:
    """Conjugate ``q*`` (the inverse rotation for a unit quaternion).

    Parameters
    ----------
    q : array_like, shape (..., 4)
        Quaternions, scalar first.
    axis : int
        Axis holding the 4 components.

    Returns
    -------
    ndarray, shape (..., 4)
        ``(w, -x, -y, -z)``.

    Examples
    --------
    >>> quat_conjugate([1.0, 2.0, 3.0, 4.0])
    array([ 1., -2., -3., -4.])
    """
    return _back(_conj(_components(q, 4, name="q", axis=axis)), axis)


def quat_normalize(q: ArrayLike, *, axis: int = -1) -> FloatArray:
    """Scale quaternions to unit norm.

    Parameters
    ----------
    q : array_like, shape (..., 4)
        Non-zero quaternions.
    axis : int
        Axis holding the 4 components.

    Returns
    -------
    ndarray, shape (..., 4)
        Unit quaternions.

    Raises
    ------
    ValidationError
        If a quaternion is zero.

    Examples
    --------
    >>> quat_normalize([2.0, 0.0, 0.0, 0.0])
    array([1., 0., 0., 0.])
    """
    return _back(_unit(_components(q, 4, name="q", axis=axis)), axis)


def quat_rotate(q: ArrayLike, v: ArrayLike, *, axis: int = -1) -> FloatArray:
    """Rotate vectors by quaternions: ``q ⊗ (0, v) ⊗ q*``.

    Parameters
    ----------
    q : array_like, shape (..., 4)
        Unit quaternions (sensor -> global).
    v : array_like, shape (..., 3)
        Vectors in the sensor frame, any unit; broadcast against ``q``.
    axis : int
        Axis holding the components of both ``q`` and ``v``.

    Returns
    -------
    ndarray, shape (..., 3)
        The vectors in the global frame, same unit.

    Examples
    --------
    >>> q = [np.cos(np.pi / 4), 0.0, 0.0, np.sin(np.pi / 4)]   # yaw 90 deg
    >>> np.round(quat_rotate(q, [1.0, 0.0, 0.0]), 6)            # anterior turns left
    array([0., 1., 0.])
    """
    qa = _components(q, 4, name="q", axis=axis)
    va = _components(v, 3, name="v", axis=axis)
    w = qa[..., :1]
    u = qa[..., 1:]
    t = 2.0 * np.cross(u, va)
    return _back(va + w * t + np.cross(u, t), axis)


def quat_to_matrix(q: ArrayLike, *, axis: int = -1) -> FloatArray:
    """Rotation matrices of unit quaternions.

    Parameters
    ----------
    q : array_like, shape (..., 4)
        Unit quaternions, scalar first, components on ``axis``.
    axis : int
        Axis holding the 4 components; the result has its matrix on the last
        two axes whatever ``axis`` is.

    Returns
    -------
    ndarray, shape (..., 3, 3)
        ``R`` with ``v_global = R @ v_sensor``.

    Examples
    --------
    >>> quat_to_matrix([1.0, 0.0, 0.0, 0.0])
    array([[1., 0., 0.],
           [0., 1., 0.],
           [0., 0., 1.]])
    """
    w, x, y, z = np.moveaxis(_components(q, 4, name="q", axis=axis), -1, 0)
    rows = [
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ]
    return np.stack([np.stack(r, axis=-1) for r in rows], axis=-2)


def quat_from_matrix(m: ArrayLike) -> FloatArray:
    """Convert rotation matrices to unit quaternions (Shepperd's method).

    Parameters
    ----------
    m : array_like, shape (..., 3, 3)
        Proper rotation matrices, ``v_global = m @ v_sensor``.

    Returns
    -------
    ndarray, shape (..., 4)
        Unit quaternions, scalar first, with ``w >= 0``.

    Notes
    -----
    Of the four equivalent formulas the one with the largest diagonal term is
    used, which keeps the division well conditioned (Shepperd, J Guid Control
    1978;1:223).

    Examples
    --------
    >>> quat_from_matrix(np.eye(3))
    array([1., 0., 0., 0.])
    """
    r = np.asarray(m, dtype=np.float64)
    if r.ndim < 2 or r.shape[-2:] != (3, 3):
        raise ValidationError(f"m must have shape (..., 3, 3), got {r.shape}", parameter="m")
    d = np.stack([np.trace(r, axis1=-2, axis2=-1), r[..., 0, 0], r[..., 1, 1], r[..., 2, 2]])
    k = np.argmax(d, axis=0)
    s = np.sqrt(np.maximum(1.0 + 2.0 * np.take_along_axis(d, k[None], 0)[0] - d[0], 0.0))
    s = np.maximum(s, 1e-300)
    a, b, c = r[..., 2, 1] - r[..., 1, 2], r[..., 0, 2] - r[..., 2, 0], r[..., 1, 0] - r[..., 0, 1]
    e, f, g = r[..., 0, 1] + r[..., 1, 0], r[..., 0, 2] + r[..., 2, 0], r[..., 1, 2] + r[..., 2, 1]
    cand = np.stack(
        [
            np.stack([s * s, a, b, c], axis=-1),
            np.stack([a, s * s, e, f], axis=-1),
            np.stack([b, e, s * s, g], axis=-1),
            np.stack([c, f, g, s * s], axis=-1),
        ]
    )
    q = np.take_along_axis(cand, k[None, ..., None], 0)[0] / (2.0 * s[..., None])
    q = np.where(q[..., :1] < 0, -q, q)
    return _unit(q)


def quat_to_euler(q: ArrayLike, *, axis: int = -1) -> FloatArray:
    """Intrinsic Z-Y'-X'' Euler angles (yaw, pitch, roll) of unit quaternions.

    Parameters
    ----------
    q : array_like, shape (..., 4)
        Unit quaternions (sensor -> global), scalar first.
    axis : int
        Axis holding the 4 components; the 3 angles come back on the same axis.

    Returns
    -------
    ndarray, shape (..., 3)
        ``(yaw, pitch, roll)`` in radians; yaw and roll in (-pi, pi], pitch in
        [-pi/2, pi/2]. Near pitch = +-pi/2 (gimbal lock) yaw and roll are not
        separable.

    Examples
    --------
    >>> e = np.deg2rad([30.0, -20.0, 10.0])
    >>> np.round(np.rad2deg(quat_to_euler(quat_from_euler(e))), 6)
    array([ 30., -20.,  10.])
    """
    w, x, y, z = np.moveaxis(_components(q, 4, name="q", axis=axis), -1, 0)
    yaw = np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
    pitch = np.arcsin(np.clip(2 * (w * y - x * z), -1.0, 1.0))
    roll = np.arctan2(2 * (w * x + y * z), 1 - 2 * (x * x + y * y))
    return _back(np.stack([yaw, pitch, roll], axis=-1), axis)


def quat_from_euler(angles: ArrayLike, *, axis: int = -1) -> FloatArray:
    """Build unit quaternions from intrinsic Z-Y'-X'' Euler angles.

    Parameters
    ----------
    angles : array_like, shape (..., 3)
        ``(yaw, pitch, roll)`` in radians.
    axis : int
        Axis holding the 3 angles; the 4 components come back on the same axis.

    Returns
    -------
    ndarray, shape (..., 4)
        ``q = qz(yaw) ⊗ qy(pitch) ⊗ qx(roll)``, scalar first.

    Examples
    --------
    >>> np.round(quat_from_euler([np.pi, 0.0, 0.0]), 6)
    array([0., 0., 0., 1.])
    """
    yaw, pitch, roll = np.moveaxis(_components(angles, 3, name="angles", axis=axis), -1, 0)
    cy, sy = np.cos(yaw / 2), np.sin(yaw / 2)
    cp, sp = np.cos(pitch / 2), np.sin(pitch / 2)
    cr, sr = np.cos(roll / 2), np.sin(roll / 2)
    q = np.stack(
        [
            cy * cp * cr + sy * sp * sr,
            cy * cp * sr - sy * sp * cr,
            cy * sp * cr + sy * cp * sr,
            sy * cp * cr - cy * sp * sr,
        ],
        axis=-1,
    )
    return _back(q, axis)


def quat_relative(q_ref: ArrayLike, q: ArrayLike, *, axis: int = -1) -> FloatArray:
    """Orientation of one sensor in the frame of another: ``q_ref* ⊗ q``.

    Parameters
    ----------
    q_ref : array_like, shape (..., 4)
        Orientation of the reference (proximal) sensor, e.g. the pelvis.
    q : array_like, shape (..., 4)
        Orientation of the other (distal) sensor, e.g. a thigh.
    axis : int
        Axis holding the 4 components.

    Returns
    -------
    ndarray, shape (..., 4)
        Unit quaternions rotating distal-sensor vectors into the reference
        sensor's frame. The global heading cancels out.

    Examples
    --------
    >>> pelvis = quat_from_euler([0.5, 0.0, 0.0])
    >>> thigh = quat_from_euler([0.5, 0.0, 0.2])
    >>> np.round(quat_to_euler(quat_relative(pelvis, thigh)), 6)
    array([0. , 0. , 0.2])
    """
    qr = _components(q_ref, 4, name="q_ref", axis=axis)
    qa = _components(q, 4, name="q", axis=axis)
    return _back(_unit(_mul(_conj(qr), qa)), axis)


def quat_angle(p: ArrayLike, q: ArrayLike, *, axis: int = -1) -> FloatArray:
    """Angle of the rotation between two orientations.

    Parameters
    ----------
    p, q : array_like, shape (..., 4)
        Unit quaternions, broadcast against each other.
    axis : int
        Axis holding the 4 components (removed in the result).

    Returns
    -------
    ndarray, shape (...)
        Angle of ``p* ⊗ q`` in radians, in [0, pi]; ``q`` and ``-q`` give 0.

    Examples
    --------
    >>> a = quat_angle([1.0, 0.0, 0.0, 0.0], quat_from_euler([0.0, 0.0, 0.3]))
    >>> round(float(a), 6)
    0.3
    """
    pa = _components(p, 4, name="p", axis=axis)
    qa = _components(q, 4, name="q", axis=axis)
    dot = np.abs(np.sum(_unit(pa) * _unit(qa), axis=-1))
    return np.asarray(2.0 * np.arccos(np.clip(dot, 0.0, 1.0)), dtype=np.float64)
