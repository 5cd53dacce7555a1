"""The wire contract: what a protocol module builds, parses and classifies, without any I/O.

A ``Wire`` turns a ``ChatRequest`` into an ``HttpRequest`` and bytes back into a ``WireReply``,
a stream of ``StreamEvent``s or a classified ``ProviderError``. ``transport.py`` moves the bytes.
Keeping the two apart lets the router, the gateway and the tests share every decision about a
provider's dialect while sync and async code differ only in how they wait.

Example:
    >>> from llmswitch._types import ChatRequest, Message
    >>> request = ChatRequest((Message("user", "hi"),))
    >>> wire = wire_for("openai")
    >>> req = wire.build(base_url="https://api.groq.com/openai/v1", api_key="gsk_x",
    ...                  model="openai/gpt-oss-20b", request=request, stream=False)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

from llmswitch._errors import ConfigError, ProviderError
from llmswitch._types import ChatRequest, Usage

SENSITIVE_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-goog-api-key", "api-key", "x-api-key"}
)

# Key-shaped tokens a server might echo back (OpenAI, OpenRouter, Groq, Google, Together hex keys).
_KEYLIKE = re.compile(r"\b(sk-or-v1-|sk-proj-|sk-|gsk_|AIza|tgp_v1_)([A-Za-z0-9_\-]{6,})")


def redact(text: str) -> str:
    """Mask anything that looks like an API key, keeping its prefix: ``sk-***``."""
    return _KEYLIKE.sub(lambda m: f"{m.group(1)}***", text)


def mask_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``headers`` with credentials replaced by ``[secure]``, as httpx does."""
    return {k: "[secure]" if k.lower() in SENSITIVE_HEADERS else v for k, v in headers.items()}


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """What to send. The repr masks credential headers, so logging a request is safe."""

    method: str
    url: str
    headers: dict[str, str]
    json: dict[str, Any] | None
    stream: bool = False

    def __repr__(self) -> str:
        return (
            f"HttpRequest(method={self.method!r}, url={self.url!r}, "
            f"headers={mask_headers(self.headers)!r}, stream={self.stream!r})"
        )


@dataclass(frozen=True, slots=True)
class CallContext:
    """Who we are talking to, for error attributes. Never holds the key itself."""

    provider: str
    model: str
    key_alias: str

    def error(
        self,
        cls: type[ProviderError],
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        window: str | None = None,
    ) -> ProviderError:
        """Build ``cls`` with this context's attributes and a redacted message."""
        return cls(
            redact(message),
            provider=self.provider,
            model=self.model,
            key_alias=self.key_alias,
            status=status,
            retry_after=retry_after,
            window=window,
        )


@dataclass(frozen=True, slots=True)
class WireReply:
    """A successful non-streamed reply, normalized across dialects."""

    text: str
    usage: Usage
    finish_reason: str | None
    model: str
    raw: dict[str, Any]  # the reply in OpenAI chat.completion shape (Gemini converted)


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One decoded piece of a stream.

    ``usage``, when set, is the running total so far: the last event that carries one wins.
    """

    text: str = ""
    raw: dict[str, Any] | None = None  # the chunk in OpenAI chat.completion.chunk shape
    usage: Usage | None = None
    finish_reason: str | None = None
    done: bool = False  # the dialect's terminator was seen
    #: the event carries a tool call or reasoning: the model is answering even with no text
    #: (the wire reads its own dialect's shape so the core never digs into chunks)
    answering: bool = False


class StreamDecoder(Protocol):
    """Decodes one stream. An unparsable event is skipped and recorded, up to a few.

    ``skipped_events`` counts the ``data:`` events that were not JSON and were skipped;
    ``first_bad_event`` is the first of them, redacted and cut to 200 characters (None while
    there is none). More than three, or a stream that never finishes, raise MalformedReply.
    """

    skipped_events: int
    first_bad_event: str | None

    def feed(self, line: str) -> list[StreamEvent]:
        """Decode one raw body line (without its newline); raise a ProviderError on errors."""
        ...

    def close(self) -> list[StreamEvent]:
        """At EOF; raise MalformedReply when the stream never finished.

        Finished means the dialect's terminator came or, as a clean EOF is enough once the
        answer is complete, a finish reason did (OpenAI-compatible servers that omit
        ``[DONE]``; Gemini has no terminator but its ``finishReason``).
        """
        ...


class Wire(Protocol):
    name: str

    def build(
        self,
        *,
        base_url: str,
        api_key: str,
        model: str,
        request: ChatRequest,
        stream: bool,
        headers: Mapping[str, str] | None = None,
    ) -> HttpRequest: ...

    def parse(
        self, status: int, headers: Mapping[str, str], body: bytes, ctx: CallContext
    ) -> WireReply: ...

    def classify(
        self, status: int, headers: Mapping[str, str], body: bytes, ctx: CallContext
    ) -> ProviderError: ...

    def stream_decoder(self, ctx: CallContext) -> StreamDecoder: ...


def wire_for(api: str) -> Wire:
    """The wire for a catalog ``api`` value: ``"openai"`` or ``"gemini"``.

    Raises:
        ConfigError: for any other value, naming the valid ones.
    """
    wires = _wires()
    try:
        return wires[api]
    except KeyError:
        valid = ", ".join(repr(k) for k in sorted(wires))
        raise ConfigError(
            f"api = {api!r} is not a known wire protocol; use one of {valid}"
        ) from None


@cache
def _wires() -> dict[str, Wire]:
    """The explicit registry; wires are stateless, so one instance each serves every call."""
    # Imported here: the protocol modules import this one.
    from llmswitch._wire.gemini import GeminiWire
    from llmswitch._wire.openai_compat import OpenAICompatWire

    return {"openai": OpenAICompatWire(), "gemini": GeminiWire()}
