"""A canary key never reaches an alert: not its message, the status list, the log or a webhook."""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from llmswitch import Alert
from llmswitch._clock import FakeClock
from tests.conftest import SIM_KEYS, ManagerFactory

CANARY = "gsk_CANARY_alert_9d1e2f3a4b5c"
HI = [{"role": "user", "content": "hi"}]


@pytest.fixture()
def hook() -> Iterator[tuple[str, queue.Queue[str]]]:
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


def test_the_canary_key_never_reaches_an_alert(
    make_manager: ManagerFactory,
    sim: Any,
    clock: FakeClock,
    hook: tuple[str, queue.Queue[str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    url, bodies = hook
    seen: list[Alert] = []
    llm = make_manager(
        keys={**SIM_KEYS, "GROQ_API_KEY": CANARY},
        extra=f'[alerts]\nwebhook_url = "{url}"\ncheck_interval_seconds = 0',
        providers={"groq": {"requests_per_day": 10}},
        on_alert=seen.append,
    )
    for _ in range(9):  # window_threshold at 80% and 95% for the canary's key
        llm.chat(HI)
    sim.set_fault("groq", {"kind": "status", "status": 503})  # cooldown
    clock.advance(86_401.0)  # the rolling day (and its 0.5 s guard) has passed
    llm.chat(HI)
    sim.clear_faults("groq")
    clock.advance(301.0)
    llm.chat(HI)  # recovered
    sim.revoke_key("groq", CANARY)
    llm.chat(HI)  # auth_failed
    assert {a.kind for a in seen} >= {"window_threshold", "cooldown", "recovered", "auth_failed"}
    assert llm.alerts.webhook is not None and llm.alerts.webhook.flush(10)
    received = [bodies.get_nowait() for _ in range(bodies.qsize())]
    assert len(received) == len(seen)
    blob = "\n".join([*received, json.dumps(llm.get_provider_status()), caplog.text, repr(seen)])
    assert CANARY not in blob and CANARY[4:-4] not in blob
    assert "GROQ_API_KEY" in blob  # the alias is what alerts name
