"""IMU synthesis: orientation trajectories per site, then accelerometer and gyroscope.

Conventions (the contract the orientation code of ``nkt_motion`` follows)
-------------------------------------------------------------------------
- Global frame: right-handed, x anterior, y to the subject's LEFT, z UP;
  gravity ``g = (0, 0, -9.80665)`` m/s^2. Standing neutral, every sensor's axes
  are aligned with the global frame.
- Quaternions are scalar first ``(w, x, y, z)`` and rotate sensor-frame vectors
  into the global frame.
- Accelerometer: specific force in the sensor frame ``f = R^T (a - g)`` in m/s^2
  (a still, level sensor reads ``(0, 0, +9.80665)``). The simulated sensors
  rotate about their own origin, so ``a = 0`` and ``f = R^T (0, 0, 9.80665)``.
- Gyroscope: angular velocity in the sensor frame, deg/s. Sample ``k`` is the
  constant body-frame rate that carries orientation ``k`` to ``k + 1`` in one
  sample period, ``rotvec(R_k^T R_{k+1}) * fs`` (the last sample repeats the one
  before), so integrating ``q_{k+1} = q_k * exp(omega_k / (2 fs))`` gives back
  the trajectory exactly.
- Angles: intrinsic Z-Y'-X'' (yaw, pitch, roll), deg.
- Pelvis obliquity = pelvis roll, positive when the LEFT side is higher. The
  contralateral pelvic drop for stance side S is the drop (deg, positive) of the
  side opposite S: stance on the right gives a negative obliquity.
- Trunk lateral lean = minus the trunk roll, positive = the top of the trunk
  toward the subject's LEFT.
- Hip adduction = thigh roll relative to the pelvis, positive = adduction for
  that side (left thigh: negative relative roll; right thigh: positive).
- Hip flexion = minus the thigh pitch relative to the pelvis, positive =
  flexion (knee forward and up).

About +x a positive roll tilts a sensor's z axis toward -y (the subject's
right), and about +y a positive pitch swings a downward long axis backward; so
a trunk leaning left has a negative roll and a flexed hip a negative thigh
pitch, which is why those two angles are negated.
"""

from __future__ import annotations

import logging
from typing import Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from nkt_motion.simulate.emg import activation_envelope
from nkt_motion.simulate.scenario import Scenario

__all__ = ["GRAVITY", "SITES", "imu_from_orientation", "site_orientations", "synthesize_imu"]

logger = logging.getLogger(__name__)

#: Standard gravity in m/s^2.
GRAVITY: Final[float] = 9.80665
#: Simulated IMU sites, in channel order.
SITES: Final[tuple[str, ...]] = ("pelvis", "trunk", "thigh_L", "thigh_R")


def _profiles(kin: pd.DataFrame, t: NDArray[np.float64], ramp: float) -> NDArray[np.float64]:
    """Return unit posture profiles, shape (n_trials, n_samples)."""
    start = kin["start_s"].to_numpy(dtype=float)[:, None]
    stop = kin["stop_s"].to_numpy(dtype=float)[:, None]
    return activation_envelope(t[None, :], onset=start, stop=stop, ramp=ramp)


def site_orientations(
    sc: Scenario, kin: pd.DataFrame, t: NDArray[np.float64]
) -> dict[str, Rotation]:
    """Orientation trajectory of every site.

    Each test trial moves smoothly (raised-cosine ramps of ``imu.posture_ramp_s``)
    from neutral to its peak angles in ``kin``, holds them, and returns to neutral.

    Parameters
    ----------
    sc : Scenario
        Stance side and posture ramp.
    kin : pandas.DataFrame
        Kinematic truth from :func:`~nkt_motion.simulate.schedule.draw_kinematics`.
    t : numpy.ndarray, shape (n_samples,)
        Sample times in seconds.

    Returns
    -------
    dict of str to scipy.spatial.transform.Rotation
        For each of :data:`SITES`, ``n_samples`` rotations (sensor -> global).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from nkt_motion.simulate import gmed_adl_hip_flexion
    >>> kin = pd.DataFrame({"start_s": [0.0], "stop_s": [3.0], "pelvic_drop_deg": [8.0],
    ...                     "trunk_lean_deg": [5.0], "hip_adduction_deg": [6.0],
    ...                     "hip_flexion_deg": [60.0]})
    >>> rot = site_orientations(gmed_adl_hip_flexion(side="L"), kin, np.array([1.5]))
    >>> rot["pelvis"].as_euler("ZYX", degrees=True).round(6).tolist()
    [[0.0, 0.0, 8.0]]
    """
    prof = _profiles(kin, t, sc.imu.posture_ramp_s)
    sign = 1.0 if sc.side == "L" else -1.0
    angle = {
        name: kin[name].to_numpy(dtype=float) @ prof
        for name in ("pelvic_drop_deg", "trunk_lean_deg", "hip_adduction_deg", "hip_flexion_deg")
    }
    zero = np.zeros_like(t)
    pelvis = Rotation.from_euler(
        "ZYX", np.c_[zero, zero, sign * angle["pelvic_drop_deg"]], degrees=True
    )
    trunk = Rotation.from_euler(
        "ZYX", np.c_[zero, zero, -sign * angle["trunk_lean_deg"]], degrees=True
    )
    stance_rel = Rotation.from_euler(
        "ZYX", np.c_[zero, zero, -sign * angle["hip_adduction_deg"]], degrees=True
    )
    moving_rel = Rotation.from_euler(
        "ZYX", np.c_[zero, -angle["hip_flexion_deg"], zero], degrees=True
    )
    stance, moving = ("thigh_L", "thigh_R") if sc.side == "L" else ("thigh_R", "thigh_L")
    return {
        "pelvis": pelvis,
        "trunk": trunk,
        stance: pelvis * stance_rel,
        moving: pelvis * moving_rel,
    }


