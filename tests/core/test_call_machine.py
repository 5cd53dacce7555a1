"""The call machine end to end through the simulator: retries, breaker, model circuits,
first-token limit, stream continuation, local faults. Sync and async drive the same machine."""

from __future__ import annotations

import asyncio
import errno
import os
from typing import Any

import httpx
import pytest

from llmswitch._clock import FakeClock
from llmswitch._errors import AllProvidersFailed, LocalFault, MalformedReply, ProviderError
from llmswitch._quota import model_scope, provider_scope
from llmswitch._transport import HttpxTransport
from llmswitch._types import StreamChunk
from tests.conftest import ManagerFactory

HELLO = [{"role": "user", "content": "tell me a story"}]
GROQ_MODELS = {"groq": {"models": ["openai/gpt-oss-120b", "openai/gpt-oss-20b"]}}


def drain(chunks: Any) -> tuple[str, list[StreamChunk]]:
    got = list(chunks)
    return "".join(c.text for c in got), got


async def adrain(chunks: Any) -> tuple[str, list[StreamChunk]]:
    got = [c async for c in chunks]
    return "".join(c.text for c in got), got


# -- retries -----------------------------------------------------------------------------------


def test_a_transient_500_is_retried_on_the_same_provider_when_asked(
    make_manager: ManagerFactory, sim: Any, clock: FakeClock
) -> None:
    llm = make_manager(extra="retries = 1")
    sim.set_fault("groq", {"kind": "status", "status": 500, "count": 1})
    result = llm.chat(HELLO)
    assert result.provider == "groq"
    assert [a.outcome for a in result.attempts] == ["server_error", "ok"]
    assert len(clock.sleeps) == 1 and 0.25 <= clock.sleeps[0] <= 0.5  # jittered backoff
    assert llm.get_provider_status()["providers"]["groq"]["circuit"] == "closed"


def test_without_retries_a_500_fails_over_at_once_as_the_seed_does(
    make_manager: ManagerFactory, sim: Any, clock: FakeClock
) -> None:
    llm = make_manager()
    sim.set_fault("groq", {"kind": "status", "status": 500, "count": 1})
    result = llm.chat(HELLO)
    assert result.provider == "gemini" and clock.sleeps == []


def test_a_timeout_is_not_retried_unless_asked(
    make_manager: ManagerFactory, sim: Any, clock: FakeClock
) -> None:
    llm = make_manager(extra="retries = 2\ntimeout_seconds = 0.3")
    sim.set_fault("groq", {"kind": "hang", "count": 1})
    result = llm.chat(HELLO)
    assert result.provider == "gemini"
    assert [a.outcome for a in result.attempts] == ["timeout", "ok"]


# -- circuits per model, breaker timing ----------------------------------------------------------


def test_one_failing_model_leaves_its_neighbour_on_the_same_provider_in_service(
    make_manager: ManagerFactory, sim: Any
) -> None:
    llm = make_manager(providers=GROQ_MODELS)
    sim.set_fault("groq", {"kind": "status", "status": 503}, model="openai/gpt-oss-120b")
    assert llm.chat(HELLO, model="openai/gpt-oss-120b").provider == "together"
    served = llm.chat(HELLO, model="openai/gpt-oss-20b")
    assert served.provider == "groq" and served.model == "openai/gpt-oss-20b"
    assert llm.store.get_health(model_scope("groq", "openai/gpt-oss-120b")) is not None
    provider = llm.store.get_health(provider_scope("groq"))
    assert provider is None or provider.consecutive_failures == 0


def test_a_provider_failing_for_a_minute_is_back_soon_after_with_probe_after_seconds(
    make_manager: ManagerFactory, sim: Any, clock: FakeClock
) -> None:
    llm = make_manager(extra="probe_after_seconds = 10")
    sim.set_fault("groq", {"kind": "status", "status": 503, "for_seconds": 60})
    assert llm.chat(HELLO).provider == "gemini"  # opens for 10 s
    probes = []
    for _ in range(8):
        clock.advance(11)
        before = len(sim.requests("groq"))
        result = llm.chat(HELLO)
        if len(sim.requests("groq")) > before:
            probes.append((round(clock() - clock.DEFAULT_START), result.provider))
    # probes at doubling intervals (10, 20, 40 s ...) until the first good one closes the circuit
    assert probes[-1][1] == "groq"
    assert [p for p, _ in probes][:2] == [11, 33]
    assert llm.chat(HELLO).provider == "groq"


