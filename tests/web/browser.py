"""Headless Chromium and a dashboard served in a thread, for the dashboard tests and benchmark.

The browser is the system's (``/usr/bin/chromium`` or ``$NKT_CHROMIUM``);
Playwright's own browser download is not used.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from pathlib import Path
from typing import Any

from nkt_motion.web import Dashboard, serve_dashboard

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TABLET = {"width": 1024, "height": 768}


def chromium_path() -> str:
    return os.environ.get("NKT_CHROMIUM", "/usr/bin/chromium")


def launch(playwright: Any) -> Any:
    """Start headless Chromium, or raise RuntimeError saying why it cannot start."""
    path = chromium_path()
    if not Path(path).is_file():
        raise RuntimeError(
            f"no Chromium at {path}: install Debian's chromium or set NKT_CHROMIUM to a browser"
        )
    try:
        return playwright.chromium.launch(
            executable_path=path, headless=True, args=CHROMIUM_ARGS, timeout=30_000
        )
    except Exception as err:  # Playwright raises its own Error with the browser's output
        raise RuntimeError(f"Chromium at {path} cannot start: {err}") from err


def wait_until(condition: Callable[[], bool], *, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met within the timeout")
        time.sleep(0.02)


def wait_js(page: Any, expression: str, arg: Any = None, *, timeout: float = 10.0) -> None:
    """Poll a JavaScript expression until it is truthy.

    Playwright's ``wait_for_function`` evaluates strings inside the page, which the
    page's Content-Security-Policy forbids (no eval); ``evaluate`` is not affected.
    """
    wait_until(lambda: bool(page.evaluate(expression, arg)), timeout=timeout)


def wait_live(page: Any) -> None:
    """Wait until the page has drawn at least one snapshot."""
    wait_js(page, "document.querySelector('#seq').textContent !== '#–'")


def text_changes(page: Any, selector: str) -> None:
    before = page.inner_text(selector)
    wait_js(
        page, "([sel, old]) => document.querySelector(sel).textContent !== old", [selector, before]
    )


class ServerThread:
    """``serve_dashboard`` running in its own thread and loop until :meth:`stop`.

    ``controller`` is served as it is; ``session`` instead is a factory of an
    async context manager that yields the controller inside the thread's loop
    (a real retest and its emulated sensors must live in the loop that serves them).
    """

    def __init__(
        self,
        controller: Any = None,
        *,
        session: Callable[[], AbstractAsyncContextManager[Any]] | None = None,
        port: int = 0,
        token: str | None = None,
        rate_hz: float = 15.0,
    ) -> None:
        self.controller = controller
        self.session = session
        self.port = port
        self.token = token
        self.rate_hz = rate_hz
        self.dashboard: Dashboard | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> ServerThread:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("dashboard did not start within 30 s")
        if self._error is not None:
            raise self._error
        return self

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            async with AsyncExitStack() as stack:
                if self.session is not None:
                    self.controller = await stack.enter_async_context(self.session())
                self.dashboard = await stack.enter_async_context(
                    serve_dashboard(
                        self.controller, port=self.port, token=self.token, rate_hz=self.rate_hz
                    )
                )
                self._ready.set()
                await self._stop.wait()
        except BaseException as err:
            self._error = err
            self._ready.set()

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(60)
        assert not self._thread.is_alive(), "dashboard thread did not stop"
        if self._error is not None:
            raise self._error
