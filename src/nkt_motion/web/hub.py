"""Fan-out of live snapshots to every connected page, at a fixed rate.

One ticker calls the controller's ``snapshot()`` and encodes it once per frame;
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
from nkt_motion.web.schema import LiveController, check_snapshot

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
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._replies:
                await asyncio.wait_for(self._send(self._replies.popleft()), self._timeout)
            frame, self._frame = self._frame, None
            if frame is not None:
                await asyncio.wait_for(self._send(frame), self._timeout)
                self.sent += 1


class Hub:
    """Call ``controller.snapshot()`` at ``rate_hz`` and offer each frame to every client.

    The ticker runs only while at least one client is attached.

    Parameters
    ----------
    controller : LiveController
        The live session.
    rate_hz : float
        Frames per second.
    send_timeout : float
        Seconds one send to a client may take before that client is given up.

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
        self, controller: LiveController, *, rate_hz: float, send_timeout: float = 2.0
    ) -> None:
        if not (isinstance(rate_hz, int | float) and 0.0 < rate_hz <= 60.0):
            raise ValidationError(
                f"rate_hz must be a number in (0, 60], got {rate_hz!r}", parameter="rate_hz"
            )
        if not (isinstance(send_timeout, int | float) and send_timeout > 0):
            raise ValidationError(
                f"send_timeout must be > 0 s, got {send_timeout!r}", parameter="send_timeout"
            )
        self.controller = controller
        self.rate_hz = float(rate_hz)
        self.send_timeout = float(send_timeout)
        self._clients: set[Client] = set()
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
        loop = asyncio.get_running_loop()
        period = 1.0 / self.rate_hz
        due = loop.time()
        while self._clients:
            text = self._frame()
            if text is not None:
                for client in self._clients:
                    client.offer(text)
            due += period
            now = loop.time()
            if due < now - period:  # fell behind (loop busy): start the schedule again
                due = now
            await asyncio.sleep(max(0.0, due - now))

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
