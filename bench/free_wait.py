"""How long to wait for a free slot before paying: paid calls and wait per free_wait_seconds.

One caller works through a schedule of arrivals on a FakeClock against the simulator (Groq free
at its catalog limit of 30 requests a minute, OpenAI paid), once per setting, and reports how
many calls were bought and how long calls waited beyond their arrival. Three traffic shapes:

- ``burst``: 45 requests in the first 9 s of every other minute (22.5 a minute on average:
  the free tier could serve everything if the calls spread out);
- ``near``: steady arrivals at 28 a minute with jitter (just under the free limit);
- ``over``: steady arrivals at 45 a minute (1.5 times the free limit: paying is unavoidable).

Run: ``.venv/bin/python -m bench.free_wait`` (about a minute); results go to
``bench/results/free_wait.json``.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from llmswitch import LLMProviderManager
from llmswitch._clock import FakeClock
from llmswitch._config import load_settings
from llmswitch.testing import simulator

ROOT = Path(__file__).resolve().parent.parent
WAITS = (0.0, 2.0, 5.0, 10.0, 30.0, 60.0)
MINUTES = 20
KEYS = {"GROQ_API_KEY": "gsk_bench_groq_key_0001", "OPENAI_API_KEY": "sk-proj-bench_key_0005"}


def arrivals(shape: str, rng: random.Random) -> list[float]:
    if shape == "burst":
        return sorted(m * 60 + rng.uniform(0, 9) for m in range(0, MINUTES, 2) for _ in range(45))
    rate = 28 if shape == "near" else 45
    out, t = [], 0.0
    while t < MINUTES * 60:
        t += rng.expovariate(rate / 60)
        out.append(t)
    return out


def run(shape: str, wait: float) -> dict[str, Any]:
    clock = FakeClock()
    start = clock()
    with simulator(clock=clock) as sim, tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "llmswitch.toml"
        path.write_text(
            f'[llmswitch]\nstate = "memory://"\nfree_wait_seconds = {wait}\n'
            f'[providers.groq]\nbase_url = "{sim.provider_base_url("groq")}"\n'
            f'[providers.openai]\nbase_url = "{sim.provider_base_url("openai")}"\n'
        )
        settings = load_settings(path, env=KEYS, dotenv=None)
        llm = LLMProviderManager(settings, clock=clock, sleep=clock.sleep)
        paid, delays = 0, []
        for at in arrivals(shape, random.Random(7)):
            if clock() < start + at:
                clock.set(start + at)
            result = llm.chat([{"role": "user", "content": "hi"}], max_tokens=16)
            paid += result.provider == "openai"
            delays.append(clock() - (start + at))
        llm.close()
    return {
        "shape": shape,
        "free_wait_seconds": wait,
        "calls": len(delays),
        "paid": paid,
        "paid_share": round(paid / len(delays), 3),
        "wait_p50_s": round(statistics.median(delays), 1),
        "wait_p95_s": round(sorted(delays)[int(0.95 * (len(delays) - 1))], 1),
    }


def main() -> None:
    rows = [run(shape, wait) for shape in ("burst", "near", "over") for wait in WAITS]
    print(f"{'shape':6} {'wait':>5} {'calls':>6} {'paid':>5} {'p50 s':>6} {'p95 s':>6}")
    for r in rows:
        print(
            f"{r['shape']:6} {r['free_wait_seconds']:5.0f} {r['calls']:6d} {r['paid']:5d} "
            f"{r['wait_p50_s']:6.1f} {r['wait_p95_s']:6.1f}"
        )
    out = ROOT / "bench" / "results" / "free_wait.json"
    out.write_text(json.dumps({"command": " ".join(sys.argv), "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
