"""Signal processing: pure array functions ``f(x, fs, *, ..., axis=-1)``, channels first.

EMG: filters, envelope and RMS, onsets, co-contraction, spectral fatigue
indices, normalisation, quality checks and their streaming forms.
"""

from nkt_motion.dsp._validate import bridge_nans
from nkt_motion.dsp.angles import (
    CompensationPeaks,
    compensation_peaks,
    hip_adduction,
    hip_flexion,
    pelvis_obliquity,
    segment_euler,
    trunk_lean,
)
from nkt_motion.dsp.cocontraction import cocontraction
from nkt_motion.dsp.envelope import envelope, moving_rms, rectify, tkeo, window_samples
from nkt_motion.dsp.filters import (
    apply_sos,
    bandpass,
    bandpass_notch,
    bandpass_notch_sos,
    bandpass_sos,
    highpass,
    highpass_sos,
    lowpass,
    lowpass_sos,
    min_length,
    notch,
    notch_sos,
    settle_length,
)
from nkt_motion.dsp.imu import (
    STANDARD_GRAVITY,
    accel_tilt,
    detect_still,
    gyro_bias,
    initial_quaternion,
)
from nkt_motion.dsp.normalise import NORMALISATIONS, normalise
from nkt_motion.dsp.onsets import DEFAULT_THRESHOLDS, bonato_zeta, detect_onsets, onsets_to_frame
from nkt_motion.dsp.orientation import madgwick, madgwick_beta, mahony
from nkt_motion.dsp.quality import QUALITY_THRESHOLDS, check_quality
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
from nkt_motion.dsp.spectral import (
    SpectralFrequencies,
    median_frequency_slope,
    spectral_frequencies,
)
from nkt_motion.dsp.streaming import StreamingEmgChain, StreamingFilter, StreamingRMS

__all__ = [
    "DEFAULT_THRESHOLDS",
    "NORMALISATIONS",
    "QUALITY_THRESHOLDS",
    "STANDARD_GRAVITY",
    "CompensationPeaks",
    "SpectralFrequencies",
    "StreamingEmgChain",
    "StreamingFilter",
    "StreamingRMS",
    "accel_tilt",
    "apply_sos",
    "bandpass",
    "bandpass_notch",
    "bandpass_notch_sos",
    "bandpass_sos",
    "bonato_zeta",
    "bridge_nans",
    "check_quality",
    "cocontraction",
    "compensation_peaks",
    "detect_onsets",
    "detect_still",
    "envelope",
    "gyro_bias",
    "highpass",
    "highpass_sos",
    "hip_adduction",
    "hip_flexion",
    "initial_quaternion",
    "lowpass",
    "lowpass_sos",
    "madgwick",
    "madgwick_beta",
    "mahony",
    "median_frequency_slope",
    "min_length",
    "moving_rms",
    "normalise",
    "notch",
    "notch_sos",
    "onsets_to_frame",
    "pelvis_obliquity",
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
    "rectify",
    "segment_euler",
    "settle_length",
    "spectral_frequencies",
    "tkeo",
    "trunk_lean",
    "window_samples",
]
