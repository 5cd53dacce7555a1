"""Every fault kind, seen from a real client; real-time faults use short client timeouts."""

from __future__ import annotations

import json
import time

import httpx
import openai
import pytest

from llmswitch.testing import SimulatorHandle

from .conftest import HELLO, KEYS, MODELS, gemini_body, native, sdk

GROQ = MODELS["groq"]


def _stream(sim: SimulatorHandle, provider: str = "groq", timeout: float = 2.0) -> list[str]:
    """The data lines of a streamed chat completion (raises what httpx raises)."""
    lines: list[str] = []
    with httpx.stream(
        "POST",
        sim.provider_base_url(provider) + "/chat/completions",
        json={"model": MODELS[provider], "messages": HELLO, "stream": True},
        headers={"Authorization": f"Bearer {KEYS[provider]}"},
        timeout=timeout,
    ) as r:
        for line in r.iter_lines():
            if line.startswith("data: "):
                lines.append(line[6:])
    return lines


@pytest.mark.parametrize("status", [500, 502, 503, 529])
def test_fixed_status(sim: SimulatorHandle, status: int) -> None:
    sim.set_fault("groq", str(status))
    with pytest.raises(openai.APIStatusError) as info:
        sdk(sim, "groq").chat.completions.create(model=GROQ, messages=HELLO)
    assert info.value.status_code == status
    assert sim.stats()["providers"]["groq"]["outcomes"] == {"server_error": 1}


def test_error_rate_is_deterministic_for_a_seed(sim: SimulatorHandle) -> None:
    def run() -> list[int]:
        sim.set_fault("openai", {"kind": "error_rate", "rate": 0.5, "status": 500, "seed": 3})
        client, out = sdk(sim, "openai"), []
        for _ in range(12):
            try:
                client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
                out.append(200)
            except openai.InternalServerError:
                out.append(500)
        return out

    first = run()
    assert first == run() and 200 in first and 500 in first


def test_per_model_fault_leaves_the_other_model_healthy(sim: SimulatorHandle) -> None:
    sim.set_fault("groq", {"kind": "status", "status": 503}, model="openai/gpt-oss-20b")
    client = sdk(sim, "groq")
    client.chat.completions.create(model=GROQ, messages=HELLO)
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="openai/gpt-oss-20b", messages=HELLO)


def test_schedule_503_for_60s_then_healthy(sim: SimulatorHandle) -> None:
    sim.set_fault("groq", {"kind": "status", "status": 503, "for_seconds": 60})
    client = sdk(sim, "groq")
    sim.clock.advance(59)  # type: ignore[attr-defined]
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model=GROQ, messages=HELLO)
    sim.clock.advance(1)  # type: ignore[attr-defined]
    client.chat.completions.create(model=GROQ, messages=HELLO)


def test_count_limits_a_fault_to_the_next_n_requests(sim: SimulatorHandle) -> None:
    sim.set_fault("groq", {"kind": "status", "status": 502, "count": 2})
    client = sdk(sim, "groq")
    for _ in range(2):
        with pytest.raises(openai.APIStatusError):
            client.chat.completions.create(model=GROQ, messages=HELLO)
    client.chat.completions.create(model=GROQ, messages=HELLO)


def test_faulted_requests_do_not_count_against_limits(sim: SimulatorHandle) -> None:
    sim.set_limits("groq", rpm=1)
    sim.set_fault("groq", {"kind": "status", "status": 503, "count": 3})
    client = sdk(sim, "groq")
    for _ in range(3):
        with pytest.raises(openai.InternalServerError):
            client.chat.completions.create(model=GROQ, messages=HELLO)
    client.chat.completions.create(model=GROQ, messages=HELLO)


def test_reset_before_headers(sim: SimulatorHandle) -> None:
    sim.set_fault("groq", "reset")
    with pytest.raises(openai.APIConnectionError):
        sdk(sim, "groq").chat.completions.create(model=GROQ, messages=HELLO)
    assert sim.requests("groq")[0]["outcome"] == "reset"


def test_hang_times_out_the_client(sim: SimulatorHandle) -> None:
    sim.set_fault("groq", "hang")
    start = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        sdk(sim, "groq", timeout=0.3).chat.completions.create(model=GROQ, messages=HELLO)
    assert time.monotonic() - start < 2
    assert sim.requests("groq")[0]["outcome"] == "hang"


def test_slow_first_token(sim: SimulatorHandle) -> None:
    sim.set_fault("groq", {"kind": "slow_first_token", "seconds": 0.4})
    with pytest.raises(openai.APITimeoutError):
        sdk(sim, "groq", timeout=0.2).chat.completions.create(model=GROQ, messages=HELLO)
    start = time.monotonic()
    sdk(sim, "groq", timeout=2).chat.completions.create(model=GROQ, messages=HELLO)
    assert time.monotonic() - start >= 0.35
    start = time.monotonic()
    with httpx.stream(
        "POST",
        sim.provider_base_url("groq") + "/chat/completions",
        json={"model": GROQ, "messages": HELLO, "stream": True},
        headers={"Authorization": f"Bearer {KEYS['groq']}"},
    ) as r:
        assert r.status_code == 200 and time.monotonic() - start < 0.3  # headers at once
        list(r.iter_lines())
    assert time.monotonic() - start >= 0.35


