"""The hub's timing: frames follow signalled changes (rate-limited), or are polled without."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from typing import Any

import pytest

from nkt_motion.errors import ValidationError
from nkt_motion.web.hub import Hub
from nkt_motion.web.schema import UpdateSignal


class Signalling:
    """A controller that says when its snapshot changed (``add_listener``)."""

    def __init__(self, base: Any) -> None:
        self.base = base
        self.listeners: list[Callable[[], None]] = []

    def snapshot(self) -> dict[str, Any]:
        snap: dict[str, Any] = self.base.snapshot()
        return snap

    def command(self, name: str, **args: Any) -> None:
        self.base.command(name, **args)

    def add_listener(self, callback: Callable[[], None]) -> Callable[[], None]:
        self.listeners.append(callback)
        return lambda: self.listeners.remove(callback)

    def changed(self) -> None:
        for callback in list(self.listeners):
            callback()


async def frames_while(
    hub: Hub, seconds: float, during: Callable[[asyncio.AbstractEventLoop], Any] | None = None
) -> list[tuple[float, int]]:
    """Attach one page for ``seconds``; return (loop time, seq) of each frame it got."""
    loop = asyncio.get_running_loop()
    got: list[tuple[float, int]] = []

    async def send(text: str) -> None:
        got.append((loop.time(), json.loads(text)["seq"]))

    page = hub.attach(send)
    task = asyncio.create_task(page.run())
    try:
        if during is None:
            await asyncio.sleep(seconds)
        else:
            await asyncio.wait_for(during(loop), seconds + 5)
    finally:
        hub.detach(page)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return got


def polled(source: Any) -> tuple[list[tuple[float, int]], list[float]]:
    """Frames of one second at 10 Hz with no change signalled, and the gaps between them."""

    async def scenario() -> list[tuple[float, int]]:
        return await frames_while(Hub(source, rate_hz=10.0), 1.0)

    frames = asyncio.run(scenario())
    return frames, [b - a for (a, _), (b, _) in itertools.pairwise(frames)]


def test_a_frame_follows_a_signalled_change_at_once(controller: Any) -> None:
    source = Signalling(controller)
    assert isinstance(source, UpdateSignal)
    delays: list[float] = []

    async def changes(loop: asyncio.AbstractEventLoop) -> None:
        await asyncio.sleep(0.2)  # past the first frame and the 50 ms spacing
        for _ in range(5):
            seq = controller.seq
            at = loop.time()
            source.changed()
            while controller.seq == seq:
                await asyncio.sleep(0.001)
            delays.append(loop.time() - at)
            await asyncio.sleep(0.12)

    async def scenario() -> list[tuple[float, int]]:
        hub = Hub(source, rate_hz=1.0)  # polling alone would send one frame a second
        return await frames_while(hub, 1.0, changes)

    frames = asyncio.run(scenario())
    assert len(delays) == 5
    assert max(delays) < 0.03, delays  # not the 1 s polling period
    assert len(frames) >= 6  # the first frame and one per change
    assert not source.listeners  # removed when the last page left


def test_signalled_frames_are_at_most_20_a_second(controller: Any) -> None:
    source = Signalling(controller)

    async def flood(loop: asyncio.AbstractEventLoop) -> None:
        end = loop.time() + 1.0
        while loop.time() < end:
            source.changed()  # a live batch every 5 ms
            await asyncio.sleep(0.005)

    async def scenario() -> list[tuple[float, int]]:
        hub = Hub(source, rate_hz=15.0)
        return await frames_while(hub, 1.0, flood)

    frames = asyncio.run(scenario())
    times = [t for t, _ in frames]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert 15 <= len(frames) <= 22, len(frames)  # 20 Hz, not one frame per change
    assert min(gaps) > 0.045, gaps  # the 50 ms spacing, a little timer slack allowed
    assert max(gaps) < 0.09, gaps  # a pending change is sent when the spacing ends


def test_without_changes_frames_still_come_at_the_rate(controller: Any) -> None:
    source = Signalling(controller)

    frames, gaps = polled(source)
    assert 9 <= len(frames) <= 12, len(frames)
    assert min(gaps) > 0.09, gaps


def test_a_controller_without_the_signal_is_polled_at_the_rate(controller: Any) -> None:
    assert not isinstance(controller, UpdateSignal)

    frames, gaps = polled(controller)
    assert 9 <= len(frames) <= 12, len(frames)
    assert min(gaps) > 0.08, gaps
    assert [s for _, s in frames] == sorted(s for _, s in frames)


def test_a_higher_polling_rate_raises_the_limit(controller: Any) -> None:
    source = Signalling(controller)

    async def flood(loop: asyncio.AbstractEventLoop) -> None:
        end = loop.time() + 1.0
        while loop.time() < end:
            source.changed()
            await asyncio.sleep(0.005)

    async def scenario() -> list[tuple[float, int]]:
        hub = Hub(source, rate_hz=40.0)
        assert hub.max_rate_hz == 40.0
        return await frames_while(hub, 1.0, flood)

    frames = asyncio.run(scenario())
    assert 30 <= len(frames) <= 42, len(frames)


@pytest.mark.parametrize("value", [0, -1.0, 61.0, True, "20"])
def test_max_rate_is_checked(controller: Any, value: Any) -> None:
    with pytest.raises(ValidationError, match="max_rate_hz must be a number in"):
        Hub(controller, rate_hz=15.0, max_rate_hz=value)
