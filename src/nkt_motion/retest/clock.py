"""The host clock of a retest: real time, or k times faster for an emulated session.

A retest stamps every packet, connection event and practitioner command with
one host clock; session time is that clock minus the recording's origin. With
real sensors the clock is :func:`time.monotonic_ns`. An emulated session may run
``speed`` times faster than the wall clock: the emulated devices stream ``speed``
times faster (:attr:`nkt_motion.emulate.DeviceClock.time_scale`) and the
recorder's clock runs ``speed`` times faster too, so timestamps, clock fits and
the saved session are exactly those of a session played in real time.
"""

from __future__ import annotations

import asyncio
import math
import time

from nkt_motion.errors import ValidationError

__all__ = ["ScaledClock"]


class ScaledClock:
    """A monotonic host clock in ns that runs ``speed`` times faster than the wall clock.

    Parameters
    ----------
    speed : float
        Host seconds per wall second, > 0 (1 for real sensors).

    Examples
    --------
    >>> clock = ScaledClock(20.0)
    >>> a = clock(); time.sleep(0.01); b = clock()
    >>> (b - a) >= 0.2e9
    True
    >>> clock.wall_seconds(2.0)
    0.1
    """

    def __init__(self, speed: float = 1.0) -> None:
        if not (isinstance(speed, int | float) and math.isfinite(speed) and speed > 0):
            raise ValidationError(f"speed must be a finite number > 0, got {speed!r}",
                                  parameter="speed")  # fmt: skip
        self.speed = float(speed)
        self._wall0 = time.monotonic_ns()

    def __repr__(self) -> str:
        return f"<ScaledClock x{self.speed:g}>"

    def __call__(self) -> int:
        """Return the host time in ns."""
        wall = time.monotonic_ns()
        if self.speed == 1.0:
            return wall
        return self._wall0 + round((wall - self._wall0) * self.speed)

    def wall_seconds(self, host_seconds: float) -> float:
        """Convert a host duration to wall seconds.

        Parameters
        ----------
        host_seconds : float
            Seconds on this clock.

        Returns
        -------
        float
            Wall-clock seconds.
        """
        return host_seconds / self.speed

    async def sleep(self, host_seconds: float) -> None:
        """Sleep for ``host_seconds`` of this clock (at least one loop turn).

        Parameters
        ----------
        host_seconds : float
            Seconds on this clock; <= 0 just yields.
        """
        await asyncio.sleep(max(self.wall_seconds(host_seconds), 0.0))
