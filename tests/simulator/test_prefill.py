"""Assistant prefill: a trailing assistant message is continued, or refused with a 400."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest

from llmswitch.simulator import SimConfigError, Simulator
from llmswitch.testing import SimulatorHandle

from .conftest import HELLO, KEYS, MODELS, native, sdk

OPENAI_COMPAT = ["groq", "openai", "together", "openrouter", "gemini"]
REFUSAL = "assistant message prefill is not supported for this model"
GEN = f"/v1beta/models/{MODELS['gemini']}:generateContent"


def prefilled(text: str) -> list[dict[str, Any]]:
    return [*HELLO, {"role": "assistant", "content": text}]


def post(sim: SimulatorHandle, provider: str, messages: list[dict[str, Any]]) -> httpx.Response:
    return httpx.post(
        sim.provider_base_url(provider) + "/chat/completions",
        json={"model": MODELS[provider], "messages": messages},
        headers={"Authorization": f"Bearer {KEYS[provider]}"},
    )


def native_contents(*turns: tuple[str, str]) -> dict[str, Any]:
    return {"contents": [{"role": role, "parts": [{"text": text}]} for role, text in turns]}


@pytest.mark.parametrize("provider", OPENAI_COMPAT)
def test_reply_continues_the_prefill_to_the_usual_length(
    sim: SimulatorHandle, provider: str
) -> None:
    client = sdk(sim, provider)
    whole = client.chat.completions.create(model=MODELS[provider], messages=HELLO)
    full = whole.choices[0].message.content or ""
    prefill = " ".join(full.split()[:3])
    rest = client.chat.completions.create(model=MODELS[provider], messages=prefilled(prefill))
    text = rest.choices[0].message.content or ""
    # the continuation starts with the space a real tokenizer would put there
    assert prefill + text == full and text.startswith(" ")
    assert whole.usage is not None and rest.usage is not None
    assert rest.usage.completion_tokens == whole.usage.completion_tokens - 3
    assert rest.choices[0].finish_reason == whole.choices[0].finish_reason  # not "length"


def test_streamed_continuation_joins_to_the_same_text(sim: SimulatorHandle) -> None:
    client = sdk(sim, "groq")
    full = client.chat.completions.create(model=MODELS["groq"], messages=HELLO)
    expected = " " + " ".join((full.choices[0].message.content or "").split()[2:])
    stream = client.chat.completions.create(
        model=MODELS["groq"], messages=prefilled("Simulated reply"), stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == expected


def test_continuation_is_capped_by_max_tokens(sim: SimulatorHandle) -> None:
    reply = sdk(sim, "openai").chat.completions.create(
        model=MODELS["openai"], messages=prefilled("Simulated reply from"), max_tokens=2
    )
    assert reply.choices[0].message.content == f" openai/{MODELS['openai']} to:"
    assert reply.choices[0].finish_reason == "length"


def test_assistant_turn_that_calls_tools_is_not_a_prefill(sim: SimulatorHandle) -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    turn = {"role": "assistant", "content": "Simulated reply from", "tool_calls": [call]}
    text = post(sim, "openai", [*HELLO, turn]).json()["choices"][0]["message"]["content"]
    assert text.startswith("Simulated reply from")


def test_gemini_native_model_turn_is_the_prefill(sim: SimulatorHandle) -> None:
    client = native(sim)
    full = client.post(GEN, json=native_contents(("user", "Hello"))).json()
    full_text = full["candidates"][0]["content"]["parts"][0]["text"]
    body = native_contents(("user", "Hello"), ("model", "Simulated reply"))
    rest = client.post(GEN, json=body).json()
    text = rest["candidates"][0]["content"]["parts"][0]["text"]
    assert f"Simulated reply{text}" == full_text
    assert rest["usageMetadata"]["candidatesTokenCount"] == 14


@pytest.mark.parametrize("provider", ["groq", "openai", "together"])
def test_reject_prefill_fault_answers_openai_shape(sim: SimulatorHandle, provider: str) -> None:
    sim.set_fault(provider, "reject_prefill")
    r = post(sim, provider, prefilled("Sure,"))
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["message"] == REFUSAL and error["type"] == "invalid_request_error"
    assert error["param"] == "messages" and error["code"] == "prefill_not_supported"
    assert sim.stats()["providers"][provider]["outcomes"] == {"prefill_rejected": 1}


def test_reject_prefill_is_a_bad_request_to_the_sdk(sim: SimulatorHandle) -> None:
    sim.set_fault("openai", "reject_prefill")
    with pytest.raises(openai.BadRequestError, match="prefill is not supported"):
        sdk(sim, "openai").chat.completions.create(
            model=MODELS["openai"], messages=prefilled("Sure,")
        )


def test_reject_prefill_on_openrouter_uses_its_envelope(sim: SimulatorHandle) -> None:
    sim.set_fault("openrouter", "reject_prefill")
    r = post(sim, "openrouter", prefilled("Sure,"))
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == 400 and error["message"] == REFUSAL
    assert json.loads(error["metadata"]["raw"])["error"]["code"] == "prefill_not_supported"


def test_reject_prefill_on_gemini_is_invalid_argument(sim: SimulatorHandle) -> None:
    sim.set_fault("gemini", "reject_prefill")
    body = native_contents(("user", "Hello"), ("model", "Sure,"))
    r = native(sim).post(GEN, json=body)
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT" and REFUSAL in error["message"]
    compat = post(sim, "gemini", prefilled("Sure,"))  # the compatible endpoint: in an array
    assert compat.status_code == 400 and compat.json()[0]["error"]["status"] == "INVALID_ARGUMENT"


def test_reject_prefill_leaves_other_requests_alone_and_its_count_unspent(
    sim: SimulatorHandle,
) -> None:
    sim.set_fault("groq", {"kind": "reject_prefill", "count": 1})
    assert post(sim, "groq", HELLO).status_code == 200
    assert post(sim, "groq", prefilled("Sure,")).status_code == 400
    assert post(sim, "groq", prefilled("Sure,")).status_code == 200


def test_reject_prefill_for_one_model_only(sim: SimulatorHandle) -> None:
    sim.set_fault("groq", "reject_prefill", model="openai/gpt-oss-20b")
    assert post(sim, "groq", prefilled("Sure,")).status_code == 200  # MODELS["groq"]: 120b
    r = httpx.post(
        sim.provider_base_url("groq") + "/chat/completions",
        json={"model": "openai/gpt-oss-20b", "messages": prefilled("Sure,")},
        headers={"Authorization": f"Bearer {KEYS['groq']}"},
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "prefill_not_supported"


def test_model_configured_without_prefill_refuses_it(sim_with: Any) -> None:
    model = MODELS["groq"]
    sim = sim_with({"providers": {"groq": {"models": {model: {"prefill": False}}}}})
    r = post(sim, "groq", prefilled("Sure,"))
    assert r.status_code == 400 and r.json()["error"]["code"] == "prefill_not_supported"
    assert post(sim, "groq", HELLO).status_code == 200
    stats = sim.stats()["providers"]["groq"]
    assert stats["outcomes"] == {"prefill_rejected": 1, "ok": 1}
    assert stats["completion_tokens"] == 16  # the refusal was not served


def test_prefill_flag_must_be_a_boolean() -> None:
    with pytest.raises(SimConfigError, match="prefill"):
        Simulator(config={"providers": {"groq": {"models": {"m": {"prefill": "no"}}}}})
