"""Orientation filters: Madgwick (gradient descent) and Mahony (complementary PI).

Both filters fuse a gyroscope with an accelerometer (6-axis IMU) and, when one
is given, a magnetometer (9-axis MARG). They run over many sensors at once:
inputs ``(n_sensors, 3, n_samples)`` (any leading axes), output
``(n_sensors, 4, n_samples)`` unit quaternions, scalar first, rotating sensor
vectors into the global frame (see :mod:`nkt_motion.dsp.quaternion`). The
formulas below work on arrays and on scalars alike; the time recurrence runs
them compiled (:mod:`nkt_motion.dsp._orientation_kernels`), about 10 ms per
30 000 samples of four sensors.

Frames and units
----------------
Global frame: x anterior, y to the subject's left, z up. Without a
magnetometer the heading is that of the initial quaternion (by default the
sensor's own heading at the first sample: yaw 0); with one, the global x axis
points to magnetic north (horizontal part of the field). Gyroscope in rad/s,
accelerometer and magnetometer in any unit (only their directions are used).
The output at sample 0 is ``q0``; each later sample ``k`` updates the
previous estimate with the samples at ``k`` (first-order integration, as in
both papers).

Sources
-------
Madgwick SOH, Harrison AJL, Vaidyanathan R. Estimation of IMU and MARG
orientation using a gradient descent algorithm. IEEE ICORR 2011:1-7,
doi:10.1109/ICORR.2011.5975346 (gain ``beta = sqrt(3/4) * gyro error``).
Mahony R, Hamel T, Pflimlin JM. Nonlinear complementary filters on the special
orthogonal group. IEEE Trans Autom Control 2008;53(5):1203-1218,
doi:10.1109/TAC.2008.923738 (proportional gain ``kp``, integral gain ``ki``
estimating the gyroscope bias). The magnetic reference of both filters is the
measured field rotated into the global frame with its horizontal part put on
the x axis (Madgwick 2011, eqs. 45-46), so that a wrong dip angle does not
tilt the estimate.

Examples
--------
>>> import numpy as np
>>> gyr = np.zeros((2, 3, 100)); acc = np.zeros((2, 3, 100)); acc[:, 2] = 9.81
>>> madgwick(gyr, acc, 100.0).shape
(2, 4, 100)
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from nkt_motion.dsp._orientation_kernels import madgwick_loop, mahony_loop
from nkt_motion.dsp.imu import check_fs, check_triaxial, initial_quaternion
from nkt_motion.errors import SignalError, ValidationError

__all__ = ["madgwick", "madgwick_beta", "mahony"]

FloatArray = NDArray[np.float64]
Quat = tuple[FloatArray, FloatArray, FloatArray, FloatArray]


def madgwick_beta(gyro_error: float) -> float:
    """Madgwick gain from the gyroscope's mean zero-mean error.

    Parameters
    ----------
    gyro_error : float
        Estimated mean error of the gyroscope, rad/s.

    Returns
    -------
    float
        ``beta = sqrt(3/4) * gyro_error`` in rad/s (Madgwick 2011, eq. 50).

    Examples
    --------
    >>> round(madgwick_beta(np.deg2rad(5.0)), 4)
    0.0756
    """
    if not gyro_error > 0:
        raise ValidationError(
            f"gyro_error must be > 0 rad/s, got {gyro_error}", parameter="gyro_error"
        )
    return math.sqrt(0.75) * float(gyro_error)


def _unit_rows(x: FloatArray, name: str) -> FloatArray:
    """Normalise the axis -2 of ``(S, 3, n)`` and return it as ``(n, 3, S)``."""
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    if not (norm > 0).all():
        s, _, k = np.argwhere(norm == 0)[0]
        raise SignalError(f"{name} of sensor {s} has zero norm at sample {k}")
    return np.ascontiguousarray(np.transpose(x / norm, (2, 1, 0)))


def _prepare(
    gyr: ArrayLike,
    acc: ArrayLike,
    mag: ArrayLike | None,
    fs: float,
    q0: ArrayLike | None,
) -> tuple[tuple[int, ...], list[FloatArray | None], FloatArray]:
    """Validate inputs; return leading shape, [gyr, acc, mag] as (n, 3, S), q0 as (4, S)."""
    dt = 1.0 / check_fs(fs)
    g = check_triaxial(gyr, name="gyr")
    a = check_triaxial(acc, name="acc", like=g)
    m = None if mag is None else check_triaxial(mag, name="mag", like=g)
    lead, n = g.shape[:-2], g.shape[-1]
    if q0 is None:
        start = initial_quaternion(a[..., 0], None if m is None else m[..., 0])
    else:
        start = np.asarray(q0, dtype=np.float64)
        if start.shape != (*lead, 4) or not np.isfinite(start).all():
            raise ValidationError(
                f"q0 must be finite with shape {(*lead, 4)}, got {start.shape}", parameter="q0"
            )
        norm = np.linalg.norm(start, axis=-1, keepdims=True)
        if not (norm > 0).all():
            raise ValidationError("q0 holds a zero quaternion", parameter="q0")
        start = start / norm
    data: list[FloatArray | None] = [
        np.ascontiguousarray(np.transpose(g.reshape(-1, 3, n), (2, 1, 0))) * dt,
        _unit_rows(a.reshape(-1, 3, n), "acc"),
        None if m is None else _unit_rows(m.reshape(-1, 3, n), "mag"),
    ]
    return lead, data, np.ascontiguousarray(start.reshape(-1, 4).T)


def _gyro_step(q: Quat, gx: FloatArray, gy: FloatArray, gz: FloatArray) -> Quat:
    """``q + q ⊗ (0, g) / 2`` for a rotation increment ``g`` (rad)."""
    w, x, y, z = q
    return (
        w - 0.5 * (x * gx + y * gy + z * gz),
        x + 0.5 * (w * gx + y * gz - z * gy),
        y + 0.5 * (w * gy - x * gz + z * gx),
        z + 0.5 * (w * gz + x * gy - y * gx),
    )


def _normalised(q: Quat) -> Quat:
    w, x, y, z = q
    inv = 1.0 / np.sqrt(w * w + x * x + y * y + z * z)
    return (w * inv, x * inv, y * inv, z * inv)


def _earth_field(q: Quat, m: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Horizontal and vertical parts of the sensor-frame field ``m`` in the global frame."""
    w, x, y, z = q
    mx, my, mz = m
    hx = (1 - 2 * (y * y + z * z)) * mx + 2 * (x * y - w * z) * my + 2 * (x * z + w * y) * mz
    hy = 2 * (x * y + w * z) * mx + (1 - 2 * (x * x + z * z)) * my + 2 * (y * z - w * x) * mz
    hz = 2 * (x * z - w * y) * mx + 2 * (y * z + w * x) * my + (1 - 2 * (x * x + y * y)) * mz
    return np.sqrt(hx * hx + hy * hy), hz


