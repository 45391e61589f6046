"""Live processing core of the guided retest: levels, ratios, onsets and angles as samples arrive.

A :class:`LiveProcessor` is pure, synchronous and in memory: the caller pushes
EMG and IMU blocks stamped with session-clock times and marks trials with
:meth:`~LiveProcessor.begin_trial` / :meth:`~LiveProcessor.end_trial` (from a key
press, or from the events of the built-in :class:`~nkt_motion.retest.detector.TrialDetector`
read with :meth:`~LiveProcessor.detector_events`). It mirrors
:func:`nkt_motion.features.trial_table` with the causal, stateful forms of the
same filters, so a trial's live amplitudes and ratio equal the offline values of
the same samples to well within 1 % (the zero-phase offline filters and the
causal live ones differ only in phase):

- amplitude: RMS of the band-passed (and, with ``mains_hz``, notched) EMG over
  the trial's samples ``[start_s, stop_s)``, from running sums;
- reference: when a complete ``ref/<CODE>`` trial ends, its RMS joins that
  muscle's references; the reference is their mean (the offline
  ``"reference"`` normalisation) and divides every later amplitude;
- ratio: tested amplitude / partner amplitude of a test trial;
- onsets: Hodges & Bui (25 ms mean of the 50 Hz low-passed rectified EMG against
  the first complete ``rest`` trial's mean + 3 SD, bursts of at least 30 ms) on
  the trial's samples and the 100 ms before, in ms after the trial start (a
  little negative when a trial begins at a detected contraction onset);
- angles: the protocol's kinematic signs from a streaming Madgwick filter per
  IMU site (see :mod:`nkt_motion.retest._proc_imu`), peaks against the rest posture.

Memory is bounded: each track keeps ``lookback_s`` of recent samples (for
trials marked a little late or early, and for the live view), running sums, and
the open trial's low-passed EMG and angles (at most ``max_trial_s``).

Examples
--------
>>> from nkt_motion.simulate import gmed_adl_hip_flexion, simulate
>>> s = simulate(gmed_adl_hip_flexion(n_trials=1)).session
>>> emg, marks = s["emg"], s.events[["onset", "duration", "label"]].to_numpy()
>>> live = LiveProcessor("hip_flexion_gmed_adl", "L", emg_labels=emg.ch_names, emg_fs=emg.fs)
>>> for i in range(0, emg.n_samples, 40):  # 20 ms blocks
...     live.push_emg(emg.data[:, i : i + 40], i / emg.fs)
...     for onset, duration, label in marks:  # mark a trial in the block holding its edge
...         if live.time_s - 0.02 <= onset + duration < live.time_s:
...             _ = live.end_trial(onset + duration)
...         if live.time_s - 0.02 <= onset < live.time_s:
...             live.begin_trial(label, onset)
>>> [(t.label, round(t.ratios["ADL"], 2)) for t in live.trials if t.phase in ("pre", "post")]
[('pre/test/GMED', 0.53), ('post/test/GMED', 1.25)]
>>> snap = live.snapshot()
>>> snap["onsets"]["order"], snap["channels"][0]["normalised"]
(['GMED', 'ADL'], True)
>>> sorted(snap)
['angles', 'channels', 'onsets', 'ratios']
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from nkt_motion.dsp._validate import validate_fs, validate_positive
from nkt_motion.errors import SignalError, ValidationError
from nkt_motion.protocols import Protocol, load_protocol
from nkt_motion.retest._proc_amp import ChannelMap, References
from nkt_motion.retest._proc_emg import EmgTrack, Gap, OnsetBaseline, detector_rest, onset_baseline
from nkt_motion.retest._proc_imu import check_site, make_imu_tracks, no_angles
from nkt_motion.retest._proc_ring import Window, check_block
from nkt_motion.retest._proc_summary import (
    TrialSummary,
    channel_entries,
    jsonable,
    onset_order,
    onsets_entry,
    ratio_entries,
)
from nkt_motion.retest.detector import DetectedEvent, TrialDetector
from nkt_motion.vocab import EventLabel, muscle_code, parse_event_label

__all__ = ["Gap", "LiveProcessor", "TrialSummary"]

logger = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]


class LiveProcessor:
    """Turn streamed EMG and IMU blocks into live levels, ratios, onsets and angles.

    Parameters
    ----------
    protocol : Protocol or str
        The protocol followed (or its name): tested muscle, partners, kinematic signs.
    side : {"L", "R"}
        Tested (stance) side.
    emg_labels : sequence of str
        Row labels of the EMG blocks, ``EMG <CODE> <L|R>``; channels of muscles
        outside the protocol are processed and reported but not ratioed.
    emg_fs : float
        EMG rate in Hz.
    imu_fs : float, optional
        IMU rate in Hz (all sites share it); required with ``imu_sites``.
    imu_sites : sequence of str
        Sites that will be pushed (``pelvis`` or ``sacrum``, ``trunk``, ``thigh_L``...).
    mains_hz : float, optional
        Notch this mains frequency and its harmonics (do so when the offline
        analysis would, i.e. the recording shows hum); None for no notch.
    gyro_unit : {"deg/s", "rad/s"}
        Unit of the gyroscope rows of IMU blocks (a session's IMU stream uses deg/s).
    auto_detect : bool
        Run a :class:`~nkt_motion.retest.detector.TrialDetector` (default
        settings) on the protocol muscles once a rest trial has set its baseline.
    detector : TrialDetector, optional
        A detector with other settings (its ``fs_env`` must be ``emg_fs``);
        implies ``auto_detect``.
    lookback_s : float
        Recent seconds kept per track (default 10).
    max_trial_s : float
        Longest trial whose samples are kept for onsets and angles (default 120).

    Examples
    --------
    See the module example.
    """

    def __init__(
        self,
        protocol: Protocol | str,
        side: Literal["L", "R"],
        *,
        emg_labels: Sequence[str],
        emg_fs: float,
        imu_fs: float | None = None,
        imu_sites: Sequence[str] = (),
        mains_hz: float | None = None,
        gyro_unit: Literal["deg/s", "rad/s"] = "deg/s",
        auto_detect: bool = False,
        detector: TrialDetector | None = None,
        lookback_s: float = 10.0,
        max_trial_s: float = 120.0,
    ) -> None:
        self.protocol = protocol if isinstance(protocol, Protocol) else load_protocol(protocol)
        if side not in ("L", "R"):
            raise ValidationError(f"side must be 'L' or 'R', got {side!r}", parameter="side")
        self.side: Literal["L", "R"] = side
        self.channels = ChannelMap(emg_labels, self.protocol, side)
        self.emg_fs = validate_fs(emg_fs)
        look = validate_positive(lookback_s, name="lookback_s")
        longest = validate_positive(max_trial_s, name="max_trial_s")
        n = len(self.channels.keys)
        self._emg = EmgTrack(
            self.emg_fs, n, mains_hz=mains_hz, lookback_s=look, max_trial_s=longest
        )
        signs = [k.sign for k in self.protocol.kinematic_signs]
        self._imu = make_imu_tracks(
            imu_fs,
            imu_sites,
            signs,
            side,
            gyro_unit=gyro_unit,
            lookback_s=look,
            max_trial_s=longest,
        )
        if detector is not None and detector.fs != self.emg_fs:
            raise ValidationError(
                f"detector.fs must equal emg_fs={self.emg_fs:g} Hz, got {detector.fs:g}",
                parameter="detector",
            )
        self._detector = detector or (TrialDetector(self.emg_fs) if auto_detect else None)
        self._det_rows = [self.channels.keys.index(c) for c in self.channels.protocol_codes]
        self._events: list[DetectedEvent] = []
        self._refs = References(self.channels, self.protocol)
        self._onset_base: OnsetBaseline | None = None
        self._open: tuple[EventLabel, float] | None = None
        self._trials: list[TrialSummary] = []
        self._keys: list[int] = []  # one per trial: names its reference values
        self._base_key: int | None = None  # the rest trial that set the onset baseline
        self._next_key = 0

    # -- samples --------------------------------------------------------------
    def push_emg(self, block: ArrayLike, start_s: float) -> None:
        """Process the next EMG block.

        Parameters
        ----------
        block : array_like, shape (n_channels, n_samples)
            Raw EMG in uV, rows in ``emg_labels`` order; any number of samples.
        start_s : float
            Session time of the first sample, seconds. A later start than
            expected is a gap: up to 10 ms is bridged by linear interpolation,
            longer gaps are recorded in :attr:`gaps` and restart the band-pass;
            samples already received are dropped (logged).

        Raises
        ------
        ValidationError
            If the shape does not match the channels.
        SignalError
            If the block holds NaN or infinity (the error names the channel).
        """
        x = check_block(block, len(self.channels.keys), self.channels.labels)
        out = self._emg.push(x, float(start_s))
        if out is not None and self._detector is not None and self._det_rows:
            first, mean = out
            t = self._emg.clock.time(first)
            self._events += self._detector.push(mean[self._det_rows], t)

    def push_imu(self, site: str, block: ArrayLike, start_s: float) -> None:
        """Process the next block of one IMU site.

        Parameters
        ----------
        site : str
            One of ``imu_sites``.
        block : array_like, shape (6, n_samples)
            Accelerometer x, y, z (m/s^2) then gyroscope x, y, z (``gyro_unit``).
        start_s : float
            Session time of the first sample, seconds (on the shared IMU grid).

        Raises
        ------
        ValidationError
            If the processor has no IMU, the site is unknown or the shape is wrong.
        """
        if self._imu is None:
            raise ValidationError(
                "this processor has no IMU sites; pass imu_sites and imu_fs", parameter="site"
            )
        check_site(site, dict(self._imu.sites))
        names = [f"{k} {a} {site}" for k in ("ACC", "GYR") for a in "XYZ"]
        self._imu.push(site, check_block(block, 6, names), float(start_s))

    @property
    def time_s(self) -> float:
        """End time of the EMG received so far, seconds (NaN before the first block)."""
        return self._emg.clock.time_s

    @property
    def gaps(self) -> list[Gap]:
        """Every gap found so far in the EMG and IMU blocks, in arrival order per stream."""
        return [*self._emg.gaps, *(self._imu.gaps if self._imu else [])]

    @property
    def detector(self) -> TrialDetector | None:
        """The trial detector (None without ``auto_detect``); ``ready`` once a rest ended."""
        return self._detector

    def detector_events(self) -> list[DetectedEvent]:
        """Return and forget the trial starts and stops detected since the last call.

        Returns
        -------
        list of DetectedEvent
            Empty without ``auto_detect`` or before the first complete rest trial.
        """
        out, self._events = self._events, []
        return out

    # -- levels ---------------------------------------------------------------
    @property
    def normalised(self) -> dict[str, bool]:
        """Per EMG label, whether its amplitudes are normalised to a reference yet."""
        return {lab: self._refs.get(i) is not None for i, lab in enumerate(self.channels.labels)}

    @property
    def references(self) -> dict[str, float]:
        """Per channel key with a reference: the reference RMS in uV."""
        return {
            k: ref[0]
            for i, k in enumerate(self.channels.keys)
            if (ref := self._refs.get(i)) is not None
        }

    def levels(self) -> dict[str, float]:
        """Return the current 6 Hz envelope of each channel, per EMG label.

        Returns
        -------
        dict of str to float
            Divided by the mean envelope over the muscle's reference trials
            once one exists (see :attr:`normalised`), else in uV; NaN before
            the first block.
        """
        levels = self._refs.levels(self._emg.levels())
        return dict(zip(self.channels.labels, levels.tolist(), strict=True))

    # -- trials ---------------------------------------------------------------
    def begin_trial(self, label: str, t_s: float) -> None:
        """Start a trial at session time ``t_s``.

        Parameters
        ----------
        label : str
            Event label: ``rest``, ``ref/<CODE>``, ``pre/test/<CODE>``,
            ``post/test/<CODE>`` or ``correction``.
        t_s : float
            Start on the session clock, seconds; may lie up to ``lookback_s``
            in the past (a back-dated detection) or in the future.

        Raises
        ------
        ValidationError
            If a trial is already running or ``t_s`` is not finite.
        VocabularyError
            If the label does not follow the conventions.
        """
        ev = parse_event_label(label)
        if self._open is not None:
            raise ValidationError(
                f"trial {self._open[0].label!r} started at {self._open[1]:g} s is still "
                "running; end it before beginning another",
                parameter="label",
            )
        if not math.isfinite(t_s):
            raise ValidationError(f"t_s must be finite, got {t_s}", parameter="t_s")
        self._open = (ev, float(t_s))
        self._emg.open(float(t_s))
        if self._imu is not None:
            self._imu.open(float(t_s))

    def end_trial(self, t_s: float, *, complete: bool = True) -> TrialSummary:
        """End the running trial at session time ``t_s`` and summarise it.

        Parameters
        ----------
        t_s : float
            End on the session clock, seconds (exclusive). Push the samples up
            to ``t_s`` first: a later ``t_s`` than :attr:`time_s` ends the trial
            with the samples received.
        complete : bool
            False for an aborted trial.

        Returns
        -------
        TrialSummary
            Also appended to :attr:`trials`.

        Raises
        ------
        ValidationError
            If no trial is running or ``t_s`` is before its start.
        """
        if self._open is None:
            raise ValidationError("no trial is running; call begin_trial first", parameter="t_s")
        ev, start = self._open
        if not t_s >= start:
            raise ValidationError(
                f"t_s must be >= the trial start {start:g} s, got {t_s}", parameter="t_s"
            )
        if t_s > self.time_s:
            logger.info("trial %s ends at %.3f s, after the last EMG sample", ev.label, t_s)
        self._open = None
        window, _ = self._emg.close(float(t_s))
        if window is None:  # no EMG sample yet
            window = Window(0, 3 * len(self.channels.keys), 2 * len(self.channels.keys), 0)
        key, self._next_key = self._next_key, self._next_key + 1
        if ev.phase == "rest" and complete and self._onset_base is None:
            self._set_baselines(self._emg.rest_rows(window))
            self._base_key = key
        if ev.phase == "ref" and complete:
            self._refs.add(ev, window.sums, window.count, key=key)
        angles = self._imu.close(t_s, phase=ev.phase, complete=complete) if self._imu else {}
        summary = self._summarise(ev, start, float(t_s), complete, window)
        summary = replace(summary, angles=angles or no_angles(self.protocol, ev.phase))
        self._trials.append(summary)
        self._keys.append(key)
        return summary

    def discard_trial(self, index: int = -1) -> TrialSummary:
        """Take back an ended trial, as if it had not been recorded (a repeated trial).

        The trial leaves :attr:`trials` and the snapshot's ratio lists; a
        ``ref/<CODE>`` trial no longer counts in its muscle's reference (which
        is again the mean of the muscle's other reference trials, or none, for
        later levels and trials; trials already ended keep their values); the
        rest trial that set the onset baseline makes way for the next complete one.

        Parameters
        ----------
        index : int
            Position in :attr:`trials` (negative from the end; default the last).

        Returns
        -------
        TrialSummary
            The trial taken back.

        Raises
        ------
        ValidationError
            If there is no trial at ``index``.

        Examples
        --------
        >>> live = LiveProcessor("hip_flexion_gmed_adl", "L", emg_labels=["EMG GMED L",
        ...                      "EMG ADL L"], emg_fs=1000.0)
        >>> live.push_emg(np.tile([[200.0, -200.0]], (2, 500)), 0.0)
        >>> live.begin_trial("ref/GMED", 0.0)
        >>> live.end_trial(1.0).label, live.normalised["EMG GMED L"]
        ('ref/GMED', True)
        >>> live.discard_trial().label, live.trials, live.normalised["EMG GMED L"]
        ('ref/GMED', [], False)
        """
        n = len(self._trials)
        if isinstance(index, bool) or not isinstance(index, int) or not -n <= index < n:
            raise ValidationError(
                f"index must be an int in [{-n}, {n}) (the ended trials), got {index!r}",
                parameter="index",
            )
        summary, key = self._trials.pop(index), self._keys.pop(index)
        self._refs.remove(key)
        if key == self._base_key:
            self._onset_base, self._base_key = None, None
        return summary

    @property
    def trials(self) -> list[TrialSummary]:
        """Summaries of the ended trials, oldest first."""
        return list(self._trials)

    def _set_baselines(self, low: FloatArray) -> None:
        self._onset_base = onset_baseline(low, self.emg_fs)
        if self._detector is not None and self._det_rows and low.shape[1] >= 2:
            try:
                self._detector.set_baseline(detector_rest(low[self._det_rows], self.emg_fs))
            except SignalError as exc:
                logger.warning("trial detection off: %s", exc)

    def _summarise(
        self, ev: EventLabel, start: float, stop: float, complete: bool, window: Window
    ) -> TrialSummary:
        rms, amp, norm = self._refs.amplitudes(window.sums, window.count)
        keys = self.channels.keys
        onsets: dict[str, float | None] = dict.fromkeys(keys)
        if self._onset_base is not None and ev.phase in ("ref", "pre", "post"):
            found = self._emg.onsets_ms(window, self._onset_base, start)
            onsets = dict(zip(keys, found, strict=True))
        return TrialSummary(
            label=ev.label,
            phase=ev.phase,
            muscle=None if ev.muscle is None else muscle_code(ev.muscle),
            index=sum(t.label == ev.label for t in self._trials),
            start_s=start,
            stop_s=stop,
            complete=complete,
            amplitude=dict(zip(keys, amp.tolist(), strict=True)),
            amplitude_uv=dict(zip(keys, rms.tolist(), strict=True)),
            normalised=dict(zip(keys, norm, strict=True)),
            ratios=self._refs.ratios(ev, amp, norm),
            onsets_ms=onsets,
            onset_order=onset_order(onsets, self.channels.protocol_codes),
            angles={},
            missing_s=window.missing / self.emg_fs,
        )

    # -- snapshot -------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """Return the live figures as JSON-ready values.

        Returns
        -------
        dict
            Exactly the keys ``channels`` (per EMG label: ``label``, ``muscle``
            code, ``level`` as :meth:`levels`, ``normalised``), ``ratios`` (per
            partner of the current tested muscle: ``current`` (the running trial,
            else the last test trial), ``previous``, and the ``pre`` and
            ``post`` lists over completed test trials), ``onsets`` (None, or
            the last test trial's ``label``, ``order`` and ``delays_ms`` after
            the first onset) and ``angles`` (per kinematic sign: ``name``,
            ``value`` in degrees against the rest posture, ``unit``). NaN is None.
        """
        running = None
        if self._open is not None and self._open[0].is_test and self._emg.window is not None:
            ev, w = self._open[0], self._emg.window
            _, amp, flags = self._refs.amplitudes(w.sums, w.count)
            running = (muscle_code(str(ev.muscle)), self._refs.ratios(ev, amp, flags))
        tests = [t for t in self._trials if t.phase in ("pre", "post")]
        angles = self._imu.current() if self._imu else no_angles(self.protocol, "pre")
        return {
            "channels": channel_entries(self.channels, self.levels(), self.normalised),
            "ratios": ratio_entries(self.protocol, tests, running),
            "onsets": onsets_entry(tests[-1] if tests else None),
            "angles": [
                {"name": k, "value": jsonable(v), "unit": "deg"} for k, v in angles.items()
            ],
        }
