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
  the trial's own samples, in ms after the trial start;
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
from nkt_motion.dsp.envelope import _moving_mean, window_samples
from nkt_motion.errors import SignalError, ValidationError
from nkt_motion.protocols import Protocol, load_protocol
from nkt_motion.retest._proc_emg import (
    ONSET_WINDOW_S,
    EmgTrack,
    Gap,
    OnsetBaseline,
    onset_baseline,
    trial_onsets,
)
from nkt_motion.retest._proc_imu import ANGLE_NAMES, ImuTracks, check_site
from nkt_motion.retest._proc_ring import Window
from nkt_motion.retest._proc_summary import (
    ChannelMap,
    TrialSummary,
    jsonable,
    onsets_entry,
    ratio_entries,
)
from nkt_motion.retest.detector import DetectedEvent, TrialDetector
from nkt_motion.vocab import IMU_SITES, EventLabel, muscle_code, parse_event_label

__all__ = ["Gap", "LiveProcessor", "TrialSummary"]

logger = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]


def _block(block: ArrayLike, rows: int, name: str, labels: Sequence[str]) -> FloatArray:
    x = np.asarray(block, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] != rows:
        raise ValidationError(
            f"{name} must have shape ({rows}, n_samples), got {x.shape}", parameter=name
        )
    bad = ~np.isfinite(x)
    if bad.any():
        row, col = (int(v) for v in np.argwhere(bad)[0])
        raise SignalError(
            f"{name} holds NaN or infinity at sample {col}; pass the samples after a gap as "
            "a new block with its own start time",
            channel=labels[row],
        )
    return x


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
        self._imu = self._imu_tracks(imu_fs, imu_sites, gyro_unit, look, longest)
        if detector is not None and detector.fs != self.emg_fs:
            raise ValidationError(
                f"detector.fs must equal emg_fs={self.emg_fs:g} Hz, got {detector.fs:g}",
                parameter="detector",
            )
        self._detector = detector or (TrialDetector(self.emg_fs) if auto_detect else None)
        self._det_rows = [self.channels.keys.index(c) for c in self.channels.protocol_codes]
        self._events: list[DetectedEvent] = []
        self._refs: dict[int, list[tuple[float, float]]] = {i: [] for i in range(n)}
        self._onset_base: OnsetBaseline | None = None
        self._open: tuple[EventLabel, float] | None = None
        self._trials: list[TrialSummary] = []

    def _imu_tracks(
        self, fs: float | None, sites: Sequence[str], unit: str, look: float, longest: float
    ) -> ImuTracks | None:
        sites = tuple(sites)
        bad = [s for s in sites if s not in IMU_SITES]
        if bad or len(set(sites)) != len(sites):
            raise ValidationError(
                f"imu_sites must be distinct sites among {list(IMU_SITES)}, got {list(sites)}",
                parameter="imu_sites",
            )
        if unit not in ("deg/s", "rad/s"):
            raise ValidationError(
                f"gyro_unit must be 'deg/s' or 'rad/s', got {unit!r}", parameter="gyro_unit"
            )
        if not sites:
            return None
        if fs is None:
            raise ValidationError("imu_fs is required with imu_sites", parameter="imu_fs")
        signs = [s.sign for s in self.protocol.kinematic_signs]
        return ImuTracks(
            validate_fs(fs),
            sites,
            signs,
            self.side,
            gyro_unit=unit,
            lookback_s=look,
            max_trial_s=longest,
        )

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
        x = _block(block, len(self.channels.keys), "block", self.channels.labels)
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
        self._imu.push(site, _block(block, 6, "block", names), float(start_s))

    @property
    def time_s(self) -> float:
        """End time of the EMG received so far, seconds (NaN before the first block)."""
        return self._emg.clock.time_s

    @property
    def gaps(self) -> list[Gap]:
        """Every gap found so far in the EMG and IMU blocks, in arrival order per stream."""
        return [*self._emg.gaps, *(self._imu.gaps if self._imu else [])]

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
    def _ref(self, row: int) -> tuple[float, float] | None:
        refs = self._refs[row]
        if not refs:
            return None
        return float(np.mean([r[0] for r in refs])), float(np.mean([r[1] for r in refs]))

    @property
    def normalised(self) -> dict[str, bool]:
        """Per EMG label, whether its amplitudes are normalised to a reference yet."""
        return {lab: bool(self._refs[i]) for i, lab in enumerate(self.channels.labels)}

    @property
    def references(self) -> dict[str, float]:
        """Per channel key with a reference: the reference RMS in uV."""
        return {
            k: ref[0]
            for i, k in enumerate(self.channels.keys)
            if (ref := self._ref(i)) is not None
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
        env = self._emg.levels()
        out = {}
        for i, lab in enumerate(self.channels.labels):
            ref = self._ref(i)
            out[lab] = float(env[i] / ref[1]) if ref is not None else float(env[i])
        return out

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
        low = window.kept()
        if ev.phase == "rest" and complete and self._onset_base is None:
            self._set_baselines(low)
        if ev.phase == "ref" and complete:
            self._add_reference(ev, window.sums, window.count)
        angles = self._imu.close(t_s, phase=ev.phase, complete=complete) if self._imu else {}
        summary = self._summarise(ev, start, float(t_s), complete, window)
        summary = replace(summary, angles=angles or _no_angles(self.protocol, ev))
        self._trials.append(summary)
        return summary

    @property
    def trials(self) -> list[TrialSummary]:
        """Summaries of the ended trials, oldest first."""
        return list(self._trials)

    def _set_baselines(self, low: FloatArray) -> None:
        self._onset_base = onset_baseline(low, self.emg_fs)
        if self._detector is None or not self._det_rows or low.shape[1] < 2:
            return
        w = window_samples(ONSET_WINDOW_S, self.emg_fs)
        rest = _moving_mean(low[self._det_rows], w, centred=False)
        try:
            self._detector.set_baseline(rest[:, np.isfinite(rest).all(axis=0)])
        except SignalError as exc:
            logger.warning("trial detection off: %s", exc)

    def _add_reference(self, ev: EventLabel, sums: FloatArray, count: int) -> None:
        n = len(self.channels.keys)
        for i, mid in enumerate(self.channels.muscles):
            if mid == ev.muscle and count > 0:
                rms, env = math.sqrt(sums[i] / count), float(sums[n + i] / count)
                if rms > 0 and env > 0:
                    self._refs[i].append((rms, env))

    def _amplitudes(
        self, sums: FloatArray, count: int
    ) -> tuple[FloatArray, FloatArray, list[bool]]:
        """RMS in uV, amplitude (normalised where a reference exists) and the flags."""
        n = len(self.channels.keys)
        with np.errstate(invalid="ignore", divide="ignore"):
            rms = np.sqrt(sums[:n] / count) if count else np.full(n, np.nan)
        refs = [self._ref(i) for i in range(n)]
        amp = np.array([rms[i] / r[0] if r else rms[i] for i, r in enumerate(refs)])
        return rms, amp, [r is not None for r in refs]

    def _ratios(self, ev: EventLabel, amp: FloatArray, norm: list[bool]) -> dict[str, float]:
        if not ev.is_test or ev.muscle is None:
            return {}
        t = self.channels.row(muscle_code(ev.muscle))
        out = {}
        for p in (p.code for p in self.protocol.partners):
            j = self.channels.row(p)
            ok = t is not None and j is not None and norm[t] == norm[j] and amp[j] > 0
            out[p] = float(amp[t] / amp[j]) if ok and t is not None and j is not None else math.nan
        return out

    def _onsets(self, ev: EventLabel, start: float, window: Window) -> dict[str, float | None]:
        keys = self.channels.keys
        if self._onset_base is None or ev.phase not in ("ref", "pre", "post") or not window.count:
            return dict.fromkeys(keys)
        t_first = self._emg.clock.time(window.start)
        found = trial_onsets(window.kept(), self.emg_fs, self._onset_base)
        return {
            k: None if idx is None else 1000.0 * (t_first + idx / self.emg_fs - start)
            for k, (idx, _) in zip(keys, found, strict=True)
        }

    def _summarise(
        self, ev: EventLabel, start: float, stop: float, complete: bool, window: Window
    ) -> TrialSummary:
        rms, amp, norm = self._amplitudes(window.sums, window.count)
        keys = self.channels.keys
        onsets = self._onsets(ev, start, window)
        order = sorted(
            (c for c in self.channels.protocol_codes if onsets[c] is not None),
            key=lambda c: (onsets[c], self.channels.protocol_codes.index(c)),
        )
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
            ratios=self._ratios(ev, amp, norm),
            onsets_ms=onsets,
            onset_order=tuple(order),
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
        levels, norm = self.levels(), self.normalised
        channels = [
            {
                "label": lab,
                "muscle": muscle_code(mid),
                "level": jsonable(levels[lab]),
                "normalised": norm[lab],
            }
            for lab, mid in zip(self.channels.labels, self.channels.muscles, strict=True)
        ]
        tests = [t for t in self._trials if t.phase in ("pre", "post")]
        running = None
        tested = tests[-1].muscle if tests else self.protocol.tested[0]
        if self._open is not None and self._open[0].is_test and self._emg.window is not None:
            ev = self._open[0]
            tested = muscle_code(ev.muscle) if ev.muscle else tested
            w = self._emg.window
            _, amp, flags = self._amplitudes(w.sums, w.count)
            running = self._ratios(ev, amp, flags)
        partners = [p.code for p in self.protocol.partners if p.code != tested]
        mine = [t for t in tests if t.muscle == tested]
        current = self._imu.current() if self._imu else _no_angles(self.protocol, None)
        return {
            "channels": channels,
            "ratios": ratio_entries(partners, mine, running),
            "onsets": onsets_entry(tests[-1] if tests else None),
            "angles": [
                {"name": k, "value": jsonable(v), "unit": "deg"} for k, v in current.items()
            ],
        }


def _no_angles(protocol: Protocol, ev: EventLabel | None) -> dict[str, float]:
    if ev is not None and not ev.is_test:
        return {}
    return {ANGLE_NAMES[s.sign]: math.nan for s in protocol.kinematic_signs}
