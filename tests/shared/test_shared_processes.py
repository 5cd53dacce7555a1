"""Several processes, one Redis: the limit is the provider key's, not each process's.

The simulator runs in the test process on a frozen FakeClock, so it counts every request it ever
receives as one minute: a 31st request to Groq would be answered with a 429. The workers run on
the system clock against a real Redis (server time), each with 16 concurrent callers.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from llmswitch._state import store_from_url
from tests.conftest import SIM_KEYS, sent_429, sim_toml
from tests.redis_server import OwnRedis, free_port

pytestmark = [pytest.mark.redis, pytest.mark.slow]

PROCESSES = 4
CALLERS = 16
PROVIDERS = ("groq", "gemini", "openrouter", "together", "openai")
SCRIPT = Path(__file__).with_name("_callers.py")
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}


@pytest.fixture
def shared_redis_url(redis_url: str) -> Iterator[str]:
    """The shared Redis on 6379 under a prefix of this test's own, deleted afterwards."""
    url = f"{redis_url}?prefix=llmswitch-test:{uuid.uuid4().hex}:"
    yield url
    store = store_from_url(url)
    store.reset()
    store.close()


def write_config(tmp_path: Path, sim: Any, state: str) -> Path:
    path = tmp_path / "llmswitch.toml"
    # OpenRouter's catalog entry keeps the seed's 50/min; its :free models really allow 20/min
    # (the simulator too), which a user sets once: otherwise its first 429 teaches it.
    openrouter = {"openrouter": {"requests_per_minute": 20}}
    path.write_text(sim_toml(sim, state=state, extra="max_wait_seconds = 30", providers=openrouter))
    return path


class Workers:
    """The worker processes, their stdout lines gathered in one queue."""

    def __init__(self, config: Path, *, pause: bool) -> None:
        args = [sys.executable, str(SCRIPT), str(config), json.dumps(SIM_KEYS), str(CALLERS)]
        self.procs = [
            subprocess.Popen(
                args + (["pause"] if pause else []),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=ENV,
            )
            for _ in range(PROCESSES)
        ]
        self.lines: queue.Queue[str] = queue.Queue()
        self.readers = [threading.Thread(target=self._read, args=(p,)) for p in self.procs]
        for r in self.readers:
            r.start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.lines.put(line.strip())

    def wait_for(self, word: str, count: int = PROCESSES, timeout: float = 60) -> None:
        """Block until ``count`` workers printed ``word`` (the event, not a fixed delay)."""
        seen = 0
        while seen < count:
            line = self.lines.get(timeout=timeout)
            if line == word:
                seen += 1
            else:
                self.lines.put(line) if line.startswith("{") else None

    def tell_all(self, line: str) -> None:
        for p in self.procs:
            assert p.stdin is not None
            p.stdin.write(line + "\n")
            p.stdin.flush()

    def results(self) -> list[dict[str, Any]]:
        out = []
        failures = []
        for p in self.procs:
            p.wait(timeout=120)
            assert p.stderr is not None and p.stdin is not None
            stderr = p.stderr.read()
            if p.returncode != 0:
                failures.append(stderr)
            p.stdin.close()
            p.stderr.close()
        for r, p in zip(self.readers, self.procs, strict=True):
            r.join()
            assert p.stdout is not None
            p.stdout.close()
        assert not failures, failures[0][-3000:]
        while not self.lines.empty():
            line = self.lines.get()
            if line.startswith("{"):
                out.append(json.loads(line))
        assert len(out) == PROCESSES
        return out


def served_and_errors(results: list[dict[str, Any]]) -> tuple[Counter[str], list[str]]:
    served: Counter[str] = Counter()
    errors: list[str] = []
    for r in results:
        served.update(r["served"])
        errors += r["errors"]
    return served, errors


def test_four_processes_of_16_callers_share_one_30_per_minute_limit(
    sim: Any, tmp_path: Path, shared_redis_url: str
) -> None:
    workers = Workers(write_config(tmp_path, sim, shared_redis_url), pause=False)
    served, errors = served_and_errors(workers.results())

    assert errors == []
    assert sum(served.values()) == PROCESSES * CALLERS * 2, "every call is served"
    assert served["groq"] == len(sim.requests("groq")) == 30, "Groq's minute, used exactly"
    assert {p: sent_429(sim, p) for p in PROVIDERS} == dict.fromkeys(PROVIDERS, 0)


def test_redis_stopped_and_restarted_in_the_middle_of_a_run(sim: Any, tmp_path: Path) -> None:
    redis = OwnRedis(persistent=True)
    redis.start()
    try:
        workers = Workers(write_config(tmp_path, sim, redis.url), pause=True)
        workers.wait_for("phase1-done")
        sent_before = sum(len(sim.requests(p)) for p in PROVIDERS)
        redis.stop()
        workers.tell_all("go")  # every caller's second call meets a dead Redis
        workers.wait_for("store-down")
        assert sum(len(sim.requests(p)) for p in PROVIDERS) == sent_before, "fail closed"
        redis.start()  # the callers were waiting (max_wait_seconds); they go on by themselves
        workers.wait_for("store-up")
        served, errors = served_and_errors(workers.results())
    finally:
        redis.cleanup()

    assert errors == []
    assert sum(served.values()) == PROCESSES * CALLERS * 2
    assert len(sim.requests("groq")) == 30
    assert {p: sent_429(sim, p) for p in PROVIDERS} == dict.fromkeys(PROVIDERS, 0)


def test_llmswitch_serve_with_four_workers_shares_one_limit(
    sim: Any, tmp_path: Path, shared_redis_url: str
) -> None:
    config = write_config(tmp_path, sim, shared_redis_url)
    port = free_port()
    gateway = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llmswitch",
            "serve",
            "--workers",
            "4",
            "--port",
            str(port),
            "--config",
            str(config),
        ],
        cwd=tmp_path,
        env={**ENV, **SIM_KEYS},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, gateway)
        statuses = asyncio.run(fire(base + "/v1/chat/completions", 128, concurrency=64))
        status = httpx.get(base + "/api/llm-providers", timeout=10).json()
    finally:
        gateway.send_signal(signal.SIGINT)
        _, stderr = gateway.communicate(timeout=30)

    assert Counter(statuses) == {200: 128}, stderr[-2000:]
    assert len(sim.requests("groq")) == 30
    assert {p: sent_429(sim, p) for p in PROVIDERS} == dict.fromkeys(PROVIDERS, 0)
    assert (status["state"]["backend"], status["state"]["status"]) == ("redis", "ok")
    assert status["providers"]["groq"]["requests_this_minute"] == 30, "every worker's calls"


def wait_until_serving(base: str, proc: subprocess.Popen[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:  # waiting for four processes to listen, not for simulated time
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            _, err = proc.communicate(timeout=10)
            raise AssertionError(f"the gateway did not start: {err[-2000:]}")
        time.sleep(0.05)


async def fire(url: str, total: int, *, concurrency: int) -> list[int]:
    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def one(i: int) -> int:
            async with gate:
                body = {
                    "model": "auto",
                    "max_tokens": 50,
                    "messages": [{"role": "user", "content": f"q{i}"}],
                }
                return (await client.post(url, json=body)).status_code

        return list(await asyncio.gather(*(one(i) for i in range(total))))
