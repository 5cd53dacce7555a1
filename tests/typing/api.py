"""The public surface under mypy strict: typed calls whose misuse would be a type error.

Never executed (pytest collects only ``test_*.py``, and nothing here runs at import): the
``_check_*`` functions are only type-checked, via ``[tool.mypy] files``. Each
``# type: ignore[code]`` marks a misuse mypy must reject; ``warn_unused_ignores`` (strict) fails
the suite the day one of them is accepted.
"""

# The assignments below are the checks; their targets are never read.
# ruff: noqa: F841

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Any

import openai

from llmswitch import (
    AiohttpTransport,
    AllProvidersFailed,
    AsyncChatStream,
    AsyncSleep,
    AsyncStreamResponse,
    AsyncTransport,
    Attempt,
    AttemptFinished,
    CallContext,
    ChatResult,
    ChatStream,
    CircuitChanged,
    Clock,
    Event,
    FakeClock,
    HttpRequest,
    HttpxTransport,
    LLMProviderManager,
    LLMSwitchError,
    ManagerClosed,
    MemoryStore,
    RawReply,
    Settings,
    Sink,
    Sleep,
    SqliteStore,
    Store,
    StreamChunk,
    StreamResponse,
    Transport,
    get_llm_manager,
    load_settings,
    store_from_url,
)
from llmswitch.testing import SimulatorHandle, simulator

HELLO = [{"role": "user", "content": "hi"}]


def _check_seed_api() -> None:
    llm: LLMProviderManager = get_llm_manager()
    text: str = llm.call_llm("You are terse.", "Say hi")
    text = llm.call_llm("sys", "user", "openai/gpt-oss-120b", 0.0, 100, "groq")
    pair: tuple[openai.OpenAI, str] = llm.get_client("groq")
    status: dict[str, Any] = llm.get_provider_status()
    current: str | None = llm.current_provider()

    llm.call_llm("sys", 42)  # type: ignore[arg-type]
    number: int = llm.call_llm("sys", "user")  # type: ignore[assignment]
    llm.call_llm("sys", "user", temperature="hot")  # type: ignore[arg-type]
    llm.get_client(provider="groq")  # type: ignore[call-arg]


def _check_rich_api(llm: LLMProviderManager) -> None:
    result: ChatResult = llm.chat(HELLO, model="fast", provider_name="groq", max_wait=5.0)
    text: str = result.text
    provider: str = result.provider
    attempts: tuple[Attempt, ...] = tuple(result.attempts)
    stream: ChatStream = llm.stream(HELLO, continuation=True)
    for chunk in stream:
        piece: StreamChunk = chunk
        final: ChatResult | None = chunk.result
    seen: tuple[Attempt, ...] = stream.attempts
    usage: dict[str, Any] = llm.get_usage("today")
    cleared: list[str] = llm.reset_circuit("groq")

    llm.chat(HELLO, "fast")  # type: ignore[call-arg]
    llm.chat(HELLO, strict="yes")  # type: ignore[arg-type]
    wrong: str = llm.chat(HELLO)  # type: ignore[assignment]


async def _check_async_api(llm: LLMProviderManager) -> None:
    text: str = await llm.acall_llm("sys", "user")
    result: ChatResult = await llm.achat(HELLO)
    stream: AsyncChatStream = llm.astream(HELLO)
    async for chunk in stream:
        piece: StreamChunk = chunk
    await stream.aclose()
    async with llm as same:
        again: LLMProviderManager = same
    await llm.aclose()

    unawaited: ChatResult = llm.achat(HELLO)  # type: ignore[assignment]


def _check_lifecycle(settings: Settings) -> None:
    with LLMProviderManager(settings) as llm:
        llm.chat(HELLO)
    closed: bool = llm.closed
    try:
        llm.chat(HELLO)
    except ManagerClosed as exc:
        misuse: RuntimeError = exc
        ours: LLMSwitchError = exc
    except AllProvidersFailed as failed:
        tried: tuple[Attempt, ...] = failed.attempts
    llm.close()

    llm.closed = True  # type: ignore[misc]


# -- injection seams --------------------------------------------------------------------------


class CannedStream:
    status = 200
    headers: Mapping[str, str] = {}

    def iter_lines(self) -> Iterator[str]:
        yield "data: [DONE]"

    def read(self) -> bytes:
        return b""


