"""Regenerate docs/dashboard.png: the dashboard after three hours of simulated traffic.

Why a script: the README's picture should show what the dashboard shows today, and anyone can
refresh it after a change to the page: ``.venv/bin/python scripts/dashboard_screenshot.py``
(needs Debian's ``chromium``; ``--out`` picks another file). It runs the demo's own world
(``llmswitch._demo.DemoSession``: the simulated providers and the gateway on one FakeClock),
plays bursty traffic through the gateway over the three hours before the real time, with a
rate limit on Groq, paid calls to Together and an outage on OpenRouter at the end, then lets the
clock catch up with the real time and takes the picture with headless Chromium.
"""

from __future__ import annotations

import argparse
import io
import logging
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from rich.console import Console

from llmswitch._demo import DemoSession

ROOT = Path(__file__).resolve().parents[1]
HOURS = 3
PAID = "together/meta-llama/Llama-3.3-70B-Instruct-Turbo"
OPENROUTER = "openrouter/meta-llama/llama-3.3-70b-instruct:free"


def traffic(demo: DemoSession) -> None:
    """A working day's shape in miniature: a call or two a minute, a burst every half hour
    (past Groq's 30 a minute, so Gemini takes the rest)."""
    minutes = HOURS * 60
    with httpx.Client(base_url=demo.base_url + "/v1", timeout=30.0) as client:

        def ask(model: str = "auto", words: int = 12) -> None:
            body = {
                "model": model,
                "max_tokens": 60,
                "messages": [{"role": "user", "content": "summarise this ticket " * words}],
            }
            client.post("/chat/completions", json=body)

        for minute in range(minutes):
            burst = minute % 30 < 2
            calls = 34 if burst else 1 + minute % 2
            if minute == minutes - 50:
                demo.sim.set_fault("groq", {"kind": "rate_limit", "retry_after": 20, "count": 1})
            if minute == minutes - 2:
                demo.sim.set_fault("openrouter", {"kind": "status", "status": 503})
            for _ in range(calls):
                ask(words=12 + minute % 7)
                demo.clock.advance(60.0 / (calls + 1))
            if minute % 15 == 0:
                ask(PAID, words=40)
            if minute % 10 == 5 or minute == minutes - 2:
                ask(OPENROUTER)
            demo.clock.advance(60.0 / (calls + 1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "dashboard.png")
    args = parser.parse_args()
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("needs chromium (Debian: apt-get install chromium)", file=sys.stderr)
        return 2
    logging.getLogger("llmswitch").addHandler(logging.NullHandler())  # alerts are on the page
    with DemoSession(port=0, console=Console(file=io.StringIO())) as demo:
        demo.clock.set(time.time() - HOURS * 3600.0)
        traffic(demo)
        demo.follow_real_time()
        with tempfile.TemporaryDirectory() as profile:
            done = subprocess.run(
                [
                    browser,
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--hide-scrollbars",
                    f"--user-data-dir={profile}",
                    "--virtual-time-budget=5000",
                    "--window-size=1280,1720",
                    f"--screenshot={args.out}",
                    demo.base_url + "/",
                ],
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
    if done.returncode != 0 or not args.out.exists():
        print(done.stderr[-2000:], file=sys.stderr)
        return 1
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
