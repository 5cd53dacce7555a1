"""Pick a state backend from a URL: ``memory://``, ``sqlite:///path``, ``redis://host:port/db``.

An explicit scheme registry (as in limits' ``storage_from_string``): each scheme names a builder
that imports its backend only when used, so a missing optional driver fails with the extra to
install, and a typo in the scheme fails listing the valid ones.

Example:
    >>> store = store_from_url("memory://")
    >>> store.backend
    'memory'
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from llmswitch._errors import ConfigError
from llmswitch._state.base import Store

__all__ = ["SCHEMES", "Store", "store_from_url"]


def _memory(url: str, options: dict[str, Any]) -> Store:
    from llmswitch._state.memory import MemoryStore

    return MemoryStore(**options)


def _sqlite(url: str, options: dict[str, Any]) -> Store:
    """``sqlite:///relative/path`` or ``sqlite:////absolute/path`` (parents are created)."""
    from llmswitch._state.sqlite import SqliteStore

    parts = urlsplit(url)
    if parts.netloc or not parts.path.lstrip("/"):
        raise ConfigError(
            f"state = {url!r}: a SQLite URL needs three slashes and a path, e.g. "
            "'sqlite:///.llmswitch/state.db' (relative) or 'sqlite:////var/lib/llmswitch.db'"
        )
    path = Path(parts.path[1:])
    for key, value in parse_qsl(parts.query):
        if key == "busy_timeout":
            options.setdefault(key, float(value))
        else:
            raise ConfigError(f"state = {url!r}: unknown SQLite option {key!r} (busy_timeout)")
    return SqliteStore(path, **options)


def _redis(url: str, options: dict[str, Any]) -> Store:
    """``redis://[:password@]host:port/db?prefix=tenant1:``; ``rediss://`` for TLS."""
    try:
        from llmswitch._state.redis import RedisStore
    except ImportError as exc:
        raise ConfigError(
            f"state = {_mask(url)!r} needs the Redis driver: pip install 'llmswitch[redis]'"
        ) from exc
    parts = urlsplit(url)
    query = []
    for key, value in parse_qsl(parts.query):
        if key == "prefix":
            options.setdefault("prefix", value)
        elif key == "server_time":
            options.setdefault("server_time", value.lower() in ("1", "true", "yes", "on"))
        else:
            query.append((key, value))  # redis-py's own options (socket_timeout, ...)
    return RedisStore(url=urlunsplit(parts._replace(query=urlencode(query))), **options)


#: scheme -> builder; the one place a backend is registered.
SCHEMES: dict[str, Callable[[str, dict[str, Any]], Store]] = {
    "memory": _memory,
    "sqlite": _sqlite,
    "redis": _redis,
    "rediss": _redis,
}


def store_from_url(url: str, **options: Any) -> Store:
    """Build the store ``url`` names; ``options`` go to the backend's constructor.

    Args:
        url: ``memory://``, ``sqlite:///path`` or ``redis://host:port/db`` (``rediss://``).
        **options: backend options, e.g. ``prefix="tenant1:"`` or ``server_time=True`` (Redis),
            ``busy_timeout=10.0`` (SQLite), ``ledger_retention_days=7`` (every backend: how
            long raw ledger entries are kept). They win over the same options in the query
            string.

    Raises:
        ConfigError: unknown scheme, malformed URL or option, or a missing optional driver.
    """
    scheme, sep, _ = url.partition("://")
    builder = SCHEMES.get(scheme.lower()) if sep else None
    if builder is None:
        valid = ", ".join(f"{s}://" for s in SCHEMES)
        raise ConfigError(f"state = {_mask(url)!r} has an unknown scheme; use one of {valid}")
    try:
        return builder(url, dict(options))
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"state = {_mask(url)!r}: {exc}") from exc


def _mask(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
