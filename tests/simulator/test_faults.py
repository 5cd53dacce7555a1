"""Every fault kind, seen from a real client; real-time faults use short client timeouts."""

from __future__ import annotations

import json
import time

import httpx
import openai
import pytest

from llmswitch._errors import MalformedReply
from llmswitch._wire import CallContext, StreamEvent, wire_for
from llmswitch._wire.base import StreamDecoder
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


def _raw_lines(sim: SimulatorHandle, provider: str, *, usage: bool = True) -> list[str]:
    """Every body line of a streamed chat completion (raises what httpx raises)."""
    body: dict[str, object] = {"model": MODELS[provider], "messages": HELLO, "stream": True}
    if usage:
        body["stream_options"] = {"include_usage": True}
    lines: list[str] = []
    with httpx.stream(
        "POST",
        sim.provider_base_url(provider) + "/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {KEYS[provider]}"},
        timeout=2.0,
    ) as r:
        lines.extend(r.iter_lines())
    return lines


def _without_ids(lines: list[str]) -> list[object]:
    """The data of SSE lines with the per-request ids dropped, to compare two requests."""
    out: list[object] = []
    for line in lines:
        if line.startswith("data: {"):
            chunk = json.loads(line[6:])
            chunk.pop("id", None)
            chunk.get("x_groq", {}).pop("id", None)
            out.append(chunk)
        elif line.startswith("data: "):
            out.append(line[6:])
    return out


def _decode(wire: str, lines: list[str]) -> tuple[list[StreamEvent], StreamDecoder]:
    decoder = wire_for(wire).stream_decoder(CallContext("sim", "m", "main"))
    events = [e for line in lines for e in decoder.feed(line)]
    return events + decoder.close(), decoder


@pytest.mark.parametrize("provider", ["groq", "openai", "together"])
def test_no_done_keeps_the_finish_and_usage_chunks(sim: SimulatorHandle, provider: str) -> None:
    healthy = [line for line in _raw_lines(sim, provider) if line.startswith("data: ")]
    sim.set_fault(provider, "no_done")
    lines = [line for line in _raw_lines(sim, provider) if line.startswith("data: ")]
    assert healthy[-1] == "data: [DONE]"
    assert _without_ids(lines) == _without_ids(healthy[:-1])  # only [DONE] is missing
    last = json.loads(lines[-1][6:])  # the usage chunk (Together: usage on the finish chunk)
    assert last["usage"]["completion_tokens"] == 16
    assert any(c["finish_reason"] for line in lines for c in json.loads(line[6:])["choices"])


def test_no_done_stream_is_sound_to_the_decoder(sim: SimulatorHandle) -> None:
    full = sdk(sim, "openai").chat.completions.create(model=MODELS["openai"], messages=HELLO)
    sim.set_fault("openai", "no_done")
    events, _ = _decode("openai", _raw_lines(sim, "openai"))
    assert "".join(e.text for e in events) == full.choices[0].message.content
    assert [e.usage for e in events if e.usage][-1].completion_tokens == 16
    assert events[-1].done


def test_malformed_sse_is_one_bad_event_then_the_whole_stream(sim: SimulatorHandle) -> None:
    healthy = _raw_lines(sim, "openai")
    sim.set_fault("openai", {"kind": "malformed_sse", "after_chunks": 2})
    lines = _raw_lines(sim, "openai")
    data = [line[6:] for line in lines if line.startswith("data: ")]
    bad = [d for d in data if d != "[DONE]" and not _is_json(d)]
    assert len(bad) == 1 and data.index(bad[0]) == 2
    assert _without_ids(["data: " + d for d in data if d not in bad]) == _without_ids(healthy)
    events, decoder = _decode("openai", lines)
    healthy_events, _ = _decode("openai", healthy)
    assert "".join(e.text for e in events) == "".join(e.text for e in healthy_events)
    assert decoder.skipped_events == 1 and decoder.first_bad_event is not None
    assert events[-1].done and events[-1] == healthy_events[-1]


def test_gemini_native_malformed_sse_and_no_finish_cut(sim: SimulatorHandle) -> None:
    url = f"/v1beta/models/{MODELS['gemini']}:streamGenerateContent?alt=sse"
    healthy = native(sim).post(url, json=gemini_body()).text.splitlines()
    sim.set_fault("gemini", {"kind": "malformed_sse", "after_chunks": 1})
    lines = native(sim).post(url, json=gemini_body()).text.splitlines()
    events, decoder = _decode("gemini", lines)
    healthy_events, _ = _decode("gemini", healthy)
    assert "".join(e.text for e in events) == "".join(e.text for e in healthy_events)
    assert decoder.skipped_events == 1 and events[-1].done
    assert events[-1].usage == healthy_events[-1].usage


def test_cut_stream_is_malformed_to_the_decoder(sim: SimulatorHandle) -> None:
    sim.set_fault("groq", {"kind": "cut_stream", "after_chunks": 2})
    lines: list[str] = []
    with (
        pytest.raises(httpx.RemoteProtocolError),
        httpx.stream(
            "POST",
            sim.provider_base_url("groq") + "/chat/completions",
            json={"model": GROQ, "messages": HELLO, "stream": True},
            headers={"Authorization": f"Bearer {KEYS['groq']}"},
        ) as r,
    ):
        lines.extend(r.iter_lines())
    with pytest.raises(MalformedReply, match="terminator"):
        _decode("openai", lines)


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
