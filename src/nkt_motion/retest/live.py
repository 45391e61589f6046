"""The live data path of a retest: packets -> session-clock blocks -> live processor.

:class:`LiveChain` owns a :class:`~nkt_motion.retest.feed.LiveFeed`, the quality
lights of the EMG channels and the :class:`~nkt_motion.retest.processor.LiveProcessor`.
The processor is made once ``probe_s`` seconds of EMG have arrived: they tell
the channels and rate that actually stream, and whether mains hum needs the
notch (the same test as the offline chain: the mains check of
:func:`nkt_motion.dsp.check_quality`), so the live amplitudes are those the
offline analysis will compute. Trials marked before that are applied when it
exists (the processor looks back ``lookback_s``).

Trial starts and ends are handed to the processor in order: an end once the EMG
up to its stop time has arrived (a key press runs ahead of the radio), or when
the EMG stalls for ``end_wait_s``; a start that follows waits for that end.
While a trial is open the feed keeps its samples on one grid.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from nkt_motion.capture import Packet, SensorEntry
from nkt_motion.dsp import check_quality
from nkt_motion.errors import NktMotionError
from nkt_motion.protocols import Protocol
from nkt_motion.retest.detector import DetectedEvent
from nkt_motion.retest.feed import FeedBlock, LiveFeed
from nkt_motion.retest.processor import LiveProcessor, TrialSummary
from nkt_motion.retest.quality import Light, QualityLights

__all__ = ["LiveChain", "LiveTrial"]

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class LiveTrial:
    """A trial's live summary and its status in the guide.

    Attributes
    ----------
    summary : TrialSummary
        What the processor measured.
    status : {"complete", "incomplete", "discarded"}
        As in the guide's records.
    """

    summary: TrialSummary
    status: str

    def to_dict(self) -> dict[str, Any]:
        """Return the summary's dict with ``status``."""
        return {**self.summary.to_dict(), "status": self.status}


