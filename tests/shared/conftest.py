"""Fixtures for shared state across processes: a Redis server of the test's own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.redis_server import OwnRedis
from tests.server.conftest import make_gateway  # noqa: F401 - the gateway fixture, reused
from tests.state.conftest import redis_url  # noqa: F401 - the shared Redis, or skip/fail

pytest.importorskip("redis")


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    """A fresh Redis on a free port, to stop and start; data survives a restart (AOF)."""
    server = OwnRedis(persistent=True)
    server.start()
    yield server
    server.cleanup()
