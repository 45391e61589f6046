"""The dashboard app in-process: tokens, the Host guard, the stream, commands, the fan-out."""

from __future__ import annotations

import asyncio
import json
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.websockets import WebSocketDisconnect

from nkt_motion.errors import ValidationError
from nkt_motion.web import check_snapshot, create_app, example_snapshot
from nkt_motion.web.hub import Client, Hub

with warnings.catch_warnings():
    # Starlette 1.10 warns at import that its TestClient prefers the `httpx2` fork; the
    # project's test extras install `httpx`, which the TestClient still drives correctly.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

TOKEN = "tok_" + "a1B2c3D4e5F6g7H8"
PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"
WS = f"ws://127.0.0.1:{PORT}"  # the TestClient ignores base_url for WebSockets


@pytest.fixture
def client(controller: Any) -> Iterator[TestClient]:
    app = create_app(controller, token=TOKEN, rate_hz=50.0)
    with TestClient(app, base_url=BASE) as test_client:
        yield test_client


def receive(ws: Any, kind: str, limit: int = 200) -> dict[str, Any]:
    """Read messages until one of type ``kind`` arrives (snapshots keep coming meanwhile)."""
    for _ in range(limit):
        message = json.loads(ws.receive_text())
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind} message in {limit} messages")


def refused_code(client: TestClient, url: str, **headers: str) -> int:
    """Open a WebSocket that must be refused; return the close code it got."""
    try:
        with client.websocket_connect(url, headers=headers):
            pass
    except WebSocketDisconnect as refused:
        return refused.code
    raise AssertionError(f"{url} was accepted")


def snapshot_part(message: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if k not in ("type", "server_time")}


# ---- page, static files, tokens ------------------------------------------------------


def test_page_needs_the_token(client: TestClient) -> None:
    for params in ({}, {"token": "x" * 20}, {"token": TOKEN[:-1]}, {"token": TOKEN + "x"}):
        response = client.get("/", params=params)
        assert response.status_code == 403
        assert "session token" in response.text
        assert "<script" not in response.text
    page = client.get("/", params={"token": TOKEN})
    assert page.status_code == 200
    assert '<script src="/static/dashboard.js"' in page.text
    assert "connect-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"


def test_static_files_need_no_token_and_fetch_nothing_outside(client: TestClient) -> None:
    script = client.get("/static/dashboard.js")
    style = client.get("/static/dashboard.css")
    assert script.status_code == style.status_code == 200
    assert "javascript" in script.headers["content-type"]
    for text in (script.text, style.text, client.get("/", params={"token": TOKEN}).text):
        assert "http://" not in text and "https://" not in text  # no outside fetches
    assert client.get("/static/missing.js").status_code == 404


@pytest.mark.parametrize(
    "host",
    ["evil.example", f"evil.example:{PORT}", "127.0.0.1:1", f"192.168.1.5:{PORT}", "127.0.0.1"],
)
def test_host_guard_refuses_other_hosts(client: TestClient, host: str) -> None:
    response = client.get("/", params={"token": TOKEN}, headers={"host": host})
    assert response.status_code == 403
    assert "127.0.0.1 or localhost" in response.text
    assert refused_code(client, f"{WS}/ws?token={TOKEN}", host=host) == 1008


def test_host_guard_accepts_localhost_names(client: TestClient) -> None:
    for host in (f"127.0.0.1:{PORT}", f"localhost:{PORT}", f"LOCALHOST:{PORT}"):
        assert client.get("/", params={"token": TOKEN}, headers={"host": host}).status_code == 200


def test_websocket_origin_must_be_this_dashboard(client: TestClient) -> None:
    assert refused_code(client, f"{WS}/ws?token={TOKEN}", origin="http://evil.example") == 1008
    with client.websocket_connect(f"{WS}/ws?token={TOKEN}", headers={"origin": BASE}) as ws:
        assert receive(ws, "snapshot")["seq"] >= 1


@pytest.mark.parametrize("query", ["", "?token=", "?token=wrong-token-123456", f"?token={TOKEN}0"])
def test_websocket_wrong_token_is_refused_before_accept(
    client: TestClient, controller: Any, query: str
) -> None:
    assert refused_code(client, f"{WS}/ws{query}") == 1008
    assert controller.seq == 0  # no snapshot was taken for it


# ---- the stream --------------------------------------------------------------------


