"""The fallback loop: plan candidates, admit, send, settle; fail over until one serves.

``Router`` (sync, over httpx) and ``AsyncRouter`` (async, over aiohttp) are thin shells over
``AttemptCore`` and ``Planner``: they differ only in how they send and how they wait. Streaming
fails over freely until the first content token; after it, a cut, stall or garbled stream ends
with the classified error, never a truncated answer presented as complete.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from llmswitch.attempts import Action, AttemptCore, Ticket
from llmswitch.clock import AsyncSleep, Sleep
from llmswitch.errors import AllProvidersFailed, ProviderError
from llmswitch.events import CallFinished, NoProviderAvailable, emit
from llmswitch.planning import Candidate, Planner
from llmswitch.tokens import estimate_prompt_tokens, estimate_text_tokens
from llmswitch.transport import AiohttpTransport, HttpxTransport
from llmswitch.types import Attempt, ChatRequest, ChatResult, StreamChunk, Usage
from llmswitch.wire import wire_for
from llmswitch.wire.base import CallContext, HttpRequest, StreamEvent, WireReply

T = TypeVar("T")


@dataclass(slots=True)
class CallState:
    """One call's progress through its plan."""

    request: ChatRequest
    plan: list[Candidate]
    estimate: int
    request_no: int
    started: float  # the injected clock: what max_wait is measured against
    attempts: list[Attempt] = field(default_factory=list)
    timer: float = field(default_factory=time.perf_counter)  # real time, for latency
    min_context: int = 0


class _Shell:
    def __init__(self, core: AttemptCore, planner: Planner) -> None:
        self.core = core
        self.planner = planner
        self._counter = itertools.count(1)

    def _start(self, request: ChatRequest, provider_name: str | None, strict: bool) -> CallState:
        plan = self.planner.plan(request.model, provider_name=provider_name, strict=strict)
        estimate = estimate_prompt_tokens(request.messages) + (request.max_tokens or 1024)
        return CallState(request, plan, estimate, next(self._counter), self.core.clock())

    def _http(
        self, ticket: Ticket, request: ChatRequest, stream: bool
    ) -> tuple[HttpRequest, CallContext]:
        c = ticket.candidate
        wire = wire_for(c.provider.api)
        http = wire.build(
            base_url=c.provider.base_url,
            api_key=c.key.secret_value(),
            model=c.model,
            request=request,
            stream=stream,
            headers=c.provider.headers,
        )
        return http, CallContext(c.provider.name, c.model, c.key.alias)

    def _on_error(
        self,
        call: CallState,
        ticket: Ticket,
        err: ProviderError,
        headers: dict[str, str],
        usage: Usage | None = None,
    ) -> None:
        call.attempts.append(self.core.failed(ticket, err, usage))
        action = self.core.act_on_failure(ticket, err, headers, call.request_no)
        if action is Action.RAISE:
            err.attempts = tuple(call.attempts)
            self._finish(call, None, None, stream=False)
            raise err
        if action is Action.LARGER_CONTEXT:
            call.min_context = max(call.min_context, ticket.candidate.context_window + 1)
            if not any(
                c.context_window >= call.min_context or c.context_window == 0
                for c in call.plan[call.plan.index(ticket.candidate) + 1 :]
            ):
                err.attempts = tuple(call.attempts)
                self._finish(call, None, None, stream=False)
                raise err

    def _result(
        self, call: CallState, ticket: Ticket, reply: WireReply, attempt: Attempt
    ) -> ChatResult:
        call.attempts.append(attempt)
        latency = time.perf_counter() - call.timer
        self._finish(call, attempt.provider, attempt.model, stream=False, latency=latency)
        return ChatResult(
            text=reply.text,
            provider=attempt.provider,
            model=attempt.model,
            usage=reply.usage,
            cost_usd=attempt.cost_usd,
            latency_s=latency,
            attempts=tuple(call.attempts),
            finish_reason=reply.finish_reason,
            raw=reply.raw,
        )

    def _finish(
        self,
        call: CallState,
        provider: str | None,
        model: str | None,
        *,
        stream: bool,
        latency: float | None = None,
    ) -> None:
        if latency is None:
            latency = time.perf_counter() - call.timer
        emit(
            self.core.sinks,
            CallFinished(self.core.clock(), provider, model, latency, len(call.attempts), stream),
        )

    def _give_up(
        self, call: CallState, max_wait: float | None
    ) -> tuple[AllProvidersFailed, float | None]:
        err = self.core.give_up(call.attempts, planned=len(call.plan))
        budget = self.core.settings.max_wait_seconds if max_wait is None else max_wait
        elapsed = self.core.clock() - call.started
        if err.retry_after is not None and budget and err.retry_after <= budget - elapsed:
            return err, err.retry_after
        if call.plan:
            emit(
                self.core.sinks,
                NoProviderAvailable(self.core.clock(), str(err).splitlines()[0], err.retry_after),
            )
        self._finish(call, None, None, stream=False)
        return err, None

    def _stream_failed(
        self,
        call: CallState,
        ticket: Ticket,
        err: ProviderError,
        headers: dict[str, str],
        progress: _StreamProgress,
    ) -> None:
        """Account for a failed stream; re-raise once content reached the caller."""
        usage = progress.usage_so_far(ticket) if progress.any_output else None
        self._on_error(call, ticket, err, headers, usage)
        if progress.any_output:
            err.attempts = tuple(call.attempts)
            raise err

    def _stream_result(
        self, call: CallState, ticket: Ticket, progress: _StreamProgress, headers: dict[str, str]
    ) -> StreamChunk:
        usage = progress.final_usage(ticket)
        attempt = self.core.succeeded(ticket, usage, headers)
        reply = WireReply(
            text="".join(progress.parts),
            usage=usage,
            finish_reason=progress.finish_reason,
            model=attempt.model,
            raw={},
        )
        result = self._result(call, ticket, reply, attempt)
        return StreamChunk(text="", provider=attempt.provider, model=attempt.model, result=result)


