"""Bilateral sessions: the same test on the left and on the right, one recording.

Two single-side scenarios are played one after the other on one session clock:
the first scenario's whole session (rest, references, pre trials, correction,
post trials), then the second's, starting where the first ends. The EMG stream
holds both sides' channels (``EMG GMED L`` ... then ``EMG GMED R`` ...); while
one side is tested the other side's muscles are relaxed (baseline noise and
mains of their own scenario only). Reference and test events name their side
as the last part of the label (``ref/GMED/L``, ``pre/test/GMED/R``, see
:mod:`nkt_motion.vocab`); ``rest`` and ``correction`` name none. The IMU
stream is the two scenarios' IMU streams end to end (every trial starts and
ends in the neutral posture, so the joint is seamless).

The truth tables are the two scenarios' tables with times moved onto the
session clock, labels naming the side and a ``side`` column added.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from nkt_motion.errors import ValidationError
from nkt_motion.model import Session, Stream, make_events
from nkt_motion.simulate.build import SimulatedSession, Truth, simulate
from nkt_motion.simulate.emg import quiet_emg
from nkt_motion.simulate.scenario import Scenario

__all__ = ["BilateralSimulation", "simulate_bilateral"]

#: Truth columns that are times on the session clock, seconds.
_CLOCK: Final = ("start_s", "stop_s", "onset_s", "plateau_start_s", "plateau_stop_s")
#: Scenario fields both sides must share.
_SHARED: Final = ("fs_emg", "fs_imu", "power_line_hz", "task", "protocol")


@dataclass(frozen=True, slots=True, eq=False)
class BilateralSimulation:
    """A simulated bilateral session with the truth of both sides.

    Attributes
    ----------
    session : Session
        Streams ``emg`` (both sides' channels) and ``imu``, sided events, and
        ``meta`` with ``task``, ``power_line_frequency``, ``protocol``,
        ``simulated`` (True), ``seeds`` and ``scenarios``.
    truth : Truth
        Both sides' truth; every table has a ``side`` column.
    scenarios : tuple of Scenario
        The two scenarios, in recording order.
    """

    session: Session
    truth: Truth
    scenarios: tuple[Scenario, Scenario]

    def __repr__(self) -> str:
        sides = "+".join(sc.side for sc in self.scenarios)
        return f"<BilateralSimulation {self.session!r} | sides {sides}>"


def _check(first: object, second: object) -> tuple[Scenario, Scenario]:
    for name, sc in (("first", first), ("second", second)):
        if not isinstance(sc, Scenario):
            raise ValidationError(
                f"{name} must be a Scenario, got {type(sc).__name__}", parameter=name
            )
    assert isinstance(first, Scenario) and isinstance(second, Scenario)
    if first.side == second.side:
        raise ValidationError(
            f"second must test the other side than first ({first.side}), got {second.side!r}",
            parameter="second",
        )
    for name in _SHARED:
        a, b = getattr(first, name), getattr(second, name)
        if a != b:
            raise ValidationError(
                f"second.{name} must equal first.{name} ({a!r}) in one recording, got {b!r}",
                parameter=f"second.{name}",
            )
    return first, second


def _sided(labels: pd.Series, side: str) -> list[str]:
    """Append the side to reference and test labels."""
    return [f"{x}/{side}" if x.startswith(("ref/", "pre/", "post/")) else x for x in labels]


def _shift(df: pd.DataFrame, offset: float, side: str) -> pd.DataFrame:
    out = df.copy()
    for col in _CLOCK:
        if col in out:
            out[col] = out[col] + offset
    if "label" in out:
        out["label"] = _sided(out["label"].astype(str), side)
    out.insert(0, "side", side)
    return out


def _emg(sims: tuple[SimulatedSession, SimulatedSession]) -> Stream:
    a, b = (s.session["emg"] for s in sims)
    seed = np.random.SeedSequence([s.scenario.seed for s in sims])
    rng = np.random.default_rng(seed)
    top = np.hstack([a.data, quiet_emg(sims[0].scenario, b.n_samples, rng=rng)])
    bottom = np.hstack([quiet_emg(sims[1].scenario, a.n_samples, rng=rng), b.data])
    step = "simulated bilateral session (nkt_motion.simulate, seeds {}, {})".format(
        *(s.scenario.seed for s in sims)
    )
    return Stream("emg", np.vstack([top, bottom]), a.fs, a.channels + b.channels, history=(step,))


def _truth(sims: tuple[SimulatedSession, SimulatedSession], offset: float) -> Truth:
    parts = [
        (s.truth, shift, s.scenario.side) for s, shift in zip(sims, (0.0, offset), strict=True)
    ]
    tables = {
        name: pd.concat(
            [_shift(getattr(t, name), shift, side) for t, shift, side in parts], ignore_index=True
        )
        for name in ("activations", "ratios", "kinematics", "faults")
    }
    quats: Mapping[str, NDArray[np.float64]] = MappingProxyType(
        {
            site: np.concatenate([t.orientations[site] for t, _, _ in parts])
            for site in sims[0].truth.orientations
        }
    )
    for q in quats.values():
        q.flags.writeable = False
    return Truth(
        tables["activations"], tables["ratios"], tables["kinematics"], tables["faults"], quats
    )


def simulate_bilateral(first: Scenario, second: Scenario) -> BilateralSimulation:
    """Simulate the same test on both sides in one recording, with known truth.

    Parameters
    ----------
    first, second : Scenario
        The two sides' scenarios, in recording order; their ``side`` must
        differ and their rates, mains frequency, task and protocol agree. Each
        one's ``seed`` fixes its own draws.

    Returns
    -------
    BilateralSimulation
        The session (see the module notes) and both sides' truth.

    Raises
    ------
    ValidationError
        If a scenario is not a Scenario, both test one side, or they disagree
        on a shared field.

    Examples
    --------
    >>> from nkt_motion.simulate import bilateral_hip_flexion, simulate_bilateral
    >>> left, right = bilateral_hip_flexion(compensating="L", n_trials=2)
    >>> sim = simulate_bilateral(left, right)
    >>> sim.session["emg"].ch_names[::3]
    ['EMG GMED L', 'EMG GMED R']
    >>> sorted(set(sim.session.events.label) - {"rest", "correction"})[:3]
    ['post/test/GMED/L', 'post/test/GMED/R', 'pre/test/GMED/L']
    >>> pre_adl = sim.truth.ratios.query("partner == 'ADL' and phase == 'pre'")
    >>> pre_adl.groupby("side").ratio.mean().round(1).to_dict()
    {'L': 0.5, 'R': 1.5}
    """
    first, second = _check(first, second)
    sims = (simulate(first), simulate(second))
    offset = sims[0].session.duration
    events = [s.session.events for s in sims]
    imu = [s.session["imu"] for s in sims]
    labels = _sided(events[0]["label"], first.side) + _sided(events[1]["label"], second.side)
    session = Session(
        (_emg(sims), imu[0].replace(data=np.hstack([imu[0].data, imu[1].data]))),
        events=make_events(
            np.r_[events[0]["onset"], events[1]["onset"] + offset],
            np.r_[events[0]["duration"], events[1]["duration"]],
            labels,
        ),
        meta={
            "task": first.task,
            "power_line_frequency": first.power_line_hz,
            **({"protocol": first.protocol} if first.protocol else {}),
            "simulated": True,
            "seeds": [first.seed, second.seed],
            "scenarios": [first.to_dict(), second.to_dict()],
        },
    )
    return BilateralSimulation(session, _truth(sims, offset), (first, second))
