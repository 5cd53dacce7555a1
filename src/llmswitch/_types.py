"""Value objects that cross module boundaries: requests, replies, usage and attempts.

Frozen, slotted dataclasses: cheap to build on the hot path, safe to hand to sinks and threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class FailureKind(StrEnum):
    """What went wrong with one attempt; the kind decides the router's action."""

    RATE_LIMITED = "rate_limited"
    QUOTA_EXHAUSTED = "quota_exhausted"
    AUTH_FAILED = "auth_failed"
    BAD_REQUEST = "bad_request"
    CONTENT_FILTER = "content_filter"
    CONTEXT_TOO_LONG = "context_too_long"
    SERVER_ERROR = "server_error"
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    MALFORMED_REPLY = "malformed_reply"
    NOT_ADMITTED = "not_admitted"  # refused locally, never sent (a window or the soft limit)
    COOLING_DOWN = "cooling_down"  # skipped locally: provider/key in cooldown
    BUDGET = "budget"  # skipped locally: paid provider past its daily budget
    STATE_UNAVAILABLE = "state_unavailable"  # skipped locally: shared limits cannot be checked
    CANNOT_CONTINUE = "cannot_continue"  # skipped locally: cannot continue a cut stream


@dataclass(frozen=True, slots=True)
class Message:
    role: str
    content: Any  # str, or a list of content parts (passed through to OpenAI-compatible wires)
    name: str | None = None
    tool_calls: Any = None
    tool_call_id: str | None = None

    def as_openai(self) -> dict[str, Any]:
        out: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.name is not None:
            out["name"] = self.name
        if self.tool_calls is not None:
            out["tool_calls"] = self.tool_calls
        if self.tool_call_id is not None:
            out["tool_call_id"] = self.tool_call_id
        return out

    @classmethod
    def from_openai(cls, raw: dict[str, Any]) -> Message:
        return cls(
            role=str(raw.get("role", "user")),
            content=raw.get("content"),
            name=raw.get("name"),
            tool_calls=raw.get("tool_calls"),
            tool_call_id=raw.get("tool_call_id"),
        )


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """One logical call, before a provider is chosen.

    ``model`` is ``None``/``"auto"`` (each provider's default), an alias, a provider's own model id,
    or ``"provider/model"`` to pin. ``extra`` carries OpenAI fields passed through untouched
    (tools, response_format, top_p, stop, ...).
    """

    messages: tuple[Message, ...]
    model: str | None = None
    temperature: float | None = 0.3
    max_tokens: int | None = 2000
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
        )


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try at one provider key: what happened and what the router did about it."""

    provider: str
    model: str
    key_alias: str
    outcome: str  # "ok" or a FailureKind value
    message: str = ""
    status: int | None = None
    latency_s: float = 0.0
    retry_after: float | None = None  # seconds from the attempt until the key may be used again
    usage: Usage = Usage()
    cost_usd: float = 0.0
    skipped_events: int = 0  # unparsable stream events skipped inside a sound stream
    first_bad_event: str | None = None  # the first of them, redacted and cut to 200 characters
    continued: bool = False  # this attempt continued a stream another attempt had started

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


@dataclass(frozen=True, slots=True)
class ChatResult:
    text: str
    provider: str
    model: str
    usage: Usage
    cost_usd: float
    latency_s: float
    attempts: tuple[Attempt, ...]
    finish_reason: str | None = "stop"
    raw: dict[str, Any] | None = None  # the provider's reply in OpenAI shape (tools, ids, ...)

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class StreamChunk:
    """A piece of a streamed reply. ``text`` is the new content; the final chunk has ``result``."""

    text: str
    provider: str
    model: str
    result: ChatResult | None = None
    raw: dict[str, Any] | None = None  # the provider's chunk in OpenAI shape, when any
