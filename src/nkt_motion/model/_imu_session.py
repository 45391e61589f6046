"""Session-level IMU helpers: segment angles as a Stream, and peaks per trial.

These are thin: they pick the ``ACC``/``GYR``/``MAG`` channels of each site
from the session's IMU stream by label (``ACC X pelvis``, ``GYR Z thigh_L``),
convert units, and call the array functions of :mod:`nkt_motion.dsp.orientation`
and :mod:`nkt_motion.dsp.angles`, whose module notes give the sign conventions.

Examples
--------
>>> import numpy as np
>>> from nkt_motion import Session, Stream, channel_from_label
>>> labels = [f"{k} {a} pelvis" for k in ("ACC", "GYR") for a in "XYZ"]
>>> units = ["m/s^2"] * 3 + ["deg/s"] * 3
>>> data = np.zeros((6, 200)); data[2] = 9.80665
>>> imu = Stream("imu", data, 100.0, [channel_from_label(c, u) for c, u in zip(labels, units)])
>>> imu_angles(Session([imu])).ch_names
['ANGLE pelvis_obliquity']
"""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from nkt_motion.dsp.angles import (
    compensation_peaks,
    hip_adduction,
    hip_flexion,
    pelvis_obliquity,
    trunk_lean,
)
from nkt_motion.dsp.orientation import madgwick, mahony
from nkt_motion.errors import SignalError, ValidationError
from nkt_motion.model.channels import Channel
from nkt_motion.model.session import Session
from nkt_motion.model.stream import Stream
from nkt_motion.vocab import parse_event_label

__all__ = ["imu_angles", "trial_compensation"]

logger = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]
_SITES = ("pelvis", "trunk", "thigh_L", "thigh_R")
_GYR_SCALE = {"deg/s": np.pi / 180.0, "rad/s": 1.0}


def _labels(kind: str, site: str) -> list[str]:
    return [f"{kind} {axis} {site}" for axis in "XYZ"]


def _site_data(imu: Stream, site: str, kind: str) -> FloatArray:
    """Rows of one tri-axial sensor, shape (3, n_samples), gyroscope in rad/s."""
    missing = [lab for lab in _labels(kind, site) if lab not in imu.ch_names]
    if missing:
        raise ValidationError(
            f"stream {imu.name!r} lacks channel(s) {missing} needed for site {site!r}",
            parameter="session",
        )
    rows = [imu.channel_index(lab) for lab in _labels(kind, site)]
    data = imu.data[rows]
    for lab, row in zip(_labels(kind, site), data, strict=True):
        if not np.isfinite(row).all():
            raise SignalError(
                f"holds NaN at sample {int(np.argmin(np.isfinite(row)))}; cut or fill gaps first",
                channel=lab,
            )
    if kind == "GYR":
        return data * _GYR_SCALE[imu.channels[rows[0]].unit]
    return np.array(data)


def _orientations(
    imu: Stream,
    sites: list[str],
    *,
    method: Literal["madgwick", "mahony"],
    magnetometer: Literal["ignore", "use"],
    bias: tuple[int, int] | None,
) -> dict[str, FloatArray]:
    gyr = np.stack([_site_data(imu, s, "GYR") for s in sites])
    acc = np.stack([_site_data(imu, s, "ACC") for s in sites])
    mag = None
    if magnetometer == "use":
        mag = np.stack([_site_data(imu, s, "MAG") for s in sites])
    if bias is not None:
        gyr = gyr - gyr[..., bias[0] : bias[1]].mean(axis=-1, keepdims=True)
    if method == "madgwick":
        q = madgwick(gyr, acc, imu.fs, mag=mag)
    else:
        q = mahony(gyr, acc, imu.fs, mag=mag)
    return dict(zip(sites, q, strict=True))


def _rest_samples(session: Session, imu: Stream) -> tuple[int, int] | None:
    ev = session.events
    rest = ev[ev["label"] == "rest"]
    if rest.empty:
        logger.info("no 'rest' event: gyroscope bias not removed")
        return None
    onset, dur = float(rest["onset"].iloc[0]), float(rest["duration"].iloc[0])
    lo = max(0, round((onset - imu.t0) * imu.fs))
    hi = min(imu.n_samples, round((onset + dur - imu.t0) * imu.fs))
    return (lo, hi) if hi > lo else None