class LiveChain:
    """Packets in, live figures out (see the module notes).

    Parameters
    ----------
    protocol : Protocol
        The protocol.
    side : {"L", "R"}
        Tested side.
    emg_sensor : str
        Id of the sensor whose EMG is processed live.
    imu_sites : sequence of str
        Protocol IMU sites some sensor records (their blocks are awaited).
    detect : bool
        Run the processor's trial detector.
    mains : float
        Mains frequency, Hz.
    probe_s : float
        EMG seconds collected before the processor is made.
    stale_s : float
        Session seconds without EMG after which the quality lights turn ``bad``
        (more than 1 s for an emulated session faster than real time).
    end_wait_s : float
        Session seconds a trial's end waits for its EMG before the trial is
        ended with the samples that came.
    judge_s : float
        Session seconds of signal between two quality judgements.

    Examples
    --------
    >>> from nkt_motion.protocols import load_protocol
    >>> chain = LiveChain(load_protocol("hip_flexion_gmed_adl"), "L", "nkt-0001")
    >>> chain.processor is None, chain.time_s
    (True, nan)
    """

    def __init__(
        self,
        protocol: Protocol,
        side: Literal["L", "R"],
        emg_sensor: str,
        *,
        imu_sites: Sequence[str] = (),
        detect: bool = False,
        mains: float = 50.0,
        probe_s: float = 1.0,
        stale_s: float = 1.0,
        end_wait_s: float = 2.0,
        judge_s: float = 0.5,
    ) -> None:
        self.protocol, self.side, self.emg_sensor = protocol, side, emg_sensor
        self.imu_sites = tuple(imu_sites)
        self.detect, self.mains, self.probe_s = detect, float(mains), float(probe_s)
        self.stale_s, self.end_wait_s = float(stale_s), float(end_wait_s)
        self.judge_s = float(judge_s)
        self._now = math.nan
        self.feed: LiveFeed | None = None
        self.processor: LiveProcessor | None = None
        self.quality: QualityLights | None = None
        self.mains_hz: float | None = None
        self.trials: list[LiveTrial] = []
        self.problems: list[str] = []
        self._held: list[FeedBlock] = []
        self._marks: deque[tuple[str, float, Any]] = deque()
        self._imu_used: set[str] = set()
        #: Session time of the first EMG sample placed (NaN before it).
        self.first_emg_s = math.nan

    def start(self, entries: Sequence[SensorEntry], origin_ns: int) -> None:
        """Start decoding for a recording that began at ``origin_ns``.

        Parameters
        ----------
        entries : sequence of SensorEntry
            The recorder's sensors.
        origin_ns : int
            Host time of session time 0, ns.
        """
        self.feed = LiveFeed(entries, origin_ns=origin_ns)

    @property
    def time_s(self) -> float:
        """End time of the EMG processed so far (NaN before any)."""
        return math.nan if self.processor is None else self.processor.time_s

    @property
    def labels(self) -> tuple[str, ...]:
        """EMG channel labels streaming (empty before the first block)."""
        return () if self.quality is None else self.quality.labels

    def take(
        self, sensor: str, packets: list[Packet], *, now_s: float | None = None
    ) -> list[DetectedEvent]:
        """Process a batch of one sensor's packets.

        Parameters
        ----------
        sensor : str
            Sensor id.
        packets : list of Packet
            The batch.
        now_s : float or None
            Session time of its arrival.

        Returns
        -------
        list of DetectedEvent
            Trial starts and stops the detector confirmed (``detect`` only).
        """
        if self.feed is None:
            return []
        self._now = math.nan if now_s is None else now_s
        for block in self.feed.feed(sensor, packets):
            self._block(block)
        self._drain(force=False)
        return self.processor.detector_events() if self.processor and self.detect else []

    def flush(self) -> None:
        """Process the blocks still held at the end, and end a pending trial."""
        if self.feed is not None:
            for block in self.feed.flush():
                self._block(block)
        if self.processor is None and self._held:
            self._make_processor(force=True)
        self._drain(force=True)

    def _block(self, block: FeedBlock) -> None:
        if block.kind == "emg" and block.sensor == self.emg_sensor:
            if self.quality is None:
                self.quality = QualityLights(block.labels, block.fs, mains=self.mains,
                                             stale_s=self.stale_s,
                                             every_s=self.judge_s)  # fmt: skip
                self.first_emg_s = block.start_s
            if block.labels != self.quality.labels:
                self._problem(f"{block.sensor}: EMG channels changed to {block.labels}; ignored")
                return
            now = None if math.isnan(self._now) else self._now
            self.quality.push(block.data, block.start_s, now_s=now)
        elif block.kind != "imu" or block.site not in self.imu_sites:
            return
        if self.processor is None:
            self._held.append(block)
            self._make_processor(force=False)
        else:
            self._push(block)

    def _push(self, block: FeedBlock) -> None:
        proc = self.processor
        assert proc is not None
        try:
            if block.kind == "emg":
                proc.push_emg(block.data, block.start_s)
            elif block.site in self._imu_used:
                proc.push_imu(str(block.site), block.data, block.start_s)
        except NktMotionError as exc:
            self._problem(f"live processing: {exc}")

    def _make_processor(self, *, force: bool) -> None:
        emg = [b for b in self._held if b.kind == "emg"]
        if not emg:
            return
        seconds = sum(b.data.shape[1] for b in emg) / emg[0].fs
        sites = {b.site: b.fs for b in self._held if b.kind == "imu"}
        if not force and (
            seconds < self.probe_s
            or (set(sites) != set(self.imu_sites) and seconds < 3 * self.probe_s)
        ):
            return  # fmt: skip
        self.mains_hz = self.mains if self._hum(emg) else None
        use = [s for s in self.imu_sites if s in sites]
        fs = sites[use[0]] if use else None
        use = [s for s in use if sites[s] == fs]
        self._imu_used = set(use)
        self.processor = LiveProcessor(
            self.protocol, self.side, emg_labels=emg[0].labels, emg_fs=emg[0].fs,
            imu_fs=fs, imu_sites=use, mains_hz=self.mains_hz, auto_detect=self.detect,
        )  # fmt: skip
        held, self._held = self._held, []
        self._drain(force=False)  # trials marked before: the processor looks back
        for block in held:
            self._push(block)

    def _hum(self, emg: list[FeedBlock]) -> bool:
        x = np.hstack([b.data for b in emg])
        q = check_quality(x, emg[0].fs, ch_names=emg[0].labels, mains=self.mains)
        return bool((~q.loc[q["check"] == "mains", "ok"].astype(bool)).any())

    def lights(self, now_s: float) -> list[Light]:
        """Return the EMG quality lights at session time ``now_s`` (empty before data)."""
        return [] if self.quality is None else self.quality.lights(now_s)

    # -- trials ------------------------------------------------------------------------

    def begin(self, label: str, t: float) -> None:
        """Start a trial at ``t`` (after the pending end of the one before, if any).

        Parameters
        ----------
        label : str
            Event label.
        t : float
            Start, session seconds.
        """
        self._marks.append(("begin", t, label))
        if self.feed is not None:
            self.feed.hold = True
        self._drain(force=False)

    def end(self, t: float, *, complete: bool) -> None:
        """End the running trial at ``t`` once its EMG has arrived.

        Parameters
        ----------
        t : float
            Stop, session seconds.
        complete : bool
            Whether the guide keeps it as complete.
        """
        self._marks.append(("end", t, complete))
        self._drain(force=False)

    def service(self, now_s: float) -> None:
        """End a pending trial whose EMG is later than ``end_wait_s``; then go on."""
        if (
            self._marks
            and self._marks[0][0] == "end"
            and now_s - self._marks[0][1] > self.end_wait_s
        ):
            self._drain(force=True, first_only=True)
            self._drain(force=False)

    def discard(self, start: float) -> None:
        """Discard the live trial that started at ``start`` (once its pending end is handed on).

        It is kept in :attr:`trials` with status ``discarded`` and taken back
        from the processor (:meth:`LiveProcessor.discard_trial`): out of the
        ratio lists and, for a reference trial, out of the muscle's reference.
        """
        self._marks.append(("discard", start, None))
        self._drain(force=False)

    def _discard(self, start: float) -> None:
        for trial in self.trials:
            if abs(trial.summary.start_s - start) < 1e-9:
                trial.status = "discarded"
        proc = self.processor
        found = [] if proc is None else [i for i, t in enumerate(proc.trials)
                                         if abs(t.start_s - start) < 1e-9]  # fmt: skip
        if proc is not None and found:
            proc.discard_trial(found[-1])

    def mark(self, start: float, status: str) -> None:
        """Set the status of the live trial that started at ``start``."""
        for trial in self.trials:
            if abs(trial.summary.start_s - start) < 1e-9 and trial.status == "complete":
                trial.status = status

    def _drain(self, *, force: bool, first_only: bool = False) -> None:
        """Hand the queued starts and ends to the processor, in order, when their EMG is in."""
        while self._marks:
            kind, t, arg = self._marks[0]
            proc = self.processor
            if proc is None and not force:
                return
            if kind == "end" and proc is not None and not force and not proc.time_s >= t:
                return
            self._marks.popleft()
            if kind == "discard":
                self._discard(t)
            elif proc is not None and kind == "begin":
                proc.begin_trial(str(arg), t)
            elif proc is not None:
                summary = proc.end_trial(t, complete=bool(arg))
                ok = bool(arg) and summary.missing_s == 0.0
                self.trials.append(LiveTrial(summary, "complete" if ok else "incomplete"))
            if self.feed is not None:
                self.feed.hold = any(m[0] == "begin" for m in self._marks) or kind == "begin"
            if first_only:
                return

    def _problem(self, text: str) -> None:
        if text not in self.problems:
            self.problems.append(text)
            logger.warning(text)
