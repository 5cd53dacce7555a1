"""The dashboard as a user works it, in headless Chromium over the DevTools protocol.

Traffic goes through the real gateway over loopback to the simulator on the shared FakeClock;
the page runs in a real browser (timezone UTC, so times read as the ledger's). Each test clicks
or reads what a user would: the one-line last error and its whole text on a click, the charts
of the last hour and of today, the savings per model, and the clock after a demo-like run.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from openai import OpenAI

from tests.server.cdp import Page, open_page
from tests.server.conftest import Gateway, GatewayFactory
from tests.server.test_dashboard_browser import chromium

pytestmark = pytest.mark.browser
READY = "document.body.dataset.ready === '1' && document.body.dataset.charts === '1'"


def _hhmm(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M")


def _page(gw: Gateway, page: Page) -> None:
    page.size(1280, 1000)  # five cards in a row: each as narrow as on a laptop
    page.goto(gw.base_url + "/")
    page.wait_for(READY)


def _ask(gw: Gateway, n: int, model: str = "auto", step: float = 1.0) -> None:
    client = OpenAI(base_url=gw.v1, api_key="unused", max_retries=0)
    for i in range(n):
        client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": f"chart traffic {i} " * 30}]
        )
        gw.clock.advance(step)


def test_a_healthy_card_shows_its_last_error_on_one_line_and_the_whole_text_on_a_click(
    gateway: Gateway, tmp_path: Path
) -> None:
    _ask(gateway, 2)
    gateway.sim.set_fault("groq", {"kind": "rate_limit", "retry_after": 7, "count": 1})
    _ask(gateway, 1)  # groq's 429 fails over to gemini
    gateway.clock.advance(30.0)
    _ask(gateway, 1)  # groq serves again: healthy, with its last error on record
    groq = httpx.get(gateway.base_url + "/api/llm-providers").json()["providers"]["groq"]
    assert groq["status"] == "available" and groq["last_error"]["kind"] == "rate_limited"
    message = groq["last_error"]["message"]
    assert len(message) > 100, "the simulator's 429 text is long, as Groq's is"
    with open_page(chromium(), tmp_path) as page:
        _page(gateway, page)
        card = "document.querySelector('article[data-provider=\"groq\"]')"
        line = page.eval(card + ".querySelector('details.last-error summary').textContent")
        when = _hhmm(groq["last_error"]["time"])
        assert line.startswith(f"last error {when} · rate_limited: "), line
        assert line.endswith("…")
        cut = line.removeprefix(f"last error {when} · rate_limited: ").removesuffix("…")
        assert cut and message.startswith(cut), "the start of the message"
        assert message[len(cut)] in " ,.;:", "cut at a word boundary"
        whole = card + ".querySelector('details.last-error pre')"
        # one line, however narrow the card, and the whole text not shown yet
        assert page.eval(whole + ".checkVisibility()") is False
        summary = card + ".querySelector('details.last-error summary')"
        lines = page.eval(
            f"{summary}.offsetHeight / parseFloat(getComputedStyle({summary}).lineHeight)"
        )
        assert lines < 1.5
        text = card + ".querySelector('details.last-error .line')"
        assert page.eval(f"{text}.scrollWidth <= {text}.clientWidth + 1"), "nothing hidden"
        assert page.eval(card + ".querySelector('.reason')") is None  # healthy: no reason
        page.eval(card + ".querySelector('details.last-error summary').click()")
        assert page.eval(whole + ".checkVisibility()") is True
        assert page.eval(whole + ".textContent") == f"rate_limited: {message}"
        page.wait_for("document.querySelector('#updated').textContent.includes('ago')")
        page.wait_for("document.querySelector('#updated').textContent === 'live'")
        # the next poll redraws the cards: what the user opened stays open
        assert page.eval(card + ".querySelector('details.last-error').open") is True


def test_a_card_in_trouble_says_why_in_admissions_words_and_until_when(
    gateway: Gateway, tmp_path: Path
) -> None:
    gateway.sim.set_fault("groq", {"kind": "status", "status": 503})
    _ask(gateway, 1)
    groq = httpx.get(gateway.base_url + "/api/llm-providers").json()["providers"]["groq"]
    assert groq["status"] == "cooling_down" and groq["available_at"]
    with open_page(chromium(), tmp_path) as page:
        _page(gateway, page)
        card = "document.querySelector('article[data-provider=\"groq\"]')"
        reason = page.eval(card + ".querySelector('.reason').textContent")
        until = datetime.fromtimestamp(groq["available_at"], UTC).strftime("%H:%M:%S")
        assert reason.startswith(f"not taking calls: cooling down · until {until} · ")
        assert reason.endswith(" left")  # and it counts down
        assert page.eval(card + ".querySelector('.reason').dataset.reason") == groq["reason"]
        line = page.eval(card + ".querySelector('details.last-error summary').textContent")
        assert line.startswith(f"last error {_hhmm(groq['last_error']['time'])} · server_error")


def _sums(page: Page, rng: str, metric: str) -> dict[str, float]:
    """What the page drew: per provider, the values of its bars (or points) in one chart."""
    nodes = page.eval(
        f'[...document.querySelectorAll(\'.chart-grid[data-range="{rng}"] '
        f'figure[data-metric="{metric}"] [data-provider][data-value]\')]'
        ".map(n => [n.dataset.provider, Number(n.dataset.value)])"
    )
    out: dict[str, float] = {}
    for provider, value in nodes:
        out[provider] = out.get(provider, 0.0) + value
    return out


def test_charts_show_requests_tokens_cost_and_latency_per_provider_for_the_hour_and_today(
    gateway: Gateway, tmp_path: Path
) -> None:
    midnight = (gateway.clock() // 86_400 + 1) * 86_400
    gateway.clock.set(midnight + 3600.0)  # 01:00 UTC: today holds more than the last hour
    _ask(gateway, 3)
    _ask(gateway, 2, model="together/meta-llama/Llama-3.3-70B-Instruct-Turbo")  # paid: cost
    gateway.clock.advance(2 * 3600.0)  # two hours on: out of the last hour, still today
    _ask(gateway, 4, step=20.0)
    charts: dict[str, Any] = httpx.get(gateway.base_url + "/api/dashboard/charts").json()
    usage = httpx.get(gateway.base_url + "/api/usage").json()["providers"]
    hour, today = charts["spans"]["hour"]["providers"], charts["spans"]["today"]["providers"]
    assert {n: sum(p["requests"]) for n, p in hour.items()} == {"groq": 4}
    assert (
        {n: sum(p["requests"]) for n, p in today.items()}
        == {n: u["requests"] for n, u in usage.items()}
        == {"groq": 7, "together": 2}
    )
    assert charts["complete"] is True
    with open_page(chromium(), tmp_path) as page:
        _page(gateway, page)
        hidden = "document.querySelector('.chart-grid[data-range=\"%s\"]').hidden"
        assert page.eval(hidden % "hour") is False and page.eval(hidden % "today") is True
        assert _sums(page, "hour", "requests") == {"groq": 4}
        assert _sums(page, "today", "requests") == {"groq": 7, "together": 2}
        for name, u in usage.items():
            drawn = _sums(page, "today", "tokens")[name]
            assert drawn == u["prompt_tokens"] + u["completion_tokens"]
        assert _sums(page, "today", "cost_usd")["together"] == pytest.approx(
            usage["together"]["cost_usd"]
        )
        assert "groq" not in _sums(page, "today", "cost_usd")  # free: no cost bar
        latency = _sums(page, "today", "latency_ms")
        assert set(latency) == {"groq", "together"} and all(v > 0 for v in latency.values())
        legend = "[...document.querySelectorAll('#charts-legend [data-requests]')]"
        assert page.eval(legend + ".map(n => n.textContent)") == ["groq (4)"]
        page.eval("document.querySelector('#charts button[data-range=\"today\"]').click()")
        assert page.eval(hidden % "today") is False and page.eval(hidden % "hour") is True
        assert page.eval(legend + ".map(n => n.textContent)") == ["groq (7)", "together (2)"]
        axis = page.eval(
            "document.querySelector('.chart-grid[data-range=\"today\"] .axis').textContent"
        )
        assert "UTC" in axis


def test_savings_are_shown_per_model_at_each_models_own_price(
    gateway: Gateway, tmp_path: Path
) -> None:
    gemini = next(p for p in gateway.manager.settings.providers if p.name == "gemini").models[0]
    _ask(gateway, 3)
    _ask(gateway, 2, model=f"gemini/{gemini}")
    status = httpx.get(gateway.base_url + "/api/llm-providers").json()
    board = httpx.get(gateway.base_url + "/api/dashboard").json()["savings"]
    by_model = {(m["provider"], m["model"]): m for m in board["by_model"]}
    assert set(by_model) == {("groq", "openai/gpt-oss-120b"), ("gemini", gemini)}
    for m in by_model.values():  # each model at its own list price
        expected = (
            m["prompt_tokens"] * m["price_in_per_mtok"]
            + m["completion_tokens"] * m["price_out_per_mtok"]
        ) / 1e6
        assert m["saved_usd"] == pytest.approx(expected) and expected > 0
    assert by_model[("groq", "openai/gpt-oss-120b")]["calls"] == 3
    assert sum(m["saved_usd"] for m in by_model.values()) == pytest.approx(
        status["savings_today_usd"]
    )
    with open_page(chromium(), tmp_path) as page:
        _page(gateway, page)
        rows = page.eval(
            "[...document.querySelectorAll('#savings-models tbody tr[data-model]')]"
            ".map(r => [r.dataset.provider, r.dataset.model, Number(r.dataset.saved),"
            " r.textContent])"
        )
        assert {(p, m): s for p, m, s, _ in rows} == {
            k: pytest.approx(v["saved_usd"]) for k, v in by_model.items()
        }
        assert any("groq/openai/gpt-oss-120b" in text for *_, text in rows)
        saved = page.eval("document.querySelector('#savings').textContent")
        assert saved == "$" + f"{status['savings_today_usd']:.6f}"
        body = page.eval("document.body.innerText")
        assert "priced at together" not in body and "free calls priced at" not in body


def test_a_simulated_clock_is_labelled_as_such(gateway: Gateway, tmp_path: Path) -> None:
    """The test gateway's FakeClock starts in May 2026: far from the browser's own time."""
    with open_page(chromium(), tmp_path) as page:
        _page(gateway, page)
        assert page.eval("document.querySelector('#clock').dataset.simulated") == "1"
        text = page.eval("document.querySelector('#clock').textContent")
        assert text.startswith("simulated time May 28 20:26:40 (") and "this computer" in text


def test_the_clock_is_true_after_a_demo_run(tmp_path: Path) -> None:
    """The demo's own session: its scenarios move a day of simulated time; the page after it
    shows this computer's time, unlabelled, and today's charts hold the demo's calls."""
    from io import StringIO

    from rich.console import Console

    from llmswitch._demo import DemoSession, play

    console = Console(file=StringIO(), width=120)
    with DemoSession(port=0, console=console) as demo:
        failures = play(demo, console)
        assert failures == []
        demo.follow_real_time()
        with open_page(chromium(), tmp_path) as page:
            page.goto(demo.base_url + "/")
            page.wait_for(READY)
            clock = page.eval("document.querySelector('#clock').dataset.simulated")
            shown = page.eval("Number(document.querySelector('#clock').dataset.time)")
            assert clock == "0" and abs(shown - time.time()) < 60
            text = page.eval("document.querySelector('#clock').textContent")
            assert text.startswith("time ")
            today = _sums(page, "today", "requests")
            assert today.get("groq", 0) >= 30, today  # the rate-limit scenario's calls


