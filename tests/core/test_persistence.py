"""State survives restarts, and processes on one machine share one SQLite state safely."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from llmswitch._clock import FakeClock
from tests.conftest import SIM_KEYS, ManagerFactory, sent_429, sim_toml

HELLO = [{"role": "user", "content": "hello"}]


def test_a_restart_keeps_the_days_counts_cooldowns_and_ledger(
    make_manager: ManagerFactory, sim: Any, clock: FakeClock, tmp_path: Path
) -> None:
    state = f"sqlite:///{tmp_path}/state.db"
    first = make_manager(state=state)
    for _ in range(10):
        first.chat(HELLO)
    sim.set_fault("together", {"kind": "status", "status": 503})
    assert first.chat(HELLO, provider_name="together").provider == "groq"  # Groq's 11th
    first.close()

    second = make_manager(state=state)
    status = second.get_provider_status()["providers"]
    assert status["groq"]["requests_today"] == 11
    assert status["groq"]["windows"]["rpd"]["used"] == 11
    assert status["groq"]["requests_this_minute"] == 11
    assert status["together"]["status"] == "cooling_down"
    assert second.get_usage("today")["providers"]["groq"]["succeeded"] == 11
    for _ in range(19):
        second.chat(HELLO)
    assert second.chat(HELLO).provider == "gemini", "the restart did not forget the minute"
    assert sent_429(sim, "groq") == 0


WORKER = textwrap.dedent(
    """
    import json, sys
    from collections import Counter
    from concurrent.futures import ThreadPoolExecutor
    from llmswitch._config import load_settings
    from llmswitch._manager import LLMProviderManager
    settings = load_settings(sys.argv[1], env=json.loads(sys.argv[2]), dotenv=None)
    llm = LLMProviderManager(settings)
    with ThreadPoolExecutor(8) as pool:
        served = list(pool.map(
            lambda _: llm.chat([{"role": "user", "content": "hi"}], max_tokens=10).provider,
            range(25)))
    print(json.dumps(Counter(served)))
    """
)


def test_two_processes_sharing_one_sqlite_state_respect_one_limit(sim: Any, tmp_path: Path) -> None:
    config = tmp_path / "llmswitch.toml"
    config.write_text(sim_toml(sim, state=f"sqlite:///{tmp_path}/shared.db"))
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(config), json.dumps(SIM_KEYS)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    counts = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        counts.append(json.loads(out.strip().splitlines()[-1]))
    assert sum(c.get("groq", 0) for c in counts) == 30
    assert sum(sum(c.values()) for c in counts) == 50, "every call was served"
    assert sent_429(sim, "groq") == 0
