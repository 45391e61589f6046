"""Paced notification streams with a skewable device clock and injected faults.

A stream asks its packet source for packet ``seq`` at device time ``seq / rate``
and sends it when that device time has come on the device's own clock. Packets
are not slept for one by one: every tick (5 ms by default) the stream sends all
packets that are due, as a real device flushes its FIFO once per connection event.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

from nkt_motion.errors import ValidationError

__all__ = ["DeviceClock", "Faults", "NotificationStream", "PacketSource"]

logger = logging.getLogger(__name__)

#: ``(seq, device_time_s) -> payload`` or an iterator of payloads.
PacketSource = Callable[[int, float], bytes] | Iterator[bytes]


@dataclass(frozen=True, slots=True)
class DeviceClock:
    """The clock of an emulated device, running fast or slow against the host.

    Parameters
    ----------
    skew_ppm : float
        Rate error in parts per million: +200 means the device counts
        1.0002 s for every host second.
    offset : float
        Device time in seconds when the stream starts.
    time_scale : float
        Host seconds per wall-clock second, > 0. At 1 (the default) the device
        runs in real time; at 4 it streams four times faster than real time, for
        an emulated session whose recorder runs a host clock four times faster
        too, so every timestamp is as in real time.

    Examples
    --------
    >>> clock = DeviceClock(skew_ppm=200.0)
    >>> round(clock.device_time(10.0), 6)
    10.002
    >>> round(clock.host_elapsed(10.002), 6)
    10.0
    """

    skew_ppm: float = 0.0
    offset: float = 0.0
    time_scale: float = 1.0

    def __post_init__(self) -> None:
        if not -1e5 < self.skew_ppm < 1e5:
            raise ValidationError(
                f"skew_ppm must be within ±100000, got {self.skew_ppm}", parameter="skew_ppm"
            )
        if not (self.time_scale > 0 and math.isfinite(self.time_scale)):
            raise ValidationError(
                f"time_scale must be a finite number > 0, got {self.time_scale}",
                parameter="time_scale",
            )

    @property
    def rate(self) -> float:
        """Device seconds per host second."""
        return 1.0 + self.skew_ppm * 1e-6

    def device_time(self, host_elapsed: float) -> float:
        """Device time after ``host_elapsed`` host seconds (seconds).

        Parameters
        ----------
        host_elapsed : float
            Host seconds since the stream started.

        Returns
        -------
        float
            Device time in seconds.

        Examples
        --------
        >>> DeviceClock(offset=5.0).device_time(1.0)
        6.0
        """
        return self.offset + host_elapsed * self.rate

    def host_elapsed(self, device_time: float) -> float:
        """Host seconds since the start at which the device clock reads ``device_time``.

        Parameters
        ----------
        device_time : float
            Device time in seconds.

        Returns
        -------
        float
            Host seconds since the stream started.

        Examples
        --------
        >>> DeviceClock(offset=5.0).host_elapsed(6.0)
        1.0
        """
        return (device_time - self.offset) / self.rate


@dataclass(frozen=True, slots=True)
class Faults:
    """Faults an emulated sensor injects into its notification streams.

    Parameters
    ----------
    drop_every : int or None
        Drop every n-th packet (sequence numbers n-1, 2n-1, ...).
    drop_probability : float
        Drop each packet with this probability (drawn from ``seed``).
    seed : int
        Seed of the random drops; the same seed drops the same packets.
    disconnect_after : int or None
        After this many packets the peripheral ends the connection itself.
    link_loss_after : int or None
        After this many packets the radio link goes silent; both ends report
        reason 0x08 (Connection Timeout) once ``supervision_timeout`` has passed.
    supervision_timeout : float
        Seconds between the silence and the disconnection events.

    Examples
    --------
    >>> faults = Faults(drop_every=10)
    >>> [seq for seq in range(30) if faults.drops_periodically(seq)]
    [9, 19, 29]
    """

    drop_every: int | None = None
    drop_probability: float = 0.0
    seed: int = 0
    disconnect_after: int | None = None
    link_loss_after: int | None = None
    supervision_timeout: float = 0.42

    def __post_init__(self) -> None:
        if self.drop_every is not None and self.drop_every < 1:
            raise ValidationError(
                f"drop_every must be >= 1 or None, got {self.drop_every}", parameter="drop_every"
            )
        if not 0.0 <= self.drop_probability < 1.0:
            raise ValidationError(
                f"drop_probability must be in [0, 1), got {self.drop_probability}",
                parameter="drop_probability",
            )
        if self.supervision_timeout < 0:
            raise ValidationError(
                f"supervision_timeout must be >= 0, got {self.supervision_timeout}",
                parameter="supervision_timeout",
            )

    def drops_periodically(self, seq: int) -> bool:
        """Whether ``drop_every`` drops packet ``seq``.

        Parameters
        ----------
        seq : int
            Sequence number, from 0.

        Returns
        -------
        bool
            True when the packet is dropped.

        Examples
        --------
        >>> Faults(drop_every=2).drops_periodically(1)
        True
        """
        return self.drop_every is not None and (seq + 1) % self.drop_every == 0


class NotificationStream:
    """A paced stream of notifications of one characteristic.

    Parameters
    ----------
    send : callable
        ``async (seq: int, payload: bytes) -> None`` that notifies the subscribers.
    source : PacketSource
        Gives the payload of packet ``seq`` at device time ``t`` seconds.
    rate_hz : float
        Packets per device second.
    clock : DeviceClock
        The device clock.
    faults : Faults
        Faults to inject.
    on_fault : callable or None
        ``("disconnect" | "link_loss") -> None``, called when a connection fault is due.
    tick : float
        Seconds between flushes at high rates, on the host clock (a stream
        running faster than real time flushes as often in its own time).

    Examples
    --------
    >>> async def send(seq: int, payload: bytes) -> None:
    ...     pass
    >>> stream = NotificationStream(send, lambda seq, t: bytes(4), rate_hz=100.0)
    >>> stream.sent, stream.dropped
    (0, [])
    """

    def __init__(
        self,
        send: Callable[[int, bytes], Awaitable[None]],
        source: PacketSource,
        *,
        rate_hz: float,
        clock: DeviceClock | None = None,
        faults: Faults | None = None,
        on_fault: Callable[[str], None] | None = None,
        tick: float = 0.005,
    ) -> None:
        if not (rate_hz > 0 and math.isfinite(rate_hz)):
            raise ValidationError(f"rate_hz must be > 0, got {rate_hz}", parameter="rate_hz")
        if not tick > 0:
            raise ValidationError(f"tick must be > 0, got {tick}", parameter="tick")
        self._send = send
        self._source = source
        self.rate_hz = float(rate_hz)
        self.clock = clock or DeviceClock()
        self.faults = faults or Faults()
        self._on_fault = on_fault
        self.tick = tick
        self._rng = random.Random(self.faults.seed)
        self._task: asyncio.Task[None] | None = None
        #: Sequence number of the next packet.
        self.next_seq = 0
        #: Packets handed to the link.
        self.sent = 0
        #: Sequence numbers dropped on purpose, in order.
        self.dropped: list[int] = []

    def __repr__(self) -> str:
        return (
            f"<NotificationStream {self.rate_hz:g} Hz | sent {self.sent}"
            f" | dropped {len(self.dropped)}>"
        )

    @property
    def running(self) -> bool:
        """Whether the stream is sending."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start pacing on the running loop (device time starts at the clock offset).

        Examples
        --------
        ``stream.start()`` inside a coroutine.
        """
        if self.running:
            return
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop the stream and wait for its task to end.

        Examples
        --------
        ``await stream.stop()``
        """
        task, self._task = self._task, None
        if task is None or task.done():
            return
        if task is asyncio.current_task():
            return
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise

    async def _run(self) -> None:
        loop, scale = asyncio.get_running_loop(), self.clock.time_scale
        start = loop.time() - self.clock.host_elapsed(self._seq_time(self.next_seq)) / scale
        while True:
            now = self.clock.device_time((loop.time() - start) * scale)
            due = math.floor((now - self.clock.offset) * self.rate_hz + 1e-9) + 1
            while self.next_seq < due:
                if not await self._emit(self.next_seq):
                    return
            until_next = self.clock.host_elapsed(self._seq_time(self.next_seq)) - (
                (loop.time() - start) * scale
            )
            await asyncio.sleep(max(until_next, self.tick) / scale)

    def _seq_time(self, seq: int) -> float:
        return self.clock.offset + seq / self.rate_hz

    async def _emit(self, seq: int) -> bool:
        """Make and send (or drop) packet ``seq``; False when the stream must end."""
        payload = self._payload(seq, self._seq_time(seq))
        self.next_seq = seq + 1
        random_drop = self._rng.random() < self.faults.drop_probability
        if self.faults.drops_periodically(seq) or random_drop:
            self.dropped.append(seq)
        else:
            await self._send(seq, payload)
            self.sent += 1
        for kind, after in (
            ("disconnect", self.faults.disconnect_after),
            ("link_loss", self.faults.link_loss_after),
        ):
            if after is not None and self.next_seq == after:
                logger.debug("injecting %s after %d packets", kind, after)
                if self._on_fault is not None:
                    self._on_fault(kind)
                return kind == "link_loss"
        return True

    def _payload(self, seq: int, device_time: float) -> bytes:
        if callable(self._source):
            return bytes(self._source(seq, device_time))
        return bytes(next(self._source))