def test_stream_sends_hello_then_schema_snapshots(client: TestClient) -> None:
    with client.websocket_connect(f"{WS}/ws?token={TOKEN}") as ws:
        hello = json.loads(ws.receive_text())
        assert hello["type"] == "hello"
        assert hello["rate_hz"] == 50.0
        assert hello["muscles"]["GMED"] == "gluteus medius"
        assert "trial_toggle" in hello["commands"]
        first = receive(ws, "snapshot")
        second = receive(ws, "snapshot")
    for message in (first, second):
        check_snapshot(snapshot_part(message))
        assert isinstance(message["server_time"], float)
    assert second["seq"] > first["seq"]
    assert second["channels"][0]["level"] != first["channels"][0]["level"]


def test_two_pages_both_receive_the_stream(client: TestClient, controller: Any) -> None:
    app_hub = client.app.state.hub  # type: ignore[attr-defined]
    with (
        client.websocket_connect(f"{WS}/ws?token={TOKEN}") as one,
        client.websocket_connect(f"{WS}/ws?token={TOKEN}") as two,
    ):
        seqs_one = [receive(one, "snapshot")["seq"] for _ in range(3)]
        seqs_two = [receive(two, "snapshot")["seq"] for _ in range(3)]
        assert app_hub.n_clients == 2
    assert seqs_one == sorted(seqs_one) and seqs_two == sorted(seqs_two)
    assert len(set(seqs_one)) == len(set(seqs_two)) == 3


def test_nan_and_numpy_values_reach_the_page_as_json() -> None:
    np = pytest.importorskip("numpy")

    class NanController:
        def snapshot(self) -> dict[str, Any]:
            snap = example_snapshot()
            snap["channels"][0]["level"] = float("nan")
            snap["ratios"][0]["pre"] = np.array([0.5, np.inf])
            snap["seq"] = np.int64(7)
            return snap

        def command(self, name: str, **args: Any) -> None:
            pass

    app = create_app(NanController(), token=TOKEN, rate_hz=50.0)
    with TestClient(app, base_url=BASE) as c, c.websocket_connect(f"{WS}/ws?token={TOKEN}") as ws:
        message = receive(ws, "snapshot")
    assert message["channels"][0]["level"] is None
    assert message["ratios"][0]["pre"] == [0.5, None]
    assert message["seq"] == 7


def test_failing_snapshots_are_logged_and_the_stream_goes_on(
    controller: Any, caplog: pytest.LogCaptureFixture
) -> None:
    calls = {"n": 0}
    real = controller.snapshot

    def flaky() -> dict[str, Any]:
        calls["n"] += 1
        if calls["n"] % 2:
            raise RuntimeError("sensor buffer busy")
        return real()

    controller.snapshot = flaky
    app = create_app(controller, token=TOKEN, rate_hz=50.0)
    with (
        caplog.at_level(logging.ERROR, logger="nkt_motion.web"),
        TestClient(app, base_url=BASE) as c,
        c.websocket_connect(f"{WS}/ws?token={TOKEN}") as ws,
    ):
        seqs = [receive(ws, "snapshot")["seq"] for _ in range(4)]
    assert seqs == sorted(seqs)
    failures = [r for r in caplog.records if "live snapshot failed" in r.getMessage()]
    assert len(failures) == 1  # logged once, not at every frame


def test_schema_mismatch_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    class Extra:
        def snapshot(self) -> dict[str, Any]:
            return {**example_snapshot(), "bonus": 1}

        def command(self, name: str, **args: Any) -> None:
            pass

    app = create_app(Extra(), token=TOKEN, rate_hz=50.0)
    with (
        caplog.at_level(logging.WARNING, logger="nkt_motion.web"),
        TestClient(app, base_url=BASE) as c,
        c.websocket_connect(f"{WS}/ws?token={TOKEN}") as ws,
    ):
        assert receive(ws, "snapshot")["bonus"] == 1
        receive(ws, "snapshot")
    warned = [r.getMessage() for r in caplog.records if "schema" in r.getMessage()]
    assert len(warned) == 1 and "'bonus'" in warned[0]


# ---- commands ----------------------------------------------------------------------


