"""Segment and joint angles for the kinematic signs of compensation, in degrees.

Conventions
-----------
Global frame x anterior, y to the subject's left, z up; each sensor's axes
are aligned with it when the subject stands neutral. Orientations are unit
quaternions ``(..., 4, n_samples)`` (scalar first, time last) from
:func:`~nkt_motion.dsp.orientation.madgwick` or
:func:`~nkt_motion.dsp.orientation.mahony`. Angles are intrinsic Z-Y'-X''
(yaw, pitch, roll); a positive roll about the anterior x axis lifts the left
side and tips the segment's long (z) axis toward the right; a positive pitch
about the left y axis tips the anterior x axis down and the long axis forward.

Pelvis obliquity
    Pelvis roll, positive when the LEFT side is higher. During stance on the
    right leg a contralateral (left) pelvic drop is a negative obliquity.
Trunk lateral lean
    Minus the trunk roll, so that positive = the top of the trunk moves toward
    the subject's LEFT.
Hip adduction
    Roll of the thigh relative to the pelvis (``pelvis* ⊗ thigh``), signed
    positive for adduction of that side: minus the relative roll for the left
    thigh, plus the relative roll for the right thigh (adduction moves the
    knee toward the midline, which tips the thigh's long axis away from it).
Hip flexion
    Minus the pitch of the thigh relative to the pelvis, so that positive =
    flexion (the knee moves forward and up).

Signs checked against the axes: a positive roll about +x tips a segment's long
(z) axis toward -y, the subject's right, and a positive pitch about +y tips
its x axis down and its long (z) axis backward, so the thigh's downward long
axis swings the knee backward. A trunk whose top moves to the subject's left
therefore has a *negative* roll, and lifting the knee forward (flexion) gives a
*negative* thigh pitch; the two angles are negated so that every reported
angle has the physical meaning its name says. The simulator
(:mod:`nkt_motion.simulate.imu`) builds its trajectories from the same
definitions, and the tests check each sign against where the trunk top and
the knee actually move.

Examples
--------
>>> import numpy as np
>>> from nkt_motion.dsp.quaternion import quat_from_euler
>>> drop = quat_from_euler(np.deg2rad([[0.0], [0.0], [-8.0]]), axis=0)   # left side 8 deg low
>>> pelvis_obliquity(drop).round(6)
array([-8.])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from nkt_motion.dsp.quaternion import quat_relative, quat_to_euler
from nkt_motion.errors import SignalError, ValidationError

__all__ = [
    "CompensationPeaks",
    "compensation_peaks",
    "hip_adduction",
    "hip_flexion",
    "pelvis_obliquity",
    "segment_euler",
    "trunk_lean",
]

FloatArray = NDArray[np.float64]
Side = Literal["L", "R"]


def _quat_series(q: ArrayLike, name: str) -> FloatArray:
    arr = np.asarray(q, dtype=np.float64)
    if arr.ndim < 2 or arr.shape[-2] != 4:
        raise ValidationError(
            f"{name} must have shape (..., 4, n_samples), got {arr.shape}", parameter=name
        )
    return arr


def _check_side(side: str) -> Side:
    if side not in ("L", "R"):
        raise ValidationError(f"side must be 'L' or 'R', got {side!r}", parameter="side")
    return "L" if side == "L" else "R"


def segment_euler(q: ArrayLike) -> FloatArray:
    """Yaw, pitch and roll of segment orientations, in degrees.

    Parameters
    ----------
    q : array_like, shape (..., 4, n_samples)
        Unit quaternions (sensor -> global), scalar first, time last.

    Returns
    -------
    ndarray, shape (..., 3, n_samples)
        Intrinsic Z-Y'-X'' ``(yaw, pitch, roll)`` in degrees.

    Examples
    --------
    >>> segment_euler(np.array([[1.0], [0.0], [0.0], [0.0]])).ravel()
    array([0., 0., 0.])
    """
    return np.rad2deg(quat_to_euler(_quat_series(q, "q"), axis=-2))


def pelvis_obliquity(q_pelvis: ArrayLike) -> FloatArray:
    """Pelvic obliquity (frontal-plane tilt), positive when the left side is higher.

    Parameters
    ----------
    q_pelvis : array_like, shape (..., 4, n_samples)
        Pelvis (or sacrum) sensor orientation.

    Returns
    -------
    ndarray, shape (..., n_samples)
        Pelvis roll in degrees.

    Examples
    --------
    >>> from nkt_motion.dsp.quaternion import quat_from_euler
    >>> q = quat_from_euler(np.deg2rad([[10.0], [5.0], [3.0]]), axis=0)
    >>> pelvis_obliquity(q).round(6)
    array([3.])
    """
    return segment_euler(q_pelvis)[..., 2, :]


def trunk_lean(q_trunk: ArrayLike) -> FloatArray:
    """Trunk lateral lean in degrees, positive = toward the subject's left (minus the roll).

    Parameters
    ----------
    q_trunk : array_like, shape (..., 4, n_samples)
        Trunk sensor orientation.

    Returns
    -------
    ndarray, shape (..., n_samples)
        Lean in degrees, positive when the top of the trunk is to the left.

    Examples
    --------
    >>> from nkt_motion.dsp.quaternion import quat_from_euler
    >>> q = quat_from_euler(np.deg2rad([[0.0], [0.0], [-6.0]]), axis=0)  # top tipped left
    >>> trunk_lean(q).round(6)
    array([6.])
    """
    return -segment_euler(q_trunk)[..., 2, :]


def _relative_euler(q_pelvis: ArrayLike, q_thigh: ArrayLike) -> FloatArray:
    p = _quat_series(q_pelvis, "q_pelvis")
    t = _quat_series(q_thigh, "q_thigh")
    if p.shape[-1] != t.shape[-1]:
        raise ValidationError(
            f"q_pelvis and q_thigh must have the same number of samples, got "
            f"{p.shape[-1]} and {t.shape[-1]}",
            parameter="q_thigh",
        )
    return np.rad2deg(quat_to_euler(quat_relative(p, t, axis=-2), axis=-2))


def hip_adduction(q_pelvis: ArrayLike, q_thigh: ArrayLike, *, side: Side) -> FloatArray:
    """Hip adduction of one side: thigh roll relative to the pelvis, positive = adduction.

    Parameters
    ----------
    q_pelvis : array_like, shape (..., 4, n_samples)
        Pelvis sensor orientation.
    q_thigh : array_like, shape (..., 4, n_samples)
        Thigh sensor orientation of ``side``, same number of samples.
    side : {"L", "R"}
        Which thigh.

    Returns
    -------
    ndarray, shape (..., n_samples)
        Degrees; negative values are abduction.

    Examples
    --------
    >>> from nkt_motion.dsp.quaternion import quat_from_euler
    >>> pelvis = quat_from_euler(np.deg2rad([[0.0], [0.0], [-5.0]]), axis=0)
    >>> thigh = quat_from_euler(np.deg2rad([[0.0], [0.0], [-15.0]]), axis=0)
    >>> hip_adduction(pelvis, thigh, side="L").round(6)    # left knee 10 deg toward midline
    array([10.])
    """
    roll = _relative_euler(q_pelvis, q_thigh)[..., 2, :]
    return -roll if _check_side(side) == "L" else roll


def hip_flexion(q_pelvis: ArrayLike, q_thigh: ArrayLike) -> FloatArray:
    """Hip flexion in degrees: minus the thigh pitch relative to the pelvis, positive = flexion.

    Parameters
    ----------
    q_pelvis : array_like, shape (..., 4, n_samples)
        Pelvis sensor orientation.
    q_thigh : array_like, shape (..., 4, n_samples)
        Thigh sensor orientation, same number of samples.

    Returns
    -------
    ndarray, shape (..., n_samples)
        Degrees, positive when the knee is forward of the pelvis (flexion).

    Examples
    --------
    >>> from nkt_motion.dsp.quaternion import quat_from_euler
    >>> pelvis = np.array([[1.0], [0.0], [0.0], [0.0]])
    >>> thigh = quat_from_euler(np.deg2rad([[0.0], [-30.0], [0.0]]), axis=0)  # knee forward
    >>> hip_flexion(pelvis, thigh).round(6)
    array([30.])
    """
    return -_relative_euler(q_pelvis, q_thigh)[..., 1, :]


@dataclass(frozen=True, slots=True)
class CompensationPeaks:
    """Peak kinematic signs of compensation in one trial, relative to a baseline.

    Attributes
    ----------
    stance : {"L", "R"}
        Stance (supporting) side.
    pelvic_drop : float
        Peak drop of the side opposite ``stance``, degrees (positive = drop;
        negative means that side rose the whole time, a hip hike).
    trunk_lean : float
        Peak trunk lean toward the stance side, degrees; NaN when not measured.
    hip_adduction : float
        Peak adduction of the stance hip, degrees; NaN when not measured.
    """

    stance: Side
    pelvic_drop: float
    trunk_lean: float
    hip_adduction: float


def _peak(x: ArrayLike | None, base: float, sign: float, name: str) -> float:
    if x is None:
        return float("nan")
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValidationError(
            f"{name} must be a non-empty 1-D array (n_samples,), got shape {arr.shape}",
            parameter=name,
        )
    if not np.isfinite(arr).all() or not np.isfinite(base):
        raise SignalError(f"{name} or its baseline holds NaN; cut gaps before taking peaks")
    return float(np.max(sign * (arr - base)))


def compensation_peaks(
    obliquity: ArrayLike,
    lean: ArrayLike | None,
    adduction: ArrayLike | None = None,
    *,
    stance: Side,
    baseline: tuple[float, float, float] = (0.0, 0.0, 0.0),
) -> CompensationPeaks:
    """Peak contralateral pelvic drop, trunk lean and hip adduction in a trial window.

    Parameters
    ----------
    obliquity : array_like, shape (n_samples,)
        Pelvic obliquity in the trial window, degrees (:func:`pelvis_obliquity`).
    lean : array_like, shape (n_samples,), or None
        Trunk lean in the window, degrees (:func:`trunk_lean`); None when there
        is no trunk sensor (the peak is then NaN).
    adduction : array_like, shape (n_samples,), optional
        Hip adduction of the stance side in the window, degrees
        (:func:`hip_adduction`).
    stance : {"L", "R"}
        Stance side.
    baseline : (float, float, float)
        Obliquity, lean and adduction of the reference posture in degrees,
        e.g. the medians over the ``rest`` event; subtracted first.

    Returns
    -------
    CompensationPeaks
        Peaks in degrees, signed so that larger means more compensation.

    Examples
    --------
    >>> obl = np.array([0.0, -4.0, -9.0, -3.0])     # right stance, left side drops 9 deg
    >>> p = compensation_peaks(obl, [0.0, -2.0, -5.0, -1.0], stance="R", baseline=(-1.0, 0, 0))
    >>> p.pelvic_drop, p.trunk_lean, p.hip_adduction
    (8.0, 5.0, nan)
    """
    sign = 1.0 if _check_side(stance) == "L" else -1.0
    b_obl, b_lean, b_add = (float(b) for b in baseline)
    return CompensationPeaks(
        stance=stance,
        pelvic_drop=_peak(np.asarray(obliquity), b_obl, sign, "obliquity"),
        trunk_lean=_peak(lean, b_lean, sign, "lean"),
        hip_adduction=_peak(adduction, b_add, 1.0, "adduction"),
    )
