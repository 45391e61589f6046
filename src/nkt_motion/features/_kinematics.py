"""Per-trial kinematic compensation signs from the session's IMU stream.

Angles come from :func:`nkt_motion.model._imu_session.imu_angles` and peaks
from :func:`~nkt_motion.model._imu_session.trial_compensation`, whose sign
conventions hold here: every peak is in degrees, relative to the median posture
over the ``rest`` events, signed so that larger means more compensation. The
stance side is the tested side. Hip hike is the peak rise of the pelvis on the
side opposite the stance side (the pelvic-drop peak taken with the sides swapped).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Final

import numpy as np
import pandas as pd

from nkt_motion.errors import NktMotionError
from nkt_motion.model import Session
from nkt_motion.model._imu_session import imu_angles, trial_compensation
from nkt_motion.vocab import Side

__all__ = ["SIGN_COLUMNS", "kinematic_features"]

logger = logging.getLogger(__name__)

#: Kinematic sign -> feature column (degrees).
SIGN_COLUMNS: Final[dict[str, str]] = {
    "contralateral_pelvic_drop": "pelvic_drop_deg",
    "hip_hike": "hip_hike_deg",
    "trunk_lean": "trunk_lean_deg",
    "hip_adduction": "hip_adduction_deg",
}
_PEAK: Final = {
    "pelvic_drop_deg": "pelvic_drop",
    "trunk_lean_deg": "trunk_lean",
    "hip_adduction_deg": "hip_adduction",
}


def _why_not(session: Session, stance: Side | None, stream: str) -> str:
    if stream not in session.streams:
        return "no IMU stream in the session"
    if stance is None:
        return "the tested side is unknown, so the stance side is too"
    ev = session.events
    if not (ev["label"] == "rest").any():
        return "no rest event to take the kinematic baseline from"
    return ""


def kinematic_features(
    session: Session,
    labels: Iterable[str],
    *,
    signs: Iterable[str],
    stance: Side | None,
    stream: str = "imu",
) -> tuple[pd.DataFrame, str]:
    """Peak kinematic signs for every trial of some labels.

    Parameters
    ----------
    session : Session
        The session.
    labels : iterable of str
        Event labels of the trials (e.g. ``pre/test/GMED``).
    signs : iterable of str
        Kinematic signs wanted (keys of :data:`SIGN_COLUMNS`).
    stance : {"L", "R"} or None
        Stance (tested) side.
    stream : str
        Name of the IMU stream.

    Returns
    -------
    table : pandas.DataFrame
        Index ``(label, trial)``, one column per wanted sign (degrees); NaN
        where the sensor for a sign is missing.
    reason : str
        Why every value is NaN (empty when angles were measured).
    """
    cols = [SIGN_COLUMNS[s] for s in dict.fromkeys(signs)]
    labels = list(dict.fromkeys(labels))
    index = pd.MultiIndex.from_tuples([], names=["label", "trial"])
    empty = pd.DataFrame(columns=cols, index=index, dtype=float)
    why = _why_not(session, stance, stream) if cols else "no kinematic signs requested"
    if why:
        return empty, why
    assert stance is not None
    try:
        angles = imu_angles(session, stream=stream)
        frames = []
        for label in labels:
            peaks = trial_compensation(session, angles, label=label, stance=stance)
            other: Side = "R" if stance == "L" else "L"
            hike = trial_compensation(session, angles, label=label, stance=other)
            out = pd.DataFrame({"label": label, "trial": peaks["trial"]})
            for col in cols:
                src = hike["pelvic_drop"] if col == "hip_hike_deg" else peaks[_PEAK[col]]
                out[col] = src.to_numpy(dtype=float)
            frames.append(out)
    except NktMotionError as exc:
        logger.info("kinematics not measured: %s", exc)
        return empty, f"kinematics not measured: {exc}"
    table = pd.concat(frames, ignore_index=True) if frames else empty.reset_index()
    return table.set_index(["label", "trial"]).astype(np.float64), ""
