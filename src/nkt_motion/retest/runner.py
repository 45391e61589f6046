"""The guided live retest: acquisition, live figures, the practitioner's commands, the end.

:class:`RetestSession` records the sensors with an :class:`~nkt_motion.acquire.Recorder`
(real BLE, or the emulator's bus through ``recorder_options``), walks the
protocol's steps with a :class:`~nkt_motion.retest.guide.Guide`, feeds the
decoded samples to a :class:`~nkt_motion.retest.processor.LiveProcessor` on the
session clock of the saved session (:mod:`nkt_motion.retest.feed`), and at the
end saves, assesses and reports (:mod:`nkt_motion.retest.finish`). Session time
is the recorder's host clock minus its origin; commands, events, live trials and
the saved session share it, so a trial marked live covers the same samples in
the saved session.

It is also the controller of the web dashboard: :meth:`RetestSession.snapshot`
(cheap, JSON-ready), :meth:`RetestSession.command`, and
:meth:`RetestSession.add_listener` (called after each live batch is processed,
each connection event and each command, so the dashboard draws new data at once).

Snapshot schema (exact keys; NaN is None)::

    {"seq": int (one more at every call), "t": session seconds,
     "state": "connecting" | "running" | "finishing" | "finished" | "stopped" | "failed",
     "protocol": {"name", "title", "side", "tested", "partners": [codes]},
     "step": {"index", "count", "id", "kind", "title", "instruction", "event",
              "n_trials" (int or None), "trials_done", "can_mark" (bool),
              "blocked_reason" (str or None)},
     "steps": [{"id", "title", "status": "done" | "current" | "todo" | "skipped"}],
     "trial": {"active": bool, "label": str | None, "elapsed_s": float | None},
     "channels": [{"label", "muscle", "level", "normalised",
                   "quality": "ok" | "warn" | "bad", "reason": str}],
     "ratios": [...], "onsets": ..., "angles": [...]   (from LiveProcessor.snapshot),
     "sensors": [{"id", "state", "packets", "lost", "drift_ppm"}],
     "events": [{"onset", "duration", "label"}]   (the last 20),
     "verdict": None | {"tests": [{"tested", "partner", "verdict", "reason",
                                  "pre": {"ratio", "ci"}, "post": {"ratio", "ci"},
                                  "change", "change_ci"}]},
     "paths": None | {"bids": str, "report": str | None, "pdf": str | None},
     "messages": [str]   (the last 10, plain words for the practitioner)}

A sensor that drops during a trial makes the trial incomplete (see the guide);
the recorder reconnects and the retest goes on. A trial whose saved samples
turn out to hold a gap is made incomplete when the session is assembled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from nkt_motion.acquire import Recorder, SensorConfig
from nkt_motion.capture import CaptureEvent, Packet
from nkt_motion.devices import get_profile
from nkt_motion.errors import NktMotionError, ValidationError
from nkt_motion.protocols import Protocol, load_protocol
from nkt_motion.retest.detector import DetectedEvent
from nkt_motion.retest.finish import RetestResult, finish_session, trial_log, verdict_entry
from nkt_motion.retest.guide import COMMANDS, Guide
from nkt_motion.retest.live import LiveChain
from nkt_motion.vocab import format_emg_label

__all__ = ["RetestSession", "RunState", "sensor_options"]

logger = logging.getLogger(__name__)

RunState = Literal["connecting", "running", "finishing", "finished", "stopped", "failed"]
_DETECTED_KINDS = ("pre_test", "post_test")
#: A command may carry a time this far ahead of the session clock (seconds).
_AHEAD_S = 0.5
#: Seconds between the recorder's live batches: a notification waits at most this long
#: to be processed (a batch costs about 0.1 ms, so smaller batches cost little CPU).
_DECODE_S = 0.005


def sensor_options(protocol: Protocol, side: str, profile: str) -> dict[str, Any]:
    """Profile options that label a sensor's EMG channels with the protocol's muscles.

    The open nkt sensor's four electrodes get the tested muscle(s) then the
    partners, in protocol order, on channels 1, 2, ...; only those channels
    stream. Other profiles need no options.

    Parameters
    ----------
    protocol : Protocol
        The protocol.
    side : {"L", "R"}
        Tested side.
    profile : str
        Profile name.

    Returns
    -------
    dict
        ``emg_labels`` and ``emg_channels`` for ``nkt``; empty otherwise.

    Examples
    --------
    >>> p = load_protocol("hip_flexion_gmed_adl")
    >>> sensor_options(p, "L", "nkt")
    {'emg_labels': ['EMG GMED L', 'EMG ADL L', 'EMG TFL L', 'EMG GMAX L'], 'emg_channels': [1, 2]}
    """
    if profile != "nkt":
        return {}
    codes = [*protocol.tested, *(p.code for p in protocol.partners)]
    if len(codes) > 4:
        raise ValidationError(f"the nkt sensor has 4 EMG channels; protocol {protocol.name!r} "
                              f"records {len(codes)} muscles", parameter="sensor")  # fmt: skip
    fillers = [c for c in ("TFL", "GMAX", "QL", "RF") if c not in codes]
    labels = [format_emg_label(c, side) for c in [*codes, *fillers][:4]]
    return {"emg_labels": labels, "emg_channels": list(range(1, len(codes) + 1))}


def _emg_labels(config: SensorConfig) -> list[str]:
    profile = get_profile(config.profile, **dict(config.options))
    return [ch for c in profile.characteristics if c.role == "data" for ch in c.channels
            if ch.startswith("EMG ")]  # fmt: skip


def _imu_sites(configs: Sequence[SensorConfig]) -> set[str]:
    sites = set()
    for config in configs:
        profile = get_profile(config.profile, **dict(config.options))
        for c in profile.characteristics:
            sites |= {ch.split()[-1] for ch in c.channels if ch.startswith("ACC ")}
    return sites


class RetestSession:
    """A guided retest from the first sensor check to the saved report (see the module notes).

    Parameters
    ----------
    protocol : Protocol or str
        The protocol (or its name).
    side : {"L", "R"}
        Tested side.
    sensors : sequence of SensorConfig
        The sensors; one of them must record the EMG of the protocol's muscles
        on ``side`` (see :func:`sensor_options`).
    out : str or Path
        BIDS dataset root; ``sub-<subject>/ses-<session>`` must not hold a
        session yet, unless ``overwrite``.
    subject, session : str
        BIDS labels.
    capture : str or Path or None
        Capture file (default under ``out/sourcedata/nkt-motion/``).
    recorder_options : mapping or None
        Extra :class:`~nkt_motion.acquire.Recorder` arguments (``backend``,
        ``client_kwargs``, ``clock``, ``backoff``; ``decode_interval`` is
        0.005 s unless given here), e.g. from
        :meth:`nkt_motion.retest.emulated.EmulatedSetup.recorder_options`.
    marking : {"manual", "detect"}
        ``detect``: test trials are marked from the envelopes (contraction
        onset and offset); manual commands still work.
    override_quality : bool
        Allow trials on dead or clipping channels in every step.
    mains : float
        Mains frequency (Hz) of the place of recording.
    pdf : bool
        Also write the PDF report.
    n_boot, seed : int
        Assessment bootstrap resamples and seed.
    overwrite : bool
        Replace a session already saved under the same labels (at the end).
    tick_s : float
        Wall seconds between two housekeeping turns.

    Examples
    --------
    >>> hip = load_protocol("hip_flexion_gmed_adl")
    >>> cfg = SensorConfig("F0:00:00:00:00:01", "nkt", options=sensor_options(hip, "L", "nkt"))
    >>> rs = RetestSession("hip_flexion_gmed_adl", "L", [cfg], out="/tmp/nkt-doc")
    >>> snap = rs.snapshot()
    >>> snap["state"], snap["step"]["id"], snap["protocol"]["partners"]
    ('connecting', 'sensor_check', ['ADL'])

    ``result = await rs.run()`` records until the last step or :meth:`request_stop`.
    """

    def __init__(
        self,
        protocol: Protocol | str,
        side: Literal["L", "R"],
        sensors: Sequence[SensorConfig],
        *,
        out: str | Path,
        subject: str = "01",
        session: str = "01",
        capture: str | Path | None = None,
        recorder_options: Mapping[str, Any] | None = None,
        marking: Literal["manual", "detect"] = "manual",
        override_quality: bool = False,
        mains: float = 50.0,
        pdf: bool = True,
        n_boot: int = 2000,
        seed: int = 0,
        overwrite: bool = False,
        tick_s: float = 0.05,
    ) -> None:
        self.protocol = protocol if isinstance(protocol, Protocol) else load_protocol(protocol)
        if side not in ("L", "R"):
            raise ValidationError(f"side must be 'L' or 'R', got {side!r}", parameter="side")
        if marking not in ("manual", "detect"):
            raise ValidationError(f"marking must be 'manual' or 'detect', got {marking!r}",
                                  parameter="marking")  # fmt: skip
        self.side: Literal["L", "R"] = side
        self.sensors = list(sensors)
        self.out, self.subject, self.session_id = Path(out), subject, session
        folder = self.out / f"sub-{subject}" / f"ses-{session}"
        self.overwrite = overwrite
        if not overwrite and folder.exists() and any(folder.iterdir()):
            raise ValidationError(f"{folder} already holds a session; choose another session "
                                  "label or output folder", parameter="session")  # fmt: skip
        self.task = "".join(ch for ch in self.protocol.name if ch.isalnum()) or "nkt"
        stamp = time.strftime("%Y%m%dT%H%M%S")
        name = f"sub-{subject}_ses-{session}_{stamp}.nktcap"
        default = self.out / "sourcedata" / "nkt-motion" / name
        self.capture = Path(capture) if capture is not None else default
        self.marking = marking
        self.options = {"decode_interval": _DECODE_S, **(recorder_options or {})}
        self._clock: Callable[[], int] = self.options.get("clock", time.monotonic_ns)
        self.guide = Guide(self.protocol, override_quality=override_quality)
        emg_sensor, self._muscle_labels = self._pick_emg()
        sites = [s for s in self.protocol.imu_sites if s in _imu_sites(self.sensors)]
        speed = float(getattr(self._clock, "speed", 1.0))
        self.chain = LiveChain(self.protocol, side, emg_sensor, imu_sites=sites,
                               detect=marking == "detect", mains=mains,
                               stale_s=max(1.0, speed / 2),
                               end_wait_s=2.0 * max(1.0, speed),
                               judge_s=0.5 * max(1.0, speed))  # fmt: skip
        self.mains, self.pdf, self.n_boot, self.seed = mains, pdf, n_boot, seed
        self.tick_s = tick_s
        self.state: RunState = "connecting"
        self.result: RetestResult | None = None
        self._rec: Recorder | None = None
        self._stop = asyncio.Event()
        self._seq = 0
        self._messages: deque[str] = deque(maxlen=10)
        self._said = 0
        self._verdict: dict[str, Any] | None = None
        self._paths: dict[str, str | None] | None = None
        self._listeners: list[Callable[[], None]] = []
        self._say(self._step_text())

    def _pick_emg(self) -> tuple[str, set[str]]:
        codes = [*self.protocol.tested, *(p.code for p in self.protocol.partners)]
        wanted = {format_emg_label(c, self.side) for c in codes}
        for config in self.sensors:
            if wanted <= set(_emg_labels(config)):
                return config.entry().id, wanted
        raise ValidationError(
            f"no sensor records {', '.join(sorted(wanted))}: label the EMG channels with the "
            "protocol's muscles on the tested side (an nkt sensor gets them from "
            "sensor_options)",
            parameter="sensors",
        )

    # -- clock and messages -----------------------------------------------------------

    @property
    def now_s(self) -> float:
        """Session time now, seconds (0 before the recording starts)."""
        header = None if self._rec is None else self._rec.header
        return 0.0 if header is None else (self._clock() - header.origin_ns) * 1e-9

    @property
    def messages(self) -> list[str]:
        """The last plain-language messages for the practitioner."""
        return list(self._messages)

    @property
    def recorder(self) -> Recorder | None:
        """The recorder (None before :meth:`run`)."""
        return self._rec

    @property
    def verdict(self) -> dict[str, Any] | None:
        """The snapshot's ``verdict`` (None until the assessment is done)."""
        return self._verdict

    @property
    def paths(self) -> dict[str, str | None] | None:
        """The snapshot's ``paths`` (None until the session is saved)."""
        return self._paths

    def snapshot(self) -> dict[str, Any]:
        """Return the live state as JSON-ready values (schema in the module notes).

        Cheap enough for 10-20 calls a second from the event loop; ``seq``
        grows by one at every call.

        Returns
        -------
        dict
            The snapshot.
        """
        from nkt_motion.retest.view import build_snapshot

        self._seq += 1
        return {"seq": self._seq, **build_snapshot(self)}

    @property
    def said(self) -> int:
        """How many messages were said so far (the last 10 are in :attr:`messages`)."""
        return self._said

    def add_listener(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback()`` whenever the snapshot has changed; return its remover.

        The session calls it on its own loop after each live batch of packets
        is processed, each connection event and each command; an exception it
        raises is logged and the others are still called.

        Parameters
        ----------
        callback : callable
            ``() -> None``, quick (e.g. ``asyncio.Event.set``).

        Returns
        -------
        callable
            ``() -> None`` removing the listener (again: nothing more).

        Examples
        --------
        >>> hip = load_protocol("hip_flexion_gmed_adl")
        >>> cfg = SensorConfig("F0:00:00:00:00:01", "nkt", options=sensor_options(hip, "L", "nkt"))
        >>> rs = RetestSession(hip, "L", [cfg], out="/tmp/nkt-doc")
        >>> calls = []
        >>> remove = rs.add_listener(lambda: calls.append(rs.messages[-1]))
        >>> rs.command("stop")
        >>> remove()
        >>> rs.command("stop")
        >>> calls
        ['Stop requested.']
        """
        self._listeners.append(callback)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(callback)

        return remove

    def _changed(self) -> None:
        for callback in list(self._listeners):
            try:
                callback()
            except Exception:
                logger.exception("a snapshot listener failed")

    def _say(self, text: str) -> None:
        self._messages.append(text)
        self._said += 1
        logger.info(text)

    def _step_text(self) -> str:
        g, step = self.guide, self.guide.step
        return f"Step {g.index + 1}/{len(self.protocol.steps)}: {step.title}. {step.instruction}"

    # -- running ------------------------------------------------------------------------

    def request_stop(self) -> None:
        """Stop now and save everything recorded (safe from a signal handler)."""
        self._stop.set()

    async def run(self) -> RetestResult:
        """Record and guide until the last step ends or a stop is requested; then save.

        Returns
        -------
        RetestResult
            Paths, session, assessment and live trials (also in :attr:`result`).
        """
        self.capture.parent.mkdir(parents=True, exist_ok=True)
        self._rec = Recorder(self.sensors, capture_path=self.capture,
                             settings={"task": self.task}, on_packets=self._on_packets,
                             on_event=self._on_event, **self.options)  # fmt: skip
        task = asyncio.get_running_loop().create_task(self._rec.run())
        cancelled = False
        try:
            while not self._stop.is_set() and not task.done():
                self._tick()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.tick_s):
                        await self._stop.wait()
        except asyncio.CancelledError:
            cancelled = True
        result = await self._end(task)
        if cancelled:
            raise asyncio.CancelledError
        return result

    def _tick(self) -> None:
        now = self.now_s
        self._refresh_quality(now)
        self.chain.service(now)
        active = self.guide.active
        step = self.guide.step
        if active and step.kind == "rest" and step.duration_s:
            stop = active[1] + step.duration_s
            if now >= stop:
                self._apply("trial_stop", stop)

    def _refresh_quality(self, now: float) -> None:
        """Tell the guide which of the protocol's channels are dead or clipping now."""
        lights = self.chain.lights(now)
        rec = self._rec
        if rec is not None and self.chain.quality is not None:
            live = rec.live[self.chain.emg_sensor]
            flagged = [c for c, f in zip(live.channels, live.flags, strict=False) if f]
            self.chain.quality.set_device_flags(
                dict.fromkeys(flagged, "the sensor flags lead-off or saturation"))  # fmt: skip
        bad = {x.label: x.reason for x in lights
               if x.quality == "bad" and x.label in self._muscle_labels}  # fmt: skip
        if not lights:
            bad = {lab: f"{lab}: no signal yet" for lab in sorted(self._muscle_labels)}
        self.guide.set_quality(bad)

    async def _end(self, task: asyncio.Task[Any]) -> RetestResult:
        self.state = "finishing"
        if self.guide.state == "running":
            self.guide.apply("stop", max(self.now_s, 0.0))
            self._say("Stopping: everything recorded so far is being saved.")
        assert self._rec is not None
        self._rec.request_stop()
        try:
            recording = await task
        except (NktMotionError, OSError) as exc:
            self.state = "failed"
            self._say(f"The recording failed: {exc}. The capture is kept at {self.capture}.")
            self.result = RetestResult("failed", capture=self.capture, messages=(str(exc),))
            self._changed()
            return self.result
        self.chain.flush()
        self._reconcile(recording)
        meta = {"task": self.task, "protocol": self.protocol.name, "side": self.side,
                "power_line_frequency": self.mains, "retest": trial_log(self.guide)}  # fmt: skip
        live = [t.to_dict() for t in self.chain.trials]
        result = await asyncio.to_thread(
            finish_session, recording, self.guide, out=self.out, subject=self.subject,
            session_id=self.session_id, meta=meta, live_trials=live, pdf=self.pdf,
            n_boot=self.n_boot, seed=self.seed, overwrite=self.overwrite,
        )  # fmt: skip
        for text in result.messages:
            self._say(text)
        if result.assessment is not None:
            self._verdict = verdict_entry(result.assessment)
        if result.bids is not None:
            self._paths = {"bids": str(result.bids),
                           "report": None if result.report is None else str(result.report),
                           "pdf": None if result.pdf is None else str(result.pdf)}  # fmt: skip
        self.state = result.state  # type: ignore[assignment]
        self.result = result
        self._changed()
        return result

    def _reconcile(self, recording: Any) -> None:
        """Make incomplete the trials with a gap in the saved EMG or lost samples live."""
        gaps = recording.assembly.session.gaps
        emg = gaps[gaps["stream"] == "emg"]
        lost = {round(t.summary.start_s, 9) for t in self.chain.trials if t.status != "complete"
                and t.summary.missing_s > 0}  # fmt: skip
        for r in self.guide.events:
            if r.label == "correction":
                continue
            hit = emg[(emg["onset"] < r.onset + r.duration)
                      & (emg["onset"] + emg["duration"] > r.onset)]  # fmt: skip
            reason = ""
            if len(hit):
                reason = f"the saved EMG has a gap in it ({hit['reason'].iloc[0]})"
            elif round(r.onset, 9) in lost:
                reason = "EMG samples were lost during it"
            if reason and self.guide.invalidate(r.onset, r.label, reason):
                self.chain.mark(r.onset, "incomplete")
                self._say(f"{r.label} at {r.onset:.1f} s is incomplete: {reason}.")

    # -- data and connection events (called by the recorder) ------------------------------

    def _on_packets(self, sensor: str, packets: list[Packet]) -> None:
        if self.chain.feed is None and self._rec is not None and self._rec.header is not None:
            self.chain.start(self._rec.entries, self._rec.header.origin_ns)
        for event in self.chain.take(sensor, packets, now_s=self.now_s):
            self._detected(event)
        if self.state == "connecting" and not math.isnan(self.chain.first_emg_s):
            self.state = "running"
            self._say("Sensors streaming.")
        self._changed()

    def _on_event(self, event: CaptureEvent) -> None:
        if self.chain.feed is None and self._rec is not None and self._rec.header is not None:
            self.chain.start(self._rec.entries, self._rec.header.origin_ns)
        if event.event == "connect" and self.chain.feed is not None:
            self.chain.feed.connected(event.sensor, event.host_ns)
        elif event.event in ("disconnect", "error", "gave_up"):
            what = {"disconnect": "dropped", "error": "failed", "gave_up": "was given up"}
            text = f"Sensor {event.sensor} {what[event.event]}"
            if self.guide.flag_incomplete(f"sensor {event.sensor} {what[event.event]} during it"):
                text += "; the current trial is marked incomplete"
            self._say(text + (" (reconnecting)." if event.event != "gave_up" else "."))
        self._changed()

    def _detected(self, event: DetectedEvent) -> None:
        if self.guide.step.kind not in _DETECTED_KINDS or self.guide.state != "running":
            return
        name = "trial_start" if event.kind == "start" else "trial_stop"
        if (name == "trial_start") == (self.guide.active is not None):
            return
        try:
            self._apply(name, event.t_s)
        except ValidationError as exc:
            self._say(f"Detected {event.kind} not marked: {exc}")

    # -- commands -----------------------------------------------------------------------

    def command(self, name: str, **args: Any) -> None:
        """Run a practitioner command (from a key, a dashboard button or a script).

        Parameters
        ----------
        name : str
            ``trial_start``, ``trial_stop``, ``trial_toggle``, ``next``, ``skip``,
            ``repeat``, ``override`` or ``stop``.
        **args
            ``t`` (session seconds; default now) for any command but ``stop``;
            ``note`` for ``skip`` and ``trial_stop``.

        Raises
        ------
        ValidationError
            For an unknown command, or one not allowed now (the reason says why).
        """
        if name not in COMMANDS:
            raise ValidationError(f"command must be one of {', '.join(COMMANDS)}, got {name!r}",
                                  parameter="command")  # fmt: skip
        if name == "stop":
            self._say("Stop requested.")
            self.request_stop()
            self._changed()
            return
        if self.state not in ("connecting", "running") or self._stop.is_set():
            raise ValidationError(f"{name}: the retest is {self.state}", parameter="command")
        if name.startswith("trial_") and self.state == "connecting":
            raise ValidationError(f"{name}: the sensors are not streaming yet",
                                  parameter="command")  # fmt: skip
        now, t = self.now_s, args.pop("t", None)
        if t is not None and not (isinstance(t, int | float) and t <= now + _AHEAD_S):
            raise ValidationError(f"t must be a session time up to now ({now:.3f} s), got {t!r}",
                                  parameter="t")  # fmt: skip
        try:
            self._apply(name, now if t is None else float(t), **args)
        except ValidationError as exc:
            self._say(f"Not done: {exc}")
            raise
        finally:
            self._changed()

    def _apply(self, name: str, t: float, **args: Any) -> None:
        g = self.guide
        if name in ("trial_start", "trial_toggle"):
            self._refresh_quality(self.now_s)
        index, active = g.index, g.active
        dropped = {(r.onset, r.label) for r in g.records if r.status == "discarded"}
        g.apply(name, t, **args)
        if g.active is not None and active is None:
            label, start = g.active
            self.chain.begin(label, start)
            done, n = g.trials_done() + 1, g.n_trials()
            self._say(f"Trial {done} of {n} started ({label}).")
        elif active is not None and g.active is None:
            record = next(r for r in g.records if r.onset == active[1] and r.label == active[0])
            self.chain.end(record.onset + record.duration, complete=record.status == "complete")
            if record.status == "complete":
                self._say(f"{record.label} recorded ({record.duration:.1f} s).")
            else:
                self._say(f"{record.label} kept as incomplete: {record.note}.")
        gone = next((r for r in g.records if r.status == "discarded"
                     and (r.onset, r.label) not in dropped), None)  # fmt: skip
        if gone is not None:  # repeat: the trial the guide just discarded
            self.chain.discard(gone.onset)  # out of the live ratios and references
            self._say(f"{gone.label} at {gone.onset:.1f} s discarded; record it again.")
        elif name == "override":
            self._say("Quality override: trials allowed in this step.")
        if g.index != index and g.state == "running":
            self._say(self._step_text())
        if g.state == "finished":
            self._say("All steps done: saving, assessing and writing the report.")
            self.request_stop()