def _field_gradient(q: Quat, dx: FloatArray, dz: FloatArray, s: FloatArray) -> Quat:
    """``J.T @ f`` of Madgwick's objective ``f = R.T @ (dx, 0, dz) - s`` (2011, eqs. 25-26).

    The rows of ``R.T @ d`` and their derivatives in ``w, x, y, z`` are written
    out for a reference direction in the global x-z plane.
    """
    w, x, y, z = q
    f1 = dx * (1 - 2 * (y * y + z * z)) + 2 * dz * (x * z - w * y) - s[0]
    f2 = 2 * dx * (x * y - w * z) + 2 * dz * (y * z + w * x) - s[1]
    f3 = 2 * dx * (x * z + w * y) + dz * (1 - 2 * (x * x + y * y)) - s[2]
    return (
        2 * (-dz * y * f1 + (dz * x - dx * z) * f2 + dx * y * f3),
        2 * (dz * z * f1 + (dx * y + dz * w) * f2 + (dx * z - 2 * dz * x) * f3),
        2 * (-(2 * dx * y + dz * w) * f1 + (dx * x + dz * z) * f2 + (dx * w - 2 * dz * y) * f3),
        2 * ((dz * x - 2 * dx * z) * f1 + (dz * y - dx * w) * f2 + dx * x * f3),
    )


def _gravity_gradient(q: Quat, a: FloatArray) -> Quat:
    """``J.T @ f`` for the gravity direction ``d = (0, 0, 1)`` (Madgwick 2011, eq. 25)."""
    w, x, y, z = q
    f1 = 2 * (x * z - w * y) - a[0]
    f2 = 2 * (w * x + y * z) - a[1]
    f3 = 1 - 2 * (x * x + y * y) - a[2]
    return (
        2 * (x * f2 - y * f1),
        2 * (z * f1 + w * f2) - 4 * x * f3,
        2 * (z * f2 - w * f1) - 4 * y * f3,
        2 * (x * f1 + y * f2),
    )


def _gravity_direction(q: Quat) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Return the global vertical ``(0, 0, 1)`` in the sensor frame, ``R.T @ z``."""
    w, x, y, z = q
    return 2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)


def _field_direction(
    q: Quat, bx: FloatArray, bz: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Return the global field reference ``(bx, 0, bz)`` in the sensor frame."""
    w, x, y, z = q
    return (
        bx * (1 - 2 * (y * y + z * z)) + 2 * bz * (x * z - w * y),
        2 * bx * (x * y - w * z) + 2 * bz * (y * z + w * x),
        2 * bx * (x * z + w * y) + bz * (1 - 2 * (x * x + y * y)),
    )


