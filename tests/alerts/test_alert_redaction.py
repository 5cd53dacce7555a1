"""An alert that quotes a text from elsewhere (why no provider could take a call, what the store
said) is redacted by value before anything sees it: the handler, the recent list, the log line
and the webhook body. The monitor learns the key values from the settings it is built with."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest

from llmswitch._alerts import Alert, AlertMonitor
from llmswitch._events import NoProviderAvailable, StoreHealthChanged
from llmswitch._state.memory import MemoryStore
from llmswitch._webhook import WebhookSender
from tests.conftest import SIM_KEYS, ManagerFactory

KEY = "zk8-live-cnry9Hg3Fd7Sa1Jk5Lz0OPAI"  # a shape no prefix rule knows


def test_quoted_texts_are_redacted_everywhere_an_alert_goes(
    make_manager: ManagerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    llm = make_manager(keys={**SIM_KEYS, "OPENAI_API_KEY": KEY})
    posted: list[dict[str, Any]] = []

    def receive(request: httpx.Request) -> httpx.Response:
        posted.append(json.loads(request.content))
        return httpx.Response(200)

    hook = WebhookSender(
        "http://hooks.invalid/x", client=httpx.Client(transport=httpx.MockTransport(receive))
    )
    seen: list[Alert] = []
    monitor = AlertMonitor(llm.settings, MemoryStore(), handlers=[seen.append], webhook=hook)
    echo = f"openai: auth_failed: Incorrect API key provided: {KEY[:8]}{'*' * 20}{KEY[-4:]}"
    monitor(NoProviderAvailable(ts=0.0, message=echo, retry_after=None))
    monitor(
        StoreHealthChanged(ts=1.0, backend="redis", ok=False, detail=f"x {KEY}", fail_open=False)
    )
    assert hook.flush(5)
    hook.close()
    texts = [
        repr(seen),
        json.dumps(monitor.recent(), ensure_ascii=False),
        json.dumps(posted, ensure_ascii=False),
        caplog.text,
    ]
    assert len(seen) == 2 and len(posted) == 2
    for text in texts:
        assert "cnry9" not in text and "zk8-live" not in text, text[:300]
        assert "…OPAI" in text
