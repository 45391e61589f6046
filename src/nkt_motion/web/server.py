"""Serve the dashboard on this computer only, inside the caller's asyncio loop."""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import uvicorn

from nkt_motion.errors import ValidationError
from nkt_motion.web.app import create_app
from nkt_motion.web.hub import Hub
from nkt_motion.web.schema import LiveController

__all__ = ["Dashboard", "serve_dashboard"]

logger = logging.getLogger(__name__)

_HOST = "127.0.0.1"
#: Largest message a page may send (commands are a few dozen bytes).
_MAX_MESSAGE = 64 * 1024


class Dashboard:
    """A running dashboard: where to open it, and how many pages watch it.

    Parameters
    ----------
    port : int
        The port bound on 127.0.0.1.
    token : str
        The session token every page and WebSocket must carry.
    hub : Hub
        The app's fan-out (for the page count).

    Attributes
    ----------
    url : str
        ``http://127.0.0.1:PORT/?token=TOKEN``, the link to open.

    Examples
    --------
    >>> import asyncio
    >>> from nkt_motion.web.schema import example_snapshot
    >>> from types import SimpleNamespace
    >>> still = SimpleNamespace(snapshot=example_snapshot, command=lambda name, **args: None)
    >>> async def main():
    ...     async with serve_dashboard(still) as dash:
    ...         return dash.url.startswith("http://127.0.0.1:"), dash.clients
    >>> asyncio.run(main())
    (True, 0)
    """

    def __init__(self, *, port: int, token: str, hub: Hub) -> None:
        self.port = port
        self.token = token
        self.url = f"http://{_HOST}:{port}/?token={token}"
        self._hub = hub

    @property
    def clients(self) -> int:
        """Number of pages connected right now."""
        return self._hub.n_clients

    def __repr__(self) -> str:
        return f"<Dashboard http://{_HOST}:{self.port}/ | {self.clients} pages>"


@asynccontextmanager
async def serve_dashboard(
    controller: LiveController,
    *,
    port: int = 0,
    rate_hz: float = 15.0,
    token: str | None = None,
) -> AsyncIterator[Dashboard]:
    """Serve the live dashboard of ``controller`` on 127.0.0.1 while the block runs.

    The server runs as tasks of the current asyncio loop (the controller is
    called from that loop), listens on the loopback address only, installs no
    signal handlers, and its log goes to this module's logger with the token
    masked and without access lines.

    Parameters
    ----------
    controller : LiveController
        The live session.
    port : int
        TCP port; 0 picks a free one (see :attr:`Dashboard.url`).
    rate_hz : float
        Snapshots per second pushed to each page, in (0, 60]; a controller
        with ``add_listener`` (:class:`~nkt_motion.web.schema.UpdateSignal`)
        also gets one soon after each change, up to 20 a second (see
        :class:`~nkt_motion.web.hub.Hub`).
    token : str, optional
        The session token; a new random one (``secrets.token_urlsafe(18)``) by default.

    Yields
    ------
    Dashboard
        Its ``url`` holds the token; open it in a browser on this computer.

    Raises
    ------
    ValidationError
        For a port outside 0-65535 or one that is already in use.

    Examples
    --------
    >>> import asyncio, urllib.request
    >>> from nkt_motion.web.schema import example_snapshot
    >>> from types import SimpleNamespace
    >>> still = SimpleNamespace(snapshot=example_snapshot, command=lambda name, **args: None)
    >>> def fetch(url):
    ...     with urllib.request.urlopen(url) as page:
    ...         return page.status, b"<canvas" in page.read()
    >>> async def main():
    ...     async with serve_dashboard(still) as dash:
    ...         return await asyncio.to_thread(fetch, dash.url)
    >>> asyncio.run(main())
    (200, True)
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValidationError(f"port must be an int in 0-65535, got {port!r}", parameter="port")
    token = secrets.token_urlsafe(18) if token is None else token
    app = create_app(controller, token=token, rate_hz=rate_hz)
    sock = _bind(port)
    bound = int(sock.getsockname()[1])
    config = uvicorn.Config(
        app,
        host=_HOST,
        port=bound,
        log_config=None,
        access_log=False,
        lifespan="off",
        ws="websockets-sansio",
        ws_max_size=_MAX_MESSAGE,
        timeout_graceful_shutdown=2,
        server_header=False,
    )
    server = uvicorn.Server(config)
    with _uvicorn_log_masked(token):
        config.load()
        server.lifespan = config.lifespan_class(config)
        await server.startup(sockets=[sock])
        addresses = [s.getsockname() for srv in server.servers for s in srv.sockets]
        logger.info("dashboard listening on %s", addresses)
        ticks = asyncio.create_task(server.main_loop(), name="nkt-dashboard-server")
        try:
            yield Dashboard(port=bound, token=token, hub=app.state.hub)
        finally:
            server.should_exit = True
            await ticks
            await server.shutdown(sockets=[sock])
            logger.info("dashboard on port %d closed", bound)


def _bind(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((_HOST, port))
    except OSError as err:
        sock.close()
        raise ValidationError(
            f"port {port} on {_HOST} cannot be used: {err.strerror}", parameter="port"
        ) from err
    sock.set_inheritable(True)
    return sock


class _Forward(logging.Handler):
    """Re-log uvicorn's records on the library logger, tokens masked, info as debug."""

    def __init__(self, target: logging.Logger) -> None:
        super().__init__()
        self.target = target
        self.tokens: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a malformed record from the server must not break it
            text = str(record.msg)
        for token in self.tokens:
            text = text.replace(token, "***")
        level = record.levelno if record.levelno >= logging.WARNING else logging.DEBUG
        self.target.log(level, "uvicorn: %s", text)


_forward = _Forward(logger)


@contextmanager
def _uvicorn_log_masked(token: str) -> Iterator[None]:
    """While active, uvicorn's log goes only to this module's logger, ``token`` masked."""
    source = logging.getLogger("uvicorn")
    if not _forward.tokens:
        source.addHandler(_forward)
        source.propagate = False
    _forward.tokens.append(token)
    try:
        yield
    finally:
        _forward.tokens.remove(token)
        if not _forward.tokens:
            source.removeHandler(_forward)
            source.propagate = True
