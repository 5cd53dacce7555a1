"""Alerts through the gateway: the status JSON lists them, Prometheus counts them, state is up."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from llmswitch._events import StoreHealthChanged, emit
from llmswitch._state.base import StoreHealth
from llmswitch._state.memory import MemoryStore
from tests.server.conftest import Gateway, GatewayFactory

USER = [{"role": "user", "content": "alert me"}]


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
    }


def _chat(gw: Gateway) -> None:
    r = httpx.post(gw.v1 + "/chat/completions", json={"model": "auto", "messages": USER})
    assert r.status_code == 200


def test_status_json_lists_alerts_newest_first(gateway: Gateway) -> None:
    gateway.sim.set_fault("groq", {"kind": "status", "status": 503})
    _chat(gateway)
    gateway.clock.advance(5.0)
    emit(gateway.manager.sinks, StoreHealthChanged(gateway.clock(), "memory", False, "gone", False))
    alerts = httpx.get(gateway.base_url + "/api/llm-providers").json()["alerts"]
    assert [a["kind"] for a in alerts] == ["store_degraded", "cooldown"]
    assert alerts[1]["provider"] == "groq" and alerts[0]["provider"] is None
    board = httpx.get(gateway.base_url + "/api/dashboard").json()
    assert [a["kind"] for a in board["status"]["alerts"]] == ["store_degraded", "cooldown"]


def test_metrics_count_alerts_by_kind_and_provider_and_report_state_up(gateway: Gateway) -> None:
    gateway.sim.set_fault("groq", {"kind": "status", "status": 503})
    _chat(gateway)
    emit(gateway.manager.sinks, StoreHealthChanged(gateway.clock(), "memory", False, "x", False))
    emit(gateway.manager.sinks, StoreHealthChanged(gateway.clock(), "memory", False, "x", False))
    m = _samples(httpx.get(gateway.base_url + "/metrics").text)
    assert m[("llmswitch_alerts_total", (("kind", "cooldown"), ("provider", "groq")))] == 1
    assert m[("llmswitch_alerts_total", (("kind", "store_degraded"), ("provider", "none")))] == 1
    assert m[("llmswitch_state_up", (("backend", "memory"),))] == 1
    assert m[("llmswitch_provider_status", (("provider", "groq"), ("status", "degraded")))] == 0


def test_state_up_is_0_while_the_store_does_not_answer(make_gateway: GatewayFactory) -> None:
    class DownStore(MemoryStore):
        def check(self) -> StoreHealth:
            return StoreHealth(backend="memory", ok=False, detail="disk full")

    gw = make_gateway(store=DownStore())
    m = _samples(httpx.get(gw.base_url + "/metrics").text)
    assert m[("llmswitch_state_up", (("backend", "memory"),))] == 0