def test_commands_reach_the_controller_and_are_acknowledged(
    client: TestClient, controller: Any
) -> None:
    with client.websocket_connect(f"{WS}/ws?token={TOKEN}") as ws:
        ws.send_text(json.dumps({"type": "command", "name": "trial_toggle", "id": 1}))
        assert receive(ws, "ack") == {
            "type": "ack",
            "name": "trial_toggle",
            "id": 1,
            "message": "",
        }
        assert receive(ws, "snapshot")["trial"]["active"] is True
        ws.send_text(json.dumps({"type": "command", "name": "trial_toggle", "id": 2}))
        assert receive(ws, "ack")["id"] == 2
        events = receive(ws, "snapshot")["events"]
    assert controller.names() == ["trial_toggle", "trial_toggle"]
    assert [e["label"] for e in events] == ["pre/test/GMED"]


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("not json", "message is not JSON"),
        ("[1, 2]", 'expected {"type": "command"'),
        ('{"type": "hello"}', 'expected {"type": "command"'),
        ('{"type": "command", "name": "explode"}', "unknown command 'explode'; allowed: "),
        ('{"type": "command", "name": 3}', "unknown command 3"),
        ('{"type": "command", "name": "next", "args": [1]}', "args of next must be an object"),
        ('{"type": "command", "name": "next", "args": {"name": "x"}}', "without 'name'"),
        ('{"type": "command", "name": "skip"}', "skip is not allowed in this step"),
    ],
)
def test_bad_commands_get_an_error_reply_and_the_page_stays_connected(
    client: TestClient, controller: Any, message: str, expected: str
) -> None:
    with client.websocket_connect(f"{WS}/ws?token={TOKEN}") as ws:
        ws.send_text(message)
        reply = receive(ws, "error")
        assert expected in reply["message"]
        assert receive(ws, "snapshot")["seq"] >= 1
        ws.send_text(json.dumps({"type": "command", "name": "next"}))
        assert receive(ws, "ack")["name"] == "next"
    called = controller.names()
    assert called == (["skip", "next"] if "skip" in message else ["next"])


def test_binary_messages_are_refused(client: TestClient) -> None:
    with client.websocket_connect(f"{WS}/ws?token={TOKEN}") as ws:
        ws.send_bytes(b'{"type": "command", "name": "next"}')
        assert receive(ws, "error")["message"] == "send JSON text"


def test_a_crashing_command_is_reported_not_fatal(
    client: TestClient, controller: Any, caplog: pytest.LogCaptureFixture
) -> None:
    def boom(name: str, **args: Any) -> None:
        raise KeyError("step")

    controller.command = boom
    with caplog.at_level(logging.ERROR), client.websocket_connect(f"{WS}/ws?token={TOKEN}") as ws:
        ws.send_text(json.dumps({"type": "command", "name": "next"}))
        assert receive(ws, "error")["message"] == "next failed: KeyError: 'step'"
        assert receive(ws, "snapshot")["seq"] >= 1
    assert any("dashboard command next failed" in r.getMessage() for r in caplog.records)


# ---- report files ------------------------------------------------------------------


def test_report_files_are_served_once_named(controller: Any, tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    report.write_text("<h1>Session report</h1>")
    paths: dict[str, Any] = {"bids": str(tmp_path), "report": None, "pdf": None}
    real = controller.snapshot
    controller.snapshot = lambda: {**real(), "paths": paths}
    app = create_app(controller, token=TOKEN)
    with TestClient(app, base_url=BASE) as c:
        assert c.get("/files/report", params={"token": TOKEN}).status_code == 404
        paths["report"] = str(report)
        served = c.get("/files/report", params={"token": TOKEN})
        assert served.status_code == 200 and "Session report" in served.text
        assert c.get("/files/report", params={"token": "nope" * 5}).status_code == 403
        assert c.get("/files/pdf", params={"token": TOKEN}).status_code == 404
        assert c.get("/files/bids", params={"token": TOKEN}).status_code == 404


# ---- arguments -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"token": "short"}, "token must be 16 to 128 characters"),
        ({"token": "has spaces in it, 1234"}, "token must be 16 to 128 characters"),
        ({"token": TOKEN, "rate_hz": 0}, "rate_hz must be a number in (0, 60], got 0"),
        ({"token": TOKEN, "rate_hz": 120.0}, "rate_hz must be a number in (0, 60], got 120.0"),
        ({"token": TOKEN, "send_timeout": -1}, "send_timeout must be > 0 s, got -1"),
    ],
)
def test_create_app_checks_its_arguments(
    controller: Any, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace("]", r"\]")):
        create_app(controller, **kwargs)


# ---- fan-out -----------------------------------------------------------------------------


def test_a_stalled_page_does_not_hold_up_the_others(controller: Any) -> None:
    async def scenario() -> tuple[list[str], Client, BaseException | None]:
        hub = Hub(controller, rate_hz=50.0, send_timeout=0.3)
        fast: list[str] = []
        stalled = asyncio.Event()

        async def send_fast(text: str) -> None:
            fast.append(text)

        async def send_stuck(text: str) -> None:
            await stalled.wait()  # a page that never reads: the socket never drains

        quick = hub.attach(send_fast)
        stuck = hub.attach(send_stuck)
        tasks = [asyncio.create_task(quick.run()), asyncio.create_task(stuck.run())]
        await asyncio.sleep(0.6)
        error = tasks[1].exception() if tasks[1].done() else None
        hub.detach(quick)
        hub.detach(stuck)
        tasks[0].cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return fast, stuck, error

    fast, stuck, error = asyncio.run(scenario())
    assert len(fast) >= 10  # about 30 frames in 0.6 s at 50 Hz, none held back
    assert isinstance(error, TimeoutError)  # the stuck page is given up after 0.3 s
    assert stuck.sent == 0 and stuck.skipped >= 10  # one frame held, the rest replaced