def test_a_failed_probe_gives_its_slot_back_at_once(
    make_manager: ManagerFactory, sim: Any, clock: FakeClock
) -> None:
    llm = make_manager(extra="probe_after_seconds = 10")
    sim.set_fault("groq", {"kind": "status", "status": 503})
    llm.chat(HELLO)
    clock.advance(11)
    llm.chat(HELLO)  # the probe fails: open for 20 s more
    sim.clear_faults("groq")
    clock.advance(21)  # well before the old lease (timeout + 5 = 35 s) would have expired
    assert llm.chat(HELLO).provider == "groq"


def test_failures_to_trip_keeps_the_circuit_closed_below_the_count(
    make_manager: ManagerFactory, sim: Any
) -> None:
    llm = make_manager(extra="failures_to_trip = 3")
    sim.set_fault("groq", {"kind": "status", "status": 503, "count": 2})
    assert llm.chat(HELLO).provider == "gemini"
    assert llm.chat(HELLO).provider == "gemini"
    assert llm.chat(HELLO).provider == "groq"  # two failures did not open the circuit


# -- local faults ------------------------------------------------------------------------------


def test_every_provider_refusing_connections_at_once_cools_nothing_down(
    make_manager: ManagerFactory, sim: Any, tmp_path: Any
) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    llm = make_manager(
        providers={
            "groq": {"base_url": dead},
            "gemini": {"enabled": False},
            "openrouter": {"base_url": dead},
            "together": {"enabled": False},
            "openai": {"enabled": False},
        }
    )
    with pytest.raises(AllProvidersFailed, match="this machine"):
        llm.chat(HELLO)
    for name in ("groq", "openrouter"):
        record = llm.store.get_health(provider_scope(name))
        assert record is None or record.open_until == 0


# -- streams -----------------------------------------------------------------------------------


def test_no_first_token_in_time_fails_over_before_anything_reaches_the_caller(
    make_manager: ManagerFactory, sim: Any
) -> None:
    llm = make_manager(extra="first_token_seconds = 0.3")
    sim.set_fault("groq", {"kind": "slow_first_token", "seconds": 3})
    text, chunks = drain(llm.stream(HELLO, max_tokens=30))
    final = chunks[-1].result
    assert final is not None and final.provider == "gemini"
    assert {c.provider for c in chunks} == {"gemini"} and text == final.text
    assert final.attempts[0].outcome == "timeout"
    assert "first token" in final.attempts[0].message


def test_no_first_token_in_time_async(make_manager: ManagerFactory, sim: Any) -> None:
    llm = make_manager(extra="first_token_seconds = 0.3")
    sim.set_fault("groq", {"kind": "slow_first_token", "seconds": 3})

    async def run() -> tuple[str, list[StreamChunk]]:
        try:
            return await adrain(llm.astream(HELLO, max_tokens=30))
        finally:
            await llm.aclose()

    _, chunks = asyncio.run(run())
    final = chunks[-1].result
    assert final is not None and final.provider == "gemini"
    assert "first token" in final.attempts[0].message


def test_a_stream_opened_exposes_its_attempts(make_manager: ManagerFactory, sim: Any) -> None:
    llm = make_manager()
    sim.set_fault("groq", {"kind": "status", "status": 503})
    stream = llm.stream(HELLO, max_tokens=30)
    first = next(stream)
    assert first.provider == "gemini"
    assert [a.outcome for a in stream.attempts] == ["server_error"]
    stream.close()


def test_streams_wait_for_a_recovery_within_max_wait(
    make_manager: ManagerFactory, sim: Any, clock: FakeClock
) -> None:
    only_groq = {n: {"enabled": False} for n in ("gemini", "openrouter", "together", "openai")}
    llm = make_manager(extra="max_wait_seconds = 120", providers=only_groq)
    sim.set_fault("groq", {"kind": "rate_limit", "retry_after": 30, "count": 1})
    text, chunks = drain(llm.stream(HELLO, max_tokens=30))
    assert chunks[-1].result is not None and chunks[-1].result.provider == "groq" and text
    assert clock.sleeps and clock.sleeps[0] == pytest.approx(30, abs=1)


def test_a_cut_stream_without_continuation_ends_with_the_cut(
    make_manager: ManagerFactory, sim: Any, caplog: pytest.LogCaptureFixture
) -> None:
    llm = make_manager()
    sim.set_fault("groq", {"kind": "cut_stream", "after_chunks": 2})
    got: list[StreamChunk] = []
    with pytest.raises(ProviderError) as info:
        for chunk in llm.stream(HELLO, max_tokens=60):
            got.append(chunk)
    assert got and {c.provider for c in got} == {"groq"}
    assert info.value.attempts[-1].provider == "groq"
    assert len(sim.requests("gemini")) == 0  # nothing else was asked
    assert "failover from" not in caplog.text  # none happened
    assert "call failed on groq" in caplog.text


