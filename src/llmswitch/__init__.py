"""llmswitch: keep an application's LLM calls flowing across providers.

Free tiers first, never over a provider's limits, instant failover when one breaks, back to the
preferred provider once it recovers, every token and cent accounted for.

Example:
    >>> from llmswitch import get_llm_manager
    >>> llm = get_llm_manager()
    >>> llm.call_llm("You are terse.", "Say hi")  # doctest: +SKIP
"""

from llmswitch._alerts import Alert
from llmswitch._clock import AsyncSleep, Clock, FakeClock, Sleep
from llmswitch._config import AlertSettings, Settings, load_settings
from llmswitch._errors import (
    AllProvidersFailed,
    AuthFailed,
    BadRequest,
    ConfigError,
    ConnectionFailed,
    ContentFiltered,
    ContextTooLong,
    LLMSwitchError,
    LocalFault,
    MalformedReply,
    ManagerClosed,
    ProviderError,
    QuotaExhausted,
    RateLimited,
    ServerError,
    StorageError,
    Timeout,
)
from llmswitch._events import (
    AttemptFinished,
    CallFinished,
    CircuitChanged,
    Event,
    Failover,
    NoProviderAvailable,
    Sink,
    StoreHealthChanged,
)
from llmswitch._manager import LLMProviderManager, get_llm_manager
from llmswitch._router import AsyncChatStream, ChatStream
from llmswitch._state import Store, store_from_url
from llmswitch._state.memory import MemoryStore
from llmswitch._state.sqlite import SqliteStore  # RedisStore: store_from_url("redis://..."), lazily
from llmswitch._transport import (
    AsyncStreamResponse,
    AsyncTransport,
    HttpxTransport,
    RawReply,
    StreamResponse,
    Transport,
)
from llmswitch._transport_aiohttp import AiohttpTransport
from llmswitch._types import (
    Attempt,
    ChatRequest,
    ChatResult,
    EmbeddingResult,
    EmbedRequest,
    FailureKind,
    Message,
    Outcome,
    StreamChunk,
    Usage,
)
from llmswitch._wire.base import CallContext, HttpRequest

__version__ = "0.1.0"

__all__ = [
    "AiohttpTransport",
    "Alert",
    "AlertSettings",
    "AllProvidersFailed",
    "AsyncChatStream",
    "AsyncSleep",
    "AsyncStreamResponse",
    "AsyncTransport",
    "Attempt",
    "AttemptFinished",
    "AuthFailed",
    "BadRequest",
    "CallContext",
    "CallFinished",
    "ChatRequest",
    "ChatResult",
    "ChatStream",
    "CircuitChanged",
    "Clock",
    "ConfigError",
    "ConnectionFailed",
    "ContentFiltered",
    "ContextTooLong",
    "EmbedRequest",
    "EmbeddingResult",
    "Event",
    "Failover",
    "FailureKind",
    "FakeClock",
    "HttpRequest",
    "HttpxTransport",
    "LLMProviderManager",
    "LLMSwitchError",
    "LocalFault",
    "MalformedReply",
    "ManagerClosed",
    "MemoryStore",
    "Message",
    "NoProviderAvailable",
    "Outcome",
    "ProviderError",
    "QuotaExhausted",
    "RateLimited",
    "RawReply",
    "ServerError",
    "Settings",
    "Sink",
    "Sleep",
    "SqliteStore",
    "StorageError",
    "Store",
    "StoreHealthChanged",
    "StreamChunk",
    "StreamResponse",
    "Timeout",
    "Transport",
    "Usage",
    "__version__",
    "get_llm_manager",
    "load_settings",
    "store_from_url",
]
