"""One request id across the trail of a call: the gateway's x-request-id (the client's own when
sane) in the ledger entry of every attempt, the log lines about the call and the alerts it
raised; library callers pass their own ``request_id=`` or get a fresh one."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import openai
import pytest

from llmswitch._clock import FakeClock
from tests.alerts.test_webhook import Receiver, receiver  # noqa: F401 (the fixture)
from tests.conftest import ManagerFactory
from tests.server.conftest import GatewayFactory

USER: Any = [{"role": "user", "content": "hello gateway"}]


def test_one_id_in_ledger_logs_and_alert_of_a_failed_over_call(
    make_gateway: GatewayFactory,
    receiver: Receiver,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.INFO)
    gw = make_gateway(
        state=f"sqlite:///{tmp_path}/gw.db", extra=f'[alerts]\nwebhook_url = "{receiver.url}"'
    )
    gw.sim.set_fault("groq", {"kind": "status", "status": 503})
    with openai.OpenAI(base_url=gw.v1, api_key="unused", max_retries=0) as sdk:
        raw = sdk.chat.completions.with_raw_response.create(
            model="auto", messages=USER, extra_headers={"x-request-id": "trace-7.a"}
        )
    assert raw.headers["x-request-id"] == "trace-7.a"
    assert raw.headers["x-llmswitch-provider"] == "gemini"

    rows = gw.manager.get_ledger("trace-7.a")
    assert [(r["provider"], r["outcome"]) for r in rows] == [
        ("gemini", "ok"),
        ("groq", "server_error"),  # the failed first attempt carries the id too
    ]
    assert all(r["request_id"] == "trace-7.a" for r in rows)

    lines = [r.getMessage() for r in caplog.records if "trace-7.a" in r.getMessage()]
    assert any("failover from groq" in line for line in lines), lines
    assert any("alert [cooldown]" in line for line in lines), lines

    body = receiver.bodies.get(timeout=10)
    assert (body["kind"], body["provider"], body["request_id"]) == ("cooldown", "groq", "trace-7.a")
    assert gw.manager.alerts.recent()[0]["request_id"] == "trace-7.a"
    for sent in gw.sim.requests("groq") + gw.sim.requests("gemini"):  # never sent upstream
        assert "trace-7.a" not in str(sent)


async def test_a_stream_through_the_async_sdk_records_the_clients_id(
    make_gateway: GatewayFactory,
) -> None:
    gw = make_gateway()
    gw.sim.set_fault("groq", {"kind": "status", "status": 500})
    async with openai.AsyncOpenAI(base_url=gw.v1, api_key="unused", max_retries=0) as sdk:
        stream = await sdk.chat.completions.with_raw_response.create(
            model="auto", messages=USER, stream=True, extra_headers={"x-request-id": "s-1"}
        )
        assert stream.headers["x-request-id"] == "s-1"
        chunks = [c async for c in stream.parse()]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text
    rows = gw.manager.get_ledger("s-1")
    assert [r["outcome"] for r in rows] == ["ok", "server_error"]


def test_an_unsane_client_id_is_replaced_and_the_ledger_has_the_replacement(
    make_gateway: GatewayFactory,
) -> None:
    gw = make_gateway()
    with openai.OpenAI(base_url=gw.v1, api_key="unused", max_retries=0) as sdk:
        raw = sdk.responses.with_raw_response.create(
            model="auto", input="hi", extra_headers={"x-request-id": "has space"}
        )
    rid = raw.headers["x-request-id"]
    assert rid.startswith("req_")
    assert [r["request_id"] for r in gw.manager.get_ledger(rid)] == [rid]


def test_library_callers_pass_their_own_id_or_get_a_fresh_one(
    make_manager: ManagerFactory, clock: FakeClock
) -> None:
    llm = make_manager()
    mine = llm.chat(USER, request_id="job-42/step-1".replace("/", "-"))
    assert mine.request_id == "job-42-step-1"
    fresh = llm.chat(USER)
    assert fresh.request_id.startswith("req_") and len(fresh.request_id) == 36
    seed = llm.call_llm("terse", "hi")
    assert seed
    ids = [e["request_id"] for e in llm.get_ledger()]
    assert ids[1:] == [fresh.request_id, "job-42-step-1"] and ids[0].startswith("req_")
    assert len({*ids}) == 3
    with pytest.raises(Exception, match="request_id must be a string"):
        llm.chat(USER, request_id=42)
