"""Streaming: failover is free until the first content token; after it, errors are loud."""

from __future__ import annotations

from typing import Any

import pytest

from llmswitch import MalformedReply, ProviderError
from llmswitch._types import StreamChunk
from tests.conftest import ManagerFactory

HELLO = [{"role": "user", "content": "tell me a story"}]


def drain(chunks: Any) -> tuple[str, list[StreamChunk]]:
    got = list(chunks)
    return "".join(c.text for c in got), got


def test_a_stream_returns_text_usage_and_cost(make_manager: ManagerFactory, sim: Any) -> None:
    llm = make_manager()
    text, chunks = drain(llm.stream(HELLO, max_tokens=40))
    final = chunks[-1].result
    assert final is not None and final.provider == "groq"
    assert final.text == text and len(text) > 0
    served = sim.requests("groq")[-1]
    assert final.usage.completion_tokens == served["completion_tokens"]
    assert final.usage.prompt_tokens == served["prompt_tokens"]
    usage = llm.get_usage("today")["providers"]["groq"]
    assert usage["completion_tokens"] == served["completion_tokens"]


def test_gemini_native_stream_without_done_is_complete(
    make_manager: ManagerFactory, sim: Any
) -> None:
    llm = make_manager()
    text, chunks = drain(llm.stream(HELLO, provider_name="gemini", max_tokens=40))
    final = chunks[-1].result
    assert final is not None and final.provider == "gemini" and text
    assert final.usage.completion_tokens == sim.requests("gemini")[-1]["completion_tokens"]


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "status", "status": 503},
        {"kind": "reset"},
        {"kind": "rate_limit", "retry_after": 5},
    ],
)
def test_failover_before_the_first_token_is_invisible(
    make_manager: ManagerFactory, sim: Any, fault: dict[str, Any]
) -> None:
    llm = make_manager()
    sim.set_fault("groq", fault)
    text, chunks = drain(llm.stream(HELLO, max_tokens=40))
    assert {c.provider for c in chunks} == {"gemini"}
    final = chunks[-1].result
    assert final is not None and final.attempts[0].provider == "groq" and text


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"kind": "cut_stream", "after_chunks": 2}, MalformedReply),
        ({"kind": "error_in_200", "after_chunks": 2}, ProviderError),
    ],
)
def test_a_stream_broken_after_the_first_token_ends_with_an_error(
    make_manager: ManagerFactory, sim: Any, fault: dict[str, Any], error: type[Exception]
) -> None:
    llm = make_manager()
    sim.set_fault("groq", fault)
    received: list[StreamChunk] = []
    with pytest.raises(error) as info:
        for chunk in llm.stream(HELLO, max_tokens=40):
            received.append(chunk)
    assert received, "some content arrived before the break"
    assert all(c.result is None for c in received), "never presented as complete"
    assert isinstance(info.value, ProviderError)
    assert info.value.attempts[-1].usage.completion_tokens > 0, "partial usage is recorded"
    assert llm.get_usage("today")["providers"]["groq"]["completion_tokens"] > 0


def test_a_stream_that_finishes_without_done_is_a_success_with_its_usage(
    make_manager: ManagerFactory, sim: Any
) -> None:
    llm = make_manager()
    sim.set_fault("groq", {"kind": "no_done"})
    text, chunks = drain(llm.stream(HELLO, max_tokens=40))
    final = chunks[-1].result
    assert final is not None and final.provider == "groq" and final.text == text
    served = sim.requests("groq")[-1]
    assert final.usage.completion_tokens == served["completion_tokens"]
    assert llm.get_provider_status()["providers"]["groq"]["circuit"] == "closed"


def test_one_unparsable_event_is_skipped_and_recorded(
    make_manager: ManagerFactory, sim: Any
) -> None:
    llm = make_manager()
    sim.set_fault("groq", {"kind": "malformed_sse", "after_chunks": 2})
    text, chunks = drain(llm.stream(HELLO, max_tokens=40))
    final = chunks[-1].result
    assert final is not None and final.provider == "groq" and text
    assert final.attempts[-1].skipped_events == 1
    assert final.attempts[-1].first_bad_event is not None
    assert '"broken"' in final.attempts[-1].first_bad_event
    assert llm.get_provider_status()["providers"]["groq"]["circuit"] == "closed"


def test_a_stalled_stream_is_cut_with_a_timeout(make_manager: ManagerFactory, sim: Any) -> None:
    llm = make_manager(extra="stream_stall_seconds = 0.3")
    sim.set_fault("groq", {"kind": "stall", "after_chunks": 3})
    with pytest.raises(ProviderError) as info:
        drain(llm.stream(HELLO, max_tokens=40))
    assert info.value.kind.value == "timeout"


async def test_async_stream_fails_over_and_completes(
    make_manager: ManagerFactory, sim: Any
) -> None:
    llm = make_manager()
    sim.set_fault("groq", {"kind": "status", "status": 502})
    chunks = [c async for c in llm.astream(HELLO, max_tokens=40)]
    final = chunks[-1].result
    assert final is not None and final.provider == "gemini"
    await llm.aclose()
