"""Round trips to Redis per call, counted on the wire of a real Redis (issue 17).

A connection class counts every send: redis-py writes one command, or one whole pipeline, and
then reads its reply, so a send is one round trip. A successful ``chat`` must cost two (the
admission script, with the circuits and learned limits folded into it, and the settlement with
its ledger entry); a failover adds what its extra attempt needs, no more. The guesses that make
this possible (all circuits closed, learned limits as last seen) must never let a call past
what another process changed: a circuit it opened, a limit it learned.
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Iterator
from typing import Any

import pytest

from llmswitch._clock import FakeClock
from llmswitch._quota import key_scope, provider_scope
from llmswitch._state.base import Store
from tests.conftest import ManagerFactory
from tests.state.conftest import redis_url  # noqa: F401 - the shared Redis, or skip/fail

redis = pytest.importorskip("redis")

pytestmark = pytest.mark.redis

HELLO = [{"role": "user", "content": "hi"}]
GROQ_KEY = key_scope("groq", "GROQ_API_KEY")


class Wire:
    """The command names of every send, one list per round trip; ``sampled`` holds those of the
    alerts' check of a key's windows, which is not per call but once per key and
    ``check_interval_seconds`` (``_alerts``), apart."""

    def __init__(self) -> None:
        self.trips: list[list[str]] = []
        self.sampled: list[list[str]] = []

    def clear(self) -> None:
        self.trips.clear()
        self.sampled.clear()

    def sent(self, names: list[str]) -> None:
        alerts = any(f.filename.endswith("_alerts.py") for f in traceback.extract_stack())
        (self.sampled if alerts else self.trips).append(names)


def counting_connection(wire: Wire) -> type:
    class CountingConnection(redis.Connection):  # type: ignore[misc, name-defined]
        def send_packed_command(self, command: Any, check_health: bool = True) -> None:
            parts = command if isinstance(command, list) else [command]
            blob = b"".join(bytes(p) for p in parts)
            lines = blob.split(b"\r\n")
            names = [lines[i + 2].decode() for i, x in enumerate(lines[:-2]) if x[:1] == b"*"]
            wire.sent(names)
            super().send_packed_command(command, check_health)

    return CountingConnection


@pytest.fixture
def wire() -> Wire:
    return Wire()


@pytest.fixture
def counted_store(redis_url: str, redis_prefix: str, wire: Wire) -> Iterator[Store]:  # noqa: F811
    from llmswitch._state.redis import RedisStore

    pool = redis.ConnectionPool.from_url(redis_url, connection_class=counting_connection(wire))
    store = RedisStore(redis.Redis(connection_pool=pool), prefix=redis_prefix)
    yield store
    store.reset()
    pool.disconnect()


@pytest.fixture
def other_process(redis_url: str, counted_store: Store) -> Iterator[Store]:  # noqa: F811
    """Another store on the same Redis data: what a second worker would write."""
    from llmswitch._state.redis import RedisStore

    other = RedisStore(url=redis_url, prefix=counted_store.prefix)  # type: ignore[attr-defined]
    yield other
    other.close()


def warm(llm: Any, wire: Wire) -> None:
    """One call first: the connection's handshake and the scripts' first load are not per call
    (nor is the alerts' sampled check of a key, once per check_interval_seconds). Every script
    is loaded, not only the ones that call used: a script first run on a failover would cost
    its load (a refused EVALSHA, SCRIPT LOAD, EVALSHA) in whichever test runs it first."""
    for script in llm.store.primary._scripts.values():
        script.registered_client.script_load(script.script)
    assert llm.chat(HELLO).provider == "groq"
    wire.clear()


def test_a_successful_call_costs_two_round_trips(
    make_manager: ManagerFactory, counted_store: Store, wire: Wire
) -> None:
    llm = make_manager(store=counted_store)
    warm(llm, wire)
    for _ in range(5):
        assert llm.chat(HELLO).provider == "groq"
        assert len(wire.trips) <= 2, wire.trips
        assert wire.trips == [["EVALSHA"], ["EVALSHA"]]  # admission; settlement + ledger
        assert wire.sampled == []  # the alerts read groq's windows at the warm-up call
        wire.clear()
    entries = counted_store.ledger_entries(limit=10)
    assert len(entries) == 6 and all(e.outcome == "ok" for e in entries)


def test_a_stream_and_an_async_call_cost_two_round_trips_too(
    make_manager: ManagerFactory, counted_store: Store, wire: Wire
) -> None:
    llm = make_manager(store=counted_store)
    warm(llm, wire)
    text = "".join(chunk.text for chunk in llm.stream(HELLO))
    assert text and wire.trips == [["EVALSHA"], ["EVALSHA"]], wire.trips
    wire.clear()

    async def one_async_call() -> None:
        try:
            assert (await llm.achat(HELLO)).provider == "groq"
        finally:
            await llm.aclose()  # its async client belongs to this event loop

    asyncio.run(one_async_call())
    assert wire.trips == [["EVALSHA"], ["EVALSHA"]], wire.trips


def test_a_failover_adds_only_what_its_extra_attempt_needs(
    make_manager: ManagerFactory, counted_store: Store, wire: Wire, sim: Any
) -> None:
    llm = make_manager(store=counted_store)
    warm(llm, wire)
    sim.set_fault("groq", {"kind": "status", "status": 500, "count": 1})
    result = llm.chat(HELLO)
    assert [a.outcome for a in result.attempts] == ["server_error", "ok"]
    # the failed attempt: its admission, its ledger entry, its model's circuit; then the
    # serving attempt's two
    assert len(wire.trips) <= 2 + 3, wire.trips
    wire.clear()
    # groq's model is now cooling down: the next call reads that in its first round trip and
    # goes to gemini at the cost of one more admission, not a read per candidate
    assert llm.chat(HELLO).provider == "gemini"
    assert len(wire.trips) <= 3, wire.trips


def test_a_circuit_another_process_opened_is_honoured_at_once(
    make_manager: ManagerFactory,
    counted_store: Store,
    other_process: Store,
    wire: Wire,
    sim: Any,
    clock: FakeClock,
) -> None:
    llm = make_manager(store=counted_store)
    warm(llm, wire)
    now = clock()
    other_process.trip(
        provider_scope("groq"), until=now + 60, kind="connection", message="down", now=now
    )
    before = len(sim.requests("groq"))
    assert llm.chat(HELLO).provider == "gemini"
    assert len(sim.requests("groq")) == before  # not one request reached the open provider


def test_a_limit_another_process_learned_applies_to_the_next_call(
    make_manager: ManagerFactory, counted_store: Store, other_process: Store, wire: Wire
) -> None:
    llm = make_manager(store=counted_store)
    warm(llm, wire)  # this process now guesses groq's key has learned nothing
    other_process.put_learned_limits(GROQ_KEY, {"rpm": 2})  # its headers said 2 a minute
    assert llm.chat(HELLO).provider == "groq"  # the second of two this minute
    assert len(wire.trips) == 3, wire.trips  # the stale guess cost one round trip
    wire.clear()
    assert llm.chat(HELLO).provider == "gemini"  # the learned rpm holds: groq is full
    assert len(wire.trips) == 3, wire.trips  # groq refused in the first, gemini's two


def test_the_replys_rate_limit_headers_cost_no_round_trip_and_agree_with_a_read(
    make_manager: ManagerFactory, counted_store: Store, wire: Wire
) -> None:
    """A gateway request is the call's two round trips: its x-ratelimit-* headers come from
    what the admission script counted, and say what a read of the store says right after."""
    from llmswitch.server.ratelimit_headers import (
        rate_limit_headers,
        remaining_headers,
        served_windows,
    )

    llm = make_manager(store=counted_store)
    warm(llm, wire)
    result = llm.chat(HELLO)
    key = result.attempts[-1].key_alias
    wire.clear()
    headers = asyncio.run(rate_limit_headers(llm, "groq", key, served_windows(result)))
    assert wire.trips == [], wire.trips
    assert headers["x-ratelimit-remaining-requests"]
    read = remaining_headers(llm, "groq", key)  # the read path, three round trips
    assert len(wire.trips) == 3
    assert headers == read


def test_a_streams_rate_limit_headers_cost_no_round_trip_and_agree_with_a_read(
    make_manager: ManagerFactory, counted_store: Store, wire: Wire
) -> None:
    """A stream's headers leave before it is settled: they come from the open attempt's grant
    (this call at its reservation), and say what a read of the store says at that moment."""
    from llmswitch.server.ratelimit_headers import (
        rate_limit_headers,
        remaining_headers,
        stream_windows,
    )

    llm = make_manager(store=counted_store)
    warm(llm, wire)

    async def open_stream() -> tuple[dict[str, str], dict[str, str], list[list[str]]]:
        chunks = llm.astream(HELLO)
        first = await anext(chunks)
        assert first.result is None  # open, not settled
        wire.clear()
        headers = await rate_limit_headers(
            llm, "groq", first.key_alias, stream_windows(first, chunks)
        )
        trips = list(wire.trips)
        read = remaining_headers(llm, "groq", first.key_alias)  # the read path
        async for _ in chunks:
            pass
        await llm.aclose()  # the async transport's pool belongs to this event loop
        return headers, read, trips

    headers, read, trips = asyncio.run(open_stream())
    assert trips == [], trips
    assert headers["x-ratelimit-remaining-requests"]
    assert headers == read