def test_the_page_fits_a_phone_without_scrolling_sideways(gateway: Gateway, tmp_path: Path) -> None:
    _ask(gateway, 3)
    _ask(gateway, 1, model="together/meta-llama/Llama-3.3-70B-Instruct-Turbo")
    with open_page(chromium(), tmp_path) as page:
        page.size(390, 844)
        page.goto(gateway.base_url + "/")
        page.wait_for(READY)
        assert page.eval("document.documentElement.scrollWidth") <= 390
        assert page.eval("document.querySelectorAll('#savings-models tr[data-model]').length") == 1


def test_a_provider_with_several_keys_shows_what_each_key_waits_for(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    from tests.conftest import SIM_KEYS

    gw = make_gateway(keys={**SIM_KEYS, "GROQ_API_KEY_2": "gsk_test_groq_key_0002"})
    _ask(gw, 60, step=0.0)  # both keys' 30 a minute
    groq = httpx.get(gw.base_url + "/api/llm-providers").json()["providers"]["groq"]
    assert groq["status"] == "rate_limited" and groq["reason"] == "minute_full"
    with open_page(chromium(), tmp_path) as page:
        _page(gw, page)
        rows = page.eval(
            "[...document.querySelectorAll('article[data-provider=\"groq\"] .keys li')]"
            ".map(li => [li.dataset.key, li.dataset.reason, li.textContent])"
        )
    assert [(k, r) for k, r, _ in rows] == [(k["alias"], k["reason"]) for k in groq["keys"]]
    for (_, _, text), key in zip(rows, groq["keys"], strict=True):
        until = datetime.fromtimestamp(key["available_at"], UTC).strftime("%H:%M:%S")
        assert text == f"{key['alias']}: minute full · until {until}"
