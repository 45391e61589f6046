"""The dashboard in Chromium behind a real retest of emulated sensors, at high speed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from nkt_web_browser import text_changes, wait_js, wait_live

from nkt_motion.retest.auto import AutoPilot
from nkt_motion.retest.emulated import EmulatedSetup, plan_session
from nkt_motion.retest.runner import RetestSession
from nkt_motion.web import check_snapshot

pytestmark = pytest.mark.slow

PROTOCOL = "hip_flexion_gmed_adl"
SPEED = 16.0  # the 128 s emulated client plays in 8 s


class CheckedSession:
    """The retest as the dashboard's controller, every snapshot held against the schema."""

    def __init__(self, rs: RetestSession) -> None:
        self.rs = rs
        self.problems: list[str] = []

    def snapshot(self) -> dict[str, Any]:
        snap = self.rs.snapshot()
        try:
            check_snapshot(snap)
        except ValueError as err:
            self.problems.append(str(err))
        return snap

    def command(self, name: str, **args: Any) -> None:
        self.rs.command(name, **args)


def emulated_retest(out: Path, *, auto: bool) -> Callable[[], Any]:
    @asynccontextmanager
    async def session() -> AsyncIterator[CheckedSession]:
        setup = EmulatedSetup(plan_session(PROTOCOL), speed=SPEED)
        async with setup:
            rs = RetestSession(
                PROTOCOL,
                "L",
                setup.configs,
                out=out,
                recorder_options=setup.recorder_options(),
                pdf=False,
                n_boot=200,
            )
            tasks = [asyncio.create_task(rs.run())]
            if auto:
                tasks.append(asyncio.create_task(AutoPilot(setup).drive(rs)))
            try:
                yield CheckedSession(rs)
            finally:
                rs.request_stop()
                await asyncio.wait(tasks, timeout=60)
                for task in tasks:
                    if task.done() and task.exception() is not None:
                        raise task.exception()  # type: ignore[misc]

    return session


def state_is(page: Any, *states: str, timeout: float) -> None:
    wait_js(
        page,
        "(states) => states.includes(document.querySelector('#state').textContent)",
        list(states),
        timeout=timeout,
    )


def test_auto_retest_streams_to_the_page_and_ends_with_the_verdict(
    serve: Any, open_page: Callable[[str], Any], tmp_path: Path
) -> None:
    server = serve(session=emulated_retest(tmp_path / "bids", auto=True))
    page = open_page(server.dashboard.url)
    wait_live(page)
    state_is(page, "running", timeout=20)
    text_changes(page, "#seq")
    text_changes(page, "#clock")
    text_changes(page, ".chan:nth-child(1) .chan-value")
    assert page.locator(".chan").count() == 3  # GMED, ADL and the TFL channel of the sensor
    assert page.inner_text("#sensors tr td:nth-child(2)") == "streaming"
    wait_js(page, "document.querySelectorAll('#steps li.done').length >= 2", timeout=20)
    wait_js(page, "document.querySelectorAll('#events li').length >= 3", timeout=20)
    state_is(page, "finished", timeout=60)
    page.wait_for_selector("#verdict:not([hidden])")
    verdict = page.inner_text("#verdict-tests")
    assert verdict.startswith("gluteus medius vs adductor longus: ")
    link = page.get_attribute("#verdict-files a", "href")
    assert link is not None and link.startswith("/files/report?token=")
    report = page.request.get(server.dashboard.url.split("/?")[0] + link)
    assert report.status == 200 and "<html" in report.text().lower()
    assert page.is_disabled("#trial")
    assert server.controller.problems == []


def test_button_presses_drive_a_real_retest(
    serve: Any, open_page: Callable[[str], Any], tmp_path: Path
) -> None:
    server = serve(session=emulated_retest(tmp_path / "bids", auto=False))
    page = open_page(server.dashboard.url)
    wait_live(page)
    state_is(page, "running", timeout=20)
    assert page.inner_text("#step-title") == "Check the sensors"
    assert page.is_disabled("#trial")  # the sensor check takes no trials
    page.tap("button[data-command=next]")
    wait_js(page, "document.querySelector('#step-title').textContent === 'Quiet standing'")
    wait_js(page, "!document.querySelector('#trial').disabled")
    page.tap("#trial")  # the rest period: it ends by itself after its 10 s (0.6 s here)
    wait_js(
        page, "[...document.querySelectorAll('#events li b')].some(b => b.textContent === 'rest')"
    )
    assert "rest recorded" in page.inner_text("#messages")
    events = server.controller.rs.guide.events
    assert [e.label for e in events] == ["rest"]
    page.tap("button[data-command=stop]")
    page.tap("button[data-command=stop]")
    state_is(page, "stopped", "finished", timeout=60)
    page.wait_for_selector("#verdict:not([hidden])")  # the saved session's folder is shown
    assert "Session saved to" in page.inner_text("#verdict-files")
    assert server.controller.problems == []
