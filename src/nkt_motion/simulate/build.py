"""Build a simulated Session and its known truth from a Scenario."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from nkt_motion.errors import ValidationError
from nkt_motion.model import Channel, Session, Stream, channel_from_label, make_events
from nkt_motion.simulate.emg import synthesize_emg
from nkt_motion.simulate.imu import SITES, synthesize_imu
from nkt_motion.simulate.scenario import Scenario
from nkt_motion.simulate.schedule import Window, draw_activations, draw_kinematics, schedule
from nkt_motion.vocab import format_emg_label, format_imu_label, muscle_id

__all__ = ["SimulatedSession", "Truth", "simulate"]

logger = logging.getLogger(__name__)

#: Electrode placement text per muscle code; SENIAM only where SENIAM has an entry.
PLACEMENTS: Final[dict[str, str]] = {
    "GMED": "SENIAM: 50 % on the line iliac crest -> greater trochanter",
    "VL": "SENIAM: 2/3 on the line anterior superior iliac spine -> lateral patella",
    "VM": "SENIAM: 80 % on the line anterior superior iliac spine -> medial knee joint line",
    "ADL": "convention (no SENIAM entry): about 4 cm distal to the pubis on the muscle belly",
}
_DEFAULT_PLACEMENT: Final = "convention: over the muscle belly, parallel to the fibres"


@dataclass(frozen=True, slots=True, eq=False)
class Truth:
    """What the simulator put into a session (treat the tables as read-only).

    Attributes
    ----------
    activations : pandas.DataFrame
        One row per reference contraction and per test trial and muscle: level,
        onset (``onset_s`` on the session clock and ``onset_rel_s`` after the
        event start), plateau bounds and ``plateau_rms_uv`` (RMS of the
        noise-free EMG over the plateau, uV) and ``event_rms_uv`` (RMS of the
        noise-free EMG over the whole event window, onset and ramps included,
        uV); see :func:`~nkt_motion.simulate.schedule.draw_activations`.
    ratios : pandas.DataFrame
        One row per test trial and partner: ``tested_level``, ``partner_level``,
        ``ratio`` (tested level / partner level, i.e. the ratio of normalised
        plateau amplitudes), ``event_ratio`` (the same with RMS over the whole
        event windows, each normalised to the RMS over its ``ref/<CODE>`` event
        window; differs from ``ratio`` by the onsets and ramps, a few per cent)
        and ``partner_lead_ms`` (tested onset minus partner onset in ms; positive
        when the partner fires first).
    kinematics : pandas.DataFrame
        One row per test trial: peak pelvic drop, pelvis obliquity, trunk lean and
        roll, hip adduction and flexion in deg; see
        :func:`~nkt_motion.simulate.schedule.draw_kinematics`.
    faults : pandas.DataFrame
        One row per injected fault: ``channel``, ``muscle`` (id), ``code``, ``kind``,
        ``start_s``, ``stop_s`` (NaN = end of recording), ``clip_uv``, ``drift_uv``.
    orientations : mapping of str to numpy.ndarray, shape (n_imu_samples, 4)
        True orientation of each IMU site, scalar-first quaternions (read-only).
    """

    activations: pd.DataFrame
    ratios: pd.DataFrame
    kinematics: pd.DataFrame
    faults: pd.DataFrame
    orientations: Mapping[str, NDArray[np.float64]]


@dataclass(frozen=True, slots=True, eq=False)
class SimulatedSession:
    """A simulated session together with its truth.

    Attributes
    ----------
    session : Session
        Streams ``emg`` and ``imu``, events, and ``meta`` with ``task``,
        ``power_line_frequency``, ``simulated`` (True), ``seed`` and ``scenario``.
    truth : Truth
        The known values.
    scenario : Scenario
        The scenario it was made from.
    """

    session: Session
    truth: Truth
    scenario: Scenario

    def __repr__(self) -> str:
        return f"<SimulatedSession {self.session!r} | seed {self.scenario.seed}>"


def _event_rms(
    sc: Scenario, acts: pd.DataFrame, clean: NDArray[np.float64]
) -> NDArray[np.float64]:
    """RMS (uV) of the noise-free EMG over each activation's whole event window."""
    row = {c: i for i, c in enumerate(sc.codes)}
    bounds = np.ceil(acts[["start_s", "stop_s"]].to_numpy(dtype=float) * sc.fs_emg - 1e-9)
    out = [
        float(np.sqrt(np.mean(clean[row[str(code)], int(lo) : int(hi)] ** 2)))
        for code, (lo, hi) in zip(acts["code"], bounds, strict=True)
    ]
    return np.asarray(out, dtype=np.float64)


def _normalised_event_rms(acts: pd.DataFrame) -> pd.Series:
    ref = acts[acts["phase"] == "ref"].set_index("code")["event_rms_uv"]
    return acts["event_rms_uv"] / acts["code"].map(ref)


