"""The two drivers of the call machine: they move bytes and sleep, ``call.Call`` decides.

``Router`` performs a ``Send`` with the httpx transport and a ``Wait`` with the injected sleep;
``AsyncRouter`` does the same with aiohttp and an async sleep, running the steps that touch the
state store on a small thread pool when the store does I/O. Neither holds a rule of its own.

A stream is returned as a ``ChatStream`` (``AsyncChatStream``): iterate it for chunks; its
``attempts`` are known as soon as its first chunk is, so a gateway can name them in its headers.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from llmswitch._attempts import AttemptCore
from llmswitch._call import Call
from llmswitch._clock import AsyncSleep, Sleep
from llmswitch._errors import ProviderError
from llmswitch._images import ImageFetcher, ImageLimits
from llmswitch._planning import Planner
from llmswitch._steps import Done, Fail, Send, Step, Wait
from llmswitch._transport import AsyncTransport, Transport
from llmswitch._types import (
    Attempt,
    ChatRequest,
    ChatResult,
    EmbeddingResult,
    EmbedRequest,
    StreamChunk,
    WindowUsage,
)

T = TypeVar("T")


class _Driver:
    def __init__(
        self, core: AttemptCore, planner: Planner, embed_planner: Planner | None = None
    ) -> None:
        self.core = core
        self.planner = planner
        self.embed_planner = embed_planner or planner
        self._counter = itertools.count(1)
        s = core.settings
        self.images = ImageFetcher(
            ImageLimits(s.image_fetch_max_bytes, s.image_fetch_seconds, s.image_fetch_loopback_http)
        )

    def start(self, request: ChatRequest | EmbedRequest, *, stream: bool, **options: Any) -> Call:
        planner = self.embed_planner if isinstance(request, EmbedRequest) else self.planner
        plan = planner.plan(
            request.model,
            provider_name=options.pop("provider_name", None),
            strict=options.pop("strict", False),
            models=options.pop("models", None),
            provider=options.pop("provider", None),
        )
        return Call(
            self.core, request, plan, stream=stream, request_no=next(self._counter), **options
        )


class Router(_Driver):
    """The synchronous driver over a ``Transport`` (pooled httpx by default)."""

    def __init__(
        self,
        core: AttemptCore,
        planner: Planner,
        transport: Transport,
        *,
        sleep: Sleep,
        embed_planner: Planner | None = None,
    ) -> None:
        super().__init__(core, planner, embed_planner)
        self.transport = transport
        self.sleep = sleep

    def chat(self, request: ChatRequest, **options: Any) -> ChatResult:
        result = self._complete(self.start(request, stream=False, **options))
        assert isinstance(result, ChatResult)
        return result

    def embed(self, request: EmbedRequest, **options: Any) -> EmbeddingResult:
        """An embeddings call: the same machine and loop as ``chat``."""
        result = self._complete(self.start(request, stream=False, **options))
        assert isinstance(result, EmbeddingResult)
        return result

    def _complete(self, call: Call) -> ChatResult | EmbeddingResult:
        step = self._first(call)
        while not isinstance(step, Done | Fail):
            if isinstance(step, Wait):
                self.sleep(step.seconds)
                step = call.next()
                continue
            try:
                raw = self.transport.send(step.http, step.ctx, timeout=step.timeout)
            except ProviderError as err:
                step = call.failed(err)
                continue
            step = call.replied(raw)
        if isinstance(step, Fail):
            raise step.error
        return step.result

    def stream(self, request: ChatRequest, **options: Any) -> ChatStream:
        call = self.start(request, stream=True, **options)
        return ChatStream(call, self._stream(call))

    def _first(self, call: Call) -> Step:
        """The first step, once the https images a Gemini-native candidate needs are fetched."""
        if urls := call.images_to_fetch():
            call.images_fetched(self.images.fetch(urls))
        return call.next()

    def _stream(self, call: Call) -> Iterator[StreamChunk]:
        step = self._first(call)
        while not isinstance(step, Done | Fail):
            if isinstance(step, Wait):
                self.sleep(step.seconds)
                step = call.next()
                continue
            try:
                step = yield from self._send_stream(call, step)
            except ProviderError as err:
                step = call.failed(err)
        if isinstance(step, Fail):
            raise step.error
        yield _final(step.result)

    def _send_stream(self, call: Call, send: Send) -> Generator[StreamChunk, None, Step]:
        # httpx fixes a stream's read timeout when it opens: before the first token the
        # tighter of the two limits applies to every read, and the machine checks the
        # first-token deadline after each line (keep-alive comments do not reset it).
        read = min(x for x in (send.stall, send.first_token) if x) if send.stall else None
        with self.transport.stream(
            send.http, send.ctx, timeout=send.timeout, stall_timeout=read
        ) as resp:
            if resp.status >= 300:
                return call.refused(resp.status, resp.headers, resp.read())
            call.opened(resp.headers)
            for line in resp.iter_lines():
                yield from call.feed(line)
            yield from call.close_stream()
        return call.ended()


class AsyncRouter(_Driver):
    """The asynchronous driver over an ``AsyncTransport`` (pooled aiohttp by default).

    The machine reads and writes the state store synchronously. Its steps run on the event
    loop unless the store says a call may wait on someone else (``Store.may_wait``: a Redis
    round trip always; SQLite while its lock has lately been contended): those go to a small
    thread pool (``offload``), so a round trip or a lock wait never stalls the loop, while an
    uncontended SQLite step (tens of microseconds) does not pay for a thread hop. Memory is
    always inline.
    """

    def __init__(
        self,
        core: AttemptCore,
        planner: Planner,
        transport: AsyncTransport,
        *,
        sleep: AsyncSleep,
        offload: bool = False,
        embed_planner: Planner | None = None,
    ) -> None:
        super().__init__(core, planner, embed_planner)
        self.transport = transport
        self.sleep = sleep
        self._pool = (
            ThreadPoolExecutor(max_workers=32, thread_name_prefix="llmswitch-state")
            if offload
            else None
        )

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on the state thread pool while the store may wait, else inline."""
        if self._pool is None or not self.core.store.may_wait():
            return fn(*args)
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False)

    async def chat(self, request: ChatRequest, **options: Any) -> ChatResult:
        result = await self._complete(self.start(request, stream=False, **options))
        assert isinstance(result, ChatResult)
        return result

    async def embed(self, request: EmbedRequest, **options: Any) -> EmbeddingResult:
        result = await self._complete(self.start(request, stream=False, **options))
        assert isinstance(result, EmbeddingResult)
        return result

    async def _complete(self, call: Call) -> ChatResult | EmbeddingResult:
        step = await self._first(call)
        while not isinstance(step, Done | Fail):
            if isinstance(step, Wait):
                await self.sleep(step.seconds)
                step = await self._run(call.next)
                continue
            try:
                raw = await self.transport.send(step.http, step.ctx, timeout=step.timeout)
            except ProviderError as err:
                step = await self._run(call.failed, err)
                continue
            step = await self._run(call.replied, raw)
        if isinstance(step, Fail):
            raise step.error
        return step.result

    def stream(self, request: ChatRequest, **options: Any) -> AsyncChatStream:
        call = self.start(request, stream=True, **options)
        return AsyncChatStream(call, self._stream(call))

    async def _first(self, call: Call) -> Step:
        """The first step, once the https images a Gemini-native candidate needs are fetched."""
        if urls := call.images_to_fetch():
            call.images_fetched(await self.images.afetch(urls))
        return await self._run(call.next)

    async def _stream(self, call: Call) -> AsyncIterator[StreamChunk]:
        step: Step = await self._first(call)
        while not isinstance(step, Done | Fail):
            if isinstance(step, Wait):
                await self.sleep(step.seconds)
                step = await self._run(call.next)
                continue
            box: list[Step] = []
            try:
                async for chunk in self._send_stream(call, step, box):
                    yield chunk
                step = box[0]
            except ProviderError as err:
                step = await self._run(call.failed, err)
            except TimeoutError:  # the first-token deadline
                step = await self._run(call.failed, call.first_token_timeout())
        if isinstance(step, Fail):
            raise step.error
        yield _final(step.result)

    async def _send_stream(
        self, call: Call, send: Send, box: list[Step]
    ) -> AsyncIterator[StreamChunk]:
        async with self.transport.stream(
            send.http, send.ctx, timeout=send.timeout, stall_timeout=send.stall
        ) as resp:
            if resp.status >= 300:
                box.append(
                    await self._run(call.refused, resp.status, resp.headers, await resp.read())
                )
                return
            call.opened(resp.headers)
            lines = resp.aiter_lines()
            # No content within first_token seconds: the deadline cancels the read, before
            # anything was passed on (it is lifted at the first content).
            async with asyncio.timeout(send.first_token) as first:
                async for line in lines:
                    chunks = call.feed(line)
                    if chunks:
                        first.reschedule(None)
                        for chunk in chunks:
                            yield chunk
                        break
            async for line in lines:
                for chunk in call.feed(line):
                    yield chunk
            for chunk in call.close_stream():
                yield chunk
        box.append(await self._run(call.ended))


