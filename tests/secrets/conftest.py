"""Fixtures for the secrets tests: the echoing provider, the gateway, Redis servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.redis_server import OwnRedis
from tests.secrets.echo_provider import EchoProvider
from tests.server.conftest import make_gateway  # noqa: F401 - the gateway fixture, reused
from tests.state.conftest import redis_url  # noqa: F401 - the shared Redis, or skip/fail

#: One canary per provider: four with the provider's own prefix (whose partial echoes the
#: wire's shape rules miss) and one of a shape nobody lists.
CANARIES = {
    "GROQ_API_KEY": "gsk_cnryQ7x2V9mZ4pL8wK3jG1NARY",
    "GEMINI_API_KEY": "AIzaCnry5tHq8Rw2Yb6Nd0Vf3Lm7GEMI",
    "OPENROUTER_API_KEY": "sk-or-v1-cnry4Jk8Pz1Xc5Bv9Nm3ROUT",
    "TOGETHER_API_KEY": "tgp_v1_cnry2Wq6Er0Ty4Ui8TOGE",
    "OPENAI_API_KEY": "zk8-live-cnry9Hg3Fd7Sa1Jk5Lz0OPAI",
}
PUBLIC_PREFIX = {"gsk_", "AIza", "sk-or-v1-", "tgp_v1_"}


def leaks(text: str) -> list[str]:
    """Every piece of a canary (five characters or more, past its public prefix) in ``text``.

    Four characters are what a masked key shows (``…NARY``); five in a row are a leak.
    """
    found = []
    for key in CANARIES.values():
        start = max((len(p) for p in PUBLIC_PREFIX if key.startswith(p)), default=0)
        for i in range(max(0, start - 4), len(key) - 4):
            if key[i : i + 5] in text:
                found.append(key[i : i + 5])
    return found


@pytest.fixture
def echo() -> Iterator[EchoProvider]:
    server = EchoProvider()
    yield server
    server.close()


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    """A Redis of the test's own with an append-only file, to read what it wrote to disk."""
    server = OwnRedis(persistent=True)
    server.start()
    yield server
    server.cleanup()
