"""The dashboard's ASGI app: the page, its static files, the live WebSocket.

Routes
    ``GET /?token=T`` the page; ``GET /static/...`` its script and style (no
    data, no token); ``WS /ws?token=T`` snapshots out, commands in; ``GET
    /files/report?token=T`` and ``/files/pdf?token=T`` the session's report
    once the controller names it in ``paths``.
Guards
    Every request must carry ``Host: 127.0.0.1:PORT`` or ``localhost:PORT`` of
    the socket it came in on (a DNS-rebinding page cannot), WebSockets from a
    browser also a matching ``Origin``, and the data routes the session token
    (compared in constant time).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import secrets
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from nkt_motion.errors import ValidationError
from nkt_motion.vocab import MUSCLES, muscle_name
from nkt_motion.web.hub import Client, Hub, encode_message
from nkt_motion.web.schema import COMMANDS, LiveController

__all__ = ["STATIC_DIR", "create_app"]

logger = logging.getLogger(__name__)

#: The page, its script and its style.
STATIC_DIR = Path(__file__).with_name("static")

_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{16,128}")
_FILES = ("report", "pdf")
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
_WS_POLICY_VIOLATION = 1008
_WS_TRY_AGAIN_LATER = 1013


def create_app(
    controller: LiveController,
    *,
    token: str,
    rate_hz: float = 15.0,
    send_timeout: float = 2.0,
) -> Starlette:
    """Build the dashboard app for one live session.

    Parameters
    ----------
    controller : LiveController
        The live session: ``snapshot()`` is pushed to every page at ``rate_hz``,
        commands from the pages go to ``command()``.
    token : str
        The session's secret, 16 to 128 characters of ``A-Z a-z 0-9 _ -``
        (``secrets.token_urlsafe(18)`` makes one); pages and WebSockets must
        carry it as ``?token=``.
    rate_hz : float
        Snapshots per second, in (0, 60].
    send_timeout : float
        Seconds one send to a page may take before that page is disconnected
        (it reconnects); other pages are never held up by it.

    Returns
    -------
    starlette.applications.Starlette
        The app; ``app.state.hub`` counts the connected pages.

    Raises
    ------
    ValidationError
        For a malformed token, rate or timeout.

    Examples
    --------
    >>> import asyncio, httpx
    >>> from nkt_motion.web.schema import example_snapshot
    >>> from types import SimpleNamespace
    >>> still = SimpleNamespace(snapshot=example_snapshot, command=lambda name, **args: None)
    >>> app = create_app(still, token="x" * 24)
    >>> async def main():
    ...     transport = httpx.ASGITransport(app=app)
    ...     local = "http://127.0.0.1:8765"
    ...     async with httpx.AsyncClient(transport=transport, base_url=local) as c:
    ...         ok = await c.get("/", params={"token": "x" * 24})
    ...         refused = await c.get("/", params={"token": "y" * 24})
    ...     return ok.status_code, refused.status_code
    >>> asyncio.run(main())
    (200, 403)
    """
    if not isinstance(token, str) or not _TOKEN_RE.fullmatch(token):
        raise ValidationError(
            "token must be 16 to 128 characters of A-Z a-z 0-9 _ -, got "
            f"{type(token).__name__} of length {len(token) if isinstance(token, str) else '?'}",
            parameter="token",
        )
    hub = Hub(controller, rate_hz=rate_hz, send_timeout=send_timeout)
    app = Starlette(
        routes=_Handlers(controller, token, hub).routes(),
        middleware=[Middleware(_LocalHostOnly)],
    )
    app.state.hub = hub
    return app


class _Handlers:
    """The routes of one dashboard: its controller, token and fan-out."""

    def __init__(self, controller: LiveController, token: str, hub: Hub) -> None:
        self.controller, self.token, self.hub = controller, token, hub
        self.hello = encode_message(
            "hello",
            {
                "rate_hz": hub.rate_hz,
                "commands": list(COMMANDS),
                "muscles": {code: muscle_name(code) for code in MUSCLES.values()},
            },
        )

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self.page),
            Route("/files/{kind}", self.files),
            Route("/favicon.ico", _no_icon),
            WebSocketRoute("/ws", self.live),
            Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
        ]

    async def page(self, request: Request) -> Response:
        if not _token_ok(request.query_params.get("token"), self.token):
            return _refused()
        return FileResponse(STATIC_DIR / "index.html", headers=_PAGE_HEADERS)

    async def files(self, request: Request) -> Response:
        if not _token_ok(request.query_params.get("token"), self.token):
            return _refused()
        kind = request.path_params["kind"]
        paths = self.controller.snapshot().get("paths") or {}
        name = paths.get(kind) if kind in _FILES else None
        if not name or not Path(name).is_file():
            return PlainTextResponse(f"No {kind} for this session yet.", status_code=404)
        return FileResponse(name, headers={"Cache-Control": "no-store"})

    async def live(self, websocket: WebSocket) -> None:
        if not _token_ok(websocket.query_params.get("token"), self.token):
            logger.warning("dashboard WebSocket refused: missing or wrong token")
            await websocket.close(code=_WS_POLICY_VIOLATION)
            return
        await websocket.accept()
        await websocket.send_text(self.hello)
        await _serve_page(websocket, self.hub)


async def _no_icon(request: Request) -> Response:
    return Response(status_code=204)  # browsers ask for it even on the refusal page


def _token_ok(given: str | None, token: str) -> bool:
    return given is not None and secrets.compare_digest(given.encode(), token.encode())


def _refused() -> Response:
    return PlainTextResponse(
        "403 Forbidden: this dashboard needs the link with its session token, "
        "as printed by nkt-motion when the session started.",
        status_code=403,
    )


async def _serve_page(websocket: WebSocket, hub: Hub) -> None:
    """Stream frames to one page and run its commands until either side ends."""
    client = hub.attach(websocket.send_text)
    sender = asyncio.create_task(client.run())
    receiver = asyncio.create_task(_receive_commands(websocket, client, hub.controller))
    try:
        done, _ = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
        if sender in done and isinstance(sender.exception(), TimeoutError):
            logger.warning("a dashboard page is too slow to keep up; disconnecting it")
            with contextlib.suppress(Exception):
                async with asyncio.timeout(0.5):
                    await websocket.close(code=_WS_TRY_AGAIN_LATER)
    finally:
        hub.detach(client)
        for task in (sender, receiver):
            task.cancel()
        # wait() rather than gather(): a cancellation of this task stays its own
        await asyncio.wait({sender, receiver})
        for task in (sender, receiver):
            if not task.cancelled() and task.exception() is not None:
                logger.debug("dashboard page gone: %r", task.exception())


async def _receive_commands(
    websocket: WebSocket, client: Client, controller: LiveController
) -> None:
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        if text is None:
            client.reply(encode_message("error", {"name": None, "message": "send JSON text"}))
            continue
        client.reply(_run_command(controller, text))


def _run_command(controller: LiveController, text: str) -> str:
    """Parse one ``{"type": "command", "name": ..., "args": {...}}`` and run it."""
    try:
        request = json.loads(text)
    except ValueError:
        return encode_message("error", {"name": None, "message": "message is not JSON"})
    if not isinstance(request, dict) or request.get("type") != "command":
        return encode_message(
            "error", {"name": None, "message": 'expected {"type": "command", "name": ...}'}
        )
    name, args, ident = request.get("name"), request.get("args", {}), request.get("id")
    reply: dict[str, Any] = {"name": name} if ident is None else {"name": name, "id": ident}
    if name not in COMMANDS:
        reply["message"] = f"unknown command {name!r}; allowed: {', '.join(COMMANDS)}"
        return encode_message("error", reply)
    if not isinstance(args, dict) or not all(isinstance(k, str) and k != "name" for k in args):
        reply["message"] = f"args of {name} must be an object without 'name', got {args!r}"
        return encode_message("error", reply)
    try:
        controller.command(name, **args)
    except ValidationError as err:
        reply["message"] = str(err)
        return encode_message("error", reply)
    except Exception as err:
        logger.exception("dashboard command %s failed", name)
        reply["message"] = f"{name} failed: {type(err).__name__}: {err}"
        return encode_message("error", reply)
    logger.info("dashboard command: %s", name)
    reply["message"] = ""
    return encode_message("ack", reply)


class _LocalHostOnly:
    """Refuse requests whose Host (and, for WebSockets, Origin) is not this loopback port."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or _local(scope):
            await self.app(scope, receive, send)
            return
        logger.warning("dashboard request refused: Host or Origin is not this computer's port")
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": _WS_POLICY_VIOLATION})
            return
        response = PlainTextResponse(
            "403 Forbidden: the dashboard answers only at 127.0.0.1 or localhost.",
            status_code=403,
        )
        await response(scope, receive, send)


def _local(scope: Scope) -> bool:
    server = scope.get("server")
    if not server or server[1] is None:
        return False
    port = int(server[1])
    allowed = {f"127.0.0.1:{port}", f"localhost:{port}"}
    if port == 80:
        allowed |= {"127.0.0.1", "localhost"}
    headers = Headers(scope=scope)
    if headers.get("host", "").lower() not in allowed:
        return False
    origin = headers.get("origin")
    return (
        scope["type"] != "websocket"
        or origin is None
        or origin.lower() in {f"http://{h}" for h in allowed}
    )