def _ratios(sc: Scenario, acts: pd.DataFrame) -> pd.DataFrame:
    tests = acts[acts["phase"].isin(["pre", "post"])].assign(
        event_level=_normalised_event_rms(acts)
    )
    keys = ["phase", "label", "trial", "start_s"]
    tested = tests[tests["code"] == sc.tested].set_index(keys)
    frames = []
    for partner in sc.partners:
        part = tests[tests["code"] == partner].set_index(keys)
        frames.append(
            pd.DataFrame(
                {
                    "tested": sc.tested,
                    "partner": partner,
                    "tested_level": tested["level"],
                    "partner_level": part["level"],
                    "ratio": tested["level"] / part["level"],
                    "event_ratio": tested["event_level"] / part["event_level"],
                    "partner_lead_ms": 1000.0 * (tested["onset_s"] - part["onset_s"]),
                }
            ).reset_index()
        )
    df = pd.concat(frames, ignore_index=True)
    return df.sort_values(["start_s", "partner"], kind="stable").reset_index(drop=True)


def _faults(sc: Scenario) -> pd.DataFrame:
    cols = ["channel", "muscle", "code", "kind", "start_s", "stop_s", "clip_uv", "drift_uv"]
    rows = [
        {
            "channel": format_emg_label(f.code, sc.side),
            "muscle": muscle_id(f.code),
            "code": f.code,
            "kind": f.kind,
            "start_s": f.start_s,
            "stop_s": np.nan if f.stop_s is None else f.stop_s,
            "clip_uv": f.clip_uv,
            "drift_uv": f.drift_uv,
        }
        for f in sc.faults
    ]
    return pd.DataFrame(rows, columns=cols)


def _streams(
    sc: Scenario, emg: NDArray[np.float64], imu: NDArray[np.float64]
) -> tuple[Stream, Stream]:
    emg_channels = [
        Channel(
            format_emg_label(c, sc.side),
            "emg",
            "uV",
            muscle=c,
            side=sc.side,
            placement=PLACEMENTS.get(c, _DEFAULT_PLACEMENT),
        )
        for c in sc.codes
    ]
    imu_channels = [
        channel_from_label(format_imu_label(kind, axis, site), unit, placement=site)
        for site in SITES
        for kind, unit in (("acc", "m/s^2"), ("gyr", "deg/s"))
        for axis in "XYZ"
    ]
    step = f"simulated (nkt_motion.simulate, seed {sc.seed})"
    return (
        Stream("emg", emg, sc.fs_emg, tuple(emg_channels), history=(step,)),
        Stream("imu", imu, sc.fs_imu, tuple(imu_channels), history=(step,)),
    )


def _events(windows: list[Window]) -> pd.DataFrame:
    return make_events(
        [w.start_s for w in windows],
        [w.stop_s - w.start_s for w in windows],
        [w.label for w in windows],
    )


def simulate(scenario: Scenario) -> SimulatedSession:
    """Simulate an NKT muscle-test session with known truth.

    Parameters
    ----------
    scenario : Scenario
        What happens (see :class:`~nkt_motion.simulate.Scenario`); its ``seed``
        fixes every random draw, so the same scenario gives identical arrays.

    Returns
    -------
    SimulatedSession
        ``session`` with streams ``emg`` (one channel per muscle, uV, shape
        (n_muscles, duration * fs_emg)) and ``imu`` (ACC X/Y/Z in m/s^2 and GYR
        X/Y/Z in deg/s for each of pelvis, trunk, thigh_L, thigh_R, shape
        (24, duration * fs_imu)), events ``rest``, ``ref/<CODE>``,
        ``pre/test/<CODE>``, ``correction``, ``post/test/<CODE>``; and ``truth``.
        Faults are recorded in the truth only (the quality table stays empty).

    Raises
    ------
    ValidationError
        If ``scenario`` is not a Scenario.

    Examples
    --------
    >>> from nkt_motion.simulate import gmed_adl_hip_flexion, simulate
    >>> sim = simulate(gmed_adl_hip_flexion(n_trials=3, seed=1))
    >>> sim.session.events.label.value_counts()["pre/test/GMED"]
    np.int64(3)
    >>> adl = sim.truth.ratios.query("partner == 'ADL'")
    >>> adl.groupby("phase").ratio.mean().round(1).to_dict()
    {'post': 1.2, 'pre': 0.5}
    """
    if not isinstance(scenario, Scenario):
        raise ValidationError(
            f"scenario must be a Scenario, got {type(scenario).__name__}", parameter="scenario"
        )
    windows, duration = schedule(scenario)
    s_draw, s_emg, s_imu = np.random.SeedSequence(scenario.seed).spawn(3)
    r_act, r_kin = (np.random.default_rng(s) for s in s_draw.spawn(2))
    acts = draw_activations(scenario, windows, r_act)
    kin = draw_kinematics(scenario, windows, r_kin)
    emg, clean = synthesize_emg(scenario, acts, duration, seed=s_emg)
    acts["event_rms_uv"] = _event_rms(scenario, acts, clean)
    imu, quats = synthesize_imu(scenario, kin, duration, seed=s_imu)
    for q in quats.values():
        q.flags.writeable = False
    meta = {
        "task": scenario.task,
        "power_line_frequency": scenario.power_line_hz,
        **({"protocol": scenario.protocol} if scenario.protocol else {}),
        "simulated": True,
        "seed": scenario.seed,
        "scenario": scenario.to_dict(),
    }
    session = Session(_streams(scenario, emg, imu), events=_events(windows), meta=meta)
    truth = Truth(acts, _ratios(scenario, acts), kin, _faults(scenario), MappingProxyType(quats))
    logger.info("simulated %r", session)
    return SimulatedSession(session, truth, scenario)
