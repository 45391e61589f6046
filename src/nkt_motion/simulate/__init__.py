"""Ground-truth simulator: NKT muscle-test sessions with known activation and posture.

The simulator is an oracle for the processing stages, so it is built from first
principles (NumPy, SciPy rotations) and never imports ``nkt_motion.dsp``.
A :class:`Scenario` says what happens; :func:`simulate` returns the
:class:`~nkt_motion.Session` (streams ``emg`` and ``imu``, events) together with
the :class:`Truth` (levels, onsets, plateau amplitudes, ratios, peak angles,
faults, orientations). The EMG model is described in
:mod:`nkt_motion.simulate.emg`, the IMU conventions in :mod:`nkt_motion.simulate.imu`.

Examples
--------
>>> from nkt_motion.simulate import healthy_hip_flexion, simulate
>>> sim = simulate(healthy_hip_flexion(n_trials=3))
>>> sorted(sim.session.streams), sim.session.meta["simulated"]
(['emg', 'imu'], True)
"""

from nkt_motion.simulate.bilateral import BilateralSimulation, simulate_bilateral
from nkt_motion.simulate.build import SimulatedSession, Truth, simulate
from nkt_motion.simulate.emg import activation_envelope, apply_faults, quiet_emg, semg_noise
from nkt_motion.simulate.imu import GRAVITY, SITES, imu_from_orientation, site_orientations
from nkt_motion.simulate.presets import (
    bilateral_hip_flexion,
    gmed_adl_hip_flexion,
    healthy_hip_flexion,
)
from nkt_motion.simulate.scenario import Scenario
from nkt_motion.simulate.spec import (
    FAULT_KINDS,
    Activation,
    EmgModel,
    Fault,
    FaultKind,
    ImuModel,
    MuscleSpec,
    Posture,
    Variability,
)

__all__ = [
    "FAULT_KINDS",
    "GRAVITY",
    "SITES",
    "Activation",
    "BilateralSimulation",
    "EmgModel",
    "Fault",
    "FaultKind",
    "ImuModel",
    "MuscleSpec",
    "Posture",
    "Scenario",
    "SimulatedSession",
    "Truth",
    "Variability",
    "activation_envelope",
    "apply_faults",
    "bilateral_hip_flexion",
    "gmed_adl_hip_flexion",
    "healthy_hip_flexion",
    "imu_from_orientation",
    "quiet_emg",
    "semg_noise",
    "simulate",
    "simulate_bilateral",
    "site_orientations",
]
