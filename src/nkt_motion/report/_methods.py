"""The methods section of a report, in ISEK / Merletti 1999 reporting style.

Fields: sensors and channels with their rates, detection mode and gain (from the
session metadata, or "not recorded"), electrode placement and reference (from
the protocol), the filters actually applied (read back from the EMG stream
history, with cut-offs and orders), the CEDE normalisation used per muscle
(Besomi et al. 2020), the onset detector with its parameters, the ratio and
interval method, the IMU orientation method, the rule parameters, and the
software versions.
"""

from __future__ import annotations

import inspect
import platform
import re
from typing import Final

from nkt_motion.assess import Assessment
from nkt_motion.model import Session
from nkt_motion.report._data import ReportData
from nkt_motion.vocab import muscle_code, muscle_name

__all__ = ["describe_step", "methods_rows"]

_NORMALISATION_WORDS: Final = {
    "reference": "mean RMS over its own reference contractions (ref/{code}), CEDE "
    "'standardised isometric MVC' or reference task, as performed",
    "task_peak": "largest trial RMS within this session's test task, pre and post together "
    "(CEDE 'peak within the task', one value across the task)",
    "none": "none (amplitudes in the signal unit)",
}
_STEP = re.compile(r"^(?P<name>\w+)\((?P<args>.*)\)$")
_META_FIELDS: Final = {
    "detection mode": ("detection_mode",),
    "amplifier gain": ("gain", "amplifier_gain"),
    "device": ("manufacturer", "device_model"),
    "reference electrode (recorded)": ("emg_reference",),
}


def describe_step(step: str) -> str:
    """Turn a Stream history step into words with its cut-offs and orders.

    Parameters
    ----------
    step : str
        E.g. ``"bandpass(low=20.0, high=450.0, order=4, zero_phase=True)"``.

    Returns
    -------
    str
        A sentence; unknown steps are returned as they are.

    Examples
    --------
    >>> describe_step("bandpass(low=20.0, high=450.0, order=4, zero_phase=True)")
    'Butterworth band-pass 20-450 Hz, order 4 per edge, zero-phase (forward-backward)'
    >>> describe_step("envelope(cutoff=6.0, order=4, zero_phase=True)")
    'linear envelope: Butterworth low-pass 6 Hz, order 4, zero-phase (forward-backward)'
    """
    m = _STEP.match(step)
    if m is None:
        return step
    kv = dict(p.split("=", 1) for p in m["args"].split(", ") if "=" in p)
    phase = "zero-phase (forward-backward)" if kv.get("zero_phase") == "True" else "causal"
    num = {k: f"{float(v):g}" for k, v in kv.items() if re.fullmatch(r"-?[\d.]+", v)}
    name = m["name"]
    if name == "bandpass":
        return (
            f"Butterworth band-pass {num['low']}-{num['high']} Hz, order {num['order']} "
            f"per edge, {phase}"
        )
    if name == "notch":
        harm = " and its harmonics" if kv.get("harmonics") == "True" else ""
        return f"notch at {num['freq']} Hz{harm} (Q {num['quality']}), {phase}"
    if name == "envelope":
        cut, order = num["cutoff"], num["order"]
        return f"linear envelope: Butterworth low-pass {cut} Hz, order {order}, {phase}"
    if name == "rectify":
        return "full-wave rectification"
    return step


def _streams(session: Session) -> str:
    parts = []
    for s in session.streams.values():
        sites = sorted({c.site for c in s.channels if c.site})
        where = f", sites {', '.join(sites)}" if sites else ""
        units = ", ".join(sorted({c.unit for c in s.channels}))
        parts.append(f"{s.name}: {s.n_channels} channels at {s.fs:g} Hz ({units}{where})")
    return "; ".join(parts)


def _onset_words(method: str) -> str:
    from nkt_motion.dsp.onsets import DEFAULT_THRESHOLDS, detect_onsets

    p = inspect.signature(detect_onsets).parameters
    thr = DEFAULT_THRESHOLDS.get(method, float("nan"))
    base = "baseline: the first rest event; on the band-passed EMG"
    if method == "hodges_bui":
        return (
            f"Hodges & Bui 1996: rectified EMG low-passed at {p['lowpass'].default:g} Hz, "
            f"mean over a {1000 * p['window'].default:g} ms window above baseline mean + "
            f"{thr:g} SD, bursts of at least {1000 * p['min_duration'].default:g} ms; {base}"
        )
    if method == "tkeo":
        return f"Teager-Kaiser energy operator (Solnik et al. 2010), j = {thr:g}; {base}"
    return f"double threshold (Bonato et al. 1998), zeta = {thr:g}; {base}"


