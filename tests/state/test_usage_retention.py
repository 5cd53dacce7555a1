"""``ledger_retention_days`` from llmswitch.toml reaches the store; ``get_usage`` and
``/api/usage`` report every call of the period after the raw rows are gone, and ``/api/usage``
breaks the period down per provider, model and key from the roll-ups."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from llmswitch._clock import FakeClock
from llmswitch._state.guarded import GuardedStore
from tests.server.conftest import (
    GatewayFactory,
    make_gateway,  # noqa: F401 - the gateway fixture, reused
)

HI = [{"role": "user", "content": "hi"}]


def test_usage_reads_the_roll_ups_after_the_raw_rows_are_pruned(
    make_gateway: GatewayFactory,  # noqa: F811 - the fixture imported above
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    gw = make_gateway(state=f"sqlite:///{tmp_path}/state.db", extra="ledger_retention_days = 1")
    llm = gw.manager
    assert isinstance(llm.store, GuardedStore)
    assert llm.store.primary.ledger_retention == 86_400.0  # type: ignore[attr-defined]
    served: list[str] = []
    for _ in range(4):  # four days, three calls each
        for _ in range(3):
            served.append(llm.chat(HI).provider)
            clock.advance(60.0)
        clock.advance(86_400.0)
    kept = llm.store.ledger_entries(limit=100)
    assert 0 < len(kept) < len(served), "the raw rows of the first days are gone"
    usage = llm.get_usage("all")
    assert sum(p["requests"] for p in usage["providers"].values()) == len(served) == 12
    with httpx.Client(base_url=gw.base_url) as c:
        body: dict[str, Any] = c.get("/api/usage", params={"period": "all"}).json()
    assert body["providers"] == usage["providers"]
    breakdown = body["by_model_and_key"]
    assert sum(r["requests"] for r in breakdown) == 12
    assert {(r["provider"], r["key_alias"]) for r in breakdown} == {("groq", "GROQ_API_KEY")}
    assert all(r["model"] for r in breakdown)
