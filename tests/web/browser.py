"""Headless Chromium for the dashboard tests and benchmark, driven by Playwright.

The browser is the system's (``/usr/bin/chromium`` or ``$NKT_CHROMIUM``);
Playwright's own browser download is not used.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