class Router(_Shell):
    """The synchronous fallback loop over pooled httpx."""

    def __init__(
        self, core: AttemptCore, planner: Planner, transport: HttpxTransport, *, sleep: Sleep
    ) -> None:
        super().__init__(core, planner)
        self.transport = transport
        self.sleep = sleep

    def chat(
        self,
        request: ChatRequest,
        *,
        provider_name: str | None = None,
        strict: bool = False,
        max_wait: float | None = None,
    ) -> ChatResult:
        call = self._start(request, provider_name, strict)
        while True:
            for cand in call.plan:
                ticket = self.core.admit(cand, call.estimate, call.min_context)
                if isinstance(ticket, Attempt):
                    call.attempts.append(ticket)
                    continue
                http, ctx = self._http(ticket, request, stream=False)
                headers: dict[str, str] = {}
                try:
                    raw = self.transport.send(http, ctx, timeout=self.core.settings.timeout_seconds)
                    headers = dict(raw.headers)
                    reply = wire_for(cand.provider.api).parse(
                        raw.status, raw.headers, raw.body, ctx
                    )
                except ProviderError as err:
                    self._on_error(call, ticket, err, headers)
                    continue
                attempt = self.core.succeeded(ticket, reply.usage, raw.headers, raw.status)
                return self._result(call, ticket, reply, attempt)
            failure, wait = self._give_up(call, max_wait)
            if wait is None:
                raise failure
            self.sleep(wait)
            call.attempts.clear()

    def stream(
        self, request: ChatRequest, *, provider_name: str | None = None, strict: bool = False
    ) -> Iterator[StreamChunk]:
        call = self._start(request, provider_name, strict)
        for cand in call.plan:
            ticket = self.core.admit(cand, call.estimate, call.min_context)
            if isinstance(ticket, Attempt):
                call.attempts.append(ticket)
                continue
            http, ctx = self._http(ticket, request, stream=True)
            progress = _StreamProgress(estimate_prompt_tokens(request.messages))
            headers: dict[str, str] = {}
            try:
                with self.transport.stream(
                    http,
                    ctx,
                    timeout=self.core.settings.timeout_seconds,
                    stall_timeout=self.core.settings.stream_stall_seconds,
                ) as resp:
                    headers = dict(resp.headers)
                    wire = wire_for(cand.provider.api)
                    if resp.status >= 300:
                        raise wire.classify(resp.status, resp.headers, resp.read(), ctx)
                    decoder = wire.stream_decoder(ctx)
                    for line in resp.iter_lines():
                        for ev in decoder.feed(line):
                            yield from progress.take(ev, ticket)
                    for ev in decoder.close():
                        yield from progress.take(ev, ticket)
            except ProviderError as err:
                self._stream_failed(call, ticket, err, headers, progress)
                continue
            yield self._stream_result(call, ticket, progress, headers)
            return
        failure, _ = self._give_up(call, 0.0)
        raise failure


