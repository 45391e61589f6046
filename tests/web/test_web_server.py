"""The dashboard served by uvicorn: loopback only, real WebSockets, logs, shutdown."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from nkt_motion.errors import ValidationError
from nkt_motion.web import Dashboard, check_snapshot, serve_dashboard


def ws_url(dashboard: Dashboard, token: str | None = None) -> str:
    return f"ws://127.0.0.1:{dashboard.port}/ws?token={token or dashboard.token}"


async def next_of(ws: Any, kind: str) -> dict[str, Any]:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if message["type"] == kind:
            return message


def other_addresses() -> list[str]:
    """Addresses of this machine that are not 127.0.0.1 (127.0.0.2 always is one on Linux)."""
    found = {"127.0.0.2"}
    try:
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        probe.connect(("192.0.2.1", 9))  # no packet is sent; picks the outgoing interface
        found.add(probe.getsockname()[0])
        probe.close()
    except OSError:
        pass
    return sorted(found - {"127.0.0.1", "0.0.0.0"})


def test_listens_on_127_0_0_1_only(controller: Any) -> None:
    async def scenario() -> tuple[str, list[tuple[str, bool]]]:
        async with serve_dashboard(controller) as dashboard:
            tried = []
            for address in other_addresses():
                try:
                    _, writer = await asyncio.wait_for(
                        asyncio.open_connection(address, dashboard.port), 2
                    )
                except OSError:
                    tried.append((address, False))
                else:
                    writer.close()
                    tried.append((address, True))
            _, writer = await asyncio.open_connection("127.0.0.1", dashboard.port)
            writer.close()
            return dashboard.url, tried

    url, tried = asyncio.run(scenario())
    assert url.startswith("http://127.0.0.1:") and "/?token=" in url
    assert tried and not any(accepted for _, accepted in tried), tried


def test_streams_snapshots_at_the_rate_to_a_real_websocket(controller: Any) -> None:
    async def scenario() -> tuple[list[dict[str, Any]], float, int]:
        async with (
            serve_dashboard(controller, rate_hz=15.0) as dashboard,
            connect(ws_url(dashboard), proxy=None) as ws,
        ):
            assert (await next_of(ws, "hello"))["rate_hz"] == 15.0
            first = await next_of(ws, "snapshot")
            start = time.monotonic()
            frames = [first]
            while time.monotonic() - start < 1.0:
                frames.append(await next_of(ws, "snapshot"))
            return frames, time.monotonic() - start, dashboard.clients

    frames, seconds, clients = asyncio.run(scenario())
    rate = (len(frames) - 1) / seconds
    assert 8 <= rate <= 17, rate  # 15 Hz, with slack for a loaded machine
    assert clients == 1
    seqs = [f["seq"] for f in frames]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    check_snapshot({k: v for k, v in frames[-1].items() if k not in ("type", "server_time")})


def test_wrong_token_and_foreign_host_are_refused(controller: Any) -> None:
    async def scenario() -> dict[str, int]:
        codes: dict[str, int] = {}
        async with serve_dashboard(controller) as dashboard:
            for name, url in (
                ("ws wrong token", ws_url(dashboard, "w" * 24)),
                ("ws no token", f"ws://127.0.0.1:{dashboard.port}/ws"),
            ):
                try:
                    async with connect(url, proxy=None):
                        codes[name] = 101
                except InvalidStatus as refused:
                    codes[name] = refused.response.status_code
            base = f"http://127.0.0.1:{dashboard.port}"
            async with httpx.AsyncClient(base_url=base, trust_env=False) as http:
                for name, headers in (
                    ("page ok", {}),
                    ("page rebinding", {"host": f"attacker.example:{dashboard.port}"}),
                    ("page no port", {"host": "127.0.0.1"}),
                    ("page localhost", {"host": f"localhost:{dashboard.port}"}),
                ):
                    response = await http.get(
                        "/", params={"token": dashboard.token}, headers=headers
                    )
                    codes[name] = response.status_code
                codes["page wrong token"] = (await http.get("/?token=" + "w" * 24)).status_code
        return codes

    assert asyncio.run(scenario()) == {
        "ws wrong token": 403,
        "ws no token": 403,
        "page ok": 200,
        "page rebinding": 403,
        "page no port": 403,
        "page localhost": 200,
        "page wrong token": 403,
    }
    assert controller.seq == 0  # nothing was streamed to a refused client


def test_commands_over_a_real_websocket(controller: Any) -> None:
    async def scenario() -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
        async with (
            serve_dashboard(controller) as dashboard,
            connect(ws_url(dashboard), proxy=None) as ws,
        ):
            await ws.send(json.dumps({"type": "command", "name": "trial_toggle", "id": 7}))
            ack = await next_of(ws, "ack")
            await ws.send(json.dumps({"type": "command", "name": "trial_toggle"}))
            await next_of(ws, "ack")
            await ws.send(json.dumps({"type": "command", "name": "override"}))
            error = await next_of(ws, "error")
            events = (await next_of(ws, "snapshot"))["events"]
            return ack, error, events

    ack, error, events = asyncio.run(scenario())
    assert ack == {"type": "ack", "name": "trial_toggle", "id": 7, "message": ""}
    assert error["message"] == "override is not allowed in this step"
    assert len(events) == 1 and events[0]["label"] == "pre/test/GMED"


def test_oversized_message_closes_only_that_page(controller: Any) -> None:
    async def scenario() -> tuple[int | None, int]:
        async with (
            serve_dashboard(controller) as dashboard,
            connect(ws_url(dashboard), proxy=None) as good,
            connect(ws_url(dashboard), proxy=None) as bad,
        ):
            await bad.send("x" * 200_000)
            code = None
            try:
                while True:
                    await asyncio.wait_for(bad.recv(), 5)
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else None
            before = (await next_of(good, "snapshot"))["seq"]
            after = (await next_of(good, "snapshot"))["seq"]
            return code, after - before

    code, advanced = asyncio.run(scenario())
    assert code == 1009  # message too big
    assert advanced > 0


def test_shutdown_closes_open_pages_promptly(controller: Any) -> None:
    async def scenario() -> tuple[int | None, float]:
        async with serve_dashboard(controller) as dashboard:
            ws = await connect(ws_url(dashboard), proxy=None)
            await next_of(ws, "snapshot")
            start = time.monotonic()
        took = time.monotonic() - start
        try:
            while True:
                await asyncio.wait_for(ws.recv(), 5)
        except ConnectionClosed as closed:
            return (closed.rcvd.code if closed.rcvd else None), took

    code, took = asyncio.run(scenario())
    assert code == 1012  # service restart: the page reconnects when the server is back
    assert took < 3.0


def test_server_log_goes_to_the_library_logger_with_the_token_masked(
    controller: Any, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    async def scenario() -> str:
        async with serve_dashboard(controller) as dashboard:
            async with connect(ws_url(dashboard), proxy=None) as ws:
                await next_of(ws, "snapshot")
            async with httpx.AsyncClient(trust_env=False) as http:
                await http.get(dashboard.url)
            return dashboard.token

    uvicorn_logger = logging.getLogger("uvicorn.error")
    old_level = uvicorn_logger.level
    uvicorn_logger.setLevel(logging.DEBUG)
    try:
        with caplog.at_level(logging.DEBUG):
            token = asyncio.run(scenario())
    finally:
        uvicorn_logger.setLevel(old_level)
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    forwarded = [r for r in caplog.records if r.name == "nkt_motion.web.server"]
    assert any(
        "uvicorn:" in r.getMessage() and "/ws?token=***" in r.getMessage() for r in forwarded
    )
    ours = [r for r in caplog.records if r.name.startswith("nkt_motion")]  # not the test clients
    assert ours and not any(token in r.getMessage() for r in ours)
    assert not [r for r in caplog.records if r.name.startswith("uvicorn")]
    assert logging.getLogger("uvicorn").propagate  # restored after the dashboard closed


@pytest.mark.parametrize("port", [-1, 70000, 1.5, True, "8000"])
def test_bad_port_is_refused(controller: Any, port: Any) -> None:
    async def scenario() -> None:
        async with serve_dashboard(controller, port=port):
            pass

    with pytest.raises(ValidationError, match="port must be an int in 0-65535"):
        asyncio.run(scenario())


def test_port_in_use_is_a_clear_error(controller: Any) -> None:
    async def scenario() -> None:
        async with (
            serve_dashboard(controller) as first,
            serve_dashboard(controller, port=first.port),
        ):
            pass

    with pytest.raises(ValidationError, match=r"port \d+ on 127.0.0.1 cannot be used"):
        asyncio.run(scenario())


def test_dashboard_repr_hides_the_token(controller: Any) -> None:
    async def scenario() -> tuple[str, str]:
        async with serve_dashboard(controller, token="k" * 20) as dashboard:
            return repr(dashboard), dashboard.url

    text, url = asyncio.run(scenario())
    assert "k" * 20 not in text and text.startswith("<Dashboard http://127.0.0.1:")
    assert url.endswith("/?token=" + "k" * 20)
