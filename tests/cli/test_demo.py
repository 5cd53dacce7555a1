"""`llmswitch demo --exit` runs green as a user starts it: a subprocess, no key, no network."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path


def test_demo_plays_the_three_scenarios_and_exits_zero(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith("_API_KEY") and k not in ("LLMSWITCH_CONFIG", "LLM_PROVIDER")
    }
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "llmswitch", "demo", "--exit", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    elapsed = time.monotonic() - started
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert elapsed < 30
    assert "request  31 -> gemini   switch: groq: not_admitted: rpm limit of 30 reached" in out
    assert "switch: groq: server_error" in out
    assert "switch: groq: cooling_down" in out
    assert "tpd limit" in out
    assert out.count("back: groq has room again") == 3
    assert "FAILED" not in out and "All three scenarios behaved as expected" in out
    assert "Traceback" not in done.stderr
