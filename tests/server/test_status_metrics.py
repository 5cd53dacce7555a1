"""The status, usage, health and metrics endpoints, and the dashboard's data, after real traffic."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from llmswitch._clock import FakeClock
from llmswitch._events import CallFinished
from llmswitch.server.dashboard import RequestHistory
from tests.server.conftest import Gateway, GatewayFactory

USER = [{"role": "user", "content": "status please"}]


def _chat(gw: Gateway, n: int = 1) -> None:
    with httpx.Client() as c:
        for _ in range(n):
            r = c.post(gw.v1 + "/chat/completions", json={"model": "auto", "messages": USER})
            assert r.status_code == 200


def test_status_endpoint_is_exactly_the_managers_status(gateway: Gateway) -> None:
    _chat(gateway, 3)
    served = httpx.get(gateway.base_url + "/api/llm-providers").json()
    assert served == json.loads(json.dumps(gateway.manager.get_provider_status()))
    groq = served["providers"]["groq"]
    assert served["current_provider"] == "groq" and groq["is_current"] is True
    assert groq["requests_this_minute"] == 3 and groq["rate_limit_per_minute"] == 30


def test_usage_by_period_and_a_bad_period(gateway: Gateway) -> None:
    _chat(gateway, 2)
    usage = httpx.get(gateway.base_url + "/api/usage", params={"period": "week"}).json()
    assert usage["providers"]["groq"]["succeeded"] == 2
    bad = httpx.get(gateway.base_url + "/api/usage", params={"period": "decade"})
    assert bad.status_code == 400 and "today" in bad.json()["error"]["message"]


def test_healthz(gateway: Gateway) -> None:
    body = httpx.get(gateway.base_url + "/healthz").json()
    assert body == {
        "status": "ok",
        "providers_usable": 5,
        "state": {"backend": "memory", "ok": True},
    }


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
    }


def test_metrics_count_requests_failovers_tokens_and_windows(gateway: Gateway) -> None:
    _chat(gateway, 2)
    gateway.sim.set_fault("groq", {"kind": "status", "status": 503})
    _chat(gateway, 1)
    m = _samples(httpx.get(gateway.base_url + "/metrics").text)
    assert (
        m[
            (
                "llmswitch_requests_total",
                (("outcome", "ok"), ("provider", "groq"), ("stream", "false")),
            )
        ]
        == 2
    )
    assert (
        m[
            (
                "llmswitch_requests_total",
                (("outcome", "ok"), ("provider", "gemini"), ("stream", "false")),
            )
        ]
        == 1
    )
    assert m[("llmswitch_failovers_total", (("kind", "server_error"), ("provider", "groq")))] == 1
    assert m[("llmswitch_tokens_total", (("direction", "completion"), ("provider", "groq")))] > 0
    assert m[("llmswitch_window_used", (("provider", "groq"), ("window", "rpm")))] == 3
    assert m[("llmswitch_window_limit", (("provider", "groq"), ("window", "rpm")))] == 30
    assert m[("llmswitch_provider_status", (("provider", "groq"), ("status", "cooling_down")))] == 1
    assert m[("llmswitch_cooldown_remaining_seconds", (("provider", "groq"),))] == 300
    # the circuit that opened is the model's on Groq; its neighbour stays in service
    assert (
        m[
            (
                "llmswitch_model_circuit_open",
                (("model", "openai/gpt-oss-120b"), ("provider", "groq")),
            )
        ]
        == 1
    )
    assert (
        m[("llmswitch_model_circuit_open", (("model", "openai/gpt-oss-20b"), ("provider", "groq")))]
        == 0
    )
    assert ("llmswitch_request_latency_seconds_count", (("provider", "groq"),)) in m


def test_each_app_has_its_own_registry(gateway: Gateway) -> None:
    from llmswitch.server.app import create_app

    second = create_app(gateway.manager, api_key="")
    assert second.state.metrics.registry is not gateway.app.state.metrics.registry


def test_dashboard_data_prices_each_free_model_at_its_own_list_price(gateway: Gateway) -> None:
    _chat(gateway, 4)
    data = httpx.get(gateway.base_url + "/api/dashboard").json()
    groq = gateway.manager.settings.providers[0]
    assert groq.name == "groq"
    price_in, price_out = groq.price(groq.default_model)
    usage = httpx.get(gateway.base_url + "/api/usage").json()["providers"]["groq"]
    expected = (usage["prompt_tokens"] * price_in + usage["completion_tokens"] * price_out) / 1e6
    [row] = data["savings"]["by_model"]
    assert (row["provider"], row["model"], row["calls"]) == ("groq", groq.default_model, 4)
    assert row["saved_usd"] == pytest.approx(expected, rel=1e-6) and expected > 0
    assert data["savings"]["saved_usd"] == data["status"]["savings_today_usd"]
    assert data["savings"]["saved_usd"] == pytest.approx(expected, rel=1e-6)
    assert data["history"]["series"]["groq"][-1] == 4


def test_history_buckets_by_its_own_clock_and_forgets_old_buckets() -> None:
    clock = FakeClock()
    history = RequestHistory(bucket_s=10.0, buckets=3, clock=clock)
    for provider in ("groq", "groq", None):
        history(CallFinished(0.0, provider, None, 0.1, 1, False))
    clock.advance(10.0)
    history(CallFinished(0.0, "gemini", None, 0.1, 1, False))
    snap = history.snapshot()
    assert snap["series"] == {"failed": [0, 1, 0], "gemini": [0, 0, 1], "groq": [0, 2, 0]}
    clock.advance(30.0)
    assert history.snapshot()["series"] == {}


def test_dashboard_charts_read_a_sqlite_ledger_and_need_the_gateways_key(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """The charts are the ledger the store keeps (here a real SQLite file), behind the key."""
    gw = make_gateway(state=f"sqlite:///{tmp_path / 'state.db'}", api_key="gateway-key")
    auth = {"Authorization": "Bearer gateway-key"}
    with httpx.Client(headers=auth) as c:
        for _ in range(3):
            body = {"model": "auto", "messages": USER}
            assert c.post(gw.v1 + "/chat/completions", json=body).status_code == 200
            gw.clock.advance(61.0)
        charts = c.get(gw.base_url + "/api/dashboard/charts").json()
        usage = c.get(gw.base_url + "/api/usage").json()["providers"]["groq"]
    hour = charts["spans"]["hour"]["providers"]["groq"]
    assert hour["requests"][-4:] == [1, 1, 1, 0]  # one a minute, the current minute empty
    assert sum(hour["tokens"]) == usage["prompt_tokens"] + usage["completion_tokens"]
    assert all(v > 0 for v in hour["latency_ms"][-4:-1]) and hour["latency_ms"][-1] is None
    assert sum(charts["spans"]["today"]["providers"]["groq"]["requests"]) == usage["requests"]
    assert charts["complete"] is True and charts["money_day"] == "utc"
    refused = httpx.get(gw.base_url + "/api/dashboard/charts")
    assert refused.status_code == 401
