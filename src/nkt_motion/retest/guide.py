"""The guided retest as a pure state machine over a protocol's steps.

:class:`Guide` walks the ``[[steps]]`` of a protocol (``sensor_check``, ``rest``,
``reference``, ``pre_test``, ``correction``, ``post_test``) and turns the
practitioner's commands into events on the session clock. It does no I/O and
reads no clock: every command carries its time ``t`` in session seconds, so the
same commands always give the same events.

Commands
--------
``trial_start`` / ``trial_stop`` / ``trial_toggle``
    Mark a trial of the current step; it gets the step's event label (``rest``,
    ``ref/<CODE>``, ``pre/test/<CODE>``, ``post/test/<CODE>``). A step takes
    ``n_trials`` trials (one for ``rest`` and a reference without a count);
    ``sensor_check`` and ``correction`` take none.
``next``
    Leave the current step (it is ``done`` even with fewer trials than asked,
    and a note says so). Leaving the ``correction`` step records the
    ``correction`` event from the moment the step was entered. ``next`` on the
    last step finishes the retest.
``skip``
    Leave the current step as ``skipped``, with a note; a skipped correction
    records no ``correction`` event.
``repeat``
    Discard the last trial of the current step: it no longer counts and its
    event is taken out of :attr:`Guide.events`, but it is not lost: it stays in
    :attr:`Guide.records` with status ``discarded`` (the recording keeps its
    samples, and the trial log saved with the session lists it).
``override``
    Allow trials of the current step although a channel of the protocol's
    muscles is dead or clipping (see :meth:`Guide.set_quality`); noted.
``stop``
    End the retest now. A trial still running is kept as ``incomplete``; a
    correction under way records its event up to ``t``.

A trial flagged incomplete (a sensor dropped during it, or the retest stopped
before it ended) is not counted and not written as an event: the assessment
must not average a partial trial. It stays in :attr:`Guide.records` with status
``incomplete`` and the reason. Every wrong or out-of-order command raises
:class:`~nkt_motion.errors.ValidationError` saying what is allowed; the state is
left unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, get_args

from nkt_motion.errors import ValidationError
from nkt_motion.protocols import Protocol, Step

__all__ = ["COMMANDS", "GUARDED_KINDS", "Guide", "GuideState", "StepStatus", "TrialRecord"]

GuideState = Literal["running", "finished", "stopped"]
StepStatus = Literal["done", "current", "todo", "skipped"]
TrialStatus = Literal["complete", "incomplete", "discarded"]
Command = Literal[
    "trial_start", "trial_stop", "trial_toggle", "next", "skip", "repeat", "override", "stop"
]
#: Command names accepted by :meth:`Guide.apply`.
COMMANDS: Final[tuple[str, ...]] = get_args(Command)
#: Step kinds whose trials are refused on a dead or clipping channel unless overridden.
GUARDED_KINDS: Final = frozenset({"reference", "pre_test", "post_test"})
_MARKED_KINDS: Final = frozenset({"rest", "reference", "pre_test", "post_test"})


@dataclass(frozen=True, slots=True)
class TrialRecord:
    """One marked trial or timed period of the retest.

    Attributes
    ----------
    step : str
        Id of the step it belongs to.
    label : str
        Event label (``rest``, ``ref/GMED``, ``pre/test/GMED``, ``correction``...).
    onset, duration : float
        Start and length in seconds on the session clock.
    status : {"complete", "incomplete", "discarded"}
        Complete records are events; the others are kept for the trial log only.
    note : str
        Why a record is incomplete or discarded ("" for a complete one).

    Examples
    --------
    >>> TrialRecord("pre_test", "pre/test/GMED", 12.0, 3.0, "complete").to_dict()["label"]
    'pre/test/GMED'
    """

    step: str
    label: str
    onset: float
    duration: float
    status: TrialStatus = "complete"
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the record as a JSON-ready dict (the fields by name).

        Returns
        -------
        dict
            ``step``, ``label``, ``onset``, ``duration``, ``status``, ``note``.
        """
        return {"step": self.step, "label": self.label, "onset": self.onset,
                "duration": self.duration, "status": self.status, "note": self.note}  # fmt: skip


