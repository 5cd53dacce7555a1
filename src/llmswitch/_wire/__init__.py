"""Wire protocols: pure translation between ``ChatRequest`` and each provider's bytes.

``openai_compat`` serves every OpenAI-compatible provider; ``gemini`` speaks Google's native API.
``classify`` turns failed replies into ``ProviderError``s, ``headers`` reads rate-limit headers,
``sse`` splits event streams. None of them performs I/O: ``llmswitch._transport`` does.
"""

from __future__ import annotations

from llmswitch._wire.base import (
    CallContext,
    HttpRequest,
    StreamDecoder,
    StreamEvent,
    Wire,
    WireReply,
    wire_for,
)
from llmswitch._wire.headers import read_limit_headers

__all__ = [
    "CallContext",
    "HttpRequest",
    "StreamDecoder",
    "StreamEvent",
    "Wire",
    "WireReply",
    "read_limit_headers",
    "wire_for",
]
