"""Inertial-sensor basics: accelerometer tilt, stillness and gyroscope bias.

Conventions
-----------
Arrays are ``(..., 3, n_samples)``: any leading axes (usually sensors), the
x/y/z axis of the sensor, then time. The global frame has x anterior, y to the
subject's left and z up; gravity is ``(0, 0, -9.80665)`` m/s^2. An
accelerometer measures specific force in its own frame,
``f = R.T @ (a_global - g)``, so a still, level sensor reads
``(0, 0, +9.80665)``. Gyroscopes are in rad/s at this level (convert from
``deg/s`` before calling). Magnetometers may be in any unit.

Roll and pitch follow the intrinsic Z-Y'-X'' convention of
:mod:`nkt_motion.dsp.quaternion`: with the sensor still,
``roll = atan2(f_y, f_z)`` and ``pitch = atan2(-f_x, hypot(f_y, f_z))``
(positive pitch tips the sensor's x axis down).

Examples
--------
>>> import numpy as np
>>> acc = np.array([[0.0], [0.0], [9.81]])
>>> [float(a[0]) for a in accel_tilt(acc)]
[0.0, 0.0]
"""

from __future__ import annotations

import logging
import math

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.ndimage import uniform_filter1d

from nkt_motion.dsp.quaternion import quat_from_euler
from nkt_motion.errors import SignalError, ValidationError

__all__ = ["STANDARD_GRAVITY", "accel_tilt", "detect_still", "gyro_bias", "initial_quaternion"]

logger = logging.getLogger(__name__)

#: Standard gravity in m/s^2 (CGPM 1901).
STANDARD_GRAVITY = 9.80665

FloatArray = NDArray[np.float64]


def check_fs(fs: float) -> float:
    """Return ``fs`` as a float, or raise if it is not a finite number > 0.

    Parameters
    ----------
    fs : float
        Sampling rate in Hz.

    Returns
    -------
    float
        The rate.

    Examples
    --------
    >>> check_fs(100)
    100.0
    """
    value = float(fs)
    if not math.isfinite(value) or value <= 0:
        raise ValidationError(f"fs must be a finite number > 0 Hz, got {fs!r}", parameter="fs")
    return value


def check_triaxial(x: ArrayLike, *, name: str, like: FloatArray | None = None) -> FloatArray:
    """Return a ``(..., 3, n_samples)`` float64 array, or raise a clear error.

    Parameters
    ----------
    x : array_like, shape (..., 3, n_samples)
        Tri-axial samples, time last.
    name : str
        Parameter name for messages (``"gyr"``, ``"acc"``, ``"mag"``).
    like : ndarray, optional
        An array ``x`` must match in shape.

    Returns
    -------
    ndarray, shape (..., 3, n_samples)
        The samples as float64.

    Raises
    ------
    ValidationError
        If the shape is wrong.
    SignalError
        If a sample is NaN or infinite; the message names the sensor and sample.

    Examples
    --------
    >>> check_triaxial(np.zeros((3, 5)), name="acc").shape
    (3, 5)
    """
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim < 2 or arr.shape[-2] != 3 or arr.shape[-1] < 1:
        raise ValidationError(
            f"{name} must have shape (..., 3, n_samples) with n_samples >= 1, got {arr.shape}",
            parameter=name,
        )
    if like is not None and arr.shape != like.shape:
        raise ValidationError(
            f"{name} must have the same shape as gyr {like.shape}, got {arr.shape}",
            parameter=name,
        )
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = np.argwhere(bad)[0]
        sensor = tuple(int(i) for i in idx[:-2])
        where = f" of sensor {sensor[0] if len(sensor) == 1 else sensor}" if sensor else ""
        raise SignalError(
            f"{name}{where} holds NaN or infinite values (first at axis "
            f"{'xyz'[idx[-2]]}, sample {idx[-1]}); fill or cut gaps first"
        )
    return arr