def _cross3(
    u: tuple[FloatArray, FloatArray, FloatArray], v: tuple[FloatArray, FloatArray, FloatArray]
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Cross product ``u x v`` of two vectors given as their three components."""
    return u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]


def _output(out: FloatArray, lead: tuple[int, ...]) -> FloatArray:
    """``(n, 4, S)`` loop output as ``(*lead, 4, n)``."""
    n = out.shape[0]
    return np.transpose(out, (2, 1, 0)).reshape(*lead, 4, n)


def madgwick(
    gyr: ArrayLike,
    acc: ArrayLike,
    fs: float,
    *,
    mag: ArrayLike | None = None,
    beta: float = 0.033,
    q0: ArrayLike | None = None,
) -> FloatArray:
    """Madgwick gradient-descent orientation filter, over many sensors at once.

    Parameters
    ----------
    gyr : array_like, shape (..., 3, n_samples)
        Angular rate in the sensor frame, rad/s.
    acc : array_like, shape (..., 3, n_samples)
        Specific force in the sensor frame, any unit.
    fs : float
        Sampling rate in Hz.
    mag : array_like, shape (..., 3, n_samples), optional
        Magnetic field in the sensor frame, any unit; makes it a MARG filter.
    beta : float
        Gain in rad/s, ``sqrt(3/4)`` times the gyroscope error (see
        :func:`madgwick_beta`); 0.033 is the IMU value of Madgwick 2011.
    q0 : array_like, shape (..., 4), optional
        Orientation at the first sample; by default from the first
        accelerometer (and magnetometer) sample, see
        :func:`~nkt_motion.dsp.imu.initial_quaternion`.

    Returns
    -------
    ndarray, shape (..., 4, n_samples)
        Unit quaternions (sensor -> global), scalar first, time last.

    Raises
    ------
    ValidationError
        If shapes differ, ``fs <= 0``, ``beta < 0`` or ``q0`` is malformed.
    SignalError
        If an input holds NaN (the message names the sensor and sample).

    Examples
    --------
    >>> fs, n = 100.0, 200
    >>> gyr = np.zeros((3, n)); gyr[0] = np.deg2rad(10.0)      # 10 deg/s roll rate
    >>> acc = np.tile([[0.0], [0.0], [9.81]], n)
    >>> q = madgwick(gyr, acc, fs, beta=0.0)
    >>> round(float(np.rad2deg(2 * np.arctan2(q[1, -1], q[0, -1]))), 3)   # 1.99 s x 10 deg/s
    19.9
    """
    if not beta >= 0:
        raise ValidationError(f"beta must be >= 0 rad/s, got {beta}", parameter="beta")
    lead, (g, a, m), q0_ = _prepare(gyr, acc, mag, fs, q0)
    assert g is not None and a is not None
    out = np.empty((g.shape[0], 4, q0_.shape[1]))
    out[0] = q0_
    madgwick_loop(g, a, m, beta / check_fs(fs), out)
    return _output(out, lead)


def mahony(
    gyr: ArrayLike,
    acc: ArrayLike,
    fs: float,
    *,
    mag: ArrayLike | None = None,
    kp: float = 2.0,
    ki: float = 0.005,
    q0: ArrayLike | None = None,
) -> FloatArray:
    """Mahony explicit complementary filter with gyroscope-bias integral, many sensors at once.

    Parameters
    ----------
    gyr : array_like, shape (..., 3, n_samples)
        Angular rate in the sensor frame, rad/s.
    acc : array_like, shape (..., 3, n_samples)
        Specific force in the sensor frame, any unit.
    fs : float
        Sampling rate in Hz.
    mag : array_like, shape (..., 3, n_samples), optional
        Magnetic field in the sensor frame, any unit; makes it a MARG filter.
    kp : float
        Proportional gain, 1/s (>= 0).
    ki : float
        Integral gain, 1/s^2 (>= 0); the integral is the negated bias estimate.
    q0 : array_like, shape (..., 4), optional
        Orientation at the first sample; default as in :func:`madgwick`.

    Returns
    -------
    ndarray, shape (..., 4, n_samples)
        Unit quaternions (sensor -> global), scalar first, time last.

    Raises
    ------
    ValidationError
        If shapes differ, ``fs <= 0``, a gain is negative or ``q0`` is malformed.
    SignalError
        If an input holds NaN (the message names the sensor and sample).

    Examples
    --------
    >>> acc = np.tile([[0.0], [9.81 * np.sin(0.2)], [9.81 * np.cos(0.2)]], 1000)
    >>> q = mahony(np.zeros((3, 1000)), acc, 100.0, q0=[1.0, 0.0, 0.0, 0.0])
    >>> round(float(2 * np.arctan2(q[1, -1], q[0, -1])), 3)      # converges to 0.2 rad roll
    0.2
    """
    if not (kp >= 0 and ki >= 0):
        raise ValidationError(f"kp and ki must be >= 0, got {kp} and {ki}", parameter="kp")
    lead, (g, a, m), q0_ = _prepare(gyr, acc, mag, fs, q0)
    assert g is not None and a is not None
    dt = 1.0 / check_fs(fs)
    out = np.empty((g.shape[0], 4, q0_.shape[1]))
    out[0] = q0_
    mahony_loop(g, a, m, kp * dt, ki * dt, dt, out)
    return _output(out, lead)