@dataclass(slots=True)
class _Active:
    label: str
    start: float
    problem: str = ""


@dataclass(slots=True)
class _Progress:
    status: StepStatus = "todo"
    entered: float | None = None
    override: bool = False
    records: list[TrialRecord] = field(default_factory=list)


def _check_time(t: float) -> float:
    if not isinstance(t, int | float) or not math.isfinite(t) or t < 0:
        raise ValidationError(f"t must be a finite time >= 0 in session seconds, got {t!r}",
                              parameter="t")  # fmt: skip
    return float(t)


class Guide:
    """Walk a protocol's steps and turn commands into events (see the module notes).

    Parameters
    ----------
    protocol : Protocol
        The protocol; its ``steps`` must not be empty.
    override_quality : bool
        Allow trials on dead or clipping channels in every step.
    t : float
        Session time at which the first step starts, seconds.

    Examples
    --------
    >>> from nkt_motion.protocols import load_protocol
    >>> g = Guide(load_protocol("hip_flexion_gmed_adl"))
    >>> g.step.id, g.can_mark
    ('sensor_check', False)
    >>> g.apply("next", 5.0); g.apply("trial_start", 6.0); g.apply("trial_stop", 16.0)
    >>> [(e.label, e.onset, e.duration) for e in g.events]
    [('rest', 6.0, 10.0)]
    >>> g.apply("trial_stop", 17.0)
    Traceback (most recent call last):
    ...
    nkt_motion.errors.ValidationError: trial_stop: no trial is running in step 'rest'
    """

    def __init__(
        self, protocol: Protocol, *, override_quality: bool = False, t: float = 0.0
    ) -> None:
        if not isinstance(protocol, Protocol) or not protocol.steps:
            raise ValidationError(f"protocol must be a Protocol with steps, got {protocol!r}",
                                  parameter="protocol")  # fmt: skip
        self.protocol = protocol
        self.override_quality = bool(override_quality)
        self.state: GuideState = "running"
        self.index = 0
        self.notes: list[str] = []
        self._steps = [_Progress() for _ in protocol.steps]
        self._steps[0] = _Progress("current", _check_time(t))
        self._active: _Active | None = None
        self._bad: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"<Guide {self.protocol.name} | step {self.index + 1}/{len(self._steps)} " \
               f"{self.step.id} | {self.state}>"  # fmt: skip

    # -- what the practitioner sees -------------------------------------------------

    @property
    def step(self) -> Step:
        """The current step (the last one once the retest has ended)."""
        return self.protocol.steps[self.index]

    @property
    def statuses(self) -> list[StepStatus]:
        """Status of every step, in protocol order."""
        return [p.status for p in self._steps]

    @property
    def active(self) -> tuple[str, float] | None:
        """``(label, start)`` of the trial being marked, or None."""
        return None if self._active is None else (self._active.label, self._active.start)

    def n_trials(self, index: int | None = None) -> int | None:
        """Trials a step takes (None for steps without trials).

        Parameters
        ----------
        index : int or None
            Step index (default: the current step).

        Returns
        -------
        int or None
            ``n_trials`` of the step, 1 for ``rest`` or a reference without a
            count, None for ``sensor_check`` and ``correction``.
        """
        step = self.protocol.steps[self.index if index is None else index]
        if step.kind not in _MARKED_KINDS:
            return None
        return step.n_trials or 1

    def trials_done(self, index: int | None = None) -> int:
        """Complete trials of a step (discarded and incomplete ones do not count).

        Parameters
        ----------
        index : int or None
            Step index (default: the current step).

        Returns
        -------
        int
            Number of complete trials.
        """
        records = self._steps[self.index if index is None else index].records
        return sum(r.status == "complete" for r in records)

    @property
    def records(self) -> list[TrialRecord]:
        """Every trial and period recorded so far, any status, in time order."""
        out = [r for p in self._steps for r in p.records]
        return sorted(out, key=lambda r: r.onset)

    @property
    def events(self) -> list[TrialRecord]:
        """The complete records: the session's events, in time order."""
        return [r for r in self.records if r.status == "complete"]

    @property
    def blocked_reason(self) -> str | None:
        """Why a trial cannot start in this step (None when it can)."""
        if self.state != "running":
            return f"the retest has {self.state}"
        if self.step.kind not in _MARKED_KINDS:
            return None
        n = self.n_trials()
        if self._active is None and n is not None and self.trials_done() >= n:
            return f"this step has its {n} trial(s): repeat to redo the last one, or next"
        if self._bad and self.step.kind in GUARDED_KINDS and not self._overridden():
            bad = "; ".join(self._bad.values())
            return f"{bad} (fix the electrode, or override to test anyway)"
        return None

    @property
    def can_mark(self) -> bool:
        """Whether ``trial_start`` (or ``trial_stop``) is possible now."""
        if self.state != "running" or self.step.kind not in _MARKED_KINDS:
            return False
        return self._active is not None or self.blocked_reason is None

    def set_quality(self, bad: Mapping[str, str]) -> None:
        """Tell the guide which channels are dead or clipping now.

        Parameters
        ----------
        bad : mapping of str to str
            Channel label -> plain-word reason naming the channel, for the
            channels of the protocol's muscles that are unusable now (empty when
            all are fine).
        """
        self._bad = dict(bad)

    def _overridden(self) -> bool:
        return self.override_quality or self._steps[self.index].override

    # -- commands ----------------------------------------------------------------------

    def apply(self, name: str, t: float, **args: Any) -> None:
        """Run one command at session time ``t``.

        Parameters
        ----------
        name : str
            One of :data:`COMMANDS`.
        t : float
            Session time of the command, seconds (>= 0).
        **args
            ``note`` (str) for ``skip`` and ``trial_stop``; ``complete`` (bool)
            for ``trial_stop``.

        Raises
        ------
        ValidationError
            For an unknown command, a command not allowed now, or a bad time.
        """
        if name not in COMMANDS:
            raise ValidationError(f"command must be one of {', '.join(COMMANDS)}, got {name!r}",
                                  parameter="command")  # fmt: skip
        t = _check_time(t)
        if self.state != "running":
            raise ValidationError(f"{name}: the retest has {self.state}", parameter="command")
        allowed = {"skip": {"note"}, "trial_stop": {"note", "complete"}}.get(name, set())
        extra = sorted(set(args) - allowed)
        if extra:
            raise ValidationError(f"{name} takes no argument {extra[0]!r}", parameter=extra[0])
        getattr(self, f"_{name}")(t, **args)

    def flag_incomplete(self, reason: str) -> bool:
        """Mark the running trial incomplete (e.g. a sensor dropped during it).

        Parameters
        ----------
        reason : str
            Why, in plain words.

        Returns
        -------
        bool
            True when a trial was running (and is now flagged).
        """
        if self._active is None:
            return False
        if not self._active.problem:
            self._active.problem = reason
        return True

    def invalidate(self, onset: float, label: str, reason: str) -> bool:
        """Turn a complete trial into an incomplete one (a gap found in it afterwards).

        Parameters
        ----------
        onset : float
            The trial's onset, seconds.
        label : str
            Its label.
        reason : str
            Why, in plain words.

        Returns
        -------
        bool
            True when such a complete trial (not the correction period) existed.
        """
        for progress in self._steps:
            for i, r in enumerate(progress.records):
                same = r.label == label and abs(r.onset - onset) < 1e-9
                if same and r.status == "complete" and r.label != "correction":
                    progress.records[i] = TrialRecord(r.step, r.label, r.onset, r.duration,
                                                      "incomplete", reason)  # fmt: skip
                    self.notes.append(f"{label} at {onset:.1f} s is incomplete: {reason}")
                    return True
        return False

    def _need_step_trials(self, name: str) -> None:
        if self.step.kind not in _MARKED_KINDS:
            raise ValidationError(f"{name}: step {self.step.id!r} ({self.step.kind}) takes no "
                                  "trials; use next to move on", parameter="command")  # fmt: skip

    def _idle(self, name: str) -> None:
        if self._active is not None:
            raise ValidationError(f"{name}: a trial is running; stop it first",
                                  parameter="command")  # fmt: skip

    def _trial_start(self, t: float) -> None:
        self._need_step_trials("trial_start")
        self._idle("trial_start")
        why = self.blocked_reason
        if why is not None:
            raise ValidationError(f"trial_start refused: {why}", parameter="command")
        label = self.step.event
        assert label is not None  # the protocol loader requires it for these kinds
        self._active = _Active(label, t)

    def _trial_stop(self, t: float, *, complete: bool = True, note: str = "") -> None:
        active = self._active
        if active is None:
            raise ValidationError(f"trial_stop: no trial is running in step {self.step.id!r}",
                                  parameter="command")  # fmt: skip
        if t <= active.start:
            raise ValidationError(f"t must be after the trial start {active.start:.3f} s, "
                                  f"got {t:.3f}", parameter="t")  # fmt: skip
        problem = active.problem or ("" if complete else note or "stopped before its end")
        status: TrialStatus = "incomplete" if problem else "complete"
        record = TrialRecord(self.step.id, active.label, active.start, t - active.start,
                             status, problem)  # fmt: skip
        self._steps[self.index].records.append(record)
        self._active = None
        if problem:
            self.notes.append(f"{active.label} at {active.start:.1f} s is incomplete: {problem}")

    def _trial_toggle(self, t: float) -> None:
        if self._active is None:
            self._trial_start(t)
        else:
            self._trial_stop(t)

    def _close_correction(self, t: float) -> None:
        progress, step = self._steps[self.index], self.step
        if step.kind == "correction" and progress.entered is not None:
            label = step.event or "correction"
            progress.records.append(TrialRecord(step.id, label, progress.entered,
                                                max(t - progress.entered, 0.0)))  # fmt: skip

    def _leave(self, t: float, status: StepStatus) -> None:
        if status == "done":
            self._close_correction(t)
        self._steps[self.index].status = status
        if self.index + 1 == len(self._steps):
            self.state = "finished"
            return
        self.index += 1
        self._steps[self.index] = _Progress("current", t)

    def _next(self, t: float) -> None:
        self._idle("next")
        n = self.n_trials()
        if n is not None and self.trials_done() < n:
            self.notes.append(f"step {self.step.id!r} left with {self.trials_done()} of {n} "
                              "trial(s)")  # fmt: skip
        self._leave(t, "done")

    def _skip(self, t: float, *, note: str = "") -> None:
        self._idle("skip")
        self.notes.append(f"step {self.step.id!r} skipped: {note or 'by the practitioner'}")
        self._leave(t, "skipped")

    def _repeat(self, t: float) -> None:
        self._need_step_trials("repeat")
        self._idle("repeat")
        records = self._steps[self.index].records
        done = [i for i, r in enumerate(records) if r.status == "complete"]
        if not done:
            raise ValidationError(f"repeat: step {self.step.id!r} has no complete trial to "
                                  "discard", parameter="command")  # fmt: skip
        old = records[done[-1]]
        records[done[-1]] = TrialRecord(old.step, old.label, old.onset, old.duration,
                                        "discarded", f"repeated at {t:.1f} s")  # fmt: skip
        self.notes.append(f"{old.label} at {old.onset:.1f} s discarded to be repeated")

    def _override(self, t: float) -> None:
        self._steps[self.index].override = True
        bad = ", ".join(self._bad) or "no channel flagged now"
        self.notes.append(f"quality override in step {self.step.id!r} at {t:.1f} s ({bad})")

    def _stop(self, t: float) -> None:
        active = self._active
        if active is not None:
            end = max(t, active.start + 1e-6)
            self._trial_stop(end, complete=False, note="the retest was stopped during it")
        self._close_correction(t)
        self.state = "stopped"
        self.notes.append(f"retest stopped at {t:.1f} s in step {self.step.id!r}")
