"""What only the Redis store promises: tenants by prefix, Redis time, expiring keys, and
surviving a Redis restart. The down-server tests run their own ``redis-server`` on a free port;
the shared server on 6379 is never stopped."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from llmswitch._errors import StorageError
from llmswitch._quota import make_window
from llmswitch._state.base import Store
from tests.redis_server import OwnRedis

redis = pytest.importorskip("redis")
from llmswitch._state.redis import RedisStore  # noqa: E402 - needs the driver

pytestmark = pytest.mark.redis

T0 = 1_780_000_000.0
SCOPE = "groq:GROQ_API_KEY"
RPM30 = [make_window("rpm", 30)]


@pytest.fixture
def tenants(redis_url: str, redis_prefix: str) -> Iterator[tuple[RedisStore, RedisStore]]:
    a = RedisStore(url=redis_url, prefix=redis_prefix + "a:")
    b = RedisStore(url=redis_url, prefix=redis_prefix + "b:")
    yield a, b
    for s in (a, b):
        s.reset()
        s.close()


def test_prefixes_do_not_see_each_other(tenants: tuple[RedisStore, RedisStore]) -> None:
    a, b = tenants
    for i in range(30):
        assert a.reserve(SCOPE, RPM30, 0, now=T0 + i).ok
    a.block("x:K", until=T0 + 100, reason="429")
    a.put_learned_limits(SCOPE, {"rpm": 30})
    assert b.reserve(SCOPE, RPM30, 0, now=T0 + 30).ok
    assert b.get_block("x:K", now=T0) is None
    assert b.get_learned_limits(SCOPE) == {}
    b.reset()
    assert not a.reserve(SCOPE, RPM30, 0, now=T0 + 30).ok  # b's reset left a's keys alone


def test_keys_expire_so_redis_does_not_grow(tenants: tuple[RedisStore, RedisStore]) -> None:
    a, _ = tenants
    windows = [make_window("rpm", 30), make_window("tpd", 10**6, reset="America/Los_Angeles")]
    adm = a.reserve(SCOPE, windows, 100, now=time.time())
    a.settle(SCOPE, adm.reservation_id, 50, now=time.time())
    a.block(SCOPE, until=time.time() + 10, reason="429")
    a.try_acquire_probe(SCOPE, now=time.time(), ttl=30)
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    try:
        keys = [k.decode() for k in client.scan_iter(match=a.prefix + "*")]
        ttls = {k.removeprefix(a.prefix): client.pttl(k) for k in keys}
    finally:
        client.close()
    assert ttls, "the reservation wrote nothing"
    for key, ttl in ttls.items():
        assert 0 < ttl <= 30 * 3600 * 1000, f"{key} never expires (pttl {ttl})"


def test_server_time_ignores_the_callers_clock(redis_url: str, redis_prefix: str) -> None:
    """Two machines whose clocks disagree by an hour still share one sliding minute."""
    store = RedisStore(url=redis_url, prefix=redis_prefix, server_time=True)
    try:
        now = time.time()
        for i in range(30):
            skew = 3600.0 if i % 2 else -3600.0
            assert store.reserve(SCOPE, RPM30, 0, now=now + skew).ok
        refused = store.reserve(SCOPE, RPM30, 0, now=now + 7200)
        assert (refused.ok, refused.window) == (False, "rpm")
        assert refused.retry_at is not None and abs(refused.retry_at - (now + 60)) < 5
        assert store.usage(SCOPE, RPM30, now=0.0)[0].used == 30
        assert store.try_acquire_probe(SCOPE, now=0.0, ttl=30)
        assert not store.try_acquire_probe(SCOPE, now=now + 3600, ttl=30)
    finally:
        store.reset()
        store.close()


def test_check_reports_where_without_a_password(redis_url: str, redis_prefix: str) -> None:
    store = RedisStore(url="redis://:s3cret@127.0.0.1:6379/0", prefix=redis_prefix)
    health = store.check()
    store.close()
    assert health.backend == "redis"
    assert "s3cret" not in repr(health)
    assert health.extra["server"] == "127.0.0.1:6379/0"


# -- a Redis of our own, to stop and start -----------------------------------------------------


@pytest.fixture
def own_redis(redis_url: str) -> Iterator[OwnRedis]:
    server = OwnRedis()
    server.start()
    yield server
    server.cleanup()


def every_call(store: Store) -> list[tuple[str, Callable[[], object]]]:
    return [
        ("reserve", lambda: store.reserve(SCOPE, RPM30, 0, now=T0)),
        ("settle", lambda: store.settle(SCOPE, "1", 5, now=T0)),
        ("release", lambda: store.release(SCOPE, "1")),
        ("usage", lambda: store.usage(SCOPE, RPM30, now=T0)),
        ("block", lambda: store.block(SCOPE, until=T0 + 1, reason="x")),
        ("get_block", lambda: store.get_block(SCOPE, now=T0)),
        ("get_health", lambda: store.get_health(SCOPE)),
        ("trip", lambda: store.trip(SCOPE, until=T0 + 1, kind="timeout", message="", now=T0)),
        ("probe", lambda: store.try_acquire_probe(SCOPE, now=T0, ttl=1)),
        ("limits", lambda: store.get_learned_limits(SCOPE)),
        ("usage_rows", lambda: store.usage_rows()),
    ]


def test_down_server_raises_storage_error_and_recovers(own_redis: OwnRedis) -> None:
    store = RedisStore(url=f"redis://127.0.0.1:{own_redis.port}/0", prefix="t:")
    assert store.reserve(SCOPE, RPM30, 0, now=T0).ok
    own_redis.stop()

    for name, call in every_call(store):
        with pytest.raises(StorageError, match=r"Redis at 127\.0\.0\.1") as info:
            call()
        assert info.value.backend == "redis", name
        assert isinstance(info.value.__cause__, redis.exceptions.RedisError), name
    health = store.check()
    assert (health.ok, health.backend) == (False, "redis")
    assert "Redis" in health.detail

    own_redis.start()  # empty: no persistence, and the script cache is gone too
    assert store.check().ok
    assert store.reserve(SCOPE, RPM30, 0, now=T0).ok
    assert store.usage(SCOPE, RPM30, now=T0)[0].used == 1
    store.close()