class CannedTransport:
    """A transport by structure alone: no subclass of anything of llmswitch's."""

    def send(self, req: HttpRequest, ctx: CallContext, *, timeout: float | None = None) -> RawReply:
        return RawReply(200, {}, b"{}")

    def stream(
        self,
        req: HttpRequest,
        ctx: CallContext,
        *,
        timeout: float | None = None,
        stall_timeout: float | None = None,
    ) -> AbstractContextManager[StreamResponse]:
        raise NotImplementedError

    def close(self) -> None:
        pass


class CannedAsyncTransport:
    async def send(
        self, req: HttpRequest, ctx: CallContext, *, timeout: float | None = None
    ) -> RawReply:
        return RawReply(200, {}, b"{}")

    def stream(
        self,
        req: HttpRequest,
        ctx: CallContext,
        *,
        timeout: float | None = None,
        stall_timeout: float | None = None,
    ) -> AbstractAsyncContextManager[AsyncStreamResponse]:
        raise NotImplementedError

    async def aclose(self) -> None:
        pass


class NoStream:
    def send(self, req: HttpRequest, ctx: CallContext, *, timeout: float | None = None) -> RawReply:
        return RawReply(200, {}, b"{}")

    def close(self) -> None:
        pass


class ReturnsText:
    def send(self, req: HttpRequest, ctx: CallContext, *, timeout: float | None = None) -> str:
        return "{}"

    def stream(
        self,
        req: HttpRequest,
        ctx: CallContext,
        *,
        timeout: float | None = None,
        stall_timeout: float | None = None,
    ) -> AbstractContextManager[StreamResponse]:
        raise NotImplementedError

    def close(self) -> None:
        pass


def _check_transports(settings: Settings) -> None:
    sync: Transport = HttpxTransport(timeout=10.0)
    sync = CannedTransport()
    asynchronous: AsyncTransport = AiohttpTransport(timeout=10.0)
    asynchronous = CannedAsyncTransport()
    opened: StreamResponse = CannedStream()
    LLMProviderManager(
        settings, transport=CannedTransport(), async_transport=CannedAsyncTransport()
    )

    missing: Transport = NoStream()  # type: ignore[assignment]
    text: Transport = ReturnsText()  # type: ignore[assignment]
    swapped: AsyncTransport = CannedTransport()  # type: ignore[assignment]
    LLMProviderManager(settings, transport=CannedAsyncTransport())  # type: ignore[arg-type]


def _check_time_store_sinks(settings: Settings) -> None:
    clock = FakeClock(start=1_780_000_000.0)
    clock.advance(60.0)
    now: Clock = clock
    sleep: Sleep = clock.sleep
    asleep: AsyncSleep = clock.asleep
    store: Store = store_from_url("memory://")
    store = MemoryStore()
    store = SqliteStore  # type: ignore[assignment]

    events: list[Event] = []

    def record(event: Event) -> None:
        events.append(event)
        if isinstance(event, AttemptFinished):
            attempt: Attempt = event.attempt
        elif isinstance(event, CircuitChanged):
            until: float | None = event.until

    def only_ints(value: int) -> None:
        pass

    sinks: list[Sink] = [record]
    LLMProviderManager(
        settings,
        store=store,
        clock=clock,
        sleep=clock.sleep,
        async_sleep=clock.asleep,
        sinks=sinks,
    )
    LLMProviderManager(settings, sinks=[only_ints])  # type: ignore[list-item]
    LLMProviderManager(settings, clock=clock.sleep)  # type: ignore[arg-type]
    LLMProviderManager(settings, store="memory://")  # type: ignore[arg-type]
    LLMProviderManager(load_settings(None), None)  # type: ignore[call-arg]


def _check_testing() -> None:
    clock = FakeClock()
    with simulator(clock=clock, config={"providers": {}}) as sim:
        handle: SimulatorHandle = sim
        url: str = sim.provider_base_url("groq")
        sim.clock.advance(60.0)  # type: ignore[attr-defined]

    simulator(FakeClock())  # type: ignore[call-arg]


async def _check_stream_protocol(resp: AsyncStreamResponse) -> None:
    lines: AsyncIterator[str] = resp.aiter_lines()
    body: bytes = await resp.read()
    status: int = resp.status