def imu_angles(
    session: Session,
    *,
    stream: str = "imu",
    method: Literal["madgwick", "mahony"] = "madgwick",
    magnetometer: Literal["ignore", "use"] = "ignore",
    bias: Literal["rest", "none"] = "rest",
) -> Stream:
    """Segment and hip angles of a session's IMU stream.

    Parameters
    ----------
    session : Session
        Holds ``stream`` with channels ``ACC X pelvis`` ... ``GYR Z pelvis`` (and
        optionally the same for ``trunk``, ``thigh_L``, ``thigh_R``); gyroscope in
        ``deg/s`` or ``rad/s``, accelerometer and magnetometer in any unit.
    stream : str
        Name of the IMU stream.
    method : {"madgwick", "mahony"}
        Orientation filter, with its default gains.
    magnetometer : {"ignore", "use"}
        ``"use"`` needs ``MAG X/Y/Z`` channels for every site used.
    bias : {"rest", "none"}
        ``"rest"`` subtracts each gyroscope's mean over the first ``rest``
        event (skipped, with a log message, when there is none).

    Returns
    -------
    Stream
        Named ``"angles"``, same rate and start, kind ``angle``, unit ``deg``,
        shape (n_angles, n_samples): ``ANGLE pelvis_obliquity``, then
        ``ANGLE trunk_lean`` with a trunk sensor, and ``ANGLE hip_adduction_L``,
        ``ANGLE hip_flexion_L`` (and ``_R``) for each thigh sensor.

    Raises
    ------
    ValidationError
        If the stream or a needed channel is missing (the message names it).
    SignalError
        If a needed channel holds NaN (the error names the channel).

    Examples
    --------
    See the module example.
    """
    if method not in ("madgwick", "mahony") or magnetometer not in ("ignore", "use"):
        raise ValidationError(
            f"method must be 'madgwick' or 'mahony' and magnetometer 'ignore' or 'use', "
            f"got {method!r} and {magnetometer!r}",
            parameter="method",
        )
    if stream not in session.streams:
        raise ValidationError(
            f"session has no stream {stream!r}; streams are {sorted(session.streams)}",
            parameter="stream",
        )
    imu = session[stream]
    present = {c.site for c in imu.channels if c.site is not None}
    sites = ["pelvis"] + [s for s in _SITES[1:] if s in present]
    window = _rest_samples(session, imu) if bias == "rest" else None
    q = _orientations(imu, sites, method=method, magnetometer=magnetometer, bias=window)
    rows: list[FloatArray] = [pelvis_obliquity(q["pelvis"])]
    channels = [Channel("ANGLE pelvis_obliquity", "angle", "deg", site="pelvis")]
    if "trunk" in q:
        rows.append(trunk_lean(q["trunk"]))
        channels.append(Channel("ANGLE trunk_lean", "angle", "deg", site="trunk"))
    for side in ("L", "R"):
        thigh = q.get(f"thigh_{side}")
        if thigh is not None:
            rows += [hip_adduction(q["pelvis"], thigh, side=side), hip_flexion(q["pelvis"], thigh)]
            channels += [
                Channel(
                    f"ANGLE hip_{name}_{side}", "angle", "deg", side=side, site=f"thigh_{side}"
                )
                for name in ("adduction", "flexion")
            ]
    step = f"imu_angles(method={method!r}, magnetometer={magnetometer!r}, bias={bias!r})"
    return Stream(
        "angles", np.stack(rows), imu.fs, tuple(channels), t0=imu.t0, history=(*imu.history, step)
    )


def trial_compensation(
    session: Session,
    angles: Stream,
    *,
    label: str,
    stance: Literal["L", "R"],
    baseline: str | None = "rest",
) -> pd.DataFrame:
    """Peak pelvic drop, trunk lean and hip adduction for each trial of a test.

    Parameters
    ----------
    session : Session
        Gives the events.
    angles : Stream
        From :func:`imu_angles`; needs ``ANGLE pelvis_obliquity``, and uses
        ``ANGLE trunk_lean`` and ``ANGLE hip_adduction_<stance>`` when present.
    label : str
        Event label of the trials, e.g. ``"pre/test/GMED"``.
    stance : {"L", "R"}
        Stance side.
    baseline : str or None
        Event label whose median angles are the reference posture (all its
        events pooled); None for no baseline.

    Returns
    -------
    pandas.DataFrame
        One row per trial: ``trial``, ``onset`` (s), ``stance``, and in degrees
        ``pelvic_drop``, ``trunk_lean`` (toward the stance side) and
        ``hip_adduction`` (NaN where the sensor is missing).

    Raises
    ------
    ValidationError
        If ``ANGLE pelvis_obliquity`` or the baseline events are missing.

    Examples
    --------
    >>> import numpy as np
    >>> from nkt_motion import Channel, Session, Stream, make_events
    >>> obl = np.r_[np.full(100, 1.0), np.linspace(1.0, -7.0, 100)]
    >>> ch = Channel("ANGLE pelvis_obliquity", "angle", "deg")
    >>> ang = Stream("angles", obl[None], 100.0, [ch])
    >>> s = Session([ang], events=make_events([0.0, 1.0], [1.0, 1.0], ["rest", "pre/test/GMED"]))
    >>> float(trial_compensation(s, ang, label="pre/test/GMED", stance="R").pelvic_drop[0])
    8.0
    """
    names = ["ANGLE pelvis_obliquity", "ANGLE trunk_lean", f"ANGLE hip_adduction_{stance}"]
    if names[0] not in angles.ch_names:
        raise ValidationError(
            "angles stream lacks channel 'ANGLE pelvis_obliquity'; "
            f"channels are {angles.ch_names}",
            parameter="angles",
        )
    base = (0.0, 0.0, 0.0)
    if baseline is not None:
        ev = session.events
        rows = ev[ev["label"] == parse_event_label(baseline).label]
        if rows.empty:
            raise ValidationError(
                f"session has no {baseline!r} event for the baseline", parameter="baseline"
            )
        parts = [
            angles.crop(o, o + d) for o, d in zip(rows["onset"], rows["duration"], strict=True)
        ]
        pooled = np.concatenate([p.data for p in parts], axis=1)
        med = [
            np.median(pooled[angles.ch_names.index(n)]) if n in angles.ch_names else 0.0
            for n in names
        ]
        base = (float(med[0]), float(med[1]), float(med[2]))
    out = []
    for trial in session.trials(label):
        seg = angles.crop(trial.onset, trial.onset + trial.duration)
        get = [seg.data[seg.channel_index(n)] if n in seg.ch_names else None for n in names]
        obliquity = seg.data[seg.channel_index(names[0])]
        peaks = compensation_peaks(obliquity, get[1], get[2], stance=stance, baseline=base)
        out.append(
            {
                "trial": trial.index,
                "onset": trial.onset,
                "stance": stance,
                "pelvic_drop": peaks.pelvic_drop,
                "trunk_lean": peaks.trunk_lean,
                "hip_adduction": peaks.hip_adduction,
            }
        )
    cols = ["trial", "onset", "stance", "pelvic_drop", "trunk_lean", "hip_adduction"]
    return pd.DataFrame(out, columns=cols)
