"""Every provider echoes its key back, whole and half masked, in 401s, 429s and 500s: not a
piece of any key (five characters in a row) reaches the SQLite file, Redis (keys, values, the
append-only file), the status, the usage, a log line, an alert or any page of the gateway.

The providers are one echoing server on loopback (``echo_provider``); the manager runs on the
FakeClock, real SQLite files and real Redis servers, the gateway over real HTTP.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from llmswitch._alerts import Alert
from llmswitch._clock import FakeClock
from llmswitch._errors import AllProvidersFailed
from llmswitch._manager import LLMProviderManager
from tests.conftest import ManagerFactory
from tests.redis_server import OwnRedis
from tests.secrets.conftest import CANARIES, leaks
from tests.secrets.echo_provider import ECHOES, STATUSES, EchoProvider
from tests.server.conftest import GatewayFactory

PROVIDERS = ("groq", "gemini", "openrouter", "together", "openai")
HI = [{"role": "user", "content": "hi"}]


def echoing(echo: EchoProvider) -> dict[str, dict[str, Any]]:
    """Every provider at the echoing server, tripping on the first failure."""
    return {name: {"base_url": echo.url(name)} for name in PROVIDERS}


def run_every_echo(llm: LLMProviderManager, echo: EchoProvider, clock: FakeClock) -> list[str]:
    """Each echo with each status, from every provider; returns the errors the caller saw."""
    errors = []
    for status in STATUSES:
        for shape in ECHOES:
            echo.answer(status, shape)
            before = len(echo.seen)
            with pytest.raises(AllProvidersFailed) as info:
                llm.chat(HI)
            assert len(echo.seen) - before == len(PROVIDERS), "every provider echoed"
            errors.append(str(info.value))
            clock.advance(3600.0)  # past every cooldown and block
            for name in PROVIDERS:
                llm.reset_circuit(name)  # an auth failure would keep the key out for good
    assert set(echo.seen) == set(CANARIES.values())
    return errors


def library_texts(llm: LLMProviderManager, caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        json.dumps(llm.get_provider_status(), ensure_ascii=False),
        json.dumps(llm.get_usage("all"), ensure_ascii=False),
        repr(llm.store.ledger_entries(limit=1000)),
        caplog.text,
        *(r.getMessage() for r in caplog.records),
    ]


def assert_no_leak(texts: list[str]) -> None:
    blob = "\n".join(texts)
    assert not leaks(blob), f"key pieces {sorted(set(leaks(blob)))[:5]} in the output"


@pytest.fixture
def webhook() -> Iterator[tuple[str, queue.Queue[str]]]:
    """A receiver on loopback for the alerts webhook; the bodies it got, in order."""
    bodies: queue.Queue[str] = queue.Queue()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            bodies.put(self.rfile.read(int(self.headers["content-length"])).decode())
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", bodies
    server.shutdown()
    server.server_close()


def test_sqlite_file_status_logs_alerts_and_webhook_hold_no_echo(
    make_manager: ManagerFactory,
    echo: EchoProvider,
    clock: FakeClock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    webhook: tuple[str, queue.Queue[str]],
) -> None:
    caplog.set_level(logging.DEBUG)
    alerts: list[Alert] = []
    url, bodies = webhook
    llm = make_manager(
        state=f"sqlite:///{tmp_path}/state.db",
        keys=CANARIES,
        providers=echoing(echo),
        on_alert=alerts.append,
        extra=f'[alerts]\nwebhook_url = "{url}"\ncheck_interval_seconds = 0',
    )
    run_every_echo(llm, echo, clock)
    assert llm.alerts.webhook is not None and llm.alerts.webhook.flush(10)
    posted = [bodies.get_nowait() for _ in range(bodies.qsize())]
    assert len(posted) == len(alerts) and any('"all_unavailable"' in b for b in posted)
    status = llm.get_provider_status()
    kept = [p["last_error"]["message"] for p in status["providers"].values() if p["last_error"]]
    assert len(kept) == len(PROVIDERS) and all("…" in m for m in kept), "the echo is kept masked"
    files = [p.read_bytes().decode("latin-1") for p in tmp_path.glob("state.db*")]
    assert files and "auth" in "".join(files), "the file was written"
    assert {a.kind for a in alerts} >= {"cooldown", "auth_failed", "all_unavailable"}
    assert_no_leak([*files, *library_texts(llm, caplog), repr(alerts), *posted])


@pytest.mark.redis
def test_redis_keys_values_and_append_only_file_hold_no_echo(
    make_manager: ManagerFactory,
    echo: EchoProvider,
    clock: FakeClock,
    own_redis: OwnRedis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import redis

    caplog.set_level(logging.DEBUG)
    llm = make_manager(state=own_redis.url, keys=CANARIES, providers=echoing(echo))
    run_every_echo(llm, echo, clock)
    client = redis.Redis(port=own_redis.port)
    readers: dict[str, Any] = {
        "string": client.get,
        "hash": client.hgetall,
        "list": lambda k: client.lrange(k, 0, -1),
        "zset": lambda k: client.zrange(k, 0, -1, withscores=True),
        "set": client.smembers,
    }
    texts = [
        f"{key!r} {readers[client.type(key).decode()](key)!r}"
        for key in client.scan_iter(count=1000)
    ]
    client.close()
    assert any(b"health" in t.encode() for t in texts), "health records were kept"
    aof = [p.read_bytes().decode("latin-1") for p in Path(own_redis.dir).rglob("*") if p.is_file()]
    assert any("last_error_message" in t for t in aof), "the append-only file has the writes"
    assert_no_leak([*texts, *aof, *library_texts(llm, caplog)])


def test_every_http_surface_holds_no_echo(
    make_gateway: GatewayFactory,
    echo: EchoProvider,
    clock: FakeClock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    gw = make_gateway(state=f"sqlite:///{tmp_path}/gw.db", keys=CANARIES, providers=echoing(echo))
    texts: list[str] = []

    def record(r: httpx.Response) -> None:
        texts.append(r.text)
        texts.extend(f"{k}: {v}" for k, v in r.headers.items())

    body = {"model": "auto", "messages": HI}
    with httpx.Client(base_url=gw.base_url, timeout=10) as c:
        for status in STATUSES:
            for shape in ECHOES:
                echo.answer(status, shape)
                failed = c.post("/v1/chat/completions", json=body)
                assert failed.status_code >= 400
                record(failed)
                record(c.post("/v1/chat/completions", json={**body, "stream": True}))
                for path in ("/api/llm-providers", "/api/dashboard", "/api/usage?period=all"):
                    record(c.get(path))
                clock.advance(3600.0)
                for name in PROVIDERS:
                    gw.manager.reset_circuit(name)
        for path in ("/", "/v1/models", "/healthz", "/metrics"):
            record(c.get(path))
    assert any("x-llmswitch" in t for t in texts), "the attempt headers were scanned"
    assert any("…" in t for t in texts), "the echoes arrived, masked"
    assert_no_leak([*texts, *(r.getMessage() for r in caplog.records), caplog.text])


def test_the_library_errors_hold_no_echo(
    make_manager: ManagerFactory, echo: EchoProvider, clock: FakeClock
) -> None:
    llm = make_manager(keys=CANARIES, providers=echoing(echo))
    assert_no_leak(run_every_echo(llm, echo, clock))
