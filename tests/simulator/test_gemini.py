"""Gemini's native API over plain httpx, and the compatible endpoint's quirks."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import openai
import pytest

from llmswitch.simulator import count_prompt_tokens
from llmswitch.testing import SimulatorHandle

from .conftest import KEYS, gemini_body, native, sdk

MODEL = "gemini-3.6-flash"
GEN = f"/v1beta/models/{MODEL}:generateContent"
STREAM = f"/v1beta/models/{MODEL}:streamGenerateContent?alt=sse"
LA = ZoneInfo("America/Los_Angeles")
PROMPT = count_prompt_tokens([{"role": "user", "content": "Hello there, simulator!"}])


def test_generate_content_shape_and_usage(sim: SimulatorHandle) -> None:
    r = native(sim).post(GEN, json=gemini_body())
    assert r.status_code == 200
    assert not [h for h in r.headers if h.startswith("x-ratelimit")]
    data = r.json()
    cand = data["candidates"][0]
    assert cand["finishReason"] == "STOP" and cand["content"]["role"] == "model"
    assert cand["content"]["parts"][0]["text"].startswith(f"Simulated reply from gemini/{MODEL}")
    usage = data["usageMetadata"]
    assert usage["promptTokenCount"] == PROMPT and usage["candidatesTokenCount"] == 16
    assert usage["totalTokenCount"] == PROMPT + 16 and data["modelVersion"] == MODEL


def test_system_instruction_counts_and_max_output_tokens_caps(sim: SimulatorHandle) -> None:
    body = gemini_body(maxOutputTokens=3)
    body["systemInstruction"] = {"parts": [{"text": "Be terse."}]}
    data = native(sim).post(GEN, json=body).json()
    assert data["candidates"][0]["finishReason"] == "MAX_TOKENS"
    assert data["usageMetadata"]["candidatesTokenCount"] == 3
    assert data["usageMetadata"]["promptTokenCount"] == PROMPT + 3 + 3  # ceil(9/4) + 3


def test_key_in_query_parameter_works(sim: SimulatorHandle) -> None:
    client = native(sim)
    client.headers.pop("x-goog-api-key")
    assert client.post(GEN, params={"key": KEYS["gemini"]}, json=gemini_body()).status_code == 200


def test_sse_stream_has_no_done_and_final_usage(sim: SimulatorHandle) -> None:
    r = native(sim).post(STREAM, json=gemini_body())
    assert r.headers["content-type"].startswith("text/event-stream")
    assert "[DONE]" not in r.text
    events = [json.loads(line[6:]) for line in r.text.splitlines() if line.startswith("data: ")]
    assert len(events) == 4
    text = "".join(p["text"] for e in events for p in e["candidates"][0]["content"]["parts"])
    assert len(text.split()) == 16
    assert "finishReason" not in events[0]["candidates"][0]
    assert events[-1]["candidates"][0]["finishReason"] == "STOP"
    assert events[-1]["usageMetadata"]["candidatesTokenCount"] == 16


def test_stream_without_alt_sse_is_a_json_array(sim: SimulatorHandle) -> None:
    r = native(sim).post(f"/v1beta/models/{MODEL}:streamGenerateContent", json=gemini_body())
    assert isinstance(r.json(), list) and len(r.json()) == 4


@pytest.mark.parametrize(
    ("key", "status", "google_status"),
    [("bad-invalid-key", 400, "INVALID_ARGUMENT"), (None, 403, "PERMISSION_DENIED")],
)
def test_key_errors(sim: SimulatorHandle, key: str | None, status: int, google_status: str) -> None:
    client = native(sim)
    client.headers.pop("x-goog-api-key")
    if key:
        client.headers["x-goog-api-key"] = key
    r = client.post(GEN, json=gemini_body())
    assert r.status_code == status
    err = r.json()["error"]
    assert err["status"] == google_status and err["code"] == status
    if key:
        assert err["message"] == "API key not valid. Please pass a valid API key."
        assert err["details"][0]["reason"] == "API_KEY_INVALID"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"contents": []},
        {"contents": [{"role": "user", "parts": []}]},
        {"contents": [{"role": "assistant", "parts": [{"text": "x"}]}]},
    ],
)
def test_malformed_contents_are_invalid_argument(
    sim: SimulatorHandle, body: dict[str, object]
) -> None:
    r = native(sim).post(GEN, json=body)
    assert r.status_code == 400 and r.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_bad_max_output_tokens(sim: SimulatorHandle) -> None:
    r = native(sim).post(GEN, json=gemini_body(maxOutputTokens="lots"))
    assert r.status_code == 400 and r.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_unknown_and_retired_models_are_not_found(sim: SimulatorHandle) -> None:
    for model in ("gemini-1.5-flash", "nope"):
        r = native(sim).post(f"/v1beta/models/{model}:generateContent", json=gemini_body())
        assert r.status_code == 404
        assert r.json()["error"]["message"].startswith(f"models/{model} is not found")


def test_model_listing(sim: SimulatorHandle) -> None:
    data = native(sim).get("/v1beta/models").json()
    names = {m["name"] for m in data["models"]}
    assert {
        "models/gemini-3.6-flash",
        "models/gemini-3.5-flash-lite",
        "models/gemini-2.5-pro",
    } <= names
    one = native(sim).get(f"/v1beta/models/{MODEL}").json()
    assert one["name"] == f"models/{MODEL}" and one["inputTokenLimit"] == 1_048_576


def _quota(r_json: dict[str, object]) -> tuple[str, str, str]:
    details = r_json["error"]["details"]  # type: ignore[index]
    by_type = {d["@type"].rsplit(".", 1)[-1]: d for d in details}
    violation = by_type["QuotaFailure"]["violations"][0]
    return violation["quotaId"], violation["quotaValue"], by_type["RetryInfo"]["retryDelay"]


def test_per_minute_429_says_per_minute(sim: SimulatorHandle) -> None:
    sim.set_limits("gemini", rpm=2)
    client = native(sim)
    client.post(GEN, json=gemini_body())
    sim.clock.advance(10)  # type: ignore[attr-defined]
    client.post(GEN, json=gemini_body())
    r = client.post(GEN, json=gemini_body())
    assert r.status_code == 429 and "retry-after" not in r.headers
    assert r.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert _quota(r.json()) == ("GenerateRequestsPerMinutePerProjectPerModel-FreeTier", "2", "50s")
    assert "Please retry in 50s." in r.json()["error"]["message"]


def _at_pacific(sim: SimulatorHandle, *parts: int) -> None:
    sim.clock.set(datetime(*parts, tzinfo=LA).timestamp())  # type: ignore[attr-defined]


@pytest.mark.parametrize("day", [(2026, 6, 10), (2026, 11, 1), (2027, 3, 14)])  # incl. DST days
def test_day_quota_resets_at_pacific_midnight(
    sim: SimulatorHandle, day: tuple[int, int, int]
) -> None:
    sim.set_limits("gemini", rpd=2)
    client = native(sim)
    _at_pacific(sim, *day, 0, 0, 30)
    assert client.post(GEN, json=gemini_body()).status_code == 200
    _at_pacific(sim, *day, 23, 0, 0)
    assert client.post(GEN, json=gemini_body()).status_code == 200
    _at_pacific(sim, *day, 23, 59, 0)
    r = client.post(GEN, json=gemini_body())
    assert r.status_code == 429
    quota_id, value, delay = _quota(r.json())
    assert quota_id == "GenerateRequestsPerDayPerProjectPerModel-FreeTier" and value == "2"
    assert 20 <= int(delay.rstrip("s")) <= 45  # short, misleading hint even for a day quota
    _at_pacific(sim, *day, 23, 59, 59)
    assert client.post(GEN, json=gemini_body()).status_code == 429
    next_day = datetime(*day, tzinfo=LA).toordinal() + 1
    d = datetime.fromordinal(next_day)
    _at_pacific(sim, d.year, d.month, d.day, 0, 0, 0)
    assert client.post(GEN, json=gemini_body()).status_code == 200


def test_quota_exhausted_fault_is_per_day(sim: SimulatorHandle) -> None:
    sim.set_fault("gemini", "quota_exhausted")
    r = native(sim).post(GEN, json=gemini_body())
    assert r.status_code == 429
    assert _quota(r.json())[0] == "GenerateRequestsPerDayPerProjectPerModel-FreeTier"


def test_rate_limit_fault_without_retry_is_the_bare_variant(sim: SimulatorHandle) -> None:
    sim.set_fault("gemini", "rate_limit")
    r = native(sim).post(GEN, json=gemini_body())
    assert r.json() == {
        "error": {
            "code": 429,
            "status": "RESOURCE_EXHAUSTED",
            "message": "Resource has been exhausted (e.g. check quota).",
        }
    }


def test_compat_429_is_an_array_and_models_have_prefix(sim: SimulatorHandle) -> None:
    client = sdk(sim, "gemini")
    ids = [m.id for m in client.models.list()]
    assert "models/gemini-3.6-flash" in ids
    reply = client.chat.completions.create(
        model="models/gemini-3.6-flash", messages=[{"role": "user", "content": "hi"}]
    )
    assert reply.model == MODEL
    sim.set_limits("gemini", rpm=1)
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    body = info.value.response.json()
    assert isinstance(body, list) and body[0]["error"]["status"] == "RESOURCE_EXHAUSTED"


def test_count_tokens(sim: SimulatorHandle) -> None:
    r = native(sim).post(f"/v1beta/models/{MODEL}:countTokens", json=gemini_body())
    assert r.json() == {"totalTokens": PROMPT}