def imu_from_orientation(
    rot: Rotation, fs: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Ideal accelerometer and gyroscope of a sensor rotating about its origin.

    Parameters
    ----------
    rot : scipy.spatial.transform.Rotation
        ``n_samples >= 2`` orientations (sensor -> global) at rate ``fs``.
    fs : float
        Sampling rate in Hz.

    Returns
    -------
    acc : numpy.ndarray, shape (3, n_samples)
        Specific force in the sensor frame, m/s^2 (``R^T (0, 0, 9.80665)``).
    gyr : numpy.ndarray, shape (3, n_samples)
        Body-frame angular velocity, deg/s: ``rotvec(R_k^T R_{k+1}) * fs``, the
        last sample repeating the one before.

    Examples
    --------
    >>> from scipy.spatial.transform import Rotation
    >>> rot = Rotation.from_euler("ZYX", [[0, 0, 0], [0, 0, 1]], degrees=True)
    >>> acc, gyr = imu_from_orientation(rot, 100.0)
    >>> acc[:, 0].tolist(), gyr[:, 0].round(9).tolist()
    ([0.0, 0.0, 9.80665], [100.0, 0.0, 0.0])
    """
    acc = rot.inv().apply([0.0, 0.0, GRAVITY]).T
    step = (rot[:-1].inv() * rot[1:]).as_rotvec()
    gyr = np.degrees(np.vstack([step, step[-1:]]) * fs).T
    return np.asarray(acc, dtype=np.float64), np.asarray(gyr, dtype=np.float64)


def synthesize_imu(
    sc: Scenario, kin: pd.DataFrame, duration_s: float, *, seed: np.random.SeedSequence
) -> tuple[NDArray[np.float64], dict[str, NDArray[np.float64]]]:
    """Make the recorded IMU signals of a scenario.

    Parameters
    ----------
    sc : Scenario
        The scenario (noise, bias, rate).
    kin : pandas.DataFrame
        Kinematic truth from :func:`~nkt_motion.simulate.schedule.draw_kinematics`.
    duration_s : float
        Recording length in seconds.
    seed : numpy.random.SeedSequence
        Seeds the sensor noise.

    Returns
    -------
    data : numpy.ndarray, shape (6 * len(SITES), n_samples)
        Per site in :data:`SITES` order: ACC X, Y, Z (m/s^2) then GYR X, Y, Z
        (deg/s), with noise and gyroscope bias.
    quats : dict of str to numpy.ndarray, shape (n_samples, 4)
        The true orientation of each site, scalar first ``(w, x, y, z)`` with
        ``w >= 0``.

    Examples
    --------
    >>> import numpy as np
    >>> from nkt_motion.simulate import gmed_adl_hip_flexion
    >>> from nkt_motion.simulate.schedule import draw_kinematics, schedule
    >>> sc = gmed_adl_hip_flexion(n_trials=1)
    >>> windows, dur = schedule(sc)
    >>> kin = draw_kinematics(sc, windows, np.random.default_rng(0))
    >>> data, quats = synthesize_imu(sc, kin, dur, seed=np.random.SeedSequence(0))
    >>> data.shape, quats["pelvis"].shape
    ((24, 4400), (4400, 4))
    """
    n = round(duration_s * sc.fs_imu)
    rng = np.random.default_rng(seed)
    rots = site_orientations(sc, kin, np.arange(n) / sc.fs_imu)
    bias = np.asarray(sc.imu.gyro_bias_dps, dtype=float)[:, None]
    blocks = []
    quats: dict[str, NDArray[np.float64]] = {}
    for site in SITES:
        acc, gyr = imu_from_orientation(rots[site], sc.fs_imu)
        acc = acc + sc.imu.acc_noise_sd * rng.standard_normal(acc.shape)
        gyr = gyr + bias + sc.imu.gyro_noise_sd * rng.standard_normal(gyr.shape)
        blocks += [acc, gyr]
        quats[site] = np.asarray(
            rots[site].as_quat(canonical=True, scalar_first=True), dtype=np.float64
        )
    logger.debug("simulated IMU: %d sites x %d samples at %g Hz", len(SITES), n, sc.fs_imu)
    return np.vstack(blocks), quats
