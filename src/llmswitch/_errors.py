"""One exception tree, grouped by what the caller does next.

::

    LLMSwitchError
    ├── ConfigError                 bad configuration or input; names the key and the fix
    ├── StorageError                the state store (SQLite, Redis) failed or is unreachable
    ├── ProviderError               one attempt at one provider failed; ``kind`` says how
    │   ├── RateLimited             wait until ``retry_after``; other keys/providers may serve
    │   ├── QuotaExhausted          a daily quota (or credit) is gone until the provider's day ends
    │   ├── AuthFailed              the key is wrong or revoked; disabled until the config changes
    │   ├── BadRequest              our request is wrong; failing over would only burn other quotas
    │   │   ├── ContentFiltered     the provider refused the content
    │   │   └── ContextTooLong      only a model with a larger context can serve it
    │   ├── ServerError             5xx, overloaded, an error inside a 200; cool the provider down
    │   ├── Timeout                 no answer in time
    │   ├── ConnectionFailed        refused, reset, DNS
    │   │   └── LocalFault          the cause is on this machine (EMFILE, no route): no cooldown
    │   └── MalformedReply          unparsable reply or a stream cut/stalled/garbled
    └── AllProvidersFailed          every candidate refused or failed; ``attempts`` lists each one

Programming misuse raises ``RuntimeError`` subclasses, as httpx does: ``ManagerClosed`` (a call on a
closed manager) derives from both ``LLMSwitchError`` and ``RuntimeError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

from llmswitch._types import Attempt, FailureKind, Outcome


class LLMSwitchError(Exception):
    """Root of every error llmswitch raises on purpose."""


class ConfigError(LLMSwitchError, ValueError):
    """Invalid configuration: names the source, the key and what would be valid."""


class StorageError(LLMSwitchError):
    """The state store failed; ``backend`` says which (``sqlite``, ``redis``), ``retry_after``
    when it will be tried again (seconds), when that is known."""

    def __init__(self, message: str, *, backend: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.backend = backend
        self.retry_after = retry_after


class ProviderError(LLMSwitchError):
    """One failed attempt; the router reads the attributes, people read the message."""

    kind: FailureKind = FailureKind.SERVER_ERROR

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        model: str = "",
        key_alias: str = "",
        status: int | None = None,
        retry_after: float | None = None,
        window: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.model = model
        self.key_alias = key_alias
        self.status = status
        self.retry_after = retry_after
        self.window = window  # which limit was hit, when the provider said ("rpm", "tpd", ...)
        #: every attempt of the call, when this error ended it (``with_attempts``)
        self.attempts: tuple[Attempt, ...] = ()

    def with_attempts(self, attempts: Sequence[Attempt]) -> Self:
        """This error as the one that ends a call: a new error, carrying the call's attempts.

        The error a wire raised for one attempt is never changed after the fact; the call
        machine raises this copy instead.
        """
        new = self._copy()
        new.attempts = tuple(attempts)
        return new

    def with_message(self, message: str) -> Self:
        """This error with another message (a new error; the original stays as raised)."""
        new = self._copy()
        new.message = message
        new.args = (message,)
        return new

    def _copy(self) -> Self:
        """A shallow copy that skips ``__init__`` (subclasses take other arguments)."""
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.args = self.args
        new.__cause__, new.__context__ = self.__cause__, self.__context__
        return new

    def __str__(self) -> str:
        where = "/".join(p for p in (self.provider, self.model) if p)
        prefix = f"{where}: " if where else ""
        status = f" (HTTP {self.status})" if self.status is not None else ""
        return f"{prefix}{self.kind.value}{status}: {self.message}"


class RateLimited(ProviderError):
    kind = FailureKind.RATE_LIMITED


class QuotaExhausted(ProviderError):
    kind = FailureKind.QUOTA_EXHAUSTED


class AuthFailed(ProviderError):
    kind = FailureKind.AUTH_FAILED


class BadRequest(ProviderError):
    kind = FailureKind.BAD_REQUEST


class ContentFiltered(BadRequest):
    kind = FailureKind.CONTENT_FILTER


class ContextTooLong(BadRequest):
    kind = FailureKind.CONTEXT_TOO_LONG


class ServerError(ProviderError):
    kind = FailureKind.SERVER_ERROR


class Timeout(ProviderError):
    kind = FailureKind.TIMEOUT


class ConnectionFailed(ProviderError):
    kind = FailureKind.CONNECTION


class MalformedReply(ProviderError):
    kind = FailureKind.MALFORMED_REPLY


class LocalFault(ConnectionFailed):
    """The call could not leave this machine: the cause is ours, not the provider's; nothing is
    cooled down.

    Out of file descriptors (EMFILE/ENFILE), buffers or memory (ENOBUFS/ENOMEM), no route or the
    network down (ENETUNREACH/ENETDOWN), no local port (EADDRNOTAVAIL): every provider would fail
    the same way, so blaming this one would cool down a healthy provider. It stays a
    ``ConnectionFailed`` (same ``kind``) so callers that only know that class still handle it.
    ``cause`` names the errno and its text (``"EMFILE: Too many open files"``).
    """

    def __init__(
        self,
        message: str,
        *,
        cause: str,
        provider: str = "",
        model: str = "",
        key_alias: str = "",
        status: int | None = None,
        retry_after: float | None = None,
        window: str | None = None,
    ) -> None:
        super().__init__(
            message,
            provider=provider,
            model=model,
            key_alias=key_alias,
            status=status,
            retry_after=retry_after,
            window=window,
        )
        self.cause = cause


ERROR_BY_KIND: dict[FailureKind, type[ProviderError]] = {
    cls.kind: cls
    for cls in (
        RateLimited,
        QuotaExhausted,
        AuthFailed,
        BadRequest,
        ContentFiltered,
        ContextTooLong,
        ServerError,
        Timeout,
        ConnectionFailed,
        MalformedReply,
    )
}


class AllProvidersFailed(LLMSwitchError):
    """No provider could serve the call.

    ``attempts`` lists every provider key tried or skipped, with its kind and message;
    ``retry_at`` (epoch seconds) is the earliest moment one of them frees up, when known, and
    ``retry_after`` the same as seconds from now.
    """

    def __init__(
        self,
        message: str,
        *,
        attempts: Sequence[Attempt],
        retry_after: float | None = None,
        retry_at: float | None = None,
        local: bool = False,
    ) -> None:
        lines = [message]
        for a in attempts:
            hint = f" (retry in {a.retry_after:.1f}s)" if a.retry_after is not None else ""
            lines.append(
                f"  - {a.provider}/{a.model} [{a.key_alias}]: {a.outcome}: {a.message}{hint}"
            )
        if retry_after is not None:
            lines.append(f"earliest recovery in {retry_after:.1f}s")
        super().__init__("\n".join(lines))
        self.attempts = tuple(attempts)
        self.retry_after = retry_after
        self.retry_at = retry_at
        self.local = local  # every provider failed to connect at once: the cause is ours

    @property
    def all_rate_limited(self) -> bool:
        """True when every attempt was refused for quota (not for errors): an HTTP 429 case."""
        quota = {
            Outcome.RATE_LIMITED,
            Outcome.QUOTA_EXHAUSTED,
            Outcome.NOT_ADMITTED,
            Outcome.BUDGET,
        }
        return bool(self.attempts) and all(a.outcome in quota for a in self.attempts)


class ManagerClosed(LLMSwitchError, RuntimeError):
    """A call reached an ``LLMProviderManager`` after ``close()`` / ``aclose()``.

    Programming misuse, hence a ``RuntimeError``: a closed manager has released its HTTP pools and
    its state store and never reopens them, so nothing was sent and nothing was recorded. Build a
    new manager (``get_llm_manager()`` hands out a fresh one once the old one is closed).
    """