class AsyncRouter(_Shell):
    """The asynchronous twin over pooled aiohttp; the same decisions, awaited I/O.

    The decisions read and write the state store synchronously. With a store that does I/O
    (SQLite, Redis) they run on a small thread pool (``offload``), so a Redis round trip or a
    SQLite lock wait never stalls the event loop and the other requests it serves; with the
    in-memory store they run inline, since a hop to a thread would cost more than the work.
    """

    def __init__(
        self,
        core: AttemptCore,
        planner: Planner,
        transport: AiohttpTransport,
        *,
        sleep: AsyncSleep,
        offload: bool = False,
    ) -> None:
        super().__init__(core, planner)
        self.transport = transport
        self.sleep = sleep
        self._pool = (
            ThreadPoolExecutor(max_workers=32, thread_name_prefix="llmswitch-state")
            if offload
            else None
        )

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on the state thread pool when offloading, else inline."""
        if self._pool is None:
            return fn(*args)
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False)

    async def chat(
        self,
        request: ChatRequest,
        *,
        provider_name: str | None = None,
        strict: bool = False,
        max_wait: float | None = None,
    ) -> ChatResult:
        call = self._start(request, provider_name, strict)
        while True:
            for cand in call.plan:
                ticket = await self._run(self.core.admit, cand, call.estimate, call.min_context)
                if isinstance(ticket, Attempt):
                    call.attempts.append(ticket)
                    continue
                http, ctx = self._http(ticket, request, stream=False)
                headers: dict[str, str] = {}
                try:
                    raw = await self.transport.send(
                        http, ctx, timeout=self.core.settings.timeout_seconds
                    )
                    headers = dict(raw.headers)
                    reply = wire_for(cand.provider.api).parse(
                        raw.status, raw.headers, raw.body, ctx
                    )
                except ProviderError as err:
                    await self._run(self._on_error, call, ticket, err, headers)
                    continue
                attempt = await self._run(
                    self.core.succeeded, ticket, reply.usage, raw.headers, raw.status
                )
                return self._result(call, ticket, reply, attempt)
            failure, wait = self._give_up(call, max_wait)
            if wait is None:
                raise failure
            await self.sleep(wait)
            call.attempts.clear()

    async def stream(
        self, request: ChatRequest, *, provider_name: str | None = None, strict: bool = False
    ) -> AsyncIterator[StreamChunk]:
        call = self._start(request, provider_name, strict)
        for cand in call.plan:
            ticket = await self._run(self.core.admit, cand, call.estimate, call.min_context)
            if isinstance(ticket, Attempt):
                call.attempts.append(ticket)
                continue
            http, ctx = self._http(ticket, request, stream=True)
            progress = _StreamProgress(estimate_prompt_tokens(request.messages))
            headers: dict[str, str] = {}
            try:
                async with self.transport.stream(
                    http,
                    ctx,
                    timeout=self.core.settings.timeout_seconds,
                    stall_timeout=self.core.settings.stream_stall_seconds,
                ) as resp:
                    headers = dict(resp.headers)
                    wire = wire_for(cand.provider.api)
                    if resp.status >= 300:
                        raise wire.classify(resp.status, resp.headers, await resp.read(), ctx)
                    decoder = wire.stream_decoder(ctx)
                    async for line in resp.aiter_lines():
                        for ev in decoder.feed(line):
                            for chunk in progress.take(ev, ticket):
                                yield chunk
                    for ev in decoder.close():
                        for chunk in progress.take(ev, ticket):
                            yield chunk
            except ProviderError as err:
                await self._run(self._stream_failed, call, ticket, err, headers, progress)
                continue
            yield await self._run(self._stream_result, call, ticket, progress, headers)
            return
        failure, _ = self._give_up(call, 0.0)
        raise failure


class _StreamProgress:
    """What a stream has delivered so far: text, usage, finish reason."""

    def __init__(self, prompt_estimate: int) -> None:
        self.prompt_estimate = prompt_estimate
        self.parts: list[str] = []
        self.usage: Usage | None = None
        self.finish_reason: str | None = None
        self.any_output = False

    def take(self, ev: StreamEvent, ticket: Ticket) -> Iterator[StreamChunk]:
        if ev.usage is not None:
            self.usage = ev.usage
        if ev.finish_reason is not None:
            self.finish_reason = ev.finish_reason
        if ev.text or (ev.raw is not None and _has_tool_delta(ev.raw)):
            self.any_output = True
            self.parts.append(ev.text)
            c = ticket.candidate
            yield StreamChunk(text=ev.text, provider=c.provider.name, model=c.model, raw=ev.raw)

    def usage_so_far(self, ticket: Ticket) -> Usage:
        if self.usage is not None:
            return self.usage
        return Usage(self.prompt_estimate, estimate_text_tokens("".join(self.parts)))

    def final_usage(self, ticket: Ticket) -> Usage:
        return self.usage_so_far(ticket)


def _has_tool_delta(raw: dict[str, object]) -> bool:
    choices = raw.get("choices")
    if not isinstance(choices, list) or not choices:
        return False
    delta = choices[0].get("delta") if isinstance(choices[0], dict) else None
    return isinstance(delta, dict) and bool(delta.get("tool_calls"))
