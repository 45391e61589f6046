"""The dashboard page in headless Chromium against a fake live session."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from nkt_web_browser import text_changes, wait_js, wait_live, wait_until

OpenPage = Callable[[str], Any]


def test_page_loads_and_shows_the_step(
    controller: Any, serve: Any, open_page: OpenPage, tmp_path: Path
) -> None:
    dashboard = serve(controller).dashboard
    page = open_page(dashboard.url)
    wait_live(page)
    assert page.inner_text("#step-title") == "Before: test gluteus medius"
    assert page.inner_text("#step-count") == "Step 3 of 5"
    assert page.inner_text("#protocol-title").startswith("Standing hip flexion")
    assert page.locator("#steps li").count() == 5
    assert page.locator("#steps li.current").inner_text() == "Before: test gluteus medius"
    assert page.locator(".chan").count() == 2
    assert page.locator(".chan").nth(0).locator("small").inner_text() == "gluteus medius"
    assert page.inner_text(".chan:nth-child(2) .reason") == "mains hum above 10 % of power"
    assert page.get_attribute(".chan:nth-child(2) .light", "class") == "light warn"
    assert page.inner_text("#trial") == "Start trial"
    assert page.is_enabled("#trial")
    assert page.is_disabled("button[data-command=override]")  # nothing blocks this step
    assert "measurement, not a diagnosis" in page.inner_text("footer")
    assert page.locator("#banner").is_hidden()
    # large enough to hit with a finger on a 1024x768 tablet, all above the fold
    box = page.locator("#trial").bounding_box()
    assert box["height"] >= 80 and box["y"] + box["height"] <= 768
    for name in ("next", "skip", "repeat", "override", "stop"):
        button = page.locator(f"button[data-command={name}]").bounding_box()
        assert button["height"] >= 48 and button["width"] >= 48
    shot = tmp_path / "dashboard.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 20_000  # a drawn page, not a blank one


def test_live_values_change_while_the_session_streams(
    controller: Any, serve: Any, open_page: OpenPage
) -> None:
    page = open_page(serve(controller).dashboard.url)
    wait_live(page)
    text_changes(page, "#seq")
    text_changes(page, ".chan:nth-child(1) .chan-value")
    text_changes(page, "#angles li .value")
    assert page.inner_text(".chan:nth-child(1) .chan-value").endswith("% ref")


def test_trial_button_press_creates_an_event(
    controller: Any, serve: Any, open_page: OpenPage
) -> None:
    page = open_page(serve(controller).dashboard.url)
    wait_live(page)
    assert page.locator("#events li").count() == 0
    page.tap("#trial")
    wait_js(page, "document.querySelector('#trial').textContent === 'Stop trial'")
    assert controller.names() == ["trial_toggle"]
    wait_js(page, "document.querySelector('#trial-info').textContent.includes('s')")
    time.sleep(0.45)  # the page ignores a second press within 400 ms (double taps)
    page.tap("#trial")
    wait_js(page, "document.querySelectorAll('#events li').length === 1")
    assert controller.names() == ["trial_toggle", "trial_toggle"]
    assert len(controller.events) == 1
    assert "pre/test/GMED" in page.inner_text("#events li")
    assert page.inner_text("#event-count") == "(1)"
    assert page.inner_text("#step-trials") == "Trials 1 of 5"
    wait_js(page, "document.querySelector('#notice').textContent.includes('done')")


def test_refused_command_and_two_tap_stop(
    controller: Any, serve: Any, open_page: OpenPage
) -> None:
    page = open_page(serve(controller).dashboard.url)
    wait_live(page)
    page.tap("button[data-command=skip]")
    wait_js(
        page,
        "document.querySelector('#notice').textContent === 'skip is not allowed in this step'",
    )
    page.tap("button[data-command=stop]")
    assert "Tap Stop again" in page.inner_text("#notice")
    assert "stop" not in controller.names()
    page.tap("button[data-command=stop]")
    wait_js(page, "document.querySelector('#state').textContent === 'stopped'")
    assert controller.names() == ["skip", "stop"]
    assert page.is_disabled("#trial")
    for name in ("next", "skip", "repeat", "override", "stop"):
        assert page.is_disabled(f"button[data-command={name}]")


def test_wrong_token_page_is_refused(controller: Any, serve: Any, open_page: OpenPage) -> None:
    dashboard = serve(controller).dashboard
    page = open_page(dashboard.url.replace(dashboard.token, "w" * len(dashboard.token)))
    assert "403 Forbidden" in page.inner_text("body")
    assert page.locator("canvas").count() == 0
    time.sleep(0.3)
    assert controller.seq == 0 and dashboard.clients == 0


def test_page_reconnects_after_the_server_drops_it(
    controller: Any, serve: Any, open_page: OpenPage
) -> None:
    first = serve(controller)
    dashboard = first.dashboard
    page = open_page(dashboard.url)
    wait_live(page)
    first.stop()
    page.wait_for_selector("#banner:not([hidden])")
    assert "reconnecting" in page.inner_text("#banner")
    assert page.evaluate("document.body.classList.contains('offline')")
    assert page.is_disabled("#trial")
    # the session's server comes back on the same port with the same token
    serve(controller, port=dashboard.port, token=dashboard.token)
    page.wait_for_selector("#banner", state="hidden", timeout=15_000)
    text_changes(page, "#seq")
    assert page.is_enabled("#trial")


def test_two_tabs_are_both_live(controller: Any, serve: Any, open_page: OpenPage) -> None:
    dashboard = serve(controller).dashboard
    one = open_page(dashboard.url)
    two = open_page(dashboard.url)
    wait_live(one)
    wait_live(two)
    wait_until(lambda: dashboard.clients == 2)
    text_changes(one, "#seq")
    text_changes(two, "#seq")
    one.tap("#trial")
    wait_js(two, "document.querySelector('#trial').textContent === 'Stop trial'")
    two.close()
    wait_until(lambda: dashboard.clients == 1)
    text_changes(one, "#seq")


@pytest.mark.parametrize("width", [768, 1366])
def test_layout_fits_other_tablet_widths(
    controller: Any, serve: Any, open_page: OpenPage, width: int
) -> None:
    page = open_page(serve(controller).dashboard.url)
    page.set_viewport_size({"width": width, "height": 1024})
    wait_live(page)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0  # nothing runs off the side
    assert page.locator("#trial").bounding_box()["width"] >= width * 0.3


def test_page_says_when_live_data_stops(controller: Any, serve: Any, open_page: OpenPage) -> None:
    page = open_page(serve(controller).dashboard.url)
    wait_live(page)
    real = controller.snapshot

    def stalled() -> dict[str, Any]:
        raise RuntimeError("the session loop is stuck")

    controller.snapshot = stalled  # the socket stays open but no frame comes
    page.wait_for_selector("#banner:not([hidden])", timeout=5_000)
    assert page.inner_text("#banner").startswith("No live data for ")
    controller.snapshot = real
    page.wait_for_selector("#banner", state="hidden", timeout=5_000)
    text_changes(page, "#seq")
