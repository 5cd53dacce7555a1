"""The official ``openai`` SDK against every OpenAI-compatible flavour: parse, stream, errors."""

from __future__ import annotations

import openai
import pytest

from llmswitch.simulator import count_prompt_tokens
from llmswitch.testing import SimulatorHandle

from .conftest import HELLO, MODELS, sdk

COMPAT = ["groq", "openrouter", "together", "openai", "gemini"]


@pytest.mark.parametrize("provider", COMPAT)
def test_sdk_parses_a_reply_with_predictable_usage(sim: SimulatorHandle, provider: str) -> None:
    reply = sdk(sim, provider).chat.completions.create(model=MODELS[provider], messages=HELLO)
    assert reply.usage is not None
    assert reply.usage.prompt_tokens == count_prompt_tokens(HELLO)
    assert reply.usage.completion_tokens == 16
    text = reply.choices[0].message.content or ""
    assert text.startswith(f"Simulated reply from {provider}/{MODELS[provider]} to: Hello there,")
    assert len(text.split()) == 16


@pytest.mark.parametrize("provider", COMPAT)
def test_reply_is_capped_by_max_tokens(sim: SimulatorHandle, provider: str) -> None:
    reply = sdk(sim, provider).chat.completions.create(
        model=MODELS[provider], messages=HELLO, max_tokens=5
    )
    assert reply.usage is not None and reply.usage.completion_tokens == 5
    assert reply.choices[0].finish_reason == "length"


@pytest.mark.parametrize("provider", COMPAT)
def test_sdk_reads_streams_and_usage(sim: SimulatorHandle, provider: str) -> None:
    stream = sdk(sim, provider).chat.completions.create(
        model=MODELS[provider],
        messages=HELLO,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert len(text.split()) == 16
    usage = [c.usage for c in chunks if c.usage is not None]
    assert len(usage) == 1 and usage[0].completion_tokens == 16
    assert usage[0].prompt_tokens == count_prompt_tokens(HELLO)


@pytest.mark.parametrize(
    "provider", ["groq", "openrouter", "openai", "gemini"]
)  # Together: bare array
def test_models_lists_the_catalog(sim: SimulatorHandle, provider: str) -> None:
    ids = {m.id.removeprefix("models/") for m in sdk(sim, provider).models.list()}
    assert MODELS[provider] in ids


@pytest.mark.parametrize("provider", ["groq", "openrouter", "together", "openai"])
@pytest.mark.parametrize("key", ["sk-invalid-key", ""])
def test_bad_or_missing_key_is_an_authentication_error(
    sim: SimulatorHandle, provider: str, key: str
) -> None:
    client = sdk(sim, provider, key=key or "placeholder")
    headers = {"Authorization": ""} if not key else None
    with pytest.raises(openai.AuthenticationError) as info:
        client.chat.completions.create(
            model=MODELS[provider], messages=HELLO, extra_headers=headers
        )
    assert info.value.status_code == 401
    assert "invalid-key" not in str(info.value.body)  # never echo a key


def test_gemini_compat_bad_key_is_googles_400(sim: SimulatorHandle) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        sdk(sim, "gemini", key="invalid").chat.completions.create(
            model=MODELS["gemini"], messages=HELLO
        )
    body = info.value.body
    assert isinstance(body, list)
    assert body[0]["error"]["details"][0]["reason"] == "API_KEY_INVALID"


@pytest.mark.parametrize("provider", ["groq", "openrouter", "together", "openai", "gemini"])
def test_unknown_model_is_not_found(sim: SimulatorHandle, provider: str) -> None:
    with pytest.raises(openai.NotFoundError):
        sdk(sim, provider).chat.completions.create(model="no-such-model", messages=HELLO)


@pytest.mark.parametrize("provider", COMPAT)
@pytest.mark.parametrize(
    "messages",
    [
        [],
        [{"role": "robot", "content": "hi"}],
        [{"role": "user"}],
        [{"content": "hi"}],
        [{"role": "user", "content": 5}],
    ],
)
def test_malformed_messages_are_bad_requests(
    sim: SimulatorHandle, provider: str, messages: list[dict[str, object]]
) -> None:
    with pytest.raises(openai.BadRequestError):
        sdk(sim, provider).chat.completions.create(
            model=MODELS[provider],
            messages=messages,  # type: ignore[arg-type]
        )


@pytest.mark.parametrize("provider", COMPAT)
def test_prompt_over_the_context_window(sim: SimulatorHandle, provider: str) -> None:
    huge = [{"role": "user", "content": "x" * (4 * 1_048_576 + 8)}]
    with pytest.raises(openai.BadRequestError) as info:
        sdk(sim, provider).chat.completions.create(model=MODELS[provider], messages=huge)  # type: ignore[arg-type]
    text = str(info.value.body)
    expected = {
        "groq": "reduce the length of the messages or completion",
        "openai": "maximum context length is 131072",
        "together": "must be <= 131072",
        "openrouter": "maximum context length is 131072",
        "gemini": "exceeds the maximum number of tokens allowed (1048576)",
    }
    assert expected[provider] in text


@pytest.mark.parametrize("provider", COMPAT)
def test_server_fault_raises_the_sdks_status_error(sim: SimulatorHandle, provider: str) -> None:
    sim.set_fault(provider, {"kind": "status", "status": 503})
    with pytest.raises(openai.APIStatusError) as info:
        sdk(sim, provider).chat.completions.create(model=MODELS[provider], messages=HELLO)
    assert info.value.status_code == 503


@pytest.mark.parametrize("provider", COMPAT)
def test_rate_limit_fault_raises_rate_limit_error(sim: SimulatorHandle, provider: str) -> None:
    sim.set_fault(provider, {"kind": "rate_limit", "retry_after": 7})
    with pytest.raises(openai.RateLimitError) as info:
        sdk(sim, provider).chat.completions.create(model=MODELS[provider], messages=HELLO)
    has_header = info.value.response.headers.get("retry-after")
    assert has_header == (None if provider == "gemini" else "7")


@pytest.mark.parametrize("provider", ["groq", "openrouter", "openai", "gemini"])
def test_rate_limit_fault_without_retry_after(sim: SimulatorHandle, provider: str) -> None:
    sim.set_fault(provider, "rate_limit")
    with pytest.raises(openai.RateLimitError) as info:
        sdk(sim, provider).chat.completions.create(model=MODELS[provider], messages=HELLO)
    assert "retry-after" not in info.value.response.headers
