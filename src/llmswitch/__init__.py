"""llmswitch: keep an application's LLM calls flowing across providers.

Free tiers first, never over a provider's limits, instant failover when one breaks, back to the
preferred provider once it recovers, every token and cent accounted for.

Example:
    >>> from llmswitch import get_llm_manager
    >>> llm = get_llm_manager()
    >>> llm.call_llm("You are terse.", "Say hi")  # doctest: +SKIP
"""


from llmswitch.alerts import Alert
from llmswitch.config import AlertSettings, Settings, load_settings
from llmswitch.errors import (
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
    ProviderError,
    QuotaExhausted,
    RateLimited,
    ServerError,
    StorageError,
    Timeout,
)
from llmswitch.manager import LLMProviderManager, get_llm_manager
from llmswitch.types import (
    Attempt,
    ChatRequest,
    ChatResult,
    FailureKind,
    Message,
    StreamChunk,
    Usage,
)

__version__ = "0.1.0"

__all__ = [
    "Alert",
    "AlertSettings",
    "AllProvidersFailed",
    "Attempt",
    "AuthFailed",
    "BadRequest",
    "ChatRequest",
    "ChatResult",
    "ConfigError",
    "ConnectionFailed",
    "ContentFiltered",
    "ContextTooLong",
    "FailureKind",
    "LLMProviderManager",
    "LLMSwitchError",
    "LocalFault",
    "MalformedReply",
    "Message",
    "ProviderError",
    "QuotaExhausted",
    "RateLimited",
    "ServerError",
    "Settings",
    "StorageError",
    "StreamChunk",
    "Timeout",
    "Usage",
    "__version__",
    "get_llm_manager",
    "load_settings",
]
