"""``--auto``: a script that plays the practitioner of an emulated retest.

:class:`AutoPilot` gives a :class:`~nkt_motion.retest.runner.RetestSession` the
commands a practitioner would give, at the times the emulated client of
:mod:`nkt_motion.retest.emulated` does what the step asks: ``next`` at the end
of each step's segment; ``trial_start`` and ``trial_stop`` at each planned
trial's bounds (``rest`` ends by itself after its duration). With
``marking="detect"`` the test steps' trials are left to the envelope detector
of the session instead, so the two marking paths can be compared. A trial
refused for signal quality is overridden (``override=True``) or its step skipped.

The planned times are on the signal's own time; the session time of the first
EMG sample (as the live chain placed it) maps them to the session clock.
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Literal

from nkt_motion.errors import ValidationError
from nkt_motion.retest.emulated import EmulatedSetup, PlannedStep
from nkt_motion.retest.runner import RetestSession

__all__ = ["AutoPilot"]

logger = logging.getLogger(__name__)

#: Signal seconds the script waits for the detector to close a trial before the step ends.
_DETECT_GRACE_S = 1.0


class AutoPilot:
    """Drive a retest of an emulated client without a person (see the module notes).

    Parameters
    ----------
    setup : EmulatedSetup
        The emulated client being recorded.
    marking : {"manual", "detect"}
        Who marks the test trials: this script, or the session's detector.
    override : bool
        Override a quality refusal (else skip the step).
    stop_at : (str, int) or None
        Request a stop (as Ctrl-C does) in that step, just after that trial
        (0-based) has started; ``(step id, -1)`` stops on entering the step.

    Examples
    --------
    >>> from nkt_motion.retest.emulated import plan_session
    >>> pilot = AutoPilot(EmulatedSetup(plan_session("hip_flexion_gmed_adl")))
    >>> pilot.marking
    'manual'

    ``await asyncio.gather(session.run(), pilot.drive(session))``
    """

    def __init__(
        self,
        setup: EmulatedSetup,
        *,
        marking: Literal["manual", "detect"] = "manual",
        override: bool = False,
        stop_at: tuple[str, int] | None = None,
    ) -> None:
        self.setup, self.marking, self.override, self.stop_at = setup, marking, override, stop_at
        self._rs: RetestSession | None = None
        self._t0 = math.nan

    async def attach(self, rs: RetestSession) -> bool:
        """Wait for the first EMG of ``rs``; its time maps the plan to the session clock.

        Parameters
        ----------
        rs : RetestSession
            The retest recording this setup.

        Returns
        -------
        bool
            False when the retest ended before any EMG arrived.
        """
        self._rs = rs
        while math.isnan(rs.chain.first_emg_s):
            if rs.state not in ("connecting", "running"):
                return False
            await asyncio.sleep(0.01)
        self._t0 = rs.chain.first_emg_s
        return True

    def _live(self) -> bool:
        rs = self._rs
        return rs is not None and rs.state in ("connecting", "running")

    async def at(self, signal_s: float) -> bool:
        """Wait until the session reaches signal time ``signal_s``.

        Parameters
        ----------
        signal_s : float
            Seconds on the plan's time.

        Returns
        -------
        bool
            False when the retest ended meanwhile.
        """
        rs = self._rs
        assert rs is not None
        target = self._t0 + signal_s
        while self._live() and rs.now_s < target:
            await self.setup.clock.sleep(min(target - rs.now_s, 0.5))
        return self._live()

    def send(self, name: str, signal_s: float | None = None, **args: object) -> bool:
        """Send a command, at a plan time or now; False when it was refused.

        Parameters
        ----------
        name : str
            The command.
        signal_s : float or None
            Plan time of the command (None: now).
        **args
            Further command arguments (``note``).

        Returns
        -------
        bool
            Whether the session accepted it.
        """
        rs = self._rs
        assert rs is not None
        t = None if signal_s is None else self._t0 + signal_s
        try:
            rs.command(name, **({"t": t} if t is not None else {}), **args)
        except ValidationError as exc:
            logger.info("auto: %s refused: %s", name, exc)
            return False
        return True

    async def drive(self, rs: RetestSession) -> None:
        """Play the whole protocol on ``rs`` (returns when it ends or the plan is done).

        Parameters
        ----------
        rs : RetestSession
            The retest recording this setup.
        """
        if not await self.attach(rs):
            return
        for step in self.setup.plan.steps:
            if not self._live() or rs.guide.step.id != step.id:
                continue
            if self.stop_at == (step.id, -1):
                rs.command("stop")
                return
            if not await self._step(rs, step):
                return

    async def _step(self, rs: RetestSession, step: PlannedStep) -> bool:
        detect = self.marking == "detect" and step.kind in ("pre_test", "post_test")
        for k, (start, stop) in enumerate(step.trials):
            if detect:
                break
            if not await self.at(start):
                return False
            if not self._start(rs, start, step):
                break
            if self.stop_at == (step.id, k):
                rs.command("stop")
                return False
            if not await self.at(stop):
                return False
            if rs.guide.active is not None:
                self.send("trial_stop", stop)
        if not await self.at(step.stop_s):
            return False
        when: float | None = step.stop_s
        if detect and rs.guide.active is not None:
            await self.at(step.stop_s + _DETECT_GRACE_S)
            when = None  # the step ends now, after the detector's last stop
            if rs.guide.active is not None:
                self.send("trial_stop")
        if rs.guide.step.id == step.id:
            self.send("next", when)
        return self._live()

    def _start(self, rs: RetestSession, start: float, step: PlannedStep) -> bool:
        if self.send("trial_start", start):
            return True
        why = rs.guide.blocked_reason or ""
        if self.override and "override" in why:
            self.send("override", start)
            return self.send("trial_start", start)
        if rs.guide.step.id == step.id and rs.guide.active is None:
            self.send("skip", start, note=f"auto: {why or 'trial refused'}")
        return False
