"""Signal processing: pure array functions ``f(x, fs, *, ..., axis=-1)``, channels first.

EMG: filters, envelope and RMS, onsets, co-contraction, spectral fatigue
indices, normalisation, quality checks and their streaming forms.
"""

from nkt_motion.dsp._validate import bridge_nans
from nkt_motion.dsp.cocontraction import cocontraction
from nkt_motion.dsp.envelope import envelope, moving_rms, rectify, tkeo, window_samples
from nkt_motion.dsp.filters import (
    apply_sos,
    bandpass,
    bandpass_sos,
    highpass,
    highpass_sos,
    lowpass,
    lowpass_sos,
    min_length,
    notch,
    notch_sos,
)
from nkt_motion.dsp.normalise import NORMALISATIONS, normalise
from nkt_motion.dsp.onsets import DEFAULT_THRESHOLDS, bonato_zeta, detect_onsets, onsets_to_frame
from nkt_motion.dsp.quality import QUALITY_THRESHOLDS, check_quality
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
    "SpectralFrequencies",
    "StreamingEmgChain",
    "StreamingFilter",
    "StreamingRMS",
    "apply_sos",
    "bandpass",
    "bandpass_sos",
    "bonato_zeta",
    "bridge_nans",
    "check_quality",
    "cocontraction",
    "detect_onsets",
    "envelope",
    "highpass",
    "highpass_sos",
    "lowpass",
    "lowpass_sos",
    "median_frequency_slope",
    "min_length",
    "moving_rms",
    "normalise",
    "notch",
    "notch_sos",
    "onsets_to_frame",
    "rectify",
    "spectral_frequencies",
    "tkeo",
    "window_samples",
]
