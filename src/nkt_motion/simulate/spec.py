"""Parts of a simulation scenario: muscles, postures, signal models and faults.

Every class is a frozen dataclass that checks its fields on construction and
raises :class:`~nkt_motion.errors.ValidationError` naming the field, what is
allowed and what came. :class:`~nkt_motion.simulate.Scenario` puts them together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, get_args

from nkt_motion.errors import ValidationError
from nkt_motion.simulate import _checks as chk

__all__ = [
    "FAULT_KINDS",
    "Activation",
    "EmgModel",
    "Fault",
    "FaultKind",
    "ImuModel",
    "MuscleSpec",
    "Posture",
    "Variability",
]

FaultKind = Literal["electrode_off", "clipping", "dead"]
FAULT_KINDS: Final[tuple[FaultKind, ...]] = get_args(FaultKind)


@dataclass(frozen=True, slots=True)
class Activation:
    """Activation of one muscle during the test trials of one phase.

    Parameters
    ----------
    level : float
        Plateau activation relative to the muscle's reference contraction
        (``ref/<CODE>`` has level 1.0 by definition), >= 0. Exactly: the RMS of
        the noise-free EMG over the trial's plateau divided by the RMS of the
        noise-free EMG over the reference plateau.
    onset_s : float
        Time from the trial start to the activation onset in seconds, >= 0.

    Examples
    --------
    >>> Activation(0.5, onset_s=0.2).level
    0.5
    """

    level: float
    onset_s: float = 0.2

    def __post_init__(self) -> None:
        object.__setattr__(self, "level", chk.number(self.level, name="Activation.level", low=0))
        object.__setattr__(
            self, "onset_s", chk.number(self.onset_s, name="Activation.onset_s", low=0)
        )


@dataclass(frozen=True, slots=True)
class MuscleSpec:
    """One EMG channel: the muscle, its electrode gain and its activation per phase.

    Parameters
    ----------
    code : str
        Muscle code or id (``"GMED"``, ``"adductor_longus"``); stored as the code.
    gain_uv : float
        RMS in uV of the noise-free EMG at level 1.0 (the reference plateau), > 0.
        Electrodes differ, so raw amplitudes of two muscles are not comparable;
        only levels (amplitudes normalised to each muscle's reference) are.
    pre, post : Activation
        Activation during the pre-correction and post-correction test trials.

    Examples
    --------
    >>> MuscleSpec("gluteus_medius", 80.0, pre=Activation(0.5), post=Activation(0.8)).code
    'GMED'
    """

    code: str
    gain_uv: float
    pre: Activation
    post: Activation

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", chk.code(self.code, name="MuscleSpec.code"))
        gain = chk.number(self.gain_uv, name="MuscleSpec.gain_uv", low=0, strict=True)
        object.__setattr__(self, "gain_uv", gain)
        chk.instance(self.pre, Activation, name="MuscleSpec.pre")
        chk.instance(self.post, Activation, name="MuscleSpec.post")


@dataclass(frozen=True, slots=True)
class Posture:
    """Peak angles (deg) reached during each test trial of one phase.

    Parameters
    ----------
    pelvic_drop_deg : float
        Drop of the pelvis on the side opposite the stance side, deg (positive =
        the contralateral side is lower), within +-45.
    trunk_lean_deg : float
        Trunk lateral lean toward the stance side (ipsilateral), deg, within +-45.
    hip_adduction_deg : float
        Adduction of the stance thigh relative to the pelvis, deg, within +-45.
    hip_flexion_deg : float
        Flexion of the moving (non-stance) thigh relative to the pelvis, deg, 0-120.

    Examples
    --------
    >>> Posture(pelvic_drop_deg=8.0, trunk_lean_deg=5.0).hip_flexion_deg
    0.0
    """

    pelvic_drop_deg: float = 0.0
    trunk_lean_deg: float = 0.0
    hip_adduction_deg: float = 0.0
    hip_flexion_deg: float = 0.0

    def __post_init__(self) -> None:
        for name in ("pelvic_drop_deg", "trunk_lean_deg", "hip_adduction_deg"):
            value = chk.number(getattr(self, name), name=f"Posture.{name}", low=-45, high=45)
            object.__setattr__(self, name, value)
        flex = chk.number(self.hip_flexion_deg, name="Posture.hip_flexion_deg", low=0, high=120)
        object.__setattr__(self, "hip_flexion_deg", flex)


@dataclass(frozen=True, slots=True)
class Variability:
    """Trial-to-trial variability, drawn from the scenario's seed.

    Parameters
    ----------
    level_sd : float
        SD of the natural log of a trial's level (log-normal, so levels stay
        positive; about the coefficient of variation when small), 0-1.
    onset_sd_s : float
        SD of a trial's onset in seconds, >= 0 (onsets are clipped into the trial).
    angle_sd_deg : float
        SD of each trial's peak angles in deg, >= 0.

    Examples
    --------
    >>> Variability(level_sd=0.0).onset_sd_s
    0.01
    """

    level_sd: float = 0.05
    onset_sd_s: float = 0.01
    angle_sd_deg: float = 0.5

    def __post_init__(self) -> None:
        sd = chk.number(self.level_sd, name="Variability.level_sd", low=0, high=1)
        object.__setattr__(self, "level_sd", sd)
        on = chk.number(self.onset_sd_s, name="Variability.onset_sd_s", low=0, high=1)
        object.__setattr__(self, "onset_sd_s", on)
        ang = chk.number(self.angle_sd_deg, name="Variability.angle_sd_deg", low=0, high=10)
        object.__setattr__(self, "angle_sd_deg", ang)


@dataclass(frozen=True, slots=True)
class EmgModel:
    """How the EMG is made: spectrum, ramps, baseline noise and mains.

    Parameters
    ----------
    baseline_rms_uv : float
        RMS in uV of the independent white Gaussian baseline noise, >= 0.
    mains_uv : float
        Peak amplitude in uV of the mains fundamental (at the scenario's
        ``power_line_hz``), >= 0; 0 means no mains interference.
    mains_harmonics : tuple of float
        Amplitudes of the 2nd, 3rd, ... harmonics relative to the fundamental.
    ramp_s : float
        Length in seconds of the raised-cosine rise and fall of each activation, > 0.
    spectrum_low_hz, spectrum_high_hz : float
        Corner frequencies of the sEMG spectral shape (see
        :func:`~nkt_motion.simulate.semg_noise`), 0 < low < high.

    Examples
    --------
    >>> EmgModel(mains_uv=20.0, mains_harmonics=(0.3,)).ramp_s
    0.075
    """

    baseline_rms_uv: float = 2.0
    mains_uv: float = 0.0
    mains_harmonics: tuple[float, ...] = ()
    ramp_s: float = 0.075
    spectrum_low_hz: float = 60.0
    spectrum_high_hz: float = 120.0

    def __post_init__(self) -> None:
        base = chk.number(self.baseline_rms_uv, name="EmgModel.baseline_rms_uv", low=0)
        object.__setattr__(self, "baseline_rms_uv", base)
        object.__setattr__(
            self, "mains_uv", chk.number(self.mains_uv, name="EmgModel.mains_uv", low=0)
        )
        harm = tuple(
            chk.number(h, name="EmgModel.mains_harmonics", low=0) for h in self.mains_harmonics
        )
        object.__setattr__(self, "mains_harmonics", harm)
        ramp = chk.number(self.ramp_s, name="EmgModel.ramp_s", low=0.001, high=1.0)
        object.__setattr__(self, "ramp_s", ramp)
        lo = chk.number(self.spectrum_low_hz, name="EmgModel.spectrum_low_hz", low=0, strict=True)
        hi = chk.number(
            self.spectrum_high_hz, name="EmgModel.spectrum_high_hz", low=lo, strict=True
        )
        object.__setattr__(self, "spectrum_low_hz", lo)
        object.__setattr__(self, "spectrum_high_hz", hi)


@dataclass(frozen=True, slots=True)
class ImuModel:
    """How the IMU signals are made: posture ramps, sensor noise and gyro bias.

    Parameters
    ----------
    posture_ramp_s : float
        Length in seconds of the raised-cosine move into and out of each test
        posture, > 0.
    acc_noise_sd : float
        SD of the white accelerometer noise in m/s^2, >= 0.
    gyro_noise_sd : float
        SD of the white gyroscope noise in deg/s, >= 0.
    gyro_bias_dps : tuple of 3 float
        Constant gyroscope bias in deg/s on the sensor x, y and z axes (same on
        every site).

    Examples
    --------
    >>> ImuModel(acc_noise_sd=0.0, gyro_noise_sd=0.0, gyro_bias_dps=(0, 0, 0)).posture_ramp_s
    0.5
    """

    posture_ramp_s: float = 0.5
    acc_noise_sd: float = 0.02
    gyro_noise_sd: float = 0.1
    gyro_bias_dps: tuple[float, float, float] = (0.3, -0.2, 0.1)

    def __post_init__(self) -> None:
        ramp = chk.number(self.posture_ramp_s, name="ImuModel.posture_ramp_s", low=0.01, high=5)
        object.__setattr__(self, "posture_ramp_s", ramp)
        acc = chk.number(self.acc_noise_sd, name="ImuModel.acc_noise_sd", low=0)
        object.__setattr__(self, "acc_noise_sd", acc)
        gyr = chk.number(self.gyro_noise_sd, name="ImuModel.gyro_noise_sd", low=0)
        object.__setattr__(self, "gyro_noise_sd", gyr)
        bias = tuple(chk.number(b, name="ImuModel.gyro_bias_dps") for b in self.gyro_bias_dps)
        if len(bias) != 3:
            raise ValidationError(
                f"ImuModel.gyro_bias_dps must hold 3 numbers (x, y, z), got {len(bias)}",
                parameter="ImuModel.gyro_bias_dps",
            )
        object.__setattr__(self, "gyro_bias_dps", bias)


@dataclass(frozen=True, slots=True)
class Fault:
    """A fault injected into one EMG channel over ``[start_s, stop_s)``.

    Parameters
    ----------
    code : str
        Muscle code of the channel (must be one of the scenario's muscles).
    kind : {"electrode_off", "clipping", "dead"}
        ``electrode_off``: the signal is replaced by a near-flat line (white
        noise of 0.1 uV RMS) plus a linear drift from 0 to ``drift_uv``;
        ``clipping``: the signal saturates at +-``clip_uv``; ``dead``: zeros.
    start_s : float
        Start of the fault in seconds on the session clock, >= 0.
    stop_s : float or None
        End of the fault in seconds; None means the end of the recording.
    clip_uv : float
        Saturation level in uV for ``clipping``, > 0.
    drift_uv : float
        Drift in uV reached at the end of an ``electrode_off`` fault.

    Examples
    --------
    >>> Fault("ADL", "clipping", clip_uv=50.0).kind
    'clipping'
    """

    code: str
    kind: FaultKind
    start_s: float = 0.0
    stop_s: float | None = None
    clip_uv: float = 100.0
    drift_uv: float = 40.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", chk.code(self.code, name="Fault.code"))
        chk.choice(self.kind, name="Fault.kind", allowed=FAULT_KINDS)
        start = chk.number(self.start_s, name="Fault.start_s", low=0)
        object.__setattr__(self, "start_s", start)
        if self.stop_s is not None:
            stop = chk.number(self.stop_s, name="Fault.stop_s", low=start, strict=True)
            object.__setattr__(self, "stop_s", stop)
        clip = chk.number(self.clip_uv, name="Fault.clip_uv", low=0, strict=True)
        object.__setattr__(self, "clip_uv", clip)
        object.__setattr__(self, "drift_uv", chk.number(self.drift_uv, name="Fault.drift_uv"))
