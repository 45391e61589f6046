"""Surface-EMG synthesis from first principles (no dependence on ``nkt_motion.dsp``).

Model of one channel, in uV::

    x(t) = gain * sum_k level_k * e_k(t) * c(t) / rms_k(c)  +  n(t)  +  mains(t)

- ``c(t)`` is a zero-mean Gaussian carrier with an sEMG-like spectrum (see
  :func:`semg_noise`), independent between channels.
- ``e_k`` is the unit activation envelope of activation ``k`` (see
  :func:`activation_envelope`): 0 before the onset, a raised-cosine rise over
  ``ramp_s``, 1 on the plateau, a raised-cosine fall ending at the event end.
- ``rms_k(c)`` is the RMS of the carrier over that activation's plateau, so the
  noise-free EMG has an RMS of exactly ``gain * level_k`` over every plateau:
  the reference contraction (level 1.0) has plateau RMS ``gain`` and a level is
  exactly a plateau RMS normalised to the reference plateau RMS.
- ``n(t)`` is independent white Gaussian baseline noise; ``mains(t)`` a sum of
  sines at the power-line frequency and its harmonics with a random phase.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from nkt_motion.simulate.scenario import Scenario

__all__ = ["activation_envelope", "apply_faults", "quiet_emg", "semg_noise", "synthesize_emg"]

logger = logging.getLogger(__name__)

#: Band edges (Hz) and order of the Butterworth-magnitude taper applied to the
#: carrier spectrum; the recommended sEMG band is 20-450 Hz (De Luca et al. 2010).
_BAND = (20.0, 450.0)
_TAPER_ORDER = 4
#: RMS (uV) of the residual noise on an ``electrode_off`` channel.
_OFF_NOISE_UV = 0.1


def semg_noise(
    n_channels: int,
    n_samples: int,
    fs: float,
    *,
    rng: np.random.Generator,
    low_hz: float = 60.0,
    high_hz: float = 120.0,
) -> NDArray[np.float64]:
    """Draw independent Gaussian noise with an sEMG-like spectrum, unit RMS per channel.

    The power spectral density follows the shape of Shwedyk, Balasubramanian and
    Scott (IEEE Trans Biomed Eng 1977;24:417),
    ``P(f) = f^2 / ((f^2 + low^2) (f^2 + high^2)^2)``, tapered by 4th-order
    Butterworth magnitudes at 20 and 450 Hz; with the defaults the peak is near
    65 Hz and over 99 % of the power lies in 20-450 Hz. White noise is shaped in
    the frequency domain and each channel scaled to an RMS of exactly 1.

    Parameters
    ----------
    n_channels, n_samples : int
        Output shape.
    fs : float
        Sampling rate in Hz.
    rng : numpy.random.Generator
        Source of the noise.
    low_hz, high_hz : float
        Corner frequencies of the spectral shape in Hz.

    Returns
    -------
    numpy.ndarray, shape (n_channels, n_samples)
        Dimensionless noise, RMS 1 in each row.

    Examples
    --------
    >>> import numpy as np
    >>> c = semg_noise(2, 4000, 2000.0, rng=np.random.default_rng(0))
    >>> c.shape, np.sqrt(np.mean(c**2, axis=-1)).round(12).tolist()
    ((2, 4000), [1.0, 1.0])
    """
    f = np.fft.rfftfreq(n_samples, d=1.0 / fs)
    psd = f**2 / ((f**2 + low_hz**2) * (f**2 + high_hz**2) ** 2)
    with np.errstate(divide="ignore"):
        taper = 1.0 / (1.0 + (_BAND[0] / f) ** (2 * _TAPER_ORDER))
    taper *= 1.0 / (1.0 + (f / _BAND[1]) ** (2 * _TAPER_ORDER))
    spectrum = np.fft.rfft(rng.standard_normal((n_channels, n_samples)), axis=-1)
    out = np.fft.irfft(spectrum * np.sqrt(psd * taper), n=n_samples, axis=-1)
    rms = np.sqrt(np.mean(out**2, axis=-1, keepdims=True))
    return np.asarray(out / rms, dtype=np.float64)


def activation_envelope(
    t: NDArray[np.float64],
    *,
    onset: float | NDArray[np.float64],
    stop: float | NDArray[np.float64],
    ramp: float,
) -> NDArray[np.float64]:
    """Return a unit activation envelope with raised-cosine ramps.

    ``e(t) = r((t - onset) / ramp) * r((stop - t) / ramp)`` with
    ``r(u) = (1 - cos(pi * clip(u, 0, 1))) / 2``: exactly 0 up to ``onset``,
    rising to 1 at ``onset + ramp``, 1 until ``stop - ramp``, 0 from ``stop``.

    Parameters
    ----------
    t : numpy.ndarray, shape (n,)
        Times in seconds.
    onset, stop : float or numpy.ndarray
        Start of the rise and end of the fall in seconds (``stop - onset >= 2 ramp``);
        arrays broadcast against ``t`` (e.g. shape (n_windows, 1) for several windows).
    ramp : float
        Rise and fall time in seconds, > 0.

    Returns
    -------
    numpy.ndarray, shape (n,) or broadcast shape
        Envelope values in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> activation_envelope(np.array([0.0, 0.1, 0.15, 0.5, 1.0]), onset=0.1, stop=1.0,
    ...                     ramp=0.1).round(12).tolist()
    [0.0, 0.0, 0.5, 1.0, 0.0]
    """
    rise = np.clip((t - onset) / ramp, 0.0, 1.0)
    fall = np.clip((stop - t) / ramp, 0.0, 1.0)
    return np.asarray(0.25 * (1 - np.cos(np.pi * rise)) * (1 - np.cos(np.pi * fall)))


def _index(time_s: float, fs: float) -> int:
    """First sample index at or after ``time_s``."""
    return int(np.ceil(time_s * fs - 1e-9))


def _activity(
    sc: Scenario, acts: pd.DataFrame, n_samples: int, rng: np.random.Generator
) -> NDArray[np.float64]:
    """Noise-free EMG (uV), shape (n_muscles, n_samples); loops over activations only."""
    fs = sc.fs_emg
    carrier = semg_noise(
        len(sc.muscles),
        n_samples,
        fs,
        rng=rng,
        low_hz=sc.emg.spectrum_low_hz,
        high_hz=sc.emg.spectrum_high_hz,
    )
    out = np.zeros((len(sc.muscles), n_samples))
    row = {c: i for i, c in enumerate(sc.codes)}
    channels = [row[str(c)] for c in acts["code"]]
    cols = ("onset_s", "stop_s", "plateau_start_s", "plateau_stop_s", "plateau_rms_uv")
    table = acts.loc[:, list(cols)].to_numpy(dtype=np.float64)
    for ch, (onset, stop, p_start, p_stop, rms_uv) in zip(channels, table, strict=True):
        lo, hi = _index(onset, fs), min(_index(stop, fs), n_samples)
        p_lo, p_hi = _index(p_start, fs), _index(p_stop, fs)
        scale = 1.0 / np.sqrt(np.mean(carrier[ch, p_lo:p_hi] ** 2))
        env = activation_envelope(
            np.arange(lo, hi) / fs, onset=onset, stop=stop, ramp=sc.emg.ramp_s
        )
        out[ch, lo:hi] += rms_uv * scale * env * carrier[ch, lo:hi]
    return out


def _mains(sc: Scenario, n_samples: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """Mains interference (uV), shape (n_muscles, n_samples)."""
    t = np.arange(n_samples) / sc.fs_emg
    amps = np.array([1.0, *sc.emg.mains_harmonics]) * sc.emg.mains_uv
    freqs = sc.power_line_hz * np.arange(1, len(amps) + 1)
    phase = rng.uniform(0, 2 * np.pi, size=(len(sc.muscles), len(amps), 1))
    waves = amps[None, :, None] * np.sin(2 * np.pi * freqs[None, :, None] * t + phase)
    return np.asarray(waves.sum(axis=1))


def quiet_emg(sc: Scenario, n_samples: int, *, rng: np.random.Generator) -> NDArray[np.float64]:
    """EMG of relaxed muscles: the scenario's baseline noise and mains only.

    Parameters
    ----------
    sc : Scenario
        Gives the channels, the baseline noise and the mains model.
    n_samples : int
        Length at ``sc.fs_emg``.
    rng : numpy.random.Generator
        Source of the noise and the mains phases.

    Returns
    -------
    numpy.ndarray, shape (n_muscles, n_samples)
        EMG in uV, rows in the order of ``sc.muscles``.

    Examples
    --------
    >>> import numpy as np
    >>> from nkt_motion.simulate import gmed_adl_hip_flexion
    >>> x = quiet_emg(gmed_adl_hip_flexion(), 4000, rng=np.random.default_rng(0))
    >>> x.shape, np.sqrt(np.mean(x**2, axis=-1)).round(1).tolist()
    ((3, 4000), [2.0, 2.0, 2.0])
    """
    x = sc.emg.baseline_rms_uv * rng.standard_normal((len(sc.muscles), n_samples))
    if sc.emg.mains_uv > 0:
        x += _mains(sc, n_samples, rng)
    return np.asarray(x, dtype=np.float64)


def apply_faults(
    x: NDArray[np.float64], sc: Scenario, *, rng: np.random.Generator
) -> NDArray[np.float64]:
    """Return a copy of the EMG with the scenario's faults injected.

    Parameters
    ----------
    x : numpy.ndarray, shape (n_muscles, n_samples)
        EMG in uV, rows in the order of ``sc.muscles``.
    sc : Scenario
        Holds the faults (see :class:`~nkt_motion.simulate.Fault`) and ``fs_emg``.
    rng : numpy.random.Generator
        Source of the residual noise of ``electrode_off`` faults.

    Returns
    -------
    numpy.ndarray, shape (n_muscles, n_samples)
        The faulty EMG in uV.

    Examples
    --------
    >>> import numpy as np
    >>> from nkt_motion.simulate import Fault, gmed_adl_hip_flexion
    >>> sc = gmed_adl_hip_flexion().replace(faults=(Fault("GMED", "dead"),))
    >>> y = apply_faults(np.ones((3, 10)), sc, rng=np.random.default_rng(0))
    >>> y.sum(axis=1).tolist()
    [0.0, 10.0, 10.0]
    """
    y = np.array(x, dtype=np.float64, copy=True)
    row = {c: i for i, c in enumerate(sc.codes)}
    for fault in sc.faults:
        ch = row[fault.code]
        lo = min(_index(fault.start_s, sc.fs_emg), y.shape[1])
        stop = y.shape[1] if fault.stop_s is None else _index(fault.stop_s, sc.fs_emg)
        hi = min(stop, y.shape[1])
        if fault.kind == "dead":
            y[ch, lo:hi] = 0.0
        elif fault.kind == "clipping":
            y[ch, lo:hi] = np.clip(y[ch, lo:hi], -fault.clip_uv, fault.clip_uv)
        else:
            drift = np.linspace(0.0, fault.drift_uv, hi - lo)
            y[ch, lo:hi] = drift + _OFF_NOISE_UV * rng.standard_normal(hi - lo)
    return y


def synthesize_emg(
    sc: Scenario, acts: pd.DataFrame, duration_s: float, *, seed: np.random.SeedSequence
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Make the recorded EMG of a scenario, and its noise-free activity.

    Parameters
    ----------
    sc : Scenario
        The scenario.
    acts : pandas.DataFrame
        Activation truth from :func:`~nkt_motion.simulate.schedule.draw_activations`.
    duration_s : float
        Recording length in seconds.
    seed : numpy.random.SeedSequence
        Seeds the carrier, baseline noise, mains phases and fault noise.

    Returns
    -------
    recorded : numpy.ndarray, shape (n_muscles, round(duration_s * fs_emg))
        EMG in uV, rows in the order of ``sc.muscles``: activity, baseline noise,
        mains and faults.
    clean : numpy.ndarray, shape (n_muscles, round(duration_s * fs_emg))
        The noise-free, fault-free activity alone, uV.

    Examples
    --------
    >>> import numpy as np
    >>> from nkt_motion.simulate import gmed_adl_hip_flexion
    >>> from nkt_motion.simulate.schedule import draw_activations, schedule
    >>> sc = gmed_adl_hip_flexion(n_trials=1)
    >>> windows, dur = schedule(sc)
    >>> acts = draw_activations(sc, windows, np.random.default_rng(0))
    >>> recorded, clean = synthesize_emg(sc, acts, dur, seed=np.random.SeedSequence(0))
    >>> recorded.shape, bool(np.all(clean[:, :10000] == 0))
    ((3, 88000), True)
    """
    n = round(duration_s * sc.fs_emg)
    r_carrier, r_noise, r_mains, r_fault = (np.random.default_rng(s) for s in seed.spawn(4))
    clean = _activity(sc, acts, n, r_carrier)
    x = clean.copy()
    if sc.emg.baseline_rms_uv > 0:
        x += sc.emg.baseline_rms_uv * r_noise.standard_normal(x.shape)
    if sc.emg.mains_uv > 0:
        x += _mains(sc, n, r_mains)
    if sc.faults:
        x = apply_faults(x, sc, rng=r_fault)
    logger.debug("simulated EMG: %d channels x %d samples at %g Hz", x.shape[0], n, sc.fs_emg)
    return x, clean
