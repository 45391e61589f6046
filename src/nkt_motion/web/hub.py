"""Fan-out of live snapshots to every connected page, when they change or at a fixed rate.

One ticker calls the controller's ``snapshot()`` and encodes it once per frame.
A controller that signals its changes (:class:`~nkt_motion.web.schema.UpdateSignal`)
gets a frame soon after each change, no sooner than ``1 / max_rate_hz`` after
the frame before, and at least every ``1 / rate_hz`` when nothing changes;
any other controller is polled every ``1 / rate_hz``. Frames are shared:
each client keeps only the newest frame that it has not sent yet (a slow page
skips frames instead of queueing them) plus a short queue of command replies,
and a send that takes longer than the timeout ends that client alone.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from nkt_motion.errors import ValidationError
from nkt_motion.web.schema import LiveController, UpdateSignal, check_snapshot

__all__ = ["Client", "Hub", "encode_message"]

logger = logging.getLogger(__name__)

#: Most command replies kept for one client before the oldest is dropped.
_MAX_REPLIES = 32
#: Log a failing ``snapshot()`` once, then every this many failures.
_LOG_EVERY = 150


def encode_message(kind: str, body: dict[str, Any]) -> str:
    """Encode one message for the page as compact JSON, ``{"type": kind, **body}``.

    Values with a ``tolist()`` method (NumPy scalars and arrays) are converted,
    and NaN or infinite numbers become ``null`` (the page cannot parse them).

    Parameters
    ----------
    kind : str
        The message type: ``snapshot``, ``hello``, ``ack`` or ``error``.
    body : dict
        The other fields.

    Returns
    -------
    str
        One line of JSON.

    Examples
    --------
    >>> encode_message("ack", {"name": "next"})
    '{"type":"ack","name":"next"}'
    >>> encode_message("snapshot", {"level": float("nan")})
    '{"type":"snapshot","level":null}'
    """
    message = {"type": kind, **body}
    try:
        return json.dumps(message, separators=(",", ":"), allow_nan=False, default=_tolist)
    except ValueError:
        clean = _finite(json.loads(json.dumps(message, default=_tolist)))
        return json.dumps(clean, separators=(",", ":"), allow_nan=False)


def _tolist(value: Any) -> Any:
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


class Client:
    """One connected page: the newest unsent frame and its pending replies.

    Parameters
    ----------
    send : callable
        ``async send(text)`` writing one text message to the page.
    timeout : float
        Seconds one send may take before the client is given up.

    Attributes
    ----------
    sent, skipped : int
        Frames sent, and frames replaced by a newer one before they could be sent.

    Examples
    --------
    >>> async def main():
    ...     out = []
    ...
    ...     async def send(text):
    ...         out.append(text)
    ...
    ...     client = Client(send, timeout=1.0)
    ...     client.offer("a")
    ...     client.offer("b")  # replaces "a", which was never sent
    ...     client.reply("ok")
    ...     task = asyncio.create_task(client.run())
    ...     await asyncio.sleep(0.01)
    ...     task.cancel()
    ...     return out, client.skipped
    >>> asyncio.run(main())
    (['ok', 'b'], 1)
    """

    def __init__(self, send: Callable[[str], Awaitable[None]], *, timeout: float) -> None:
        self._send = send
        self._timeout = timeout
        self._frame: str | None = None
        self._replies: deque[str] = deque(maxlen=_MAX_REPLIES)
        self._wake = asyncio.Event()
        self.sent = 0
        self.skipped = 0

    def offer(self, text: str) -> None:
        """Make ``text`` the next frame to send, replacing any unsent one."""
        if self._frame is not None:
            self.skipped += 1
        self._frame = text
        self._wake.set()

    def reply(self, text: str) -> None:
        """Queue a command reply; it goes out before the next frame."""
        self._replies.append(text)
        self._wake.set()

    async def run(self) -> None:
        """Send replies and frames as they come until a send fails or times out.

        Raises
        ------
        TimeoutError
            When one send took longer than the timeout (the page is too slow).
        """
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for loses a cancellation
        # that arrives as the send completes, and the page would then wait forever
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._replies:
                async with asyncio.timeout(self._timeout):
                    await self._send(self._replies.popleft())
            frame, self._frame = self._frame, None
            if frame is not None:
                async with asyncio.timeout(self._timeout):
                    await self._send(frame)
                self.sent += 1


class Hub:
    """Call ``controller.snapshot()`` on its changes or at ``rate_hz``; offer each frame to all.

    The ticker runs only while at least one client is attached. When the
    controller has an ``add_listener`` method (:class:`~nkt_motion.web.schema.UpdateSignal`),
    the ticker listens while it runs: a change is sent at once if the last frame
    is at least ``1 / max_rate_hz`` old, else when it is; without a change a
    frame still goes out ``1 / rate_hz`` after the last one (a step or a clock
    that moved shows). Without ``add_listener`` frames go out every ``1 / rate_hz``.

    Parameters
    ----------
    controller : LiveController
        The live session.
    rate_hz : float
        Frames per second without a change (the polling rate), in (0, 60].
    send_timeout : float
        Seconds one send to a client may take before that client is given up.
    max_rate_hz : float
        Most frames per second on changes, in (0, 60]; ``rate_hz`` when that is higher.

    Examples
    --------
    >>> from nkt_motion.web.schema import example_snapshot
    >>> from types import SimpleNamespace
    >>> still = SimpleNamespace(snapshot=example_snapshot, command=lambda name, **args: None)
    >>> async def main():
    ...     hub = Hub(still, rate_hz=50.0)
    ...     got = []
    ...
    ...     async def send(text):
    ...         got.append(text)
    ...
    ...     client = hub.attach(send)
    ...     task = asyncio.create_task(client.run())
    ...     await asyncio.sleep(0.1)
    ...     hub.detach(client)
    ...     task.cancel()
    ...     return len(got) >= 2, json.loads(got[0])["type"]
    >>> asyncio.run(main())
    (True, 'snapshot')
    """

    def __init__(
        self,
        controller: LiveController,
        *,
        rate_hz: float,
        send_timeout: float = 2.0,
        max_rate_hz: float = 20.0,
    ) -> None:
        for name, value in (("rate_hz", rate_hz), ("max_rate_hz", max_rate_hz)):
            if isinstance(value, bool) or not (
                isinstance(value, int | float) and 0.0 < value <= 60.0
            ):
                raise ValidationError(
                    f"{name} must be a number in (0, 60], got {value!r}", parameter=name
                )
        if not (isinstance(send_timeout, int | float) and send_timeout > 0):
            raise ValidationError(
                f"send_timeout must be > 0 s, got {send_timeout!r}", parameter="send_timeout"
            )
        self.controller = controller
        self.rate_hz = float(rate_hz)
        self.max_rate_hz = max(float(max_rate_hz), self.rate_hz)
        self.send_timeout = float(send_timeout)
        self._clients: set[Client] = set()
        self._updated = asyncio.Event()
        self._ticker: asyncio.Task[None] | None = None
        self._failures = 0
        self._checked = False

    @property
    def n_clients(self) -> int:
        """Number of attached clients."""
        return len(self._clients)

    def attach(self, send: Callable[[str], Awaitable[None]]) -> Client:
        """Add a client writing with ``send``; start the ticker if it is the first."""
        client = Client(send, timeout=self.send_timeout)
        self._clients.add(client)
        if self._ticker is None or self._ticker.done():
            self._ticker = asyncio.create_task(self._tick(), name="nkt-dashboard-ticker")
        return client

    def detach(self, client: Client) -> None:
        """Remove a client; stop the ticker when none is left."""
        self._clients.discard(client)
        if not self._clients and self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None

    async def _tick(self) -> None:
        if not isinstance(self.controller, UpdateSignal):
            await self._tick_fixed()
            return
        self._updated.clear()
        remove = self.controller.add_listener(self._updated.set)
        try:
            await self._tick_on_change()
        finally:
            remove()

    def _offer(self) -> None:
        text = self._frame()
        if text is not None:
            for client in self._clients:
                client.offer(text)

    async def _tick_fixed(self) -> None:
        loop = asyncio.get_running_loop()
        period = 1.0 / self.rate_hz
        due = loop.time()
        while self._clients:
            self._offer()
            due += period
            now = loop.time()
            if due < now - period:  # fell behind (loop busy): start the schedule again
                due = now
            await asyncio.sleep(max(0.0, due - now))

    async def _tick_on_change(self) -> None:
        loop = asyncio.get_running_loop()
        period, spacing = 1.0 / self.rate_hz, 1.0 / self.max_rate_hz
        while self._clients:
            self._updated.clear()  # what changes from here on is in a later frame
            last = loop.time()
            self._offer()
            try:
                async with asyncio.timeout_at(last + period):  # see Page.run on wait_for
                    await self._updated.wait()
            except TimeoutError:
                continue  # nothing new: the polling frame is due
            await asyncio.sleep(max(0.0, last + spacing - loop.time()))

    def _frame(self) -> str | None:
        try:
            snapshot = self.controller.snapshot()
        except Exception:
            if self._failures % _LOG_EVERY == 0:
                logger.exception("live snapshot failed (%d times so far)", self._failures + 1)
            self._failures += 1
            return None
        if not self._checked:
            self._checked = True
            try:
                check_snapshot(snapshot)
            except ValidationError as err:
                logger.warning("the live snapshot does not follow the dashboard schema: %s", err)
        return encode_message("snapshot", {"server_time": time.time(), **snapshot})
