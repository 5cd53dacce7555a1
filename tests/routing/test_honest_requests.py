"""What the upstream receives is what the caller sent: no temperature or max_tokens is added by
``chat``, ``stream`` or their async twins (the seed's 0.3 / 2000 stay ``call_llm``'s), and
``max_completion_tokens`` is kept under its own name. A recording OpenAI-compatible upstream,
added in ``llmswitch.toml`` as users add a local server, shows the exact bodies."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from llmswitch.server.run import BackgroundServer
from tests.glue.conftest import GlueFactory

HI = [{"role": "user", "content": "hi"}]
REPLY = {
    "id": "up-1",
    "object": "chat.completion",
    "created": 1,
    "model": "echo-1",
    "choices": [
        {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "ok"}}
    ],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
}


def _sse() -> Iterator[bytes]:
    chunk = {
        "id": "up-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "echo-1",
        "choices": [
            {"index": 0, "delta": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
        ],
    }
    yield b"data: " + json.dumps(chunk).encode() + b"\n\n"
    usage = {**chunk, "choices": [], "usage": REPLY["usage"]}
    yield b"data: " + json.dumps(usage).encode() + b"\n\n"
    yield b"data: [DONE]\n\n"


@pytest.fixture()
def upstream() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []

    async def completions(request: Request) -> Response:
        body = await request.json()
        seen.append(body)
        if body.get("stream"):
            return StreamingResponse(_sse(), media_type="text/event-stream")
        return Response(json.dumps(REPLY), media_type="application/json")

    app = Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])
    with BackgroundServer(app) as server:
        yield server.base_url + "/v1", seen


def echo_toml(base_url: str, extra: str = "") -> str:
    return (
        f'\n[providers.echo]\nbase_url = "{base_url}"\nmodels = ["echo-1"]\n'
        f'api_key = "echo-local-key-000"\ncontext_windows = {{ "echo-1" = 8192 }}\n{extra}'
    )


@pytest.fixture()
def echo(glue: GlueFactory, upstream: tuple[str, list[dict[str, Any]]]) -> tuple[Any, list[Any]]:
    base_url, seen = upstream
    return glue(keys={}, tail=echo_toml(base_url)), seen


SENT_AS_IS = ("temperature", "max_tokens", "max_completion_tokens", "n", "top_p")


def given(body: dict[str, Any]) -> dict[str, Any]:
    return {k: body[k] for k in SENT_AS_IS if k in body}


@pytest.mark.parametrize(
    ("params", "upstream_gets"),
    [
        ({}, {}),  # nothing added
        ({"max_completion_tokens": 2000}, {"max_completion_tokens": 2000}),  # not renamed
        ({"temperature": 0, "max_tokens": 5}, {"temperature": 0, "max_tokens": 5}),  # 0 is sent
        ({"top_p": 0.5, "n": 2}, {"top_p": 0.5, "n": 2}),
    ],
)
def test_chat_sends_only_what_the_caller_sent(
    echo: tuple[Any, list[Any]], params: dict[str, Any], upstream_gets: dict[str, Any]
) -> None:
    llm, seen = echo
    llm.chat(HI, **params)
    assert given(seen[-1]) == upstream_gets


def test_stream_and_the_async_twins_add_nothing_either(echo: tuple[Any, list[Any]]) -> None:
    llm, seen = echo
    assert "".join(c.text for c in llm.stream(HI)) == "ok"

    async def both() -> None:
        await llm.achat(HI)
        async for _ in llm.astream(HI):
            pass
        await llm.aclose()  # the aiohttp pool belongs to this loop

    asyncio.run(both())
    assert [given(body) for body in seen] == [{}, {}, {}]
    assert [body.get("stream", False) for body in seen] == [True, False, True]


def test_call_llm_alone_keeps_the_seeds_defaults(echo: tuple[Any, list[Any]]) -> None:
    llm, seen = echo
    assert llm.call_llm("Be terse.", "hi") == "ok"
    assert given(seen[-1]) == {"temperature": 0.3, "max_tokens": 2000}
    assert seen[-1]["messages"][0] == {"role": "system", "content": "Be terse."}


def test_a_bad_max_tokens_is_a_config_error_naming_it(echo: tuple[Any, list[Any]]) -> None:
    from llmswitch import ConfigError

    llm, seen = echo
    for bad in ("abc", 0, 2.5, True):
        with pytest.raises(ConfigError, match="max_tokens must be an integer >= 1"):
            llm.chat(HI, max_tokens=bad)
    assert seen == [], "refused before anything was sent"
