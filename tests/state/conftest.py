"""Fixtures for the Store contract suite: one ``store`` per backend, and a way to reopen it.

Redis tests use 127.0.0.1:6379 db 0 with a unique key prefix per test and delete their keys
afterwards. Without a Redis server they are skipped, except under ``CI=true`` where a missing
Redis is a failure (CI must run the whole contract).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from llmswitch._state import store_from_url
from llmswitch._state.base import Store

REDIS_URL = "redis://127.0.0.1:6379/0"

Reopen = Callable[[], Store]


def redis_unavailable() -> str | None:
    """Why Redis cannot be used here, or None when it answers."""
    try:
        import redis
    except ImportError:
        return "the redis package is not installed (pip install 'llmswitch[redis]')"
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5, socket_timeout=1.0)
    try:
        client.ping()
    except redis.exceptions.RedisError as exc:
        return f"no Redis server answers on 127.0.0.1:6379 ({exc})"
    finally:
        client.close()
    return None


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The shared test Redis; skips (or fails under CI=true) when it does not answer."""
    reason = redis_unavailable()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true requires Redis for the state contract tests: {reason}")
        pytest.skip(reason)
    return REDIS_URL


@pytest.fixture
def redis_prefix() -> str:
    return f"llmswitch-test:{uuid.uuid4().hex}:"


BACKENDS = [
    pytest.param("memory", id="memory"),
    pytest.param("sqlite", id="sqlite"),
    pytest.param("redis", id="redis", marks=pytest.mark.redis),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def opened(backend: str) -> Iterator[list[Store]]:
    """Every store a test opened on the backend's data; all cleaned up and closed after."""
    stores: list[Store] = []
    yield stores
    if stores:
        if backend == "redis":
            stores[0].reset()  # the keys under this test's prefix
        for s in stores:
            s.close()


@pytest.fixture
def reopen(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, opened: list[Store]
) -> Reopen:
    """Open another store on the same data (same SQLite file / same Redis prefix)."""
    options: dict[str, str] = {}
    if backend == "memory":
        url = "memory://"
    elif backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'state.db'}"
    else:
        url = request.getfixturevalue("redis_url")
        options = {"prefix": request.getfixturevalue("redis_prefix")}

    def open_store() -> Store:
        if backend == "memory" and opened:
            pytest.skip("memory:// keeps nothing across instances by design")
        s = store_from_url(url, **options)
        opened.append(s)
        return s

    return open_store


@pytest.fixture
def store(reopen: Reopen) -> Store:
    """A fresh, empty store of the backend under test."""
    return reopen()
