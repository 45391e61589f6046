"""The timeline of a simulated session and the per-trial truth drawn for it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from nkt_motion.simulate.scenario import Scenario
from nkt_motion.vocab import format_emg_label, muscle_id

__all__ = ["Window", "draw_activations", "draw_kinematics", "schedule"]


@dataclass(frozen=True, slots=True)
class Window:
    """One event of the simulated session.

    Attributes
    ----------
    label : str
        Event label (``rest``, ``ref/GMED``, ``pre/test/GMED``, ``correction``, ...).
    phase : str
        ``rest``, ``ref``, ``pre``, ``post`` or ``correction``.
    trial : int
        0-based number among the events with the same label.
    start_s, stop_s : float
        Event bounds in seconds on the session clock.
    code : str or None
        Muscle code of ``ref`` events.
    """

    label: str
    phase: str
    trial: int
    start_s: float
    stop_s: float
    code: str | None = None


def schedule(sc: Scenario) -> tuple[list[Window], float]:
    """Lay out the events of a scenario.

    Parameters
    ----------
    sc : Scenario
        The scenario.

    Returns
    -------
    windows : list of Window
        In time order: rest, one ref per muscle, pre trials, correction, post trials.
    duration_s : float
        Length of the recording in seconds: the end of the last trial plus
        ``gap_s``, rounded up to a whole second.

    Examples
    --------
    >>> from nkt_motion.simulate import gmed_adl_hip_flexion
    >>> windows, duration = schedule(gmed_adl_hip_flexion(n_trials=3))
    >>> [w.label for w in windows][:3], duration
    (['rest', 'ref/GMED', 'ref/ADL'], 64.0)
    """
    blocks: list[tuple[str, str, float, str | None]] = [("rest", "rest", sc.rest_s, None)]
    blocks += [(f"ref/{c}", "ref", sc.ref_s, c) for c in sc.codes]
    blocks += [(f"pre/test/{sc.tested}", "pre", sc.trial_s, None)] * sc.n_pre
    blocks += [("correction", "correction", sc.correction_s, None)]
    blocks += [(f"post/test/{sc.tested}", "post", sc.trial_s, None)] * sc.n_post
    windows: list[Window] = []
    counts: dict[str, int] = {}
    t = 0.0
    for label, phase, length, code in blocks:
        k = counts.get(label, 0)
        counts[label] = k + 1
        windows.append(Window(label, phase, k, t, t + length, code))
        t += length + sc.gap_s
    end = windows[-1].stop_s + sc.gap_s
    return windows, float(math.ceil(end - 1e-9))


def _activation_frame(sc: Scenario, rows: dict[str, list[Any]]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    gains = {m.code: m.gain_uv for m in sc.muscles}
    df["muscle"] = [muscle_id(c) for c in df["code"]]
    df["channel"] = [format_emg_label(c, sc.side) for c in df["code"]]
    df["onset_s"] = df["start_s"] + df["onset_rel_s"]
    df["plateau_start_s"] = df["onset_s"] + sc.emg.ramp_s
    df["plateau_stop_s"] = df["stop_s"] - sc.emg.ramp_s
    df["plateau_rms_uv"] = df["code"].map(gains) * df["level"]
    cols = ["phase", "label", "trial", "muscle", "code", "channel", "level", "start_s"]
    cols += ["onset_rel_s", "onset_s", "plateau_start_s", "plateau_stop_s", "stop_s"]
    return df[[*cols, "plateau_rms_uv"]]


def draw_activations(
    sc: Scenario, windows: list[Window], rng: np.random.Generator
) -> pd.DataFrame:
    """Draw each trial's level and onset per muscle.

    Parameters
    ----------
    sc : Scenario
        The scenario.
    windows : list of Window
        From :func:`schedule`.
    rng : numpy.random.Generator
        Source of the trial-to-trial variability.

    Returns
    -------
    pandas.DataFrame
        One row per ref event (its muscle only, level 1.0) and per test trial and
        muscle: ``phase``, ``label``, ``trial``, ``muscle`` (id), ``code``,
        ``channel``, ``level``, ``start_s`` and ``stop_s`` (event bounds, s),
        ``onset_rel_s`` (s after the event start), ``onset_s`` (session time, s),
        ``plateau_start_s``/``plateau_stop_s`` (s) and ``plateau_rms_uv`` (RMS of
        the noise-free EMG over the plateau, uV).

    Examples
    --------
    >>> import numpy as np
    >>> from nkt_motion.simulate import gmed_adl_hip_flexion
    >>> sc = gmed_adl_hip_flexion(n_trials=3)
    >>> acts = draw_activations(sc, schedule(sc)[0], np.random.default_rng(0))
    >>> acts.groupby("phase").size().to_dict()
    {'post': 9, 'pre': 9, 'ref': 3}
    """
    refs = [w for w in windows if w.phase == "ref"]
    tests = [w for w in windows if w.phase in ("pre", "post")]
    n_m = len(sc.muscles)
    base_level = np.array([[getattr(m, w.phase).level for m in sc.muscles] for w in tests])
    base_onset = np.array([[getattr(m, w.phase).onset_s for m in sc.muscles] for w in tests])
    var = sc.variability
    level = base_level * np.exp(var.level_sd * rng.standard_normal(base_level.shape))
    latest = sc.trial_s - 2 * sc.emg.ramp_s
    onset = np.clip(base_onset + var.onset_sd_s * rng.standard_normal(base_onset.shape), 0, latest)
    rows: dict[str, list[Any]] = {
        "phase": ["ref"] * len(refs) + [w.phase for w in tests for _ in range(n_m)],
        "label": [w.label for w in refs] + [w.label for w in tests for _ in range(n_m)],
        "trial": [w.trial for w in refs] + [w.trial for w in tests for _ in range(n_m)],
        "code": [w.code for w in refs] + list(sc.codes) * len(tests),
        "level": [1.0] * len(refs) + level.ravel().tolist(),
        "start_s": [w.start_s for w in refs] + [w.start_s for w in tests for _ in range(n_m)],
        "stop_s": [w.stop_s for w in refs] + [w.stop_s for w in tests for _ in range(n_m)],
        "onset_rel_s": [sc.ref_onset_s] * len(refs) + onset.ravel().tolist(),
    }
    return _activation_frame(sc, rows)


def draw_kinematics(sc: Scenario, windows: list[Window], rng: np.random.Generator) -> pd.DataFrame:
    """Draw each test trial's peak angles.

    Parameters
    ----------
    sc : Scenario
        The scenario.
    windows : list of Window
        From :func:`schedule`.
    rng : numpy.random.Generator
        Source of the trial-to-trial variability.

    Returns
    -------
    pandas.DataFrame
        One row per test trial: ``phase``, ``label``, ``trial``, ``start_s``,
        ``stop_s``, ``plateau_start_s``, ``plateau_stop_s`` (s; the posture is held
        between the plateau bounds), ``stance_side``, and in deg
        ``pelvic_drop_deg`` (contralateral drop, positive = opposite side lower),
        ``pelvis_obliquity_deg`` (pelvis roll, positive = left side higher),
        ``trunk_lean_deg`` (toward the stance side), ``trunk_roll_deg`` (trunk
        roll about x: negative when the trunk leans toward the left),
        ``hip_adduction_deg`` (stance thigh) and
        ``hip_flexion_deg`` (moving thigh).

    Examples
    --------
    >>> import numpy as np
    >>> from nkt_motion.simulate import gmed_adl_hip_flexion
    >>> sc = gmed_adl_hip_flexion(n_trials=3, side="R")
    >>> kin = draw_kinematics(sc, schedule(sc)[0], np.random.default_rng(0))
    >>> bool((kin.pelvis_obliquity_deg == -kin.pelvic_drop_deg).all())
    True
    """
    tests = [w for w in windows if w.phase in ("pre", "post")]
    names = ("pelvic_drop_deg", "trunk_lean_deg", "hip_adduction_deg", "hip_flexion_deg")
    base = np.array([[getattr(getattr(sc, w.phase), n) for n in names] for w in tests])
    peaks = base + sc.variability.angle_sd_deg * rng.standard_normal(base.shape)
    peaks[:, 3] = np.clip(peaks[:, 3], 0.0, 120.0)
    sign = 1.0 if sc.side == "L" else -1.0
    ramp = sc.imu.posture_ramp_s
    df = pd.DataFrame(
        {
            "phase": [w.phase for w in tests],
            "label": [w.label for w in tests],
            "trial": [w.trial for w in tests],
            "start_s": [w.start_s for w in tests],
            "stop_s": [w.stop_s for w in tests],
            "plateau_start_s": [w.start_s + ramp for w in tests],
            "plateau_stop_s": [w.stop_s - ramp for w in tests],
            "stance_side": sc.side,
        }
    )
    for j, name in enumerate(names):
        df[name] = peaks[:, j]
    df["pelvis_obliquity_deg"] = sign * df["pelvic_drop_deg"]
    df["trunk_roll_deg"] = -sign * df["trunk_lean_deg"]
    return df