def test_cut_stream_drops_the_connection_mid_body(sim: SimulatorHandle) -> None:
    sim.set_fault("groq", {"kind": "cut_stream", "after_chunks": 2})
    seen: list[str] = []
    with (
        pytest.raises(httpx.RemoteProtocolError),
        httpx.stream(
            "POST",
            sim.provider_base_url("groq") + "/chat/completions",
            json={"model": GROQ, "messages": HELLO, "stream": True},
            headers={"Authorization": f"Bearer {KEYS['groq']}"},
        ) as r,
    ):
        seen.extend(line for line in r.iter_lines() if line.startswith("data: "))
    assert len(seen) <= 2 and "data: [DONE]" not in seen


def test_cut_stream_through_the_sdk(sim: SimulatorHandle) -> None:
    sim.set_fault("groq", {"kind": "cut_stream", "after_chunks": 1})
    stream = sdk(sim, "groq").chat.completions.create(model=GROQ, messages=HELLO, stream=True)
    with pytest.raises((openai.APIConnectionError, httpx.RemoteProtocolError)):
        list(stream)


def test_stall_after_n_chunks(sim: SimulatorHandle) -> None:
    sim.set_fault("groq", {"kind": "stall", "after_chunks": 2})
    seen: list[str] = []
    with (
        pytest.raises(httpx.ReadTimeout),
        httpx.stream(
            "POST",
            sim.provider_base_url("groq") + "/chat/completions",
            json={"model": GROQ, "messages": HELLO, "stream": True},
            headers={"Authorization": f"Bearer {KEYS['groq']}"},
            timeout=0.3,
        ) as r,
    ):
        seen.extend(line for line in r.iter_lines() if line.startswith("data: "))
    assert len(seen) == 2


def test_malformed_sse_event(sim: SimulatorHandle) -> None:
    sim.set_fault("openai", {"kind": "malformed_sse", "after_chunks": 1})
    lines = _stream(sim, "openai")
    bad = [line for line in lines if line != "[DONE]" and not _is_json(line)]
    assert len(bad) == 1 and lines[-1] == "[DONE]"
    sim.set_fault("openai", {"kind": "malformed_sse", "after_chunks": 1})
    stream = sdk(sim, "openai").chat.completions.create(
        model="gpt-4o-mini", messages=HELLO, stream=True
    )
    with pytest.raises(json.JSONDecodeError):
        list(stream)


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def test_no_done(sim: SimulatorHandle) -> None:
    sim.set_fault("groq", "no_done")
    lines = _stream(sim)
    assert "[DONE]" not in lines and json.loads(lines[-1])["choices"][0]["finish_reason"] == "stop"


def test_error_in_200(sim: SimulatorHandle) -> None:
    sim.set_fault("openai", "error_in_200")
    r = httpx.post(
        sim.provider_base_url("openai") + "/chat/completions",
        json={"model": "gpt-4o-mini", "messages": HELLO},
        headers={"Authorization": f"Bearer {KEYS['openai']}"},
    )
    assert r.status_code == 200 and "error" in r.json() and "choices" not in r.json()


@pytest.mark.parametrize("provider", ["groq", "openai", "together", "openrouter", "gemini"])
def test_context_length_and_content_filter_faults(sim: SimulatorHandle, provider: str) -> None:
    client = sdk(sim, provider)
    sim.set_fault(provider, "context_length")
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model=MODELS[provider], messages=HELLO)
    sim.set_fault(provider, "content_filter")
    with pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(model=MODELS[provider], messages=HELLO)
    assert info.value.status_code == (403 if provider == "openrouter" else 400)
    assert sim.stats()["providers"][provider]["outcomes"] == {
        "context_too_long": 1,
        "content_filter": 1,
    }


def test_gemini_native_stream_faults(sim: SimulatorHandle) -> None:
    url = f"/v1beta/models/{MODELS['gemini']}:streamGenerateContent?alt=sse"
    sim.set_fault("gemini", {"kind": "error_in_200", "after_chunks": 1})
    r = native(sim).post(url, json=gemini_body())
    assert r.status_code == 200 and '"status": "INTERNAL"' in r.text  # bare multi-line JSON
    sim.set_fault("gemini", "content_filter")
    r = native(sim).post(f"/v1beta/models/{MODELS['gemini']}:generateContent", json=gemini_body())
    assert r.status_code == 200 and r.json()["promptFeedback"]["blockReason"] == "SAFETY"
    sim.set_fault("gemini", {"kind": "stall", "after_chunks": 1})
    with pytest.raises(httpx.ReadTimeout):
        native(sim, timeout=0.3).post(url, json=gemini_body())
