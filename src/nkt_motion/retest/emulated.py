"""The emulated client of ``retest --emulate``: a simulated person on emulated sensors.

:func:`plan_session` lays a simulated session out along the protocol's steps:
the simulator (:func:`nkt_motion.simulate.gmed_adl_hip_flexion`: gluteus medius
compensated by adductor longus before the correction, less after) makes the
signals, and the plan cuts them into one segment per step: a burst of each
muscle for the sensor check, the rest, ``n_trials`` reference contractions per
reference step (each from a simulation with its own seed, so they differ), the
pre-correction trials, the correction and the post-correction trials, each
followed by the quiet gap that follows it in the simulation. The plan keeps
each trial's bounds on the signal's own time (sample 0 at 0 s), for a script
that plays the practitioner.

:class:`EmulatedSetup` streams the plan from an emulated nkt sensor on a
:class:`~nkt_motion.emulate.VirtualBus`, optionally ``speed`` times faster than
real time (see :mod:`nkt_motion.retest.clock`). A stream restarted after a
reconnection goes on at the signal time the session has reached, as a real
client goes on moving while the sensor is away. It can kill one channel
(``dead``) or drop the sensor's link once (``drop_at_s``).

Only protocols that test gluteus medius against adductor longus and/or tensor
fasciae latae can be played (the simulator's hip-flexion client).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from nkt_motion.acquire import Backoff, SensorConfig
from nkt_motion.errors import ValidationError
from nkt_motion.protocols import Protocol, load_protocol
from nkt_motion.retest.clock import ScaledClock
from nkt_motion.vocab import format_emg_label

__all__ = ["EMULATED_ADDRESS", "EmulatedPlan", "EmulatedSetup", "PlannedStep", "plan_session"]

logger = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]
#: Address of the emulated nkt sensor.
EMULATED_ADDRESS: Final = "F0:00:00:00:00:01"
_CODES: Final = ("GMED", "ADL", "TFL")
_GRAVITY: Final = 9.80665
_GAP_S: Final = 2.0
_TAIL_S: Final = 4.0
#: Length of the emulated correction, seconds (a real one takes minutes).
_CORRECTION_S: Final = 8.0


@dataclass(frozen=True, slots=True)
class PlannedStep:
    """One protocol step in the emulated signal.

    Attributes
    ----------
    id, kind : str
        The protocol step's id and kind.
    start_s, stop_s : float
        The step's segment of the signal, seconds from its first sample.
    trials : tuple of (float, float)
        Start and stop of each trial the client performs (empty for the sensor
        check and the correction), seconds on the same time.
    """

    id: str
    kind: str
    start_s: float
    stop_s: float
    trials: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class EmulatedPlan:
    """Signals laid out along a protocol's steps.

    Attributes
    ----------
    protocol : Protocol
        The protocol played.
    side : str
        Tested side.
    emg : ndarray, shape (3, n)
        Gluteus medius, adductor longus and tensor fasciae latae, uV.
    emg_labels : tuple of str
        Their channel labels.
    emg_fs : float
        EMG rate, Hz.
    imu : ndarray, shape (6, m)
        Pelvis accelerometer (g) and gyroscope (deg/s).
    imu_fs : float
        IMU rate, Hz.
    steps : tuple of PlannedStep
        One per protocol step, in order.
    """

    protocol: Protocol
    side: str
    emg: FloatArray
    emg_labels: tuple[str, ...]
    emg_fs: float
    imu: FloatArray
    imu_fs: float
    steps: tuple[PlannedStep, ...]

    @property
    def duration_s(self) -> float:
        """Length of the signal, seconds."""
        return float(self.emg.shape[1] / self.emg_fs)


def _check_protocol(protocol: Protocol) -> None:
    partners = {p.code for p in protocol.partners}
    if protocol.tested != ("GMED",) or not partners <= {"ADL", "TFL"}:
        raise ValidationError(
            f"protocol {protocol.name!r} cannot be emulated: the emulated client performs "
            "standing hip flexion and tests gluteus medius against adductor longus and tensor "
            "fasciae latae only (e.g. protocol 'hip_flexion_gmed_adl')",
            parameter="protocol",
        )


def _durations(protocol: Protocol) -> dict[str, float]:
    def first(kind: str, default: float) -> float:
        found = [s.duration_s for s in protocol.steps if s.kind == kind and s.duration_s]
        return float(found[0]) if found else default

    tests = [s.n_trials or 1 for s in protocol.steps if s.kind in ("pre_test", "post_test")]
    refs = [s.n_trials or 1 for s in protocol.steps if s.kind == "reference"]
    return {
        "rest_s": first("rest", 10.0),
        "ref_s": max(first("reference", 5.0), 1.5),
        "trial_s": max(first("pre_test", protocol.task.duration_s), 1.5),
        "n_trials": float(max(tests, default=1)),
        "n_refs": float(max(refs, default=1)),
    }


def _simulate(side: str, seed: int, d: dict[str, float], *, ref_s: float | None = None) -> Any:
    from nkt_motion.simulate import gmed_adl_hip_flexion, simulate

    sc = gmed_adl_hip_flexion(side=side, n_trials=int(d["n_trials"]), seed=seed)  # type: ignore[arg-type]
    sc = sc.replace(rest_s=d["rest_s"], ref_s=ref_s or d["ref_s"], trial_s=d["trial_s"],
                    gap_s=_GAP_S, correction_s=_CORRECTION_S)  # fmt: skip
    return simulate(sc).session


def _windows(session: Any, label: str) -> list[tuple[float, float]]:
    ev = session.events
    rows = ev[ev["label"] == label]
    return [(float(o), float(o + d)) for o, d in zip(rows["onset"], rows["duration"], strict=True)]


class _Layout:
    """Append simulated segments and keep the time line of steps and trials."""

    def __init__(self, emg_fs: float, imu_fs: float) -> None:
        self.emg_fs, self.imu_fs = emg_fs, imu_fs
        self.emg: list[FloatArray] = []
        self.imu: list[FloatArray] = []
        self.t = 0.0

    def cut(self, session: Any, a: float, b: float) -> float:
        """Append ``session`` from ``a`` to ``b`` s; return the layout time of ``a``."""
        start, k = self.t, round(self.emg_fs / self.imu_fs)
        i0, i1 = round(a * self.imu_fs), round(b * self.imu_fs)
        self.emg.append(np.asarray(session["emg"].data)[:, i0 * k : i1 * k])
        self.imu.append(np.asarray(session["imu"].data)[:6, i0:i1])
        self.t = start + (i1 - i0) / self.imu_fs
        return start


def plan_session(
    protocol: Protocol | str, side: str = "L", *, seed: int = 0, dead: Sequence[str] = ()
) -> EmulatedPlan:
    """Lay a simulated hip-flexion client out along the protocol's steps.

    Parameters
    ----------
    protocol : Protocol or str
        A protocol testing GMED against ADL and/or TFL.
    side : {"L", "R"}
        Tested (stance) side.
    seed : int
        Seed of the simulations (reference ``k`` uses ``seed + k``).
    dead : sequence of str
        Muscle codes whose channel is dead (all zeros, as a detached lead).

    Returns
    -------
    EmulatedPlan
        The signals and the time line.

    Raises
    ------
    ValidationError
        If the protocol cannot be played, or ``dead`` names another muscle.

    Examples
    --------
    >>> plan = plan_session("hip_flexion_gmed_adl")
    >>> [(s.id, len(s.trials)) for s in plan.steps][:3]
    [('sensor_check', 0), ('rest', 1), ('ref_gmed', 3)]
    >>> plan.emg_labels, round(plan.duration_s)
    (('EMG GMED L', 'EMG ADL L', 'EMG TFL L'), 126)
    """
    proto = protocol if isinstance(protocol, Protocol) else load_protocol(protocol)
    _check_protocol(proto)
    bad = [c for c in dead if c not in _CODES]
    if bad:
        raise ValidationError(f"dead must name muscles among {list(_CODES)}, got {bad}",
                              parameter="dead")  # fmt: skip
    d = _durations(proto)
    main = _simulate(side, seed, d)
    refs = [main] + [_simulate(side, seed + k, d) for k in range(1, int(d["n_refs"]))]
    check = _simulate(side, seed + 1000, d, ref_s=2.0)
    lay = _Layout(float(main["emg"].fs), float(main["imu"].fs))
    steps = [_plan_step(lay, step, main, refs, check) for step in proto.steps]
    lay.cut(main, 0.0, _TAIL_S)  # quiet standing after the last step
    emg = np.hstack(lay.emg)
    for code in dead:
        emg[_CODES.index(code)] = 0.0
    imu = np.hstack(lay.imu)
    imu[:3] /= _GRAVITY
    labels = tuple(format_emg_label(c, side) for c in _CODES)
    return EmulatedPlan(proto, side, emg, labels, lay.emg_fs, imu, lay.imu_fs, tuple(steps))


def _plan_step(lay: _Layout, step: Any, main: Any, refs: list[Any], check: Any) -> PlannedStep:
    t0 = lay.t
    trials: list[tuple[float, float]] = []
    if step.kind == "sensor_check":
        (g0, _), (_, a1) = _windows(check, "ref/GMED")[0], _windows(check, "ref/ADL")[0]
        lay.cut(check, g0 - 1.0, a1 + 1.0)
    elif step.kind == "rest":
        (r0, r1) = _windows(main, "rest")[0]
        start = lay.cut(main, r0, r1 + _GAP_S)
        trials.append((start, start + r1 - r0))
    elif step.kind == "correction":
        (c0, c1) = _windows(main, "correction")[0]
        lay.cut(main, c0, c1 + _GAP_S)
    else:
        if step.kind == "reference":
            code = step.event.split("/")[1]
            spans = [(s, _windows(s, f"ref/{code}")[0]) for s in refs][: step.n_trials or 1]
        else:
            phase = "pre" if step.kind == "pre_test" else "post"
            found = _windows(main, f"{phase}/test/GMED")[: step.n_trials or 1]
            spans = [(main, w) for w in found]
        for session, (a, b) in spans:
            start = lay.cut(session, a, b + _GAP_S)
            trials.append((start, start + b - a))
    return PlannedStep(step.id, step.kind, t0, lay.t, tuple(trials))


class _Replay:
    """A signal source that follows the session through reconnections.

    Sample ``k`` of a restarted stream is the sample of the signal time reached,
    not sample ``k`` of the signal.
    """

    def __init__(self, data: FloatArray, fs: float, now_s: Callable[[], float]) -> None:
        self.data, self.fs, self.now_s = data, fs, now_s
        self.t_start: float | None = None
        self.offset = 0
        self.tail = max(1, min(data.shape[1], round(2.0 * fs)))

    def elapsed_s(self) -> float | None:
        return None if self.t_start is None else self.now_s() - self.t_start

    def __call__(self, indices: NDArray[np.int64]) -> FloatArray:
        idx = np.asarray(indices, dtype=np.int64)
        if idx.size and idx[0] == 0:  # a stream (re)starts
            now = self.now_s()
            if self.t_start is None:
                self.t_start = now
            self.offset = round((now - self.t_start) * self.fs)
        k = idx + self.offset
        n = self.data.shape[1]
        k = np.where(k < n, k, n - self.tail + (k - n) % self.tail)
        return self.data[:, k]


class EmulatedSetup:
    """An emulated nkt sensor on a virtual bus, streaming an :class:`EmulatedPlan`.

    Use it as an async context manager; inside, :meth:`recorder_options` gives
    the :class:`~nkt_motion.acquire.Recorder` keyword arguments (bleak backend,
    bus, clock, a backoff scaled to the speed).

    Parameters
    ----------
    plan : EmulatedPlan
        What the client does.
    speed : float
        Times faster than real time (> 0); the device clock and the returned
        host clock both run this fast.
    drop_at_s : float or None
        Signal time (s) at which the sensor's radio link is lost once; the
        recorder reconnects.
    address : str
        The sensor's address.

    Examples
    --------
    >>> setup = EmulatedSetup(plan_session("hip_flexion_gmed_adl"), speed=4.0)
    >>> setup.config.options["emg_labels"][0], setup.clock
    ('EMG GMED L', <ScaledClock x4>)

    ``async with setup: Recorder(setup.configs, **setup.recorder_options())``
    """

    def __init__(
        self,
        plan: EmulatedPlan,
        *,
        speed: float = 1.0,
        drop_at_s: float | None = None,
        address: str = EMULATED_ADDRESS,
    ) -> None:
        self.plan = plan
        self.clock = ScaledClock(speed)
        self.speed = self.clock.speed
        self.drop_at_s = drop_at_s
        labels = [*plan.emg_labels, format_emg_label("GMAX", plan.side)]
        self.config = SensorConfig(address, "nkt", options={
            "emg_labels": labels, "emg_channels": [1, 2, 3], "site": "pelvis"})  # fmt: skip
        now_s: Callable[[], float] = lambda: self.clock() * 1e-9  # noqa: E731
        emg = np.vstack([plan.emg, np.zeros((1, plan.emg.shape[1]))])
        self._emg = _Replay(emg, plan.emg_fs, now_s)
        self._imu = _Replay(plan.imu, plan.imu_fs, now_s)
        self._bus: Any = None
        self._sensor: Any = None
        self._task: asyncio.Task[None] | None = None

    @property
    def configs(self) -> list[SensorConfig]:
        """The sensors to record (one nkt sensor)."""
        return [self.config]

    def signal_time(self) -> float | None:
        """Signal seconds played so far (None before the sensor streams)."""
        return self._emg.elapsed_s()

    def recorder_options(self) -> dict[str, Any]:
        """Return the Recorder keyword arguments for this setup (inside the context).

        Returns
        -------
        dict
            ``backend``, ``client_kwargs``, ``clock`` and ``backoff``.
        """
        from nkt_motion.emulate import EmulatedClient

        if self._bus is None:
            raise ValidationError("the emulated setup is not open; use 'async with'",
                                  parameter="setup")  # fmt: skip
        k = self.speed
        return {"backend": EmulatedClient, "client_kwargs": {"bus": self._bus},
                "clock": self.clock, "backoff": Backoff(0.25 / k, 2.0, 4.0 / k, 6)}  # fmt: skip

    async def __aenter__(self) -> EmulatedSetup:
        from nkt_motion.emulate import DeviceClock, NktSensor, VirtualBus

        bus = VirtualBus()
        self._bus = await bus.__aenter__()
        self._sensor = NktSensor(address=self.config.address, name="nkt-emulated",
                                 emg=self._emg, imu=self._imu,
                                 clock=DeviceClock(time_scale=self.speed),
                                 imu_fitted=bool(self.plan.protocol.imu_sites))  # fmt: skip
        await self._sensor.attach(self._bus)
        if self.drop_at_s is not None:
            self._task = asyncio.get_running_loop().create_task(self._drop(self.drop_at_s))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        bus, self._bus = self._bus, None
        if bus is not None:
            await bus.__aexit__(exc_type, exc, tb)

    async def _drop(self, at_s: float) -> None:
        while (t := self.signal_time()) is None or t < at_s:
            await asyncio.sleep(self.clock.wall_seconds(0.02))
        logger.info("emulated sensor: radio link lost at signal time %.2f s", at_s)
        await self._sensor.lose_link(supervision_timeout=0.42 / self.speed)
