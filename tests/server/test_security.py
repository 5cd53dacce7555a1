"""Auth, bind rules, and a canary key that must never leave the gateway."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from llmswitch.server.run import BindRefused, serve
from llmswitch.server.security import Redactor, check_bind, is_loopback
from tests.server.conftest import Gateway, GatewayFactory

GATEWAY_KEY = "gw-CANARY-gateway-key-7f3a"
USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]
CANARY_KEYS = {
    "GROQ_API_KEY": "gsk_CANARY_groq_5b1d9e",
    "GEMINI_API_KEY": "AIzaSy_CANARY_gemini_77c2",
    "OPENROUTER_API_KEY": "sk-or-v1-CANARY_openrouter_a1b2",
    "TOGETHER_API_KEY": "tgp_v1_CANARY_together_c3d4",
    "OPENAI_API_KEY": "sk-proj-CANARY_openai_e5f6",
}


@pytest.fixture()
def locked(make_gateway: GatewayFactory) -> Gateway:
    return make_gateway(api_key=GATEWAY_KEY)


@pytest.mark.parametrize(
    "path", ["/v1/models", "/api/llm-providers", "/api/usage", "/api/dashboard"]
)
def test_protected_paths_need_the_bearer_key(locked: Gateway, path: str) -> None:
    url = locked.base_url + path
    refused = httpx.get(url)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "invalid_api_key"
    assert httpx.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert httpx.get(url, headers={"Authorization": f"Bearer {GATEWAY_KEY}"}).status_code == 200
    assert httpx.get(url, headers={"Authorization": f"bearer {GATEWAY_KEY}"}).status_code == 200


@pytest.mark.parametrize("path", ["/", "/static/dashboard.js", "/healthz", "/metrics"])
def test_page_health_and_metrics_stay_open(locked: Gateway, path: str) -> None:
    assert httpx.get(locked.base_url + path).status_code == 200


def test_openai_sdk_with_the_gateway_key_works_and_without_it_is_refused(locked: Gateway) -> None:
    with (
        openai.OpenAI(base_url=locked.v1, api_key="wrong", max_retries=0) as bad,
        pytest.raises(openai.AuthenticationError),
    ):
        bad.chat.completions.create(model="auto", messages=USER)
    with openai.OpenAI(base_url=locked.v1, api_key=GATEWAY_KEY, max_retries=0) as good:
        assert good.chat.completions.create(model="auto", messages=USER).choices
    assert locked.sim.requests("groq")[0]["status"] == 200  # only the authorised call went out


def test_env_variable_turns_auth_on(
    make_gateway: GatewayFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMSWITCH_API_KEY", GATEWAY_KEY)
    gw = make_gateway(api_key=None)
    assert httpx.get(gw.base_url + "/api/llm-providers").status_code == 401


@pytest.mark.parametrize(
    ("host", "key", "insecure", "allowed"),
    [
        ("127.0.0.1", None, False, True),
        ("localhost", None, False, True),
        ("::1", None, False, True),
        ("0.0.0.0", None, False, False),
        ("192.168.1.20", None, False, False),
        ("0.0.0.0", "k", False, True),
        ("0.0.0.0", None, True, True),
    ],
)
def test_bind_rules(host: str, key: str | None, insecure: bool, allowed: bool) -> None:
    assert (check_bind(host, api_key=key, insecure=insecure) is None) is allowed
    assert is_loopback(host) is (host in ("127.0.0.1", "localhost", "::1"))


def test_serve_refuses_a_public_host_without_key_before_building_anything(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LLMSWITCH_API_KEY", raising=False)

    def factory() -> Any:
        raise AssertionError("no manager may be built for a refused bind")

    with pytest.raises(BindRefused, match="LLMSWITCH_API_KEY"):
        serve(factory, host="0.0.0.0", port=1)


def test_redactor_masks_every_configured_secret() -> None:
    redact = Redactor(["gsk_CANARY_groq_5b1d9e", "short"])
    assert redact("echo gsk_CANARY_groq_5b1d9e!") == "echo …1d9e!"
    assert redact("short stays") == "short stays"  # too short to be a key: not worth a regex


def _scan_targets(gw: Gateway) -> list[str]:
    """Every reply a user or a scraper can get: successes, streams, errors, pages, metrics."""
    auth = {"Authorization": f"Bearer {GATEWAY_KEY}"}
    texts: list[str] = []
    with httpx.Client(base_url=gw.base_url, headers=auth) as c:

        def record(r: httpx.Response) -> None:
            texts.append(r.text)
            texts.extend(f"{k}: {v}" for k, v in r.headers.items())

        body = {"model": "auto", "messages": USER}
        record(c.post("/v1/chat/completions", json=body))
        record(c.post("/v1/chat/completions", json={**body, "stream": True}))
        gw.sim.revoke_key("groq", CANARY_KEYS["GROQ_API_KEY"])  # the provider's 401 body
        gw.sim.set_fault("gemini", {"kind": "status", "status": 503})
        record(c.post("/v1/chat/completions", json=body))
        record(c.post("/v1/chat/completions", json={**body, "model": "nope"}))
        for name in ("openrouter", "together", "openai"):
            gw.sim.set_fault(name, {"kind": "status", "status": 500})
        record(c.post("/v1/chat/completions", json=body))
        for path in (
            "/",
            "/static/dashboard.js",
            "/static/dashboard.css",
            "/v1/models",
            "/api/llm-providers",
            "/api/usage?period=all",
            "/api/dashboard",
            "/healthz",
            "/metrics",
        ):
            record(c.get(path))
    return texts


def test_no_key_ever_reaches_a_reply_a_page_or_a_log(
    make_gateway: GatewayFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    gw = make_gateway(api_key=GATEWAY_KEY, keys=CANARY_KEYS)
    texts = _scan_targets(gw)
    assert len(texts) > 20
    logs = [r.getMessage() for r in caplog.records] + [caplog.text]
    assert any("failover" in line for line in logs), "the scan must exercise failure logs"
    for text in texts + logs:
        assert "CANARY" not in text, text[:500]
