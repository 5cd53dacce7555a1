"""Value objects that cross module boundaries: requests, replies, usage and attempts.

Frozen, slotted dataclasses: cheap to build on the hot path, safe to hand to sinks and threads.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


def new_request_id() -> str:
    """A fresh request id, ``req_<32 hex>``: the gateway's shape, so library ledger rows, log
    lines and alerts carry an id a user can grep just like the gateway's. 128 random bits, as
    a uuid4's hex, without building the UUID object (a call makes one)."""
    return "req_" + os.urandom(16).hex()


class FailureKind(StrEnum):
    """How a sent attempt failed (a ``ProviderError``'s kind); the kind decides the verdict."""

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


class Outcome(StrEnum):
    """What became of one attempt: it succeeded; it was sent and failed (one member per
    ``FailureKind``, same value: ``failed``); it was skipped here (``skipped``); or it could not
    leave this machine (``LOCAL_FAULT``). Only ``sent`` outcomes say anything about a provider.

    A ``StrEnum``, so the words are what the status, the gateway's headers and the events show.
    """

    OK = "ok"
    # sent, and the provider (or the way to it) failed: the FailureKind of the error
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
    # skipped locally, never sent
    NOT_ADMITTED = "not_admitted"  # a window (or the daily soft limit) has no room
    COOLING_DOWN = "cooling_down"  # the provider's or the model's circuit is open
    BUDGET = "budget"  # a paid provider past its daily budget
    STATE_UNAVAILABLE = "state_unavailable"  # the shared limits cannot be checked
    CANNOT_CONTINUE = "cannot_continue"  # the model cannot continue a cut stream
    KEY_REFUSED = "key_refused"  # the provider refused this key earlier (until it changes)
    CONTEXT_TOO_SMALL = "context_too_small"  # the model's context window is too small
    CANNOT_HONOUR = "cannot_honour"  # the model cannot honour a request parameter (tools, n...)
    # could not leave this machine (errors.LocalFault: no file descriptors, no route)
    LOCAL_FAULT = "local_fault"

    @classmethod
    def of(cls, kind: FailureKind) -> Outcome:
        """The outcome of a sent attempt that failed with ``kind``."""
        return cls(kind.value)

    @property
    def skipped(self) -> bool:
        """Passed over here (admission, a stream's continuation): never sent."""
        return self in _SKIPPED

    @property
    def sent(self) -> bool:
        """The request reached the provider, or the way to it (not a skip, not a local fault)."""
        return self is not Outcome.LOCAL_FAULT and self not in _SKIPPED

    @property
    def failed(self) -> bool:
        """Sent, and the provider (or the way to it) failed."""
        return self.sent and self is not Outcome.OK


_SKIPPED = frozenset(
    {
        Outcome.NOT_ADMITTED,
        Outcome.COOLING_DOWN,
        Outcome.BUDGET,
        Outcome.STATE_UNAVAILABLE,
        Outcome.CANNOT_CONTINUE,
        Outcome.KEY_REFUSED,
        Outcome.CONTEXT_TOO_SMALL,
        Outcome.CANNOT_HONOUR,
    }
)


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
    (tools, response_format, top_p, stop, ...). ``request_id`` names the call in every ledger
    entry of its attempts, in the log lines and in the alerts it triggers (never sent upstream).
    """

    messages: tuple[Message, ...]
    model: str | None = None
    temperature: float | None = None  # None: not sent (the provider's default)
    max_tokens: int | None = None  # None: not sent; max_completion_tokens travels in extra
    extra: dict[str, Any] = field(default_factory=dict)
    request_id: str = ""
    #: the gateway's ``/v1/responses`` body as the client sent it: a provider that serves the
    #: Responses API gets it natively (``_wire.responses``), the others this chat translation
    responses_body: dict[str, Any] | None = None

    def completion_cap(self) -> int | None:
        """The most completion tokens the caller allows over all choices (None: no cap):
        the larger of ``max_tokens`` and ``max_completion_tokens``, times ``n``."""
        caps = [c for c in (self.max_tokens, self.extra.get("max_completion_tokens")) if c]
        if not caps:
            return None
        n = self.extra.get("n")
        return int(max(caps)) * (n if isinstance(n, int) and n > 1 else 1)


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
class WindowUsage:
    """How full one window is right now, for status and strategies."""

    name: str
    limit: int
    used: int
    resets_at: float | None  # when the window is back to full (None: empty already)

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    @property
    def fraction_used(self) -> float:
        return self.used / self.limit if self.limit > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try at one provider key: what happened and what the router did about it."""

    provider: str
    model: str
    key_alias: str
    outcome: Outcome
    message: str = ""
    status: int | None = None
    latency_s: float = 0.0
    retry_after: float | None = None  # seconds from the attempt until the key may be used again
    usage: Usage = Usage()
    cost_usd: float = 0.0
    skipped_events: int = 0  # unparsable stream events skipped inside a sound stream
    first_bad_event: str | None = None  # the first of them, redacted and cut to 200 characters
    continued: bool = False  # this attempt continued a stream another attempt had started
    #: a success's key windows right after it (this call at its real tokens, calls in flight at
    #: their reservations, as admission counted them): what the key will still admit
    windows: tuple[WindowUsage, ...] = ()

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK

    @property
    def sent(self) -> bool:
        """The attempt reached (or tried to reach) the provider; a skip did not."""
        return self.outcome.sent


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
    request_id: str = ""  # the call's id, as in its ledger entries, log lines and alerts

    def __str__(self) -> str:
        return self.text

    @property
    def target(self) -> str:
        """``provider/model``: the name that reaches what served this call again."""
        return f"{self.provider}/{self.model}"


@dataclass(frozen=True, slots=True)
class StreamChunk:
    """A piece of a streamed reply. ``text`` is the new content; the final chunk has ``result``."""

    text: str
    provider: str
    model: str
    result: ChatResult | None = None
    raw: dict[str, Any] | None = None  # the provider's chunk in OpenAI shape, when any
    key_alias: str = ""  # the key serving it (the gateway's x-ratelimit-* headers read its windows)

    @property
    def target(self) -> str:
        """``provider/model`` of the attempt this chunk came from."""
        return f"{self.provider}/{self.model}"


@dataclass(frozen=True, slots=True)
class EmbedRequest:
    """One embeddings call, before a provider is chosen.

    ``inputs`` are texts, or token arrays (OpenAI's tokenizer) when the model takes them;
    ``dimensions`` shortens the vectors where the model can; ``extra`` carries further fields
    (``user``, ``input_type``...) to OpenAI-compatible providers untouched.
    """

    inputs: tuple[str | tuple[int, ...], ...]
    model: str | None = None
    dimensions: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    request_id: str = ""  # as ChatRequest's: names the call in the ledger, logs and alerts

    @property
    def token_arrays(self) -> bool:
        return any(not isinstance(i, str) for i in self.inputs)


@dataclass(frozen=True, slots=True)
class EmbeddingResult:
    """The vectors of one ``embed`` call (in input order) and who served them.

    ``usage.prompt_tokens`` is the provider's count, or llmswitch's estimate where the provider
    reports none (Together, Gemini's native API); ``cost_usd`` is what the ledger recorded.
    """

    vectors: list[list[float]]
    provider: str
    model: str
    usage: Usage
    cost_usd: float
    latency_s: float
    attempts: tuple[Attempt, ...]
    request_id: str = ""

    @property
    def target(self) -> str:
        """``provider/model``: the name that reaches what served this call again."""
        return f"{self.provider}/{self.model}"

    @property
    def dimensions(self) -> int:
        return len(self.vectors[0]) if self.vectors else 0
