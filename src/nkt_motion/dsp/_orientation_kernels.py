"""Compiled sample loops of the Madgwick and Mahony filters (numba).

An orientation filter is a recurrence: each sample's quaternion needs the
previous one, so its time loop cannot be vectorised, only its sensors. Run in
NumPy, each step is some sixty array operations on a handful of sensors, and
the interpreter's overhead per operation is the whole cost (about 50 µs per
sample). Compiled, a step is a few hundred floating-point operations.

The loops evaluate the formulas of :mod:`nkt_motion.dsp.orientation` (the
same functions, compiled inline for one sensor's scalars), sample by sample in
time and sensor by sensor within a sample, with the same operations in the same
order as the vectorised NumPy form (and no fused multiply-add: numba does not
contract without ``fastmath``), so the results equal it to the last bit on the
machines tested; the tests hold them to 1e-14.

Layout: inputs ``(n_samples, 3, n_sensors)`` (the gyroscope already multiplied
by the sampling interval), the first quaternion ``(4, n_sensors)``, output
``(n_samples, 4, n_sensors)``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["madgwick_loop", "mahony_loop"]


def _madgwick_py(g: Any, a: Any, m: Any, has_mag: bool, gain: float, out: Any) -> None:
    """Madgwick steps 1..n-1 into ``out``; ``out[0]`` holds the first quaternion."""
    for k in range(1, g.shape[0]):
        for s in range(g.shape[2]):
            q = (out[k - 1, 0, s], out[k - 1, 1, s], out[k - 1, 2, s], out[k - 1, 3, s])
            av = (a[k, 0, s], a[k, 1, s], a[k, 2, s])
            gw, gx, gy, gz = _gravity_gradient(q, av)
            if has_mag:
                mv = (m[k, 0, s], m[k, 1, s], m[k, 2, s])
                bx, bz = _earth_field(q, mv)
                fw, fx, fy, fz = _field_gradient(q, bx, bz, mv)
                gw, gx, gy, gz = gw + fw, gx + fx, gy + fy, gz + fz
            scale = gain / max(_sqrt(gw * gw + gx * gx + gy * gy + gz * gz), 1e-300)
            w, x, y, z = _gyro_step(q, g[k, 0, s], g[k, 1, s], g[k, 2, s])
            w, x, y, z = _normalised(
                (w - scale * gw, x - scale * gx, y - scale * gy, z - scale * gz)
            )
            out[k, 0, s], out[k, 1, s], out[k, 2, s], out[k, 3, s] = w, x, y, z


def _mahony_py(
    g: Any, a: Any, m: Any, has_mag: bool, kp_dt: float, ki_dt: float, dt: float, out: Any
) -> None:
    """Mahony steps 1..n-1 into ``out``; ``out[0]`` holds the first quaternion."""
    integral = np.zeros((g.shape[2], 3))  # per sensor: minus the gyroscope bias, rad/s
    for k in range(1, g.shape[0]):
        for s in range(g.shape[2]):
            q = (out[k - 1, 0, s], out[k - 1, 1, s], out[k - 1, 2, s], out[k - 1, 3, s])
            av = (a[k, 0, s], a[k, 1, s], a[k, 2, s])
            ex, ey, ez = _cross(av, _gravity_direction(q))
            if has_mag:
                mv = (m[k, 0, s], m[k, 1, s], m[k, 2, s])
                bx, bz = _earth_field(q, mv)
                cx, cy, cz = _cross(mv, _field_direction(q, bx, bz))
                ex, ey, ez = ex + cx, ey + cy, ez + cz
            ix = integral[s, 0] = integral[s, 0] + ex * dt
            iy = integral[s, 1] = integral[s, 1] + ey * dt
            iz = integral[s, 2] = integral[s, 2] + ez * dt
            w, x, y, z = _gyro_step(
                q,
                g[k, 0, s] + kp_dt * ex + ki_dt * ix,
                g[k, 1, s] + kp_dt * ey + ki_dt * iy,
                g[k, 2, s] + kp_dt * ez + ki_dt * iz,
            )
            w, x, y, z = _normalised((w, x, y, z))
            out[k, 0, s], out[k, 1, s], out[k, 2, s], out[k, 3, s] = w, x, y, z


@functools.cache
def _compiled() -> tuple[Callable[..., None], Callable[..., None]]:
    """Compile the loops on first use (numba's cache keeps them on disk)."""
    global _cross, _earth_field, _field_direction, _field_gradient, _gravity_direction
    global _gravity_gradient, _gyro_step, _normalised, _sqrt
    import math

    import numba  # imported when first needed: about 0.4 s

    from nkt_motion.dsp import orientation as o

    inline = numba.njit(inline="always")
    _cross, _earth_field, _field_gradient = (
        inline(o._cross3),
        inline(o._earth_field),
        inline(o._field_gradient),
    )
    _field_direction, _gravity_direction = inline(o._field_direction), inline(o._gravity_direction)
    _gravity_gradient, _gyro_step = inline(o._gravity_gradient), inline(o._gyro_step)
    _normalised, _sqrt = inline(o._normalised), math.sqrt
    jit = numba.njit(cache=True, nogil=True, boundscheck=False)
    return jit(_madgwick_py), jit(_mahony_py)


def madgwick_loop(g: Any, a: Any, m: Any | None, gain: float, out: Any) -> None:
    """Run the Madgwick recurrence in place (see the module notes for the layout).

    Parameters
    ----------
    g, a : ndarray, shape (n_samples, 3, n_sensors)
        Rotation increments (rad per sample) and unit accelerometer directions.
    m : ndarray, shape (n_samples, 3, n_sensors), or None
        Unit magnetometer directions.
    gain : float
        ``beta / fs`` (rad per sample).
    out : ndarray, shape (n_samples, 4, n_sensors)
        ``out[0]`` the first quaternion; samples 1.. are written.

    Examples
    --------
    >>> import numpy as np
    >>> n = 3; g = np.zeros((n, 3, 1)); a = np.zeros((n, 3, 1)); a[:, 2] = 1.0
    >>> out = np.zeros((n, 4, 1)); out[0, 0] = 1.0
    >>> madgwick_loop(g, a, None, 0.01, out)
    >>> out[:, :, 0].tolist()
    [[1.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]]
    """
    loop, _ = _compiled()
    loop(g, a, a if m is None else m, m is not None, gain, out)


def mahony_loop(
    g: Any, a: Any, m: Any | None, kp_dt: float, ki_dt: float, dt: float, out: Any
) -> None:
    """Run the Mahony recurrence in place (see the module notes for the layout).

    Parameters
    ----------
    g, a, m : ndarray, shape (n_samples, 3, n_sensors)
        As for :func:`madgwick_loop` (``m`` may be None).
    kp_dt, ki_dt : float
        Proportional and integral gains times the sampling interval.
    dt : float
        Sampling interval, s.
    out : ndarray, shape (n_samples, 4, n_sensors)
        ``out[0]`` the first quaternion; samples 1.. are written.

    Examples
    --------
    Turning about the vertical at 0.01 rad per sample for 100 samples, with
    the accelerometer level (it cannot see a turn about gravity):

    >>> import numpy as np
    >>> g = np.zeros((101, 3, 1)); g[:, 2] = 0.01
    >>> a = np.zeros((101, 3, 1)); a[:, 2] = 1.0
    >>> q = np.zeros((101, 4, 1)); q[0, 0] = 1.0
    >>> mahony_loop(g, a, None, 0.02, 0.0, 0.01, q)
    >>> round(float(2 * np.arctan2(q[-1, 3, 0], q[-1, 0, 0])), 4)   # yaw, rad (first order)
    1.0
    """
    _, loop = _compiled()
    loop(g, a, a if m is None else m, m is not None, kp_dt, ki_dt, dt, out)


# Bound by :func:`_compiled` to the compiled forms of the orientation formulas.
_cross: Any = None
_earth_field: Any = None
_field_direction: Any = None
_field_gradient: Any = None
_gravity_direction: Any = None
_gravity_gradient: Any = None
_gyro_step: Any = None
_normalised: Any = None
_sqrt: Any = None
