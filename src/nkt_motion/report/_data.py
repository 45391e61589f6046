"""What a report shows, gathered once from a session and its assessment.

The report re-runs the same EMG preparation the assessment used (the
:mod:`nkt_motion.features` chain: quality checks, notch when needed, band-pass,
linear envelope) so that the plotted traces, the quality table and the filters
named in the methods are the ones behind the numbers. IMU angles come from
:func:`nkt_motion.model._imu_session.imu_angles` with its defaults, as the
kinematic features do.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from nkt_motion.assess import Assessment
from nkt_motion.errors import NktMotionError
from nkt_motion.features import resolve_context
from nkt_motion.features._emg import PreparedEmg, prepare_emg
from nkt_motion.model import Session, Stream
from nkt_motion.model._imu_session import imu_angles
from nkt_motion.protocols import Protocol, load_protocol
from nkt_motion.vocab import SIDES, Side, muscle_code, muscle_id, muscle_name

__all__ = [
    "ReportData",
    "collect",
    "collect_sides",
    "quality_table",
    "sign_thresholds",
    "tested_sides",
]

logger = logging.getLogger(__name__)

#: Kinematic sign -> angle trace name used by :func:`nkt_motion.report.plot_imu`.
SIGN_TRACES: Final = {
    "contralateral_pelvic_drop": "pelvic_drop",
    "trunk_lean": "trunk_lean",
    "hip_adduction": "hip_adduction",
}
_CHECK_COLUMNS: Final = {
    "flat_line": "flat %",
    "clipping": "clipping %",
    "mains": "mains %",
    "baseline_noise": "baseline noise",
    "snr": "SNR dB",
}


@dataclass(frozen=True, slots=True, eq=False)
class ReportData:
    """Everything a report draws and states, besides the assessment itself.

    Attributes
    ----------
    protocol : Protocol or None
        Protocol of the assessment (None when none matched).
    prepared : PreparedEmg or None
        The EMG after the analysis chain (None when it could not be prepared).
    angles : Stream or None
        IMU angles (None without an IMU stream or a usable one).
    angles_reason : str
        Why ``angles`` is None ("" otherwise).
    stance : {"L", "R"} or None
        Stance (tested) side.
    thresholds : dict of str to float
        Angle trace -> compensation threshold in degrees.
    quality : pandas.DataFrame
        One row per EMG channel (:func:`quality_table`).
    """

    protocol: Protocol | None
    prepared: PreparedEmg | None
    angles: Stream | None
    angles_reason: str
    stance: Side | None
    thresholds: dict[str, float]
    quality: pd.DataFrame


def sign_thresholds(protocol: Protocol | None, *, floor_deg: float = 3.0) -> dict[str, float]:
    """Compensation threshold per angle trace, in degrees.

    A sign the protocol names uses ``max(sign.threshold_deg,
    rules.kinematic_threshold_deg)``, as the kinematic rule does; a trace whose
    sign the protocol does not name is marked at the IMU measurement error
    (the protocol's ``kinematic_threshold_deg``, else ``floor_deg``).

    Parameters
    ----------
    protocol : Protocol or None
        The protocol.
    floor_deg : float
        Measurement error used without a protocol, degrees.

    Returns
    -------
    dict of str to float
        Keys ``pelvic_drop``, ``trunk_lean``, ``hip_adduction``.

    Examples
    --------
    >>> from nkt_motion.protocols import load_protocol
    >>> sign_thresholds(load_protocol("single_leg_stance"))["pelvic_drop"]
    10.0
    >>> sign_thresholds(None)["trunk_lean"]
    3.0
    """
    floor = protocol.rules.kinematic_threshold_deg if protocol else floor_deg
    out = dict.fromkeys(SIGN_TRACES.values(), float(floor))
    for sign in protocol.kinematic_signs if protocol else ():
        if sign.sign in SIGN_TRACES:
            out[SIGN_TRACES[sign.sign]] = max(float(sign.threshold_deg), float(floor))
    return out


def quality_table(prepared: PreparedEmg, assessment: Assessment | None = None) -> pd.DataFrame:
    """One row per EMG channel: the quality checks, normalisation and problems.

    Parameters
    ----------
    prepared : PreparedEmg
        Prepared EMG (its ``quality`` rows come from :func:`nkt_motion.dsp.check_quality`).
    assessment : Assessment, optional
        Adds the normalisation used and the problems the assessment found.

    Returns
    -------
    pandas.DataFrame
        Columns ``channel``, ``muscle``, ``unit``, ``flat %``, ``clipping %``, ``mains %``,
        ``baseline noise`` (signal unit), ``SNR dB``, ``normalisation``, ``ok``
        (bool) and ``problems`` (plain words, "" when none).

    Examples
    --------
    >>> from nkt_motion.features import resolve_context
    >>> from nkt_motion.features._emg import prepare_emg
    >>> from nkt_motion.simulate import gmed_adl_hip_flexion, simulate
    >>> s = simulate(gmed_adl_hip_flexion(n_trials=2).replace(trial_s=1.0)).session
    >>> t = quality_table(prepare_emg(s, resolve_context(s, "hip_flexion_gmed_adl")))
    >>> t["muscle"].tolist(), bool(t["ok"].all())
    (['gluteus medius', 'adductor longus'], True)
    """
    q = prepared.quality
    norm = assessment.quality.get("normalisation", {}) if assessment else {}
    problems = {
        muscle_code(str(c["muscle"])): "; ".join(c["reasons"])
        for c in (assessment.quality.get("channels", []) if assessment else [])
    }
    rows = []
    for name, code in zip(prepared.raw.ch_names, prepared.codes, strict=True):
        mine = q[q["channel"] == name].set_index("check")
        unit = prepared.raw.channels[prepared.raw.channel_index(name)].unit
        row: dict[str, object] = {"channel": name, "muscle": muscle_name(code), "unit": unit}
        for check, col in _CHECK_COLUMNS.items():
            value = float(mine["value"].get(check, np.nan))
            row[col] = 100.0 * value if col.endswith("%") else value
        failed = [str(r) for r, ok in zip(mine["reason"], mine["ok"], strict=True) if not ok]
        why = problems.get(code) or "; ".join(dict.fromkeys(r for r in failed if r))
        row |= {"normalisation": norm.get(muscle_id(code), "-"), "ok": not why}
        row["problems"] = why
        rows.append(row)
    return pd.DataFrame(rows)


def _protocol(assessment: Assessment, protocol: Protocol | str | None) -> Protocol | None:
    if isinstance(protocol, Protocol):
        return protocol
    name = protocol or assessment.protocol
    return load_protocol(name) if name else None


def _angles(session: Session, stance: Side | None) -> tuple[Stream | None, str]:
    if "imu" not in session.streams:
        return None, "the session has no IMU stream"
    if stance is None:
        return None, "the tested side is unknown, so the stance side is too"
    try:
        return imu_angles(session), ""
    except NktMotionError as exc:
        logger.info("IMU angles not computed: %s", exc)
        return None, f"IMU angles not computed: {exc}"


def tested_sides(assessment: Assessment) -> list[Side]:
    """Return the sides named by an assessment's pairs, left first.

    Parameters
    ----------
    assessment : Assessment
        The assessment.

    Returns
    -------
    list of {"L", "R"}
        One entry per side; empty when no pair names its side.

    Examples
    --------
    >>> from nkt_motion.assess import assess_session
    >>> from nkt_motion.simulate import gmed_adl_hip_flexion, simulate
    >>> s = simulate(gmed_adl_hip_flexion(n_trials=3).replace(trial_s=1.0)).session
    >>> tested_sides(assess_session(s, "hip_flexion_gmed_adl", n_boot=100))
    ['L']
    """
    named = {t.side for t in assessment.tests}
    return [s for s in SIDES if s in named]


def _gather(
    session: Session,
    assessment: Assessment,
    proto: Protocol | None,
    stance: Side | None,
    angles: tuple[Stream | None, str],
) -> ReportData:
    prepared: PreparedEmg | None = None
    quality = pd.DataFrame()
    try:
        ctx = resolve_context(session, proto, side=stance)
        if ctx.channels:
            prepared = prepare_emg(
                session, ctx, onset_method=assessment.quality.get("onset_method") or "hodges_bui"
            )
            quality = quality_table(prepared, assessment)
    except NktMotionError as exc:
        logger.warning("EMG not prepared for the report (side %s): %s", stance or "?", exc)
    return ReportData(proto, prepared, *angles, stance, sign_thresholds(proto), quality)


def collect(
    session: Session,
    assessment: Assessment,
    *,
    protocol: Protocol | str | None = None,
    side: Side | None = None,
) -> ReportData:
    """Gather the prepared EMG, IMU angles and quality table for a report.

    Parameters
    ----------
    session : Session
        The session that was assessed.
    assessment : Assessment
        Its assessment (:func:`nkt_motion.assess.assess_session`).
    protocol : Protocol or str, optional
        Default: the assessment's protocol.
    side : {"L", "R"}, optional
        Tested side whose EMG channels and stance to gather; default the side
        of the assessment's first pair.

    Returns
    -------
    ReportData
        What the report draws for that side.

    Examples
    --------
    >>> from nkt_motion.assess import assess_session
    >>> from nkt_motion.simulate import gmed_adl_hip_flexion, simulate
    >>> s = simulate(gmed_adl_hip_flexion(n_trials=3).replace(trial_s=1.0)).session
    >>> d = collect(s, assess_session(s, "hip_flexion_gmed_adl", n_boot=100))
    >>> d.stance, d.angles.ch_names[0], d.prepared.codes
    ('L', 'ANGLE pelvis_obliquity', ('GMED', 'ADL'))
    """
    proto = _protocol(assessment, protocol)
    first = next((t.side for t in assessment.tests if t.side), None)
    chosen = side if side is not None else first
    stance: Side | None = "L" if chosen == "L" else "R" if chosen == "R" else None
    return _gather(session, assessment, proto, stance, _angles(session, stance))


def collect_sides(
    session: Session, assessment: Assessment, *, protocol: Protocol | str | None = None
) -> list[ReportData]:
    """Gather what the report draws for every tested side (see :func:`collect`).

    Parameters
    ----------
    session : Session
        The session that was assessed.
    assessment : Assessment
        Its assessment; a bilateral one (test labels naming their side) has
        pairs on both sides.
    protocol : Protocol or str, optional
        Default: the assessment's protocol.

    Returns
    -------
    list of ReportData
        One per tested side, left first (``stance`` names it); one element,
        equal to :func:`collect`'s, when one side (or none) was tested. The IMU
        angles are computed once and shared.

    Examples
    --------
    >>> from nkt_motion.assess import assess_session
    >>> from nkt_motion.simulate import bilateral_hip_flexion, simulate_bilateral
    >>> left, right = bilateral_hip_flexion(n_trials=2)
    >>> sim = simulate_bilateral(left.replace(trial_s=1.0), right.replace(trial_s=1.0))
    >>> per_side = collect_sides(sim.session, assess_session(sim.session, n_boot=100))
    >>> [(d.stance, d.prepared.raw.ch_names) for d in per_side]
    [('L', ['EMG GMED L', 'EMG ADL L']), ('R', ['EMG GMED R', 'EMG ADL R'])]
    """
    sides = tested_sides(assessment)
    if len(sides) < 2:
        return [collect(session, assessment, protocol=protocol)]
    proto = _protocol(assessment, protocol)
    angles = _angles(session, sides[0])
    return [_gather(session, assessment, proto, s, angles) for s in sides]
