"""The hot path: ``POST /v1/chat/completions`` answered before Starlette's and FastAPI's stack.

What a user must not notice: the same request id, the same auth, the same errors, their own
middleware still applied, OpenTelemetry still tracing. What they should notice is the speed
(``bench/gateway_inprocess.py``); here we check the request really skips the stack.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import openai
import pytest
from opentelemetry.trace import NoOpTracerProvider
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from llmswitch.server import shapes
from llmswitch.server.app import create_app
from llmswitch.server.raw_asgi import JsonReply, header, read_body
from llmswitch.server.run import BackgroundServer
from tests.conftest import ManagerFactory
from tests.server.conftest import Gateway, GatewayFactory

CHAT = {"model": "auto", "messages": [{"role": "user", "content": "hi"}]}


class StackSpy:
    """Wraps the framework's middleware stack and counts the requests that enter it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.paths: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.paths.append(scope["path"])
        await self.app(scope, receive, send)


def spy_on(gw: Gateway) -> StackSpy:
    spy = StackSpy(gw.app.middleware_stack)  # built at start-up (the lifespan goes through it)
    gw.app.middleware_stack = spy
    return spy


def test_chat_completions_skip_the_framework_stack_and_other_paths_do_not(
    gateway: Gateway,
) -> None:
    spy = spy_on(gateway)
    reply = httpx.post(gateway.v1 + "/chat/completions", json=CHAT)
    assert reply.status_code == 200
    assert reply.json()["choices"][0]["message"]["content"]
    assert httpx.get(gateway.v1 + "/models").status_code == 200
    assert httpx.get(gateway.v1 + "/chat/completions").status_code == 405  # the route still
    assert spy.paths == ["/v1/models", "/v1/chat/completions"]


def test_the_fast_path_keeps_request_ids_auth_and_the_sdk(make_gateway: GatewayFactory) -> None:
    gw = make_gateway(api_key="gw-fast-path-key")
    spy = spy_on(gw)
    url = gw.v1 + "/chat/completions"
    refused = httpx.post(url, json=CHAT, headers={"x-request-id": "trace-42"})
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "invalid_api_key"
    assert refused.headers["x-request-id"] == "trace-42"
    ok = httpx.post(url, json=CHAT, headers={"authorization": "bearer gw-fast-path-key"})
    assert ok.status_code == 200
    assert ok.headers["x-request-id"].startswith("req_")
    assert ok.headers["content-type"] == "application/json"
    assert int(ok.headers["content-length"]) == len(ok.content)
    assert ok.headers["x-llmswitch-provider"] == "groq"
    with openai.OpenAI(base_url=gw.v1, api_key="gw-fast-path-key", max_retries=0) as sdk:
        raw = sdk.chat.completions.with_raw_response.create(
            model="auto", messages=[{"role": "user", "content": "hi"}]
        )
        assert raw.parse().choices[0].message.content
        assert raw.headers["x-ratelimit-limit-requests"]
    assert spy.paths == []


def test_a_bad_body_is_the_same_openai_400(gateway: Gateway) -> None:
    reply = httpx.post(
        gateway.v1 + "/chat/completions",
        content=b'{"model": "auto", "messages": []}',
        headers={"content-type": "application/json"},
    )
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert "messages" in error["message"]


def test_a_bug_after_the_call_is_an_openai_500_with_no_details(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(shapes, "completion_body", broken)  # a bug cannot come over a socket
    with caplog.at_level(logging.ERROR, logger="llmswitch.server"):
        reply = httpx.post(gateway.v1 + "/chat/completions", json=CHAT)
    assert reply.status_code == 500
    assert reply.json()["error"]["code"] == "internal_error"
    assert "secret internals" not in reply.text
    assert reply.headers["x-request-id"]
    assert "secret internals" in caplog.text  # the operator's log has the traceback


def test_middleware_the_user_adds_applies_to_chat_completions(
    make_manager: ManagerFactory,
) -> None:
    app = create_app(make_manager(), api_key="", owns_manager=True)
    app.add_middleware(CORSMiddleware, allow_origins=["https://app.example"])
    server = BackgroundServer(app).start()
    try:
        reply = httpx.post(
            server.base_url + "/v1/chat/completions",
            json=CHAT,
            headers={"origin": "https://app.example"},
        )
    finally:
        server.stop()
    assert reply.status_code == 200
    assert reply.headers["access-control-allow-origin"] == "https://app.example"
    assert reply.headers["x-request-id"]


def test_with_opentelemetry_on_chat_completions_take_the_traced_stack(gateway: Gateway) -> None:
    spy = spy_on(gateway)
    # create_app passes no telemetry config; a provider in FastAPI's own config switches its
    # native instrumentation on for this app alone (a global one would outlive the test).
    gateway.app._telemetry["tracer_provider"] = NoOpTracerProvider()
    assert httpx.post(gateway.v1 + "/chat/completions", json=CHAT).status_code == 200
    assert spy.paths == ["/v1/chat/completions"]


# -- the raw pieces ---------------------------------------------------------------------------


def _receiver(*messages: dict[str, Any]) -> Receive:
    queue = list(messages)

    async def receive() -> dict[str, Any]:
        return queue.pop(0)

    return receive


@pytest.mark.parametrize(
    ("messages", "body"),
    [
        ([{"type": "http.request", "body": b"{}", "more_body": False}], b"{}"),
        (
            [
                {"type": "http.request", "body": b'{"a"', "more_body": True},
                {"type": "http.request", "body": b"", "more_body": True},
                {"type": "http.request", "body": b":1}", "more_body": False},
            ],
            b'{"a":1}',
        ),
        ([{"type": "http.request"}], b""),
        (
            [
                {"type": "http.request", "body": b"{", "more_body": True},
                {"type": "http.disconnect"},
            ],
            None,
        ),
    ],
)
def test_read_body(messages: list[dict[str, Any]], body: bytes | None) -> None:
    assert asyncio.run(read_body(_receiver(*messages))) == body


def test_header_is_the_first_value_and_none_when_absent() -> None:
    scope = {"headers": [(b"x-a", b"1"), (b"x-a", b"2"), (b"x-b", b"3")]}
    assert header(scope, b"x-a") == b"1"
    assert header(scope, b"x-c") is None


def test_json_reply_sends_starlettes_bytes() -> None:
    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(message)

    reply = JsonReply(429, b'{"e":1}', {"Retry-After": "3", "x-llmswitch-model": "m"})
    asyncio.run(reply({}, _receiver(), send))
    assert sent == [
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", b"7"),
                (b"retry-after", b"3"),
                (b"x-llmswitch-model", b"m"),
            ],
        },
        {"type": "http.response.body", "body": b'{"e":1}'},
    ]