@pytest.mark.parametrize("how", ["setting", "request"])
def test_a_cut_stream_continues_on_a_model_that_accepts_a_prefill(
    make_manager: ManagerFactory, sim: Any, how: str
) -> None:
    llm = make_manager(extra="stream_continuation = true" if how == "setting" else "")
    sim.set_fault("groq", {"kind": "cut_stream", "after_chunks": 2})
    options = {"continuation": True} if how == "request" else {}
    text, chunks = drain(llm.stream(HELLO, max_tokens=60, **options))
    final = chunks[-1].result
    assert final is not None and final.text == text
    outcomes = [(a.provider, a.outcome) for a in final.attempts]
    # Gemini's default model takes no prefill: skipped; OpenRouter's free Llama continues.
    assert outcomes[0][0] == "groq" and outcomes[0][1] in ("malformed_reply", "connection")
    assert ("gemini", "cannot_continue") in outcomes
    assert outcomes[-1] == ("openrouter", "ok") and final.attempts[-1].continued
    assert final.provider == "openrouter"
    cut_part = "".join(c.text for c in chunks if c.provider == "groq")
    assert cut_part and text.startswith(cut_part) and len(text) > len(cut_part)
    assert "  " not in text and text[len(cut_part)] == " "  # the parts join as one text
    sent = sim.requests("openrouter")[-1]
    assert sent["prompt_tokens"] > sim.requests("groq")[-1]["prompt_tokens"]  # prefill sent
    assert final.usage.completion_tokens >= final.attempts[-1].usage.completion_tokens
    assert final.cost_usd == pytest.approx(sum(a.cost_usd for a in final.attempts))


def test_no_model_can_continue_then_the_caller_gets_the_original_cut(
    make_manager: ManagerFactory, sim: Any
) -> None:
    llm = make_manager(extra="stream_continuation = true")
    sim.set_fault("groq", {"kind": "cut_stream", "after_chunks": 2})
    sim.set_fault("openrouter", {"kind": "reject_prefill"})
    with pytest.raises(ProviderError) as info:
        drain(llm.stream(HELLO, max_tokens=60))
    err = info.value
    assert err.provider == "groq" and "continue" in err.message
    assert not isinstance(err, type(None))
    outcomes = [(a.provider, a.outcome) for a in err.attempts]
    assert ("openrouter", "bad_request") in outcomes
    assert (llm.core.no_prefill) == {("openrouter", "meta-llama/llama-3.3-70b-instruct:free")}
    assert isinstance(err, (MalformedReply, ProviderError))


class _FdExhaustion(httpx.BaseTransport):
    """Connects like the real transport, except while ``exhausted``: then every connect fails
    with EMFILE, as httpcore reports it when the process has no file descriptor left (the
    socket layer cannot be made to fail on cue, so this is the one transport double here)."""

    def __init__(self) -> None:
        self.exhausted = True
        self._real = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.exhausted:
            cause = OSError(errno.EMFILE, os.strerror(errno.EMFILE))
            raise httpx.ConnectError(str(cause)) from cause
        return self._real.handle_request(request)

    def close(self) -> None:
        self._real.close()


def test_out_of_file_descriptors_is_our_fault_and_calls_resume_when_it_is_gone(
    make_manager: ManagerFactory, sim: Any
) -> None:
    double = _FdExhaustion()
    with httpx.Client(transport=double) as client:
        llm = make_manager(transport=HttpxTransport(client=client))
        with pytest.raises(LocalFault) as info:
            llm.chat(HELLO)
        assert "EMFILE" in info.value.cause
        assert [a.outcome for a in info.value.attempts] == ["local_fault"]  # ours: nothing sent
        status = llm.get_provider_status()["providers"]
        assert all(status[p]["circuit"] == "closed" for p in status)
        double.exhausted = False
        assert llm.chat(HELLO).provider == "groq"


def test_a_cut_stream_continues_async(make_manager: ManagerFactory, sim: Any) -> None:
    llm = make_manager()
    sim.set_fault("groq", {"kind": "cut_stream", "after_chunks": 2})

    async def run() -> tuple[str, list[StreamChunk]]:
        try:
            return await adrain(llm.astream(HELLO, max_tokens=60, continuation=True))
        finally:
            await llm.aclose()

    text, chunks = asyncio.run(run())
    final = chunks[-1].result
    assert final is not None and final.provider == "openrouter" and final.text == text
    assert final.attempts[-1].continued
