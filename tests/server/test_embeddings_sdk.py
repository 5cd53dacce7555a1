"""``POST /v1/embeddings`` through the official SDK (sync, async, float and base64) against the
gateway over the simulator: OpenAI's shape with ``usage.cost`` and the ``x-llmswitch-*`` headers,
a failover in the middle that stays within one embedding model, the ledger counting the call,
and OpenAI-shaped 400s naming the bad field or listing the embedding models."""

from __future__ import annotations

import base64
import struct
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests.server.conftest import Gateway


@pytest.fixture()
def sdk(gateway: Gateway) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=gateway.v1, api_key="unused", max_retries=0) as c:
        yield c


def test_embeddings_create_answers_openais_shape_with_cost(
    gateway: Gateway, sdk: openai.OpenAI
) -> None:
    raw = sdk.embeddings.with_raw_response.create(
        model="text-embedding-3-large", input=["first text", "second text"]
    )
    reply = raw.parse()  # the SDK asked for base64 (its default) and decoded it
    assert [d.index for d in reply.data] == [0, 1]
    assert all(len(d.embedding) == 3072 for d in reply.data)
    assert reply.data[0].embedding != reply.data[1].embedding
    assert reply.model == "openai/text-embedding-3-large"
    tokens = gateway.sim.requests("openai")[0]["prompt_tokens"]
    assert reply.usage.prompt_tokens == reply.usage.total_tokens == tokens
    cost = tokens * 0.13 / 1e6
    assert raw.http_response.json()["usage"]["cost"] == pytest.approx(cost)
    assert float(raw.headers["x-llmswitch-cost-usd"]) == pytest.approx(cost)
    assert raw.headers["x-llmswitch-provider"] == "openai"
    assert raw.headers["x-llmswitch-model"] == "text-embedding-3-large"
    assert raw.headers["x-llmswitch-attempts"] == "openai:ok"
    assert raw.headers["x-request-id"]
    # the serving key's room left, as on chat replies: OpenAI's 60 a minute, this call counted
    assert raw.headers["x-ratelimit-limit-requests"] == "60"
    assert raw.headers["x-ratelimit-remaining-requests"] == "59"


def test_float_and_base64_carry_the_same_vector(gateway: Gateway, sdk: openai.OpenAI) -> None:
    floats = sdk.embeddings.create(
        model="gemini-embedding-001", input="same text", encoding_format="float", dimensions=8
    )
    assert len(floats.data[0].embedding) == 8
    raw = httpx.post(
        gateway.v1 + "/embeddings",
        json={"model": "gemini-embedding-001", "input": "same text", "encoding_format": "base64",
              "dimensions": 8},
    )  # fmt: skip
    packed = base64.b64decode(raw.json()["data"][0]["embedding"])
    decoded = struct.unpack("<8f", packed)
    assert decoded == pytest.approx(floats.data[0].embedding, abs=1e-6)
    assert raw.json()["model"] == "gemini/gemini-embedding-001"


def test_a_failover_in_the_middle_stays_within_the_model(
    gateway: Gateway, sdk: openai.OpenAI
) -> None:
    gateway.sim.set_fault("openrouter", {"kind": "status", "status": 502, "count": 1})
    raw = sdk.embeddings.with_raw_response.create(model="text-embedding-3-small", input="hello")
    assert raw.headers["x-llmswitch-attempts"] == "openrouter:server_error,openai:ok"
    assert raw.headers["x-llmswitch-reason"].startswith("openrouter: server_error")
    assert len(raw.parse().data[0].embedding) == 1536
    for other in ("groq", "gemini", "together"):
        assert gateway.sim.requests(other) == []
    usage = gateway.manager.get_usage()["providers"]
    assert usage["openai"]["succeeded"] == 1 and usage["openrouter"]["failed"] == 1
    api = httpx.get(gateway.base_url + "/api/usage").json()
    assert api["providers"]["openai"]["requests"] == 1


async def test_async_sdk_with_token_arrays(gateway: Gateway) -> None:
    async with openai.AsyncOpenAI(base_url=gateway.v1, api_key="unused", max_retries=0) as c:
        reply = await c.embeddings.create(
            model="text-embedding-3-small", input=[[1, 2, 3], [4, 5]], encoding_format="float"
        )
        assert len(reply.data) == 2 and len(reply.data[1].embedding) == 1536
        auto = await c.embeddings.create(model="auto", input="no model named")
        assert auto.model == "gemini/gemini-embedding-001"


def _error(r: httpx.Response, param: str | None, code: str | None = None) -> dict[str, Any]:
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param
    if code is not None:
        assert error["code"] == code
    return dict(error)


@pytest.mark.parametrize(
    ("body", "param", "says"),
    [
        ({"model": "text-embedding-3-small"}, "input", "'input' is required"),
        ({"model": "text-embedding-3-small", "input": []}, "input", "an empty list"),
        ({"model": "text-embedding-3-small", "input": [{"a": 1}]}, "input", "mixed or unsupported"),
        ({"model": "text-embedding-3-small", "input": "x", "encoding_format": "int8"},
         "encoding_format", "'float' or 'base64'"),
        ({"model": "text-embedding-3-small", "input": "x", "dimensions": 0}, "dimensions", ">= 1"),
        ({"model": 3, "input": "x"}, "model", "must be a string"),
        ({"model": "text-embedding-3-small", "input": "x", "user": 5}, "user", "string"),
    ],
)  # fmt: skip
def test_bad_fields_are_400s_naming_the_field(
    gateway: Gateway, body: dict[str, Any], param: str, says: str
) -> None:
    error = _error(httpx.post(gateway.v1 + "/embeddings", json=body), param)
    assert says in error["message"]
    assert all(gateway.sim.requests(p) == [] for p in ("openai", "openrouter"))


def test_a_chat_model_is_a_400_listing_the_embedding_models(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        sdk.embeddings.create(model="gpt-4o-mini", input="x")
    assert info.value.code == "model_not_found" and info.value.param == "model"
    assert "chat model" in info.value.message
    assert "embedding models: gemini-embedding-001" in info.value.message
    with pytest.raises(openai.BadRequestError, match="text-embedding-3-large"):
        sdk.embeddings.create(model="no-such-embedder", input="x")


def test_dimensions_on_a_model_that_cannot_shorten_is_a_400(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        sdk.embeddings.create(model="text-embedding-ada-002", input="x", dimensions=64)
    assert "'dimensions' needs shorter vectors" in info.value.message
    assert "openai/text-embedding-3-small" in info.value.message


def test_chat_completions_refuse_an_embedding_model(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="POST /v1/embeddings"):
        sdk.chat.completions.create(
            model="text-embedding-3-small", messages=[{"role": "user", "content": "hi"}]
        )


def test_an_outage_of_the_only_target_is_a_502_with_the_attempts(
    gateway: Gateway, sdk: openai.OpenAI
) -> None:
    gateway.sim.set_fault("together", {"kind": "status", "status": 500, "count": 3})
    with pytest.raises(openai.APIStatusError) as info:
        sdk.embeddings.create(model="intfloat/multilingual-e5-large-instruct", input="x")
    assert info.value.status_code == 502
    assert info.value.response.headers["x-llmswitch-attempts"] == "together:server_error"


def test_models_lists_the_embedding_models_too(sdk: openai.OpenAI) -> None:
    ids = [m.id for m in sdk.models.list()]
    assert "text-embedding-3-small" in ids and "openai/text-embedding-3-large" in ids
    assert sdk.models.retrieve("gemini-embedding-001").owned_by == "gemini"
