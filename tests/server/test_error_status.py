"""Which HTTP status each failure gets at the gateway: a pure table."""

from __future__ import annotations

import pytest

from llmswitch._errors import (
    AllProvidersFailed,
    BadRequest,
    ConnectionFailed,
    ContentFiltered,
    ContextTooLong,
    LLMSwitchError,
    LocalFault,
    ServerError,
    Timeout,
)
from llmswitch.server.shapes import error_status


class _OurContextTooLong(ContextTooLong):
    """A subclass an integration might raise: the class, not a kind string, decides."""


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (
            LocalFault("EMFILE", provider="groq", cause="EMFILE: Too many open files"),
            503,
            "local_fault",
        ),
        (ConnectionFailed("refused", provider="groq"), 502, "connection"),
        (ServerError("boom", provider="groq", status=500), 502, "server_error"),
        (Timeout("slow", provider="groq"), 502, "timeout"),
        (BadRequest("no", provider="groq", status=400), 400, None),
        (ContextTooLong("long", provider="groq", status=400), 400, "context_length_exceeded"),
        (ContentFiltered("blocked", provider="gemini", status=400), 400, "content_filter"),
        (_OurContextTooLong("long", provider="groq"), 400, "context_length_exceeded"),
        (AllProvidersFailed("no network", attempts=[], local=True), 503, "local_fault"),
    ],
)
def test_error_status(exc: LLMSwitchError, status: int, code: str | None) -> None:
    got_status, _, got_code = error_status(exc)
    assert (got_status, got_code) == (status, code)
