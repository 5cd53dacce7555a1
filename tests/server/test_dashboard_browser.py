"""Headless Chromium loads the dashboard; its cards and chart must match the status JSON.

Chromium is driven through its CLI (``--dump-dom`` and ``--screenshot``) with a virtual-time
budget, so the page's script runs its polls and renders before the DOM is dumped: no extra
driver package (``test_dashboard_page.py`` clicks, over the DevTools protocol). The README's
``docs/dashboard.png`` comes from ``scripts/dashboard_screenshot.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.conftest import Gateway

pytestmark = pytest.mark.browser


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail("chromium is missing under CI=true; .ci/run installs Debian's chromium")
    pytest.skip("chromium is not installed (Debian: apt-get install chromium; .ci/run does it)")


def run_chromium(url: str, tmp: Path, *extra: str) -> str:
    args = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp}",
        "--virtual-time-budget=4000",
        *extra,
        url,
    ]
    done = subprocess.run(args, capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


class Elements(HTMLParser):
    """Every element's tag and attributes, plus the text inside each card."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str]]] = []
        self.card_text: dict[str, list[str]] = {}
        self._card: str | None = None
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.found.append((tag, a))
        if tag == "article" and "card" in a.get("class", ""):
            self._card, self._depth = a["data-provider"], 0
            self.card_text[self._card] = []
        elif self._card is not None:
            self._depth += 1

    def handle_endtag(self, tag: str) -> None:
        if self._card is not None:
            if self._depth == 0 and tag == "article":
                self._card = None
            else:
                self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._card is not None:
            self.card_text[self._card].append(data)

    def all(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [
            a
            for t, a in self.found
            if t == tag
            and all(
                k.replace("_", "-") in a and (v == "*" or a[k.replace("_", "-")] == v)
                for k, v in attrs.items()
            )
        ]


def _traffic(gw: Gateway) -> None:
    """Groq serves, then fails (cooling down), Gemini takes over; a pinned paid call costs."""
    with httpx.Client(base_url=gw.v1) as c:

        def ask(model: str = "auto") -> None:
            r = c.post(
                "/chat/completions",
                json={
                    "model": model,
                    "messages": [{"role": "user", "content": "dashboard traffic " * 20}],
                },
            )
            assert r.status_code == 200
            gw.clock.advance(1.5)

        for _ in range(14):
            ask()
        gw.sim.set_fault("groq", {"kind": "status", "status": 503})
        for _ in range(9):
            ask()
        for _ in range(3):
            ask("openrouter/meta-llama/llama-3.3-70b-instruct:free")
        ask("together/meta-llama/Llama-3.3-70B-Instruct-Turbo")


def test_dashboard_renders_cards_and_chart_that_match_the_status(
    gateway: Gateway, tmp_path: Path
) -> None:
    _traffic(gateway)
    data: dict[str, Any] = httpx.get(gateway.base_url + "/api/dashboard").json()
    page = Elements()
    dom = run_chromium(gateway.base_url + "/", tmp_path, "--dump-dom")
    page.feed(dom)
    assert page.all("body", data_ready="1"), "the script never rendered"
    providers = data["status"]["providers"]
    cards = {c["data-provider"]: c for c in page.all("article", data_provider="*")}
    assert list(cards) == sorted(providers, key=lambda n: providers[n]["priority"])
    for name, p in providers.items():
        assert cards[name]["data-status"] == p["status"]
        text = " ".join(page.card_text[name])
        assert f"priority {p['priority']}" in text
        assert f"{p['windows']['rpm']['used']} / {p['windows']['rpm']['limit']} requests" in text
    for window in ("rpm", "tpd"):  # each card's bar carries the exact numbers of its window
        bars = [
            (int(b["data-used"]), int(b["data-limit"])) for b in page.all("div", data_window=window)
        ]
        assert bars == [
            (providers[n]["windows"][window]["used"], providers[n]["windows"][window]["limit"])
            for n in cards
        ]
    assert providers["groq"]["status"] == "cooling_down"
    groq = " ".join(page.card_text["groq"])
    when = datetime.fromtimestamp(providers["groq"]["last_error"]["time"]).strftime("%H:%M")
    assert "not taking calls: cooling down · until" in groq
    assert f"last error {when} · server_error: Service Unavailable" in groq
    # the circuit that opened is one model's: the card names it and why
    rows = page.all("div", data_model="*")
    assert [(r["data-model"], r["data-circuit"]) for r in rows] == [("openai/gpt-oss-120b", "open")]
    assert "model openai/gpt-oss-120b: open after server_error" in groq
    assert "● current" in " ".join(page.card_text[data["status"]["current_provider"]])
    rects: dict[str, int] = {}
    for r in page.all("rect", data_count="*"):  # the live strip
        rects[r["data-provider"]] = rects.get(r["data-provider"], 0) + int(r["data-count"])
    series = data["history"]["series"]
    assert rects == {n: sum(v) for n, v in series.items()}
    assert set(rects) == {"groq", "gemini", "openrouter", "together"}
    legend = {s["data-provider"]: int(s["data-total"]) for s in page.all("span", data_total="*")}
    assert legend == rects
    alerts = data["status"]["alerts"]  # newest first, as the status API lists them
    assert [li["data-kind"] for li in page.all("li", data_kind="*")] == [a["kind"] for a in alerts]
    assert "cooldown" in [a["kind"] for a in alerts]
    assert [li.get("data-provider") for li in page.all("li", data_kind="cooldown")] == ["groq"]
    assert page.all("strong", id="state", data_ok="1") and "memory · healthy" in dom
    saved = page.all("div", id="savings")[0]
    assert data["status"]["savings_today_usd"] > 0 and data["status"]["spent_today_usd"] > 0
    assert float(saved["data-usd"]) == pytest.approx(data["status"]["savings_today_usd"])
    spent = page.all("div", id="spent")[0]
    assert float(spent["data-usd"]) == pytest.approx(data["status"]["spent_today_usd"])
    models = {(r["data-provider"], r["data-model"]) for r in page.all("tr", data_model="*")}
    assert models == {(m["provider"], m["model"]) for m in data["savings"]["by_model"]}


def test_the_readme_screenshot_script_renders_the_page(tmp_path: Path) -> None:
    """``scripts/dashboard_screenshot.py`` makes the README's ``docs/dashboard.png``; here it
    writes to a temporary file (a test run leaves the checkout as it found it)."""
    chromium()
    shot = tmp_path / "d.png"
    script = Path(__file__).resolve().parents[2] / "scripts" / "dashboard_screenshot.py"
    done = subprocess.run(
        [sys.executable, str(script), "--out", str(shot)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 50_000, "a blank page compresses to almost nothing"


def test_dashboard_reads_on_a_phone(gateway: Gateway, tmp_path: Path) -> None:
    _traffic(gateway)
    phone = tmp_path / "phone.png"
    run_chromium(
        gateway.base_url + "/",
        tmp_path / "profile",
        f"--screenshot={phone}",
        "--window-size=390,844",
    )
    assert phone.stat().st_size > 10_000
    html = httpx.get(gateway.base_url + "/").text
    assert 'name="viewport"' in html and "http" not in html.replace(
        'xmlns="http://www.w3.org', ""
    )  # every asset comes from the gateway itself
