"""Short simulated sessions and writers shared by the batch tests and their fixtures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from nkt_motion.io.bdf_write import write_bdf
from nkt_motion.simulate import gmed_adl_hip_flexion, simulate

#: A few seconds of signal per trial keep every analysis well under a second.
SHORT = {"trial_s": 1.5, "gap_s": 0.5, "correction_s": 1.0, "rest_s": 2.0, "ref_s": 1.5}
N_BOOT = 200


def short_session(preset=gmed_adl_hip_flexion, *, seed=0, **changes):
    scenario = preset(n_trials=3, seed=seed).replace(**{**SHORT, **changes})
    return simulate(scenario).session


def write_plain_bdf(session, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    ev = session.events
    ann = pd.DataFrame({"onset": ev["onset"], "duration": ev["duration"], "text": ev["label"]})
    write_bdf(path, list(session.streams.values()), ann, origin=0.0, subject=session.subject)
    return path


def write_tidy_csv(session, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    emg = session["emg"]
    frame = pd.DataFrame(emg.data.T, columns=list(emg.ch_names))
    frame.insert(0, "time", emg.t0 + np.arange(emg.n_samples) / emg.fs)
    frame.to_csv(path, index=False)
    ev = session.events[["onset", "duration", "label"]]
    ev.to_csv(path.with_name(path.name.removesuffix(".csv") + "_events.csv"), index=False)
    return path
