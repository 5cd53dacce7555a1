"""The call machine without a socket: fed replies and errors by hand, it answers with steps.

This is what "sans-I/O" buys: every rule can be checked as a table of (what happened -> next
step), and the two drivers only perform the steps.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from llmswitch._attempts import AttemptCore
from llmswitch._call import Call, Done, Fail, Send, Wait
from llmswitch._clock import FakeClock
from llmswitch._config import Settings, load_settings
from llmswitch._errors import AllProvidersFailed, ConnectionFailed, LocalFault, MalformedReply
from llmswitch._planning import Planner
from llmswitch._state import store_from_url
from llmswitch._transport import RawReply
from llmswitch._types import ChatRequest, Message
from tests.conftest import SIM_KEYS

REQUEST = ChatRequest(messages=(Message("user", "hi"),))


def ok_body(text: str = "hello") -> bytes:
    return json.dumps(
        {
            "id": "x",
            "object": "chat.completion",
            "model": "m",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
        }
    ).encode()


ERROR_500 = RawReply(500, {}, b'{"error": {"message": "internal error", "type": "server_error"}}')
OK = RawReply(200, {}, ok_body())


def machine(env: dict[str, str] | None = None, **changes: Any) -> tuple[Call, FakeClock]:
    settings: Settings = load_settings(
        env=env
        or {
            "GROQ_API_KEY": SIM_KEYS["GROQ_API_KEY"],
            "OPENROUTER_API_KEY": SIM_KEYS["OPENROUTER_API_KEY"],
        },
        dotenv=None,
    )
    settings = settings.model_copy(update=changes)
    clock = FakeClock()
    core = AttemptCore(settings, store_from_url("memory://"), clock=clock)
    plan = Planner(settings).plan(None)
    return Call(core, REQUEST, plan, rand=lambda: 0.0), clock


def provider_of(step: Any) -> str:
    assert isinstance(step, Send)
    return step.ctx.provider


def test_a_reply_ends_the_call() -> None:
    call, _ = machine()
    assert provider_of(call.next()) == "groq"
    done = call.replied(OK)
    assert isinstance(done, Done) and done.result.text == "hello"


def test_a_500_without_retries_sends_to_the_next_provider() -> None:
    call, _ = machine()
    call.next()
    assert provider_of(call.replied(ERROR_500)) == "openrouter"


def test_a_500_with_a_retry_waits_the_backoff_then_sends_to_the_same_provider() -> None:
    call, _ = machine(retries=1, retry_backoff_seconds=0.5)
    call.next()
    wait = call.replied(ERROR_500)
    assert wait == Wait(0.5)
    assert provider_of(call.next()) == "groq"
    assert provider_of(call.replied(ERROR_500)) == "openrouter"  # retries spent: fail over


def test_a_local_fault_fails_the_call_and_sends_nothing_else() -> None:
    call, _ = machine()
    call.next()
    step = call.failed(LocalFault("no fds", provider="groq", cause="EMFILE: Too many open files"))
    assert isinstance(step, Fail) and isinstance(step.error, LocalFault)


def test_the_error_that_ends_a_call_is_built_with_its_attempts_and_the_raised_one_is_kept() -> None:
    call, _ = machine()
    call.next()
    raised = LocalFault("no fds", provider="groq", cause="EMFILE: Too many open files")
    step = call.failed(raised)
    assert isinstance(step, Fail) and isinstance(step.error, LocalFault)
    assert step.error is not raised and raised.attempts == (), "what the wire raised is unchanged"
    assert [(a.provider, a.outcome, a.sent) for a in step.error.attempts] == [
        ("groq", "local_fault", False)
    ]
    assert (step.error.cause, str(step.error)) == (raised.cause, str(raised))


def test_two_providers_failing_to_connect_is_ours_and_cools_nothing() -> None:
    call, _ = machine()
    call.next()
    call.failed(ConnectionFailed("refused", provider="groq"))
    step = call.failed(ConnectionFailed("refused", provider="openrouter"))
    assert isinstance(step, Fail) and isinstance(step.error, AllProvidersFailed)
    assert "this machine" in str(step.error) and step.error.local
    assert call.core.store.get_health("provider:groq") is None


def test_one_provider_failing_to_connect_while_another_answers_is_cooled_down() -> None:
    call, clock = machine()
    call.next()
    call.failed(ConnectionFailed("refused", provider="groq"))
    assert isinstance(call.replied(OK), Done)
    record = call.core.store.get_health("provider:groq")
    assert record is not None and record.open_until == pytest.approx(clock() + 300)


def test_everything_out_waits_for_the_earliest_recovery_within_max_wait() -> None:
    call, clock = machine(max_wait_seconds=120)
    call.next()
    limited = RawReply(
        429,
        {"retry-after": "30"},
        b'{"error": {"message": "Rate limit reached", "type": "rate_limit"}}',
    )
    call.replied(limited)  # groq blocked 30 s; openrouter sent
    step = call.replied(limited)
    assert isinstance(step, Wait) and step.seconds == pytest.approx(30)
    clock.advance(step.seconds)  # what the driver's sleep does
    assert provider_of(call.next()) == "groq"  # the plan starts over


def sse(text: str) -> str:
    chunk = {
        "id": "x",
        "object": "chat.completion.chunk",
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
    }
    return "data: " + json.dumps(chunk)


def streaming(continuation: bool | None) -> Call:
    call, _ = machine()
    return Call(
        call.core, REQUEST, call.plan, stream=True, continuation=continuation, rand=lambda: 0.0
    )


@pytest.mark.parametrize(
    ("continuation", "after_cut"),
    [
        (True, "send the partial answer to openrouter as a prefill"),
        (False, "fail with the cut"),
        (None, "fail with the cut"),
    ],  # None: the setting, off by default
)
def test_a_stream_cut_after_content(continuation: bool | None, after_cut: str) -> None:
    call = streaming(continuation)
    assert provider_of(call.next()) == "groq"
    call.opened({})
    got = [c.text for line in (sse("Once upon"), "", sse(" a time"), "") for c in call.feed(line)]
    assert got == ["Once upon", " a time"]
    step = call.failed(MalformedReply("stream cut", provider="groq"))
    if after_cut.startswith("send"):
        assert provider_of(step) == "openrouter"
        assert isinstance(step, Send) and step.http.json is not None
        assert step.http.json["messages"][-1] == {
            "role": "assistant",
            "content": "Once upon a time",
        }
    else:
        assert isinstance(step, Fail) and isinstance(step.error, MalformedReply)
        assert [a.outcome for a in step.error.attempts] == ["malformed_reply"]


def test_a_stream_failing_before_content_fails_over_whatever_the_continuation_setting() -> None:
    call = streaming(False)
    call.next()
    call.opened({})
    assert provider_of(call.failed(MalformedReply("cut", provider="groq"))) == "openrouter"
