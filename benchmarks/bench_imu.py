"""Orientation filters: nkt-motion's Madgwick and Mahony against the ``ahrs`` package.

4 sensors x 10 min x 100 Hz (seeded): a slow sway about all three axes, with
gyroscope noise and bias, accelerometer and magnetometer noise. Contenders, each
with and without the magnetometer:

- ``nkt``: :func:`nkt_motion.dsp.madgwick` / :func:`~nkt_motion.dsp.mahony`, all
  four sensors in one call.
- ``ahrs``: ``ahrs.filters.Madgwick`` / ``Mahony`` in their batch form (the whole
  recording given to the constructor), one sensor at a time: the baseline, run
  in the same process and the same run.

Each runs ``--repeat`` times; the best wall time counts. The script prints the
ratio to the baseline and, as a check that both computed the same thing, the
largest angle between the two filters' Madgwick IMU quaternions (same gain,
same first quaternion). Usage::

    python benchmarks/bench_imu.py [--minutes 10] [--sensors 4] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import numpy as np
from scipy.spatial.transform import Rotation

from nkt_motion.dsp import madgwick, mahony
from nkt_motion.dsp.quaternion import quat_angle

FS = 100.0
MAG = np.array([20.0, 0.0, -40.0])  # uT, x = magnetic north
BETA = 0.033


def make_data(n_sensors: int, n: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Gyro, accelerometer, magnetometer (n_sensors, 3, n), first quaternions (n_sensors, 4)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / FS
    gyr, acc, mag, q0 = [], [], [], []
    for s in range(n_sensors):
        f = 0.2 + 0.1 * s
        yaw, pitch, roll = (
            0.6 * np.sin(f * t),
            0.35 * np.sin(1.7 * f * t + 1),
            0.25 * np.sin(f * t),
        )
        rot = Rotation.from_euler("ZYX", np.c_[yaw, pitch, roll])
        step = (rot[:-1].inv() * rot[1:]).as_rotvec() * FS
        g = np.vstack([step[:1], step]) + rng.normal(0, 0.01, (n, 3)) + [0.01, -0.02, 0.005]
        gyr.append(g.T)
        acc.append((rot.inv().apply([0.0, 0.0, 9.81]) + rng.normal(0, 0.05, (n, 3))).T)
        mag.append((rot.inv().apply(MAG) + rng.normal(0, 0.3, (n, 3))).T)
        q0.append(rot[0].as_quat()[[3, 0, 1, 2]])
    return np.array(gyr), np.array(acc), np.array(mag), np.array(q0)


def contenders(
    gyr: np.ndarray, acc: np.ndarray, mag: np.ndarray | None, q0: np.ndarray
) -> dict[str, Callable[[], object]]:
    """The four runs on one input (``mag`` None: IMU mode)."""
    from ahrs.filters import Madgwick, Mahony

    def per_sensor(cls: type, **kw: float) -> list[np.ndarray]:
        return [
            cls(
                gyr=gyr[s].T,
                acc=acc[s].T,
                mag=None if mag is None else mag[s].T,
                frequency=FS,
                q0=q0[s],
                **kw,
            ).Q
            for s in range(len(gyr))
        ]

    return {
        "nkt madgwick": lambda: madgwick(gyr, acc, FS, mag=mag, beta=BETA, q0=q0),
        "ahrs madgwick": lambda: per_sensor(Madgwick, gain=BETA),
        "nkt mahony": lambda: mahony(gyr, acc, FS, mag=mag, kp=2.0, ki=0.005, q0=q0),
        "ahrs mahony": lambda: per_sensor(Mahony, k_P=2.0, k_I=0.005),
    }


def best(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Best wall time of ``repeat`` calls, and the last result."""
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--sensors", type=int, default=4)
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    n = int(a.minutes * 60 * FS)
    gyr, acc, mag, q0 = make_data(a.sensors, n)
    print(f"{a.sensors} sensors x {a.minutes:g} min x {FS:g} Hz; load {os.getloadavg()[0]:.2f}")
    madgwick(gyr[:, :, :10], acc[:, :, :10], FS, q0=q0)  # compile (or load) the loops
    mahony(gyr[:, :, :10], acc[:, :, :10], FS, q0=q0)
    for kind, m in (("IMU ", None), ("MARG", mag)):
        runs = {k: best(fn, a.repeat) for k, fn in contenders(gyr, acc, m, q0).items()}
        for name in ("madgwick", "mahony"):
            mine, peer = runs[f"nkt {name}"][0], runs[f"ahrs {name}"][0]
            print(
                f"{kind} {name:<9} nkt {mine * 1e3:8.1f} ms   ahrs {peer * 1e3:8.1f} ms   "
                f"nkt is {peer / mine:6.0f}x faster"
            )
        if m is None:
            ours = np.moveaxis(np.asarray(runs["nkt madgwick"][1]), 1, 2)
            theirs = np.asarray(runs["ahrs madgwick"][1])
            angle = np.rad2deg(quat_angle(ours, theirs)).max()
            print(f"     madgwick IMU: largest angle between nkt and ahrs {angle:.2e} deg")
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
