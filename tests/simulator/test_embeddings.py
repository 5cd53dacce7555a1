"""Embeddings in each provider's shape, through the official SDK (which asks for base64)."""

from __future__ import annotations

import math

import httpx
import openai
import pytest

from llmswitch.simulator.embeddings import vector
from llmswitch.testing import SimulatorHandle

from .conftest import KEYS, native, sdk

MODEL = {
    "openai": ("text-embedding-3-small", 1536),
    "openrouter": ("openai/text-embedding-3-small", 1536),
    "together": ("intfloat/multilingual-e5-large-instruct", 1024),
    "gemini": ("gemini-embedding-001", 3072),
}


@pytest.mark.parametrize("provider", sorted(MODEL))
def test_sdk_embeds_with_the_models_dimension(sim: SimulatorHandle, provider: str) -> None:
    model, dims = MODEL[provider]
    reply = sdk(sim, provider).embeddings.create(model=model, input=["hello world", "bye"])
    assert [d.index for d in reply.data] == [0, 1]
    first = reply.data[0].embedding
    assert len(first) == dims
    assert math.isclose(sum(v * v for v in first), 1.0, rel_tol=1e-4)
    assert first == pytest.approx(vector(model, "hello world", dims), abs=1e-6)  # via base64
    assert reply.data[1].embedding != first
    assert sim.requests(provider)[-1]["status"] == 200


def test_usage_per_provider(sim: SimulatorHandle) -> None:
    body = {"input": "twelve chars", "encoding_format": "float"}
    urls = {p: sim.provider_base_url(p) + "/embeddings" for p in MODEL}

    def post(p: str) -> dict[str, object]:
        headers = {"authorization": f"Bearer {KEYS[p]}"}
        return httpx.post(urls[p], json=body | {"model": MODEL[p][0]}, headers=headers).json()

    assert post("openai")["usage"] == {"prompt_tokens": 3, "total_tokens": 3}
    assert "usage" not in post("together")  # documented without usage
    routed = post("openrouter")
    assert routed["usage"]["cost"] > 0 and str(routed["id"]).startswith("embd-")


def test_dimensions_shorten_3_series_and_400_on_ada(sim: SimulatorHandle) -> None:
    client = sdk(sim, "openai")
    short = client.embeddings.create(model="text-embedding-3-large", input="x", dimensions=256)
    assert len(short.data[0].embedding) == 256
    with pytest.raises(openai.BadRequestError, match="does not support specifying dimensions"):
        client.embeddings.create(model="text-embedding-ada-002", input="x", dimensions=256)


def test_openai_input_limits(sim: SimulatorHandle) -> None:
    with pytest.raises(openai.BadRequestError, match="maximum context length is 8192"):
        sdk(sim, "openai").embeddings.create(model="text-embedding-3-small", input="x" * 40_000)


def test_groq_serves_no_embedding_model(sim: SimulatorHandle) -> None:
    with pytest.raises(openai.NotFoundError, match="does not exist"):
        sdk(sim, "groq").embeddings.create(model="nomic-embed-text-v1_5", input="x")


def test_a_chat_model_is_not_an_embedding_model(sim: SimulatorHandle) -> None:
    with pytest.raises(openai.NotFoundError):
        sdk(sim, "openai").embeddings.create(model="gpt-4o-mini", input="x")


def test_gemini_native_embed_and_batch(sim: SimulatorHandle) -> None:
    client = native(sim)
    one = client.post(
        "/v1beta/models/gemini-embedding-001:embedContent",
        json={"content": {"parts": [{"text": "hi"}]}, "outputDimensionality": 768},
    ).json()
    assert len(one["embedding"]["values"]) == 768
    item = {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "hi"}]}}
    batch = client.post(
        "/v1beta/models/gemini-embedding-001:batchEmbedContents", json={"requests": [item] * 3}
    ).json()
    assert [len(e["values"]) for e in batch["embeddings"]] == [3072] * 3
    assert "usageMetadata" not in batch
    too_many = client.post(
        "/v1beta/models/gemini-embedding-001:batchEmbedContents", json={"requests": [item] * 101}
    )
    assert too_many.status_code == 400
    assert "at most 100 requests" in too_many.json()["error"]["message"]
