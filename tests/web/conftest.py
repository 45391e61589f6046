"""Fixtures of the dashboard tests: a fake live session and a dashboard served in a thread."""

from __future__ import annotations

import importlib.util
import math
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from nkt_motion.errors import ValidationError
from nkt_motion.web import example_snapshot

_spec = importlib.util.spec_from_file_location(
    "nkt_web_browser", Path(__file__).with_name("browser.py")
)
assert _spec is not None and _spec.loader is not None
browser = importlib.util.module_from_spec(_spec)
sys.modules["nkt_web_browser"] = browser
_spec.loader.exec_module(browser)

#: Console errors that a test provokes on purpose (a refused page, a server restart).
_EXPECTED_CONSOLE = (
    "WebSocket connection to",
    "Failed to load resource: the server responded with a status of 403",
)


class FakeController:
    """A live session whose values change with time; trial presses make events.

    Levels follow slow sines, ``seq`` counts snapshots, ``trial_toggle`` starts
    and stops a trial (a stop appends an event), ``next`` moves on a step,
    ``stop`` ends the session; anything else is refused like the real session does.
    """

    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.seq = 0
        self.commands: list[tuple[str, dict[str, Any]]] = []
        self.events: list[dict[str, Any]] = []
        self.trial_start: float | None = None
        self.step = 2
        self.state = "running"
        self.lock = threading.Lock()

    def now(self) -> float:
        return time.monotonic() - self.t0

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            self.seq += 1
            t = self.now()
            snap = example_snapshot()
            snap.update(seq=self.seq, t=t, state=self.state, events=list(self.events))
            for i, channel in enumerate(snap["channels"]):
                channel["level"] = 0.45 + 0.4 * math.sin(2 * math.pi * 0.8 * t + i)
            snap["step"]["index"] = self.step
            snap["step"]["title"] = snap["steps"][self.step]["title"]
            for i, step in enumerate(snap["steps"]):
                step["status"] = (
                    "done" if i < self.step else "current" if i == self.step else "todo"
                )
            active = self.trial_start is not None
            snap["trial"] = {
                "active": active,
                "label": "pre/test/GMED" if active else None,
                "elapsed_s": t - self.trial_start if self.trial_start is not None else None,
            }
            snap["step"]["trials_done"] = len(self.events)
            snap["angles"][0]["value"] = 3.0 + math.sin(t)
            return snap

    def command(self, name: str, **args: Any) -> None:
        with self.lock:
            self.commands.append((name, args))
            if name == "trial_toggle":
                if self.trial_start is None:
                    self.trial_start = self.now()
                else:
                    onset, self.trial_start = self.trial_start, None
                    duration = self.now() - onset
                    self.events.append(
                        {"onset": onset, "duration": duration, "label": "pre/test/GMED"}
                    )
            elif name == "next":
                self.step = min(self.step + 1, 4)
            elif name == "stop":
                self.state = "stopped"
            else:
                raise ValidationError(f"{name} is not allowed in this step")

    def names(self) -> list[str]:
        with self.lock:
            return [name for name, _ in self.commands]


@pytest.fixture
def controller() -> FakeController:
    return FakeController()


@pytest.fixture
def serve() -> Iterator[Callable[..., Any]]:
    """Start dashboards in threads; every one still running is stopped at teardown."""
    started: list[Any] = []

    def start(controller: Any = None, **kwargs: Any) -> Any:
        server = browser.ServerThread(controller, **kwargs)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright; skips with the reason when it cannot start."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the Playwright package (test extra) is not installed"
    )
    with sync_api.sync_playwright() as playwright:
        try:
            instance = browser.launch(playwright)
        except RuntimeError as err:
            pytest.skip(str(err))
        yield instance
        instance.close()


@pytest.fixture
def open_page(chromium: Any) -> Iterator[Callable[[str], Any]]:
    """Open URLs in fresh 1024x768 touch tabs; fail on unexpected console errors."""
    contexts: list[Any] = []
    errors: list[str] = []

    def record(text: str) -> None:
        if not any(expected in text for expected in _EXPECTED_CONSOLE):
            errors.append(text)

    def open_(url: str) -> Any:
        context = chromium.new_context(viewport=browser.TABLET, has_touch=True)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on("console", lambda m: record(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: record(f"page error: {e}"))
        page.goto(url)
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not errors, errors
