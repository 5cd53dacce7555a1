"""A closed manager stays closed: every call raises ``ManagerClosed`` before any I/O.

Real loopback HTTP against the simulator: after ``close()`` / ``aclose()`` / the end of a ``with``
block the simulator sees no further request and the store no further read or write.
"""

from __future__ import annotations

import asyncio
import gc
import json
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest

import llmswitch._manager as manager_module
from llmswitch import (
    AiohttpTransport,
    CallContext,
    HttpRequest,
    LLMProviderManager,
    LLMSwitchError,
    ManagerClosed,
    MemoryStore,
    RawReply,
    StreamResponse,
    get_llm_manager,
)
from tests.conftest import SIM_KEYS, ManagerFactory, sim_toml

HELLO = [{"role": "user", "content": "hi"}]
PROVIDERS = ("groq", "gemini", "openrouter", "together", "openai")


def sent(sim: Any) -> int:
    """Requests the simulator received, over every provider."""
    return sum(len(sim.requests(name)) for name in PROVIDERS)


class SpyStore(MemoryStore):
    """A memory store that records every public attribute read once ``watching`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.watching = False
        self.touched: list[str] = []

    def __getattribute__(self, name: str) -> Any:
        public = not name.startswith("_") and name not in ("watching", "touched")
        if public and object.__getattribute__(self, "watching"):
            object.__getattribute__(self, "touched").append(name)
        return super().__getattribute__(name)


def sync_entry_points(llm: LLMProviderManager) -> dict[str, Callable[[], object]]:
    return {
        "call_llm": lambda: llm.call_llm("be terse", "hi"),
        "chat": lambda: llm.chat(HELLO),
        "stream": lambda: list(llm.stream(HELLO)),
        "get_client": lambda: llm.get_client("groq"),
        "get_client()": lambda: llm.get_client(),
        "get_provider_status": llm.get_provider_status,
        "current_provider": llm.current_provider,
        "get_usage": llm.get_usage,
        "reset_circuit": lambda: llm.reset_circuit("groq"),
        "router": lambda: llm.router,
        "async_router": lambda: llm.async_router,
        "with": lambda: llm.__enter__(),
    }


def assert_closed_everywhere(llm: LLMProviderManager, sim: Any, store: SpyStore) -> None:
    before = sent(sim)
    store.watching = True
    for name, entry in sync_entry_points(llm).items():
        with pytest.raises(ManagerClosed, match=r"create a new manager with get_llm_manager\(\)"):
            entry()
        assert not store.touched, f"{name} touched the store: {store.touched}"
    assert sent(sim) == before


def test_after_close_every_call_raises_and_nothing_is_sent(
    make_manager: ManagerFactory, sim: Any
) -> None:
    store = SpyStore()
    llm = make_manager(store=store)
    assert llm.chat(HELLO).text
    assert sent(sim) == 1
    llm.close()
    assert llm.closed
    assert_closed_everywhere(llm, sim, store)
    llm.close()  # idempotent: the store is not closed twice
    assert not store.touched


def test_leaving_the_with_block_closes(make_manager: ManagerFactory, sim: Any) -> None:
    store = SpyStore()
    with make_manager(store=store) as llm:
        assert llm.call_llm("be terse", "hi")
    assert llm.closed
    assert_closed_everywhere(llm, sim, store)


def test_the_error_is_programming_misuse() -> None:
    assert issubclass(ManagerClosed, RuntimeError)
    assert issubclass(ManagerClosed, LLMSwitchError)


def test_after_aclose_the_async_twins_raise_and_the_pool_is_closed(
    make_manager: ManagerFactory, sim: Any
) -> None:
    store = SpyStore()
    llm = make_manager(store=store)

    async def run() -> None:
        assert (await llm.achat(HELLO)).text
        async with llm:
            assert (await llm.acall_llm("be terse", "hi")) != ""
        assert llm.closed
        store.watching = True
        with pytest.raises(ManagerClosed):
            await llm.achat(HELLO)
        with pytest.raises(ManagerClosed):
            await llm.acall_llm("be terse", "hi")
        with pytest.raises(ManagerClosed):
            llm.astream(HELLO)
        with pytest.raises(ManagerClosed):
            await llm.__aenter__()
        await llm.aclose()  # idempotent

    asyncio.run(run())
    assert sent(sim) == 2
    assert not store.touched
    transport = llm._async_transport
    assert isinstance(transport, AiohttpTransport) and transport._session is None


def test_sync_close_closes_the_async_pool_once_its_loop_has_ended(
    make_manager: ManagerFactory, sim: Any
) -> None:
    llm = make_manager()
    sessions: list[Any] = []

    async def run() -> None:
        assert (await llm.achat(HELLO)).text
        transport = llm._async_transport
        assert isinstance(transport, AiohttpTransport)
        sessions.append(transport._session)

    asyncio.run(run())  # no aclose(): the loop ends with the pool open
    assert not sessions[0].closed
    llm.close()
    assert sessions[0].closed
    sessions.clear()
    # The sockets of a loop that has ended can no longer be closed, only dropped: their
    # ResourceWarnings are the price of skipping aclose(). The session and its connector are
    # closed, so aiohttp's "Unclosed client session" / "Unclosed connector" errors are gone.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gc.collect()
    unclosed = [str(w.message) for w in caught if "Unclosed" in str(w.message)]
    assert not unclosed


def test_get_llm_manager_hands_out_a_fresh_manager_once_closed(
    sim: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "llmswitch.toml").write_text(sim_toml(sim))
    monkeypatch.chdir(tmp_path)
    for name, value in SIM_KEYS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(manager_module, "_manager", None)  # this test's own singleton

    first = get_llm_manager()
    assert get_llm_manager() is first
    first.close()
    second = get_llm_manager()
    try:
        assert second is not first and not second.closed
        assert get_llm_manager() is second
    finally:
        second.close()


class CannedTransport:
    """A transport by structure only (no subclass): one OpenAI-shaped reply, every call counted."""

    def __init__(self) -> None:
        self.sent = 0
        self.closed = 0

    def send(self, req: HttpRequest, ctx: CallContext, *, timeout: float | None = None) -> RawReply:
        self.sent += 1
        body = {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "model": ctx.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "canned"},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
        }
        return RawReply(200, {"content-type": "application/json"}, json.dumps(body).encode())

    def stream(
        self,
        req: HttpRequest,
        ctx: CallContext,
        *,
        timeout: float | None = None,
        stall_timeout: float | None = None,
    ) -> AbstractContextManager[StreamResponse]:
        @contextmanager
        def never() -> Iterator[StreamResponse]:
            raise AssertionError("not streamed in this test")
            yield

        return never()

    def close(self) -> None:
        self.closed += 1


def test_an_injected_transport_is_closed_once_and_never_used_after(
    make_manager: ManagerFactory, sim: Any
) -> None:
    transport = CannedTransport()
    llm = make_manager(transport=transport)
    assert llm.chat(HELLO).text == "canned"
    llm.close()
    llm.close()
    with pytest.raises(ManagerClosed):
        llm.chat(HELLO)
    assert (transport.sent, transport.closed) == (1, 1)
    assert sent(sim) == 0