def _final(result: ChatResult | EmbeddingResult) -> StreamChunk:
    assert isinstance(result, ChatResult)  # only chat streams
    return StreamChunk(text="", provider=result.provider, model=result.model, result=result)


class ChatStream(Iterator[StreamChunk]):
    """A streamed reply: iterate for ``StreamChunk``s; the last carries ``result``.

    ``attempts`` lists what was tried so far (failed and skipped attempts; the serving one joins
    at the end), known from the first chunk on.
    """

    def __init__(self, call: Call, chunks: Iterator[StreamChunk]) -> None:
        self._call = call
        self._chunks = chunks

    @property
    def attempts(self) -> tuple[Attempt, ...]:
        return tuple(self._call.attempts)

    @property
    def windows(self) -> tuple[WindowUsage, ...]:
        """The serving key's windows as the open attempt's grant left them (see
        ``Call.serving_windows``): a stream's rate-limit headers, before it is settled."""
        return self._call.serving_windows()

    def __iter__(self) -> ChatStream:
        return self

    def __next__(self) -> StreamChunk:
        return next(self._chunks)

    def close(self) -> None:
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()


class AsyncChatStream(AsyncIterator[StreamChunk]):
    """The async twin of ``ChatStream``."""

    def __init__(self, call: Call, chunks: AsyncIterator[StreamChunk]) -> None:
        self._call = call
        self._chunks = chunks

    @property
    def attempts(self) -> tuple[Attempt, ...]:
        return tuple(self._call.attempts)

    @property
    def windows(self) -> tuple[WindowUsage, ...]:
        """The serving key's windows as the open attempt's grant left them (see
        ``Call.serving_windows``): a stream's rate-limit headers, before it is settled."""
        return self._call.serving_windows()

    def __aiter__(self) -> AsyncChatStream:
        return self

    async def __anext__(self) -> StreamChunk:
        return await anext(self._chunks)

    async def aclose(self) -> None:
        aclose = getattr(self._chunks, "aclose", None)
        if aclose is not None:
            await aclose()