def test_a_slow_page_skips_frames_instead_of_queueing(controller: Any) -> None:
    async def scenario() -> Client:
        hub = Hub(controller, rate_hz=50.0, send_timeout=1.0)

        async def send_slow(text: str) -> None:
            await asyncio.sleep(0.1)  # five frame periods per send

        slow = hub.attach(send_slow)
        task = asyncio.create_task(slow.run())
        await asyncio.sleep(0.55)
        hub.detach(slow)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return slow

    slow = asyncio.run(scenario())
    assert 1 <= slow.sent <= 6
    assert slow.skipped >= 5  # frames replaced while a send was in flight


def test_replies_are_bounded_per_page() -> None:
    async def scenario() -> list[str]:
        out: list[str] = []

        async def send(text: str) -> None:
            out.append(text)

        client = Client(send, timeout=1.0)
        for i in range(100):
            client.reply(str(i))
        task = asyncio.create_task(client.run())
        await asyncio.sleep(0.01)
        task.cancel()
        return out

    out = asyncio.run(scenario())
    assert out == [str(i) for i in range(68, 100)]


def test_ticker_runs_only_while_pages_are_attached(controller: Any) -> None:
    async def scenario() -> tuple[int, int]:
        hub = Hub(controller, rate_hz=50.0)

        async def send(text: str) -> None:
            pass

        page = hub.attach(send)
        await asyncio.sleep(0.1)
        hub.detach(page)
        during = controller.seq
        await asyncio.sleep(0.1)
        return during, controller.seq

    during, after = asyncio.run(scenario())
    assert during >= 3
    assert after == during


# ---- the schema ---------------------------------------------------------------------------


def test_fake_controller_follows_the_schema(controller: Any) -> None:
    check_snapshot(controller.snapshot())
    controller.command("trial_toggle")
    controller.command("trial_toggle")
    check_snapshot(controller.snapshot())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.pop("seq"), r"snapshot must have exactly the keys .* missing \['seq'\]"),
        (lambda s: s.update(extra=1), r"unexpected \['extra'\]"),
        (lambda s: s.update(seq=True), r"snapshot\['seq'\] must be int, got True"),
        (lambda s: s.update(t="1"), r"snapshot\['t'\] must be a number, got '1'"),
        (lambda s: s.update(state="paused"), r"snapshot\['state'\] must be one of connecting"),
        (lambda s: s["channels"][1].update(quality="fine"), r"\['channels'\]\[1\]\['quality'\]"),
        (lambda s: s["ratios"][0]["pre"].append("x"), r"\['ratios'\]\[0\]\['pre'\]\[1\]"),
        (
            lambda s: s.update(onsets={"label": "x", "order": [], "delays_ms": {"GMED": "a"}}),
            r"snapshot\['onsets'\]\['delays_ms'\]\['GMED'\] must be a number, got 'a'",
        ),
        (lambda s: s.update(verdict={"tests": [{}]}), r"snapshot\['verdict'\]\['tests'\]\[0\]"),
        (lambda s: s.update(messages="hello"), r"snapshot\['messages'\] must be a list"),
    ],
)
def test_check_snapshot_names_the_problem(change: Any, message: str) -> None:
    snap = example_snapshot()
    change(snap)
    with pytest.raises(ValidationError, match=message):
        check_snapshot(snap)


def test_check_snapshot_accepts_nulls_where_nan_would_stand() -> None:
    snap = example_snapshot()
    snap["channels"][0]["level"] = None
    snap["ratios"][0].update(current=None, previous=None)
    snap.update(
        onsets=None,
        paths={"bids": "/tmp/x", "report": None, "pdf": None},
        verdict={
            "tests": [
                {
                    "tested": "GMED",
                    "partner": "ADL",
                    "verdict": "inconclusive",
                    "reason": "too few trials",
                    "pre": {"ratio": None, "ci": [None, None]},
                    "post": {"ratio": 0.8, "ci": [0.7, 0.9]},
                    "change": None,
                    "change_ci": [None, None],
                }
            ]
        },
    )
    check_snapshot(snap)
