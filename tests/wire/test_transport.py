"""Transports over real loopback HTTP against the server in ``conftest.py``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from llmswitch import _errors as errors
from llmswitch._transport import HttpxTransport
from llmswitch._transport_aiohttp import AiohttpTransport
from llmswitch._wire import CallContext, HttpRequest

from .conftest import LocalServer

CTX = CallContext(provider="local", model="m", key_alias="main")
CANARY = "sk-CANARY0123456789abcdef"


def req(url: str, *, stream: bool = False) -> HttpRequest:
    return HttpRequest(
        method="POST",
        url=url,
        headers={"authorization": f"Bearer {CANARY}", "content-type": "application/json"},
        json={"model": "m", "messages": [{"role": "user", "content": "héllo"}]},
        stream=stream,
    )


@pytest.fixture
def sync_transport() -> Iterator[HttpxTransport]:
    transport = HttpxTransport(timeout=2.0, connect_timeout=1.0)
    yield transport
    transport.close()


@pytest.fixture
async def async_transport() -> AsyncIterator[AiohttpTransport]:
    transport = AiohttpTransport(timeout=2.0, connect_timeout=1.0)
    yield transport
    await transport.aclose()


def assert_no_key(err: errors.ProviderError) -> None:
    assert CANARY not in str(err)
    assert CANARY not in repr(err)


# --- sync ---------------------------------------------------------------------------------------


def test_sync_send_round_trip(sync_transport: HttpxTransport, server: LocalServer) -> None:
    raw = sync_transport.send(req(server.url + "/json"), CTX)
    assert raw.status == 200
    assert raw.headers["x-ratelimit-limit"] == "7"
    echoed = json.loads(raw.body)
    assert echoed["headers"]["authorization"] == f"Bearer {CANARY}"
    assert json.loads(echoed["body"])["messages"][0]["content"] == "héllo"


def test_sync_error_status_is_a_reply(sync_transport: HttpxTransport, server: LocalServer) -> None:
    raw = sync_transport.send(req(server.url + "/status/429"), CTX)
    assert (raw.status, raw.body) == (429, b'{"error":{"message":"nope"}}')


def test_sync_timeout(sync_transport: HttpxTransport, server: LocalServer) -> None:
    with pytest.raises(errors.Timeout) as info:
        sync_transport.send(req(server.url + "/slow"), CTX, timeout=0.2)
    assert isinstance(info.value.__cause__, httpx.TimeoutException)
    assert (info.value.provider, info.value.key_alias) == ("local", "main")
    assert_no_key(info.value)


def test_sync_refused(sync_transport: HttpxTransport, refused_url: str) -> None:
    with pytest.raises(errors.ConnectionFailed) as info:
        sync_transport.send(req(refused_url + "/json"), CTX)
    assert_no_key(info.value)


def test_sync_reset(sync_transport: HttpxTransport, server: LocalServer) -> None:
    with pytest.raises(errors.ConnectionFailed):
        sync_transport.send(req(server.url + "/reset"), CTX)


def test_sync_stream_is_incremental(sync_transport: HttpxTransport, server: LocalServer) -> None:
    lines: list[str] = []
    with sync_transport.stream(
        req(server.url + "/stream", stream=True), CTX, stall_timeout=2.0
    ) as resp:
        assert resp.status == 200
        assert resp.headers["content-type"] == "text/event-stream"
        for line in resp.iter_lines():
            lines.append(line)
            if line == 'data: {"n": 1}':
                server.state.gate.set()  # the server sends the rest only after we saw this
    assert server.state.gate_opened_in_time is True
    assert lines == ['data: {"n": 1}', "", 'data: {"n": 2}', "", "data: [DONE]", ""]


def test_sync_stall(sync_transport: HttpxTransport, server: LocalServer) -> None:
    with (
        pytest.raises(errors.Timeout, match="stalled"),
        sync_transport.stream(req(server.url + "/stall"), CTX, stall_timeout=0.2) as resp,
    ):
        for _ in resp.iter_lines():
            pass


def test_sync_stream_cut(sync_transport: HttpxTransport, server: LocalServer) -> None:
    with (
        pytest.raises(errors.MalformedReply, match="cut"),
        sync_transport.stream(req(server.url + "/cut"), CTX, stall_timeout=2.0) as resp,
    ):
        for _ in resp.iter_lines():
            pass


def test_sync_stream_error_body(sync_transport: HttpxTransport, server: LocalServer) -> None:
    with sync_transport.stream(req(server.url + "/status/503"), CTX) as resp:
        assert resp.status == 503
        assert resp.read() == b'{"error":{"message":"nope"}}'


def test_injected_client_is_not_closed(server: LocalServer) -> None:
    with httpx.Client() as client:
        transport = HttpxTransport(client=client)
        transport.close()
        assert transport.send(req(server.url + "/json"), CTX).status == 200


# --- async --------------------------------------------------------------------------------------


async def test_async_send_round_trip(
    async_transport: AiohttpTransport, server: LocalServer
) -> None:
    raw = await async_transport.send(req(server.url + "/json"), CTX)
    assert raw.status == 200
    assert raw.headers["x-ratelimit-limit"] == "7"
    assert json.loads(json.loads(raw.body)["body"])["model"] == "m"
    raw = await async_transport.send(req(server.url + "/status/402"), CTX)  # pooled connection
    assert raw.status == 402


async def test_async_timeout(async_transport: AiohttpTransport, server: LocalServer) -> None:
    with pytest.raises(errors.Timeout) as info:
        await async_transport.send(req(server.url + "/slow"), CTX, timeout=0.2)
    assert_no_key(info.value)


async def test_async_refused(async_transport: AiohttpTransport, refused_url: str) -> None:
    with pytest.raises(errors.ConnectionFailed) as info:
        await async_transport.send(req(refused_url + "/json"), CTX)
    assert_no_key(info.value)


async def test_async_reset(async_transport: AiohttpTransport, server: LocalServer) -> None:
    with pytest.raises(errors.ConnectionFailed):
        await async_transport.send(req(server.url + "/reset"), CTX)


async def test_async_stream_is_incremental(
    async_transport: AiohttpTransport, server: LocalServer
) -> None:
    lines: list[str] = []
    async with async_transport.stream(req(server.url + "/stream"), CTX, stall_timeout=2.0) as resp:
        assert resp.status == 200
        async for line in resp.aiter_lines():
            lines.append(line)
            if line == 'data: {"n": 1}':
                server.state.gate.set()
    assert server.state.gate_opened_in_time is True
    assert lines == ['data: {"n": 1}', "", 'data: {"n": 2}', "", "data: [DONE]", ""]


async def test_async_stall(async_transport: AiohttpTransport, server: LocalServer) -> None:
    with pytest.raises(errors.Timeout, match="stalled"):
        async with async_transport.stream(
            req(server.url + "/stall"), CTX, stall_timeout=0.2
        ) as resp:
            async for _ in resp.aiter_lines():
                pass


async def test_async_stream_cut(async_transport: AiohttpTransport, server: LocalServer) -> None:
    with pytest.raises(errors.MalformedReply, match="cut"):
        async with async_transport.stream(req(server.url + "/cut"), CTX) as resp:
            async for _ in resp.aiter_lines():
                pass


async def test_async_stream_error_body(
    async_transport: AiohttpTransport, server: LocalServer
) -> None:
    async with async_transport.stream(req(server.url + "/status/500"), CTX) as resp:
        assert resp.status == 500
        assert await resp.read() == b'{"error":{"message":"nope"}}'
