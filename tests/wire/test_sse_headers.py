from __future__ import annotations

import pytest

from llmswitch._errors import ConfigError
from llmswitch._quota import LimitObservation
from llmswitch._wire import read_limit_headers
from llmswitch._wire.sse import SSEMessage, SSEParser


def parse(lines: list[str]) -> list[SSEMessage]:
    parser = SSEParser()
    return [m for line in lines for m in parser.feed(line)] + parser.close()


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["data: a", ""], [SSEMessage("message", "a")]),
        (["data:a", ""], [SSEMessage("message", "a")]),
        (["data: a\r", "\r"], [SSEMessage("message", "a")]),
        (["data: a", "data: b", ""], [SSEMessage("message", "a\nb")]),
        (["event: error", "data: x", ""], [SSEMessage("error", "x")]),
        ([": OPENROUTER PROCESSING", "", "id: 1", "retry: 5", ""], []),
        (["data: tail"], [SSEMessage("message", "tail")]),
        (["{", '  "error": {}', "}"], [SSEMessage("bare", '{\n  "error": {}\n}')]),
        (["{ unterminated"], [SSEMessage("bare", "{ unterminated")]),
    ],
    ids=[
        "data",
        "no-space",
        "crlf",
        "multi-data",
        "event",
        "comments-and-ids",
        "eof-flush",
        "bare-json",
        "bare-cut",
    ],
)
def test_sse_parser(lines: list[str], expected: list[SSEMessage]) -> None:
    assert parse(lines) == expected


def test_sse_dispatches_at_the_blank_line() -> None:
    parser = SSEParser()
    assert parser.feed("data: 1") == []
    assert parser.feed("") == [SSEMessage("message", "1")]


GROQ = {
    "x-ratelimit-limit-requests": "14400",
    "x-ratelimit-remaining-requests": "14370",
    "x-ratelimit-reset-requests": "2m59.56s",
    "x-ratelimit-limit-tokens": "18000",
    "x-ratelimit-remaining-tokens": "17997",
    "x-ratelimit-reset-tokens": "7.66s",
}


def test_groq_requests_are_per_day() -> None:
    rpd, tpm = read_limit_headers("groq", GROQ, 200)
    assert (rpd.window, rpd.limit, rpd.remaining) == ("rpd", 14400, 14370)
    assert rpd.reset_after == pytest.approx(179.56)
    assert (tpm.window, tpm.limit, tpm.remaining) == ("tpm", 18000, 17997)
    assert tpm.reset_after == pytest.approx(7.66)


def test_openai_requests_are_per_minute_any_case() -> None:
    headers = {
        "X-RateLimit-Limit-Requests": "60",
        "X-RateLimit-Remaining-Requests": "59",
        "X-RateLimit-Reset-Requests": "1s",
        "x-ratelimit-reset-tokens": "6m0s",
    }
    assert read_limit_headers("openai", headers, 200) == [
        LimitObservation("rpm", limit=60, remaining=59, reset_after=1.0),
        LimitObservation("tpm", reset_after=360.0),
    ]


def test_together_speaks_only_on_429() -> None:
    headers = {"x-ratelimit-limit": "10", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "2"}
    assert read_limit_headers("together", headers, 200) == []
    assert read_limit_headers("together", headers, 429) == [
        LimitObservation("rpm", remaining=0, reset_after=2.0)
    ]


def test_openrouter_reset_is_epoch_milliseconds() -> None:
    headers = {
        "X-RateLimit-Limit": "50",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": "1788825600000",
    }
    now = 1788825600.0 - 3600.0
    assert read_limit_headers("openrouter", headers, 200, now=now) == []
    assert read_limit_headers("openrouter", headers, 429, now=now) == [
        LimitObservation("rpd", limit=50, remaining=0, reset_after=3600.0)
    ]
    assert read_limit_headers("openrouter", headers, 429) == [
        LimitObservation("rpd", limit=50, remaining=0, reset_after=None)
    ]
    minute = {**headers, "X-RateLimit-Limit": "20", "X-RateLimit-Reset": "1788822030000"}
    assert read_limit_headers("openrouter", minute, 429, now=now)[0].window == "rpm"


def test_none_and_unknown() -> None:
    assert read_limit_headers("none", GROQ, 429) == []
    with pytest.raises(ConfigError, match="'groq'"):
        read_limit_headers("anthropic", {}, 200)
