"""A real Redis stopped and started under a manager: the outage alerts, each once, end to end.

``StoreHealthChanged`` comes from the guarded store and ``NoProviderAvailable`` from the router,
not from the test: this is the whole chain a production outage goes through.
"""

from __future__ import annotations

from typing import Any

import pytest

from llmswitch import Alert, AllProvidersFailed
from llmswitch._clock import FakeClock
from tests.conftest import ManagerFactory
from tests.redis_server import OwnRedis
from tests.shared.conftest import own_redis

__all__ = ["own_redis"]  # the fixture, re-exported
pytestmark = pytest.mark.redis


def test_redis_outage_raises_each_alert_once_and_announces_the_recovery(
    make_manager: ManagerFactory, sim: Any, clock: FakeClock, own_redis: OwnRedis
) -> None:
    seen: list[Alert] = []
    llm = make_manager(state=own_redis.url, on_alert=seen.append)
    assert llm.chat([{"role": "user", "content": "hi"}]).provider == "groq"
    own_redis.stop()
    for _ in range(3):
        with pytest.raises(AllProvidersFailed):
            llm.call_llm("s", "hi")
        clock.advance(0.2)
    assert [a.kind for a in seen] == ["store_degraded", "all_unavailable"]
    assert "Redis at 127.0.0.1" in seen[0].message
    assert [a["kind"] for a in llm.get_provider_status()["alerts"]] == [
        "all_unavailable", "store_degraded",
    ]  # fmt: skip
    own_redis.start()
    clock.advance(1.0)
    assert llm.chat([{"role": "user", "content": "hi"}]).provider == "groq"
    assert [a.kind for a in seen] == [
        "store_degraded", "all_unavailable", "store_recovered", "available_again",
    ]  # fmt: skip