def accel_tilt(acc: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Roll and pitch of still sensors from the direction of gravity.

    Parameters
    ----------
    acc : array_like, shape (..., 3, n_samples)
        Specific force in the sensor frame, any unit (only its direction is used).

    Returns
    -------
    roll, pitch : ndarray, shape (..., n_samples)
        Intrinsic Z-Y'-X'' roll and pitch in radians. Exact for a still sensor;
        during motion the sensor's own acceleration biases them.

    Examples
    --------
    >>> g = 9.80665
    >>> acc = np.array([[0.0], [g * np.sin(0.1)], [g * np.cos(0.1)]])   # 0.1 rad roll
    >>> [round(float(a[0]), 6) for a in accel_tilt(acc)]
    [0.1, 0.0]
    """
    a = check_triaxial(acc, name="acc")
    fx, fy, fz = a[..., 0, :], a[..., 1, :], a[..., 2, :]
    return np.arctan2(fy, fz) + 0.0, np.arctan2(-fx, np.hypot(fy, fz)) + 0.0


def initial_quaternion(acc: ArrayLike, mag: ArrayLike | None = None) -> FloatArray:
    """Orientation of still sensors from gravity (and the magnetic field).

    Parameters
    ----------
    acc : array_like, shape (..., 3)
        One specific-force sample per sensor, any unit.
    mag : array_like, shape (..., 3), optional
        One magnetometer sample per sensor, any unit. Without it yaw is 0 (the
        sensor's heading defines the global x axis); with it the global x axis
        points to magnetic north (the horizontal part of the field).

    Returns
    -------
    ndarray, shape (..., 4)
        Unit quaternions (sensor -> global), scalar first.

    Examples
    --------
    >>> np.round(initial_quaternion(np.array([0.0, 0.0, 9.81])), 6)
    array([1., 0., 0., 0.])
    >>> q = initial_quaternion([0.0, 0.0, 9.81], [0.0, -20.0, -40.0])  # facing west
    >>> round(float(np.rad2deg(2 * np.arctan2(q[3], q[0]))), 6)
    90.0
    """
    a = np.asarray(acc, dtype=np.float64)
    roll, pitch = accel_tilt(a[..., None])
    roll, pitch = roll[..., 0], pitch[..., 0]
    yaw = np.zeros_like(roll)
    if mag is not None:
        m = np.asarray(mag, dtype=np.float64)
        if m.shape != a.shape:
            raise ValidationError(
                f"mag must have the same shape as acc {a.shape}, got {m.shape}", parameter="mag"
            )
        cr, sr, cp, sp = np.cos(roll), np.sin(roll), np.cos(pitch), np.sin(pitch)
        mx, my, mz = m[..., 0], m[..., 1], m[..., 2]
        hx = cp * mx + sp * (sr * my + cr * mz)
        hy = cr * my - sr * mz
        yaw = np.arctan2(-hy, hx)
    return quat_from_euler(np.stack([yaw, pitch, roll], axis=-1))


def detect_still(
    gyr: ArrayLike,
    acc: ArrayLike,
    fs: float,
    *,
    window: float = 0.5,
    gyr_std: float = 0.02,
    acc_tolerance: float = 0.3,
    gravity: float = STANDARD_GRAVITY,
) -> NDArray[np.bool_]:
    """Find the samples where sensors are still.

    A sample is still when, over a centred window, the standard deviation of
    the gyroscope magnitude is below ``gyr_std`` and the mean accelerometer
    norm is within ``acc_tolerance`` of ``gravity``.

    Parameters
    ----------
    gyr : array_like, shape (..., 3, n_samples)
        Angular rate in rad/s.
    acc : array_like, shape (..., 3, n_samples)
        Specific force in the unit of ``gravity`` (m/s^2 by default).
    fs : float
        Sampling rate in Hz.
    window : float
        Window length in seconds.
    gyr_std : float
        Largest standard deviation of the gyroscope magnitude, rad/s.
    acc_tolerance : float
        Largest difference between the mean accelerometer norm and ``gravity``.
    gravity : float
        Gravity in the unit of ``acc``.

    Returns
    -------
    ndarray of bool, shape (..., n_samples)
        True where the sensor is still.

    Examples
    --------
    >>> fs = 100.0
    >>> gyr = np.zeros((3, 300)); gyr[0, 150:] = np.sin(np.arange(150) / 5)
    >>> acc = np.zeros((3, 300)); acc[2] = 9.80665
    >>> still = detect_still(gyr, acc, fs)
    >>> bool(still[:100].all()), bool(still[200:].any())
    (True, False)
    """
    fs = check_fs(fs)
    g = check_triaxial(gyr, name="gyr")
    a = check_triaxial(acc, name="acc", like=g)
    if not (window > 0 and gyr_std > 0 and acc_tolerance > 0):
        raise ValidationError(
            "window, gyr_std and acc_tolerance must be > 0, got "
            f"{window}, {gyr_std} and {acc_tolerance}",
            parameter="window",
        )
    size = max(1, round(window * fs))
    mag = np.linalg.norm(g, axis=-2)
    mean = uniform_filter1d(mag, size, axis=-1, mode="nearest")
    var = uniform_filter1d(mag * mag, size, axis=-1, mode="nearest") - mean * mean
    acc_norm = uniform_filter1d(np.linalg.norm(a, axis=-2), size, axis=-1, mode="nearest")
    still: NDArray[np.bool_] = (np.sqrt(np.maximum(var, 0.0)) < gyr_std) & (
        np.abs(acc_norm - gravity) < acc_tolerance
    )
    return still


def gyro_bias(
    gyr: ArrayLike,
    fs: float,
    *,
    acc: ArrayLike | None = None,
    interval: tuple[float, float] | None = None,
    window: float = 0.5,
    gyr_std: float = 0.02,
    acc_tolerance: float = 0.3,
    gravity: float = STANDARD_GRAVITY,
) -> FloatArray:
    """Gyroscope bias as the mean angular rate over still samples.

    Parameters
    ----------
    gyr : array_like, shape (..., 3, n_samples)
        Angular rate, rad/s (any unit works; the bias comes back in it).
    fs : float
        Sampling rate in Hz.
    acc : array_like, shape (..., 3, n_samples), optional
        Specific force; needed to detect stillness when ``interval`` is None.
    interval : (float, float), optional
        ``(start, stop)`` in seconds from the first sample, known to be still
        (e.g. the ``rest`` event). When given, stillness is not detected.
    window, gyr_std, acc_tolerance, gravity
        Passed to :func:`detect_still`.

    Returns
    -------
    ndarray, shape (..., 3)
        Bias per sensor and axis; subtract ``bias[..., None]`` from ``gyr``.

    Raises
    ------
    SignalError
        If a sensor has no still sample.

    Examples
    --------
    >>> gyr = np.full((3, 200), 0.01) + np.array([[0.0], [0.02], [0.0]])
    >>> np.round(gyro_bias(gyr, 100.0, interval=(0.0, 1.0)), 6)
    array([0.01, 0.03, 0.01])
    """
    fs = check_fs(fs)
    g = check_triaxial(gyr, name="gyr")
    n = g.shape[-1]
    if interval is not None:
        lo, hi = round(interval[0] * fs), round(interval[1] * fs)
        if not 0 <= lo < hi <= n:
            raise ValidationError(
                f"interval must lie within the {n / fs} s of samples with start < stop, "
                f"got {interval}",
                parameter="interval",
            )
        return np.asarray(g[..., lo:hi].mean(axis=-1), dtype=np.float64)
    if acc is None:
        raise ValidationError(
            "gyro_bias needs acc to detect stillness, or an interval", parameter="acc"
        )
    still = detect_still(
        g, acc, fs, window=window, gyr_std=gyr_std, acc_tolerance=acc_tolerance, gravity=gravity
    )
    count = still.sum(axis=-1)
    if (count == 0).any():
        bad = np.argwhere(count == 0)[0]
        raise SignalError(
            f"no still period found for sensor {tuple(int(i) for i in bad)}; "
            "give interval= or relax gyr_std/acc_tolerance"
        )
    logger.debug("gyro bias from %s still samples", count)
    w = still[..., None, :]
    return np.asarray((g * w).sum(axis=-1) / count[..., None], dtype=np.float64)
