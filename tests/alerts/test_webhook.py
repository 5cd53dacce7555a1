"""The alerts webhook against a real HTTP server on 127.0.0.1: up, down, slow, refusing.

Synchronization is on queues, ``threading.Event`` and ``WebhookSender.flush`` with timeouts, never a
fixed sleep; retry backoff goes through an injected ``sleep`` that only records.
"""

from __future__ import annotations

import json
import logging
import queue
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from llmswitch import Alert
from llmswitch._clock import FakeClock
from llmswitch._events import NoProviderAvailable, emit
from llmswitch._webhook import WebhookSender, backoff_delays, safe_url
from tests.conftest import ManagerFactory

HI = [{"role": "user", "content": "hi"}]
FIELDS = {"kind", "provider", "key_alias", "window", "used", "limit", "resets_at", "threshold",
          "message", "ts", "request_id"}  # fmt: skip


@dataclass
class Receiver:
    """A webhook receiver: records each body; ``status`` and ``release`` steer its answers."""

    url: str
    bodies: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)
    status: int = 204
    release: threading.Event | None = None  # when set: every request waits for it
    hits: int = 0


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    rx = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            rx.hits += 1
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            if rx.release is not None:
                rx.release.wait(10)
            rx.bodies.put(body)
            self.send_response(rx.status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    rx.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/T000/secret-path?token=s3cret"
    yield rx
    if rx.release is not None:
        rx.release.set()
    server.shutdown()
    server.server_close()


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook?token=s3cret"  # nothing listens there any more


def alert(kind: str = "cooldown") -> Alert:
    return Alert(kind=kind, message="groq is cooling down", ts=1.0, provider="groq")


def test_the_configured_webhook_receives_each_alert_as_json(
    make_manager: ManagerFactory, receiver: Receiver, clock: FakeClock, sim: Any
) -> None:
    llm = make_manager(extra=f'[alerts]\nwebhook_url = "{receiver.url}"')
    sim.set_fault("groq", {"kind": "status", "status": 503})
    assert llm.chat(HI).provider == "gemini"
    body = receiver.bodies.get(timeout=10)
    assert set(body) == FIELDS
    assert body["kind"] == "cooldown" and body["provider"] == "groq"
    assert body["resets_at"] == pytest.approx(clock() + 300.0)
    assert "cooling down" in body["message"]
    assert llm.alerts.webhook is not None and llm.alerts.webhook.flush(5)
    assert llm.alerts.webhook.sent == 1


def test_window_alert_body_carries_window_used_limit_and_reset(
    make_manager: ManagerFactory, receiver: Receiver, clock: FakeClock
) -> None:
    llm = make_manager(
        extra=f'[alerts]\nwebhook_url = "{receiver.url}"\ncheck_interval_seconds = 0',
        providers={"groq": {"requests_per_day": 10}},
    )
    for _ in range(8):
        llm.chat(HI)
    body = receiver.bodies.get(timeout=10)
    assert (body["kind"], body["window"], body["used"], body["limit"], body["threshold"]) == (
        "window_threshold", "rpd", 8, 10, 0.8,
    )  # fmt: skip
    assert body["key_alias"] == "GROQ_API_KEY" and body["resets_at"] > clock()


def test_a_down_receiver_is_retried_then_the_alert_dropped_with_a_log_line(
    make_manager: ManagerFactory, sim: Any, caplog: pytest.LogCaptureFixture
) -> None:
    waits: list[float] = []
    sender = WebhookSender(closed_port_url(), timeout=1.0, retries=3, sleep=waits.append)
    llm = make_manager()
    llm.add_alert_handler(sender)
    sim.set_fault("groq", {"kind": "status", "status": 503})
    with caplog.at_level(logging.INFO, logger="llmswitch.alerts"):
        assert llm.chat(HI).provider == "gemini"  # the call is served whatever the webhook does
        assert sender.flush(10)
    sender.close()
    assert waits == [0.5, 1.0, 2.0]  # three retries, exponential backoff
    assert (sender.sent, sender.dropped) == (0, 1)
    dropped = [r for r in caplog.records if "dropped alert cooldown" in r.getMessage()]
    assert len(dropped) == 1 and dropped[0].levelno == logging.WARNING
    assert "ConnectError" in dropped[0].getMessage()
    assert "s3cret" not in caplog.text and "http://127.0.0.1:" in caplog.text


def test_a_slow_receiver_never_delays_a_call(
    make_manager: ManagerFactory, receiver: Receiver, sim: Any
) -> None:
    receiver.release = threading.Event()
    sender = WebhookSender(receiver.url, timeout=10.0, retries=0)
    llm = make_manager()
    llm.add_alert_handler(sender)
    sim.set_fault("groq", {"kind": "status", "status": 503})
    started = time.perf_counter()
    assert llm.chat(HI).provider == "gemini"  # raises the cooldown alert
    sim.clear_faults("groq")
    for _ in range(5):
        llm.chat(HI)
    elapsed = time.perf_counter() - started
    assert elapsed < 5.0, "calls waited for the webhook"
    assert receiver.bodies.empty() and not sender.flush(0.05)  # the webhook is still stuck
    receiver.release.set()
    assert receiver.bodies.get(timeout=10)["kind"] == "cooldown"
    assert sender.flush(10) and sender.sent == 1
    sender.close()


def test_a_receiver_that_times_out_is_retried_then_dropped(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.release = threading.Event()  # never set while the sender tries
    waits: list[float] = []
    sender = WebhookSender(receiver.url, timeout=0.2, retries=1, sleep=waits.append)
    sender(alert())
    assert sender.flush(10)
    assert waits == [0.5] and receiver.hits == 2 and sender.dropped == 1
    assert "timed out" in caplog.text
    sender.close()


def test_a_4xx_is_not_retried_and_5xx_is(receiver: Receiver) -> None:
    waits: list[float] = []
    sender = WebhookSender(receiver.url, retries=2, sleep=waits.append)
    receiver.status = 400
    sender(alert())
    assert sender.flush(10) and receiver.hits == 1 and waits == []
    receiver.status = 503
    sender(alert())
    assert sender.flush(10) and receiver.hits == 4 and waits == [0.5, 1.0]
    assert sender.dropped == 2
    sender.close()


def test_a_full_queue_drops_without_blocking(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.release = threading.Event()
    sender = WebhookSender(receiver.url, timeout=10.0, retries=0, queue_size=2)
    started = time.perf_counter()
    for _ in range(10):
        sender(alert())
    assert time.perf_counter() - started < 1.0
    assert "is behind; dropped alert cooldown" in caplog.text
    receiver.release.set()
    assert sender.flush(10)
    assert sender.sent + sender.dropped == 10 and 1 <= sender.sent <= 3
    sender.close()


def test_close_stops_the_thread_and_later_alerts_are_ignored(receiver: Receiver) -> None:
    sender = WebhookSender(receiver.url)
    sender(alert())
    assert sender.flush(10)
    sender.close()
    assert sender._thread is not None and not sender._thread.is_alive()
    sender(alert())
    assert sender.flush(1) and sender.sent == 1


def test_manager_close_closes_the_configured_webhook(
    make_manager: ManagerFactory, receiver: Receiver, clock: FakeClock
) -> None:
    llm = make_manager(extra=f'[alerts]\nwebhook_url = "{receiver.url}"')
    emit(llm.sinks, NoProviderAvailable(clock(), "nothing", None))
    assert receiver.bodies.get(timeout=10)["kind"] == "all_unavailable"
    webhook = llm.alerts.webhook
    assert webhook is not None
    llm.close()
    assert webhook._thread is not None and not webhook._thread.is_alive()


def test_logs_show_only_the_scheme_and_host_of_the_url() -> None:
    assert safe_url("https://user:pw@hooks.slack.com/services/T0/B0/XyZ?x=1") == (
        "https://hooks.slack.com/…"
    )
    assert safe_url("http://127.0.0.1:9000") == "http://127.0.0.1:9000"
    assert repr(WebhookSender("https://h.example/tok3n", client=None)).endswith("h.example/…>")
    assert backoff_delays(7, 1.0) == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