def _filters(data: ReportData) -> str:
    if data.prepared is None:
        return "not applied (EMG could not be prepared)"
    steps = data.prepared.envelope.history
    done = [describe_step(s) for s in steps if _STEP.match(s)]
    return "; then ".join(done) or "none"


def _normalisation(assessment: Assessment) -> str:
    norm = assessment.quality.get("normalisation") or {}
    parts = [
        f"{muscle_name(m)}: " + _NORMALISATION_WORDS.get(v, v).format(code=muscle_code(m))
        for m, v in norm.items()
    ]
    return "; ".join(parts) or "not applied (no trials analysed)"


def _meta(session: Session) -> list[tuple[str, str]]:
    rows = []
    for field, keys in _META_FIELDS.items():
        found = [str(session.meta[k]) for k in keys if session.meta.get(k) not in (None, "")]
        rows.append((field, " ".join(found) or "not recorded in the session metadata"))
    return rows


def _software() -> str:
    import matplotlib
    import numpy
    import pandas
    import scipy

    from nkt_motion import __version__

    libs = ", ".join(f"{m.__name__} {m.__version__}" for m in (numpy, scipy, pandas, matplotlib))
    return f"nkt-motion {__version__} (Python {platform.python_version()}; {libs})"


def methods_rows(
    session: Session, assessment: Assessment, data: ReportData
) -> list[tuple[str, str]]:
    """Return the methods, one ``(field, text)`` row per ISEK-style reporting field.

    Parameters
    ----------
    session : Session
        The recording.
    assessment : Assessment
        The assessment (normalisation, onset method).
    data : ReportData
        Prepared EMG (its history gives the filters), protocol, IMU angles.

    Returns
    -------
    list of (str, str)
        Field and plain text.

    Examples
    --------
    >>> from nkt_motion.assess import assess_session
    >>> from nkt_motion.report import collect
    >>> from nkt_motion.simulate import gmed_adl_hip_flexion, simulate
    >>> s = simulate(gmed_adl_hip_flexion(n_trials=3).replace(trial_s=1.0)).session
    >>> a = assess_session(s, "hip_flexion_gmed_adl", n_boot=100)
    >>> rows = dict(methods_rows(s, a, collect(s, a)))
    >>> rows["EMG filters"].split(";")[0]
    'Butterworth band-pass 20-450 Hz, order 4 per edge, zero-phase (forward-backward)'
    """
    proto = data.protocol
    placement = (
        f"protocol {proto.name} v{proto.version}: "
        + "; ".join(f"{muscle_name(e.muscle)} {e.standard}" for e in proto.electrodes)
        + " (details in the placement table)"
        if proto
        else "no protocol: placement not stated"
    )
    refs = (e.reference.rstrip(".") for e in proto.electrodes) if proto else iter(["-"])
    reference = "; ".join(dict.fromkeys(refs))
    method = str(assessment.quality.get("onset_method") or "hodges_bui")
    mains = session.meta.get("power_line_frequency")
    notch = assessment.quality.get("notch_hz")
    hum = f"{notch:g} Hz and harmonics" if notch else "no (no channel showed mains hum)"
    rows = [("sensors and rates", _streams(session)), *_meta(session)]
    rows.append(("power line", f"{mains or 'not recorded'} Hz; notch applied: {hum}"))
    rows += [
        ("electrode placement", placement),
        ("reference electrode (protocol)", reference),
        ("EMG filters", _filters(data)),
        ("amplitude", "RMS of the filtered EMG over each trial window (event onset to end)"),
        ("normalisation (CEDE)", _normalisation(assessment)),
        ("onset detection", _onset_words(method)),
        (
            "ratio and interval",
            "tested:partner ratio of normalised RMS per trial; phase value = geometric mean "
            "over trials; intervals = expanded percentile bootstrap over trials (pre and post "
            "resampled independently, seeded)",
        ),
        ("kinematics", _imu_words(data)),
        ("rules", _rules_words(data)),
        ("software", _software()),
    ]
    return rows


def _imu_words(data: ReportData) -> str:
    if data.angles is None:
        return f"not measured: {data.angles_reason}"
    step = next((s for s in data.angles.history if s.startswith("imu_angles(")), "imu_angles()")
    return (
        f"segment orientation per IMU site ({step}); frontal-plane angles relative to the "
        "median rest posture; peaks per trial; stance side = tested side"
    )


def _rules_words(data: ReportData) -> str:
    from nkt_motion.assess.rules import DEFAULT_RULES

    r = data.protocol.rules if data.protocol else DEFAULT_RULES
    return (
        f"ratio flagged below {1 - r.ratio_change_threshold:.2f}; partner-first onset by more "
        f"than {r.onset_margin_ms:g} ms; kinematic signs above max(sign threshold, "
        f"{r.kinematic_threshold_deg:g} deg); at least {r.min_trials} trials per phase. "
        f"Source: {r.source}"
    )
