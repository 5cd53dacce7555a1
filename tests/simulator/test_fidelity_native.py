"""Gemini native fidelity: function calling, toolConfig, JSON schemas, stop, candidateCount, and
the functionResponse name rule."""

from __future__ import annotations

import json
from typing import Any

import pytest

from llmswitch.testing import SimulatorHandle

from .conftest import gemini_body, native

WEATHER = {
    "name": "get_weather",
    "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}},
}
TIME = {"name": "get_time", "parametersJsonSchema": {"type": "object", "properties": {}}}


def _gen(sim: SimulatorHandle, body: dict[str, Any], model: str = "gemini-3.6-flash") -> Any:
    return native(sim).post(f"/v1beta/models/{model}:generateContent", json=body)


def test_function_declarations_answer_with_a_function_call(sim: SimulatorHandle) -> None:
    body = gemini_body() | {"tools": [{"functionDeclarations": [WEATHER, TIME]}]}
    reply = _gen(sim, body).json()
    (part,) = reply["candidates"][0]["content"]["parts"]
    assert part == {
        "functionCall": {"name": "get_weather", "args": {"city": "lorem ipsum dolor sit amet"}}
    }
    assert reply["candidates"][0]["finishReason"] == "STOP"


@pytest.mark.parametrize(
    ("config", "called"),
    [
        ({"mode": "NONE"}, None),
        ({"mode": "ANY", "allowedFunctionNames": ["get_time"]}, "get_time"),
        ({"mode": "AUTO"}, "get_weather"),
    ],
)
def test_tool_config_modes(
    sim: SimulatorHandle, config: dict[str, Any], called: str | None
) -> None:
    body = gemini_body() | {
        "tools": [{"functionDeclarations": [WEATHER, TIME]}],
        "toolConfig": {"functionCallingConfig": config},
    }
    parts = _gen(sim, body).json()["candidates"][0]["content"]["parts"]
    names = [p["functionCall"]["name"] for p in parts if "functionCall" in p]
    assert names == ([called] if called else [])


def test_allowed_names_only_with_any_and_declared(sim: SimulatorHandle) -> None:
    tools = [{"functionDeclarations": [WEATHER]}]
    for config in (
        {"mode": "AUTO", "allowedFunctionNames": ["get_weather"]},
        {"mode": "ANY", "allowedFunctionNames": ["nope"]},
    ):
        body = gemini_body() | {"tools": tools, "toolConfig": {"functionCallingConfig": config}}
        r = _gen(sim, body)
        assert r.status_code == 400 and r.json()["error"]["status"] == "INVALID_ARGUMENT"


def _turns(response: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"role": "user", "parts": [{"text": "weather?"}]},
        {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {}}}]},
        {"role": "user", "parts": [{"functionResponse": response}]},
    ]


def test_a_function_response_needs_the_calls_name_and_an_object(sim: SimulatorHandle) -> None:
    tools = [{"functionDeclarations": [WEATHER]}]
    good = _gen(
        sim, {"contents": _turns({"name": "get_weather", "response": {"t": 21}}), "tools": tools}
    )
    text = good.json()["candidates"][0]["content"]["parts"][0]["text"]
    assert text.startswith("Simulated reply from gemini")  # the loop ends in text
    for bad in ({"name": "call_0", "response": {"t": 21}}, {"name": "get_weather", "response": 21}):
        r = _gen(sim, {"contents": _turns(bad), "tools": tools})
        assert r.status_code == 400, bad
        assert "function_response" in r.json()["error"]["message"]


def test_response_json_schema_and_both_schemas(sim: SimulatorHandle) -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    config = {"responseMimeType": "application/json", "responseJsonSchema": schema}
    text = _gen(sim, gemini_body(**config)).json()["candidates"][0]["content"]["parts"][0]["text"]
    assert json.loads(text) == {"n": 1}
    both = gemini_body(**config, responseSchema=schema)
    assert _gen(sim, both).status_code == 400
    plain = gemini_body(responseMimeType="application/json")
    part = _gen(sim, plain).json()["candidates"][0]["content"]["parts"][0]
    assert json.loads(part["text"])["reply"].startswith("Simulated")


def test_stop_sequences_cut_the_text(sim: SimulatorHandle) -> None:
    reply = _gen(sim, gemini_body(stopSequences=["from"])).json()
    assert reply["candidates"][0]["content"]["parts"][0]["text"] == "Simulated reply "
    assert reply["usageMetadata"]["candidatesTokenCount"] == 2


def test_candidate_count_by_model(sim: SimulatorHandle) -> None:
    refused = _gen(sim, gemini_body(candidateCount=2))
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == "Multiple candidates is not enabled for this model"
    reply = _gen(sim, gemini_body(candidateCount=3), model="gemini-2.5-pro").json()
    assert [c["index"] for c in reply["candidates"]] == [0, 1, 2]
    assert reply["usageMetadata"]["candidatesTokenCount"] == 48
    url = "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse"
    lines = native(sim).post(url, json=gemini_body(candidateCount=2)).text.splitlines()
    chunks = [json.loads(line[6:]) for line in lines if line.startswith("data: ")]
    finished = [c["candidates"][0]["index"] for c in chunks if "finishReason" in c["candidates"][0]]
    assert finished == [0, 1]
