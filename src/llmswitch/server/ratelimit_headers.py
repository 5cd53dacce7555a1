"""``x-ratelimit-*`` on a served reply: what llmswitch will still admit on the key that served.

OpenAI, Groq and OpenRouter tell a caller how much of its limits is left, and clients pace
themselves on it. Behind llmswitch the provider's own headers describe a key the caller never
sees and leave out the rest of admission, so the gateway answers from admission's own windows
instead: what the reservation counted when it was granted (``Attempt.windows``: this call at its
real tokens, calls in flight at their reservations), so a reply costs the store no second read.
A stream's headers leave before it is settled: they say the same of its open attempt, this call
at its reservation (``AsyncChatStream.windows``). A store that cannot say (no counts in its
grant) has the key's windows read instead:

- ``x-ratelimit-limit-requests`` / ``-remaining-requests`` / ``-reset-requests``: the request
  window of the serving key with the least room left (``rpm`` or ``rpd``), its limit as
  admission applies it (a day window capped at ``daily_soft_limit``), what is left of it and when
  it is back to full (OpenAI's duration format, ``1m0s``, ``250ms``);
- the same three ``-tokens`` headers for the token windows (``tpm`` or ``tpd``).

The tightest window is reported because it is the one that refuses the next call first; a tie
goes to the one that resets later. A unit the key has no window for gets no headers (nothing
limits it here). A key blocked after the provider said a window was spent reports 0 remaining
until the block ends, as admission would. A store that cannot be read leaves the headers out:
they are advice, and never cost a reply.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

from llmswitch._errors import StorageError
from llmswitch._key_reading import read_key
from llmswitch._quota import WINDOW_NAMES, WindowUsage, key_scope

if TYPE_CHECKING:
    from llmswitch._manager import LLMProviderManager
    from llmswitch._router import AsyncChatStream
    from llmswitch._types import ChatResult, EmbeddingResult, StreamChunk

UNITS = ("requests", "tokens")


def serving_key(result: ChatResult) -> str:
    """The alias of the key whose attempt served ``result`` ("" when none is known)."""
    return next((a.key_alias for a in reversed(result.attempts) if a.ok), "")


async def rate_limit_headers(
    manager: LLMProviderManager,
    provider: str,
    key_alias: str,
    windows: Sequence[WindowUsage] = (),
) -> dict[str, str]:
    """The headers for a reply served by ``provider``'s key ``key_alias`` (see the module);
    ``windows``: the serving attempt's (``Attempt.windows``), when it has them."""
    if windows:
        return headers_for(windows, manager.clock())
    if not key_alias:
        return {}
    if not manager.store.may_wait():
        return remaining_headers(manager, provider, key_alias)
    # a store that may wait (Redis, a contended SQLite): off the event loop, as the router does
    return await asyncio.to_thread(remaining_headers, manager, provider, key_alias)


def served_windows(result: ChatResult | EmbeddingResult) -> tuple[WindowUsage, ...]:
    """The serving attempt's windows right after it (empty when it has none)."""
    return next((a.windows for a in reversed(result.attempts) if a.ok), ())


def stream_windows(first: StreamChunk, chunks: AsyncChatStream) -> tuple[WindowUsage, ...]:
    """A stream's windows once its first chunk is in: the whole call's when that chunk ended it,
    else the open attempt's grant (``AsyncChatStream.windows``)."""
    return served_windows(first.result) if first.result is not None else chunks.windows


def remaining_headers(manager: LLMProviderManager, provider: str, key_alias: str) -> dict[str, str]:
    """The headers from a read of the key's windows (a stream's, or a store without counts)."""
    p = next((q for q in manager.settings.providers if q.name == provider), None)
    if p is None:
        return {}
    now = manager.clock()
    try:
        reading = read_key(p, key_alias, manager.store, now, manager.settings.daily_soft_limit)
        block = manager.store.get_block(key_scope(provider, key_alias), now=now)
    except StorageError:
        return {}
    admitted = {w.name: w for w in reading.admitted}
    seen = []
    for u in reading.usage:
        w = admitted.get(u.name)
        if w is None:
            continue
        used, resets = u.used, u.resets_at
        if block is not None and block.until > now:
            used, resets = max(used, w.limit), max(resets or now, block.until)
        seen.append(WindowUsage(u.name, w.limit, used, resets))
    return headers_for(seen, now)


def headers_for(windows: Sequence[WindowUsage], now: float) -> dict[str, str]:
    """The tightest request window and the tightest token window of ``windows`` as headers.

    Example:
        >>> h = headers_for([WindowUsage("rpm", 30, 4, 60.0), WindowUsage("rpd", 100, 96, 9e3),
        ...                  WindowUsage("tpm", 6000, 150, 60.0)], now=0.0)
        >>> h["x-ratelimit-limit-requests"], h["x-ratelimit-remaining-requests"]  # rpd: 4 left
        ('100', '4')
        >>> h["x-ratelimit-reset-requests"], h["x-ratelimit-remaining-tokens"]
        ('2h30m0s', '5850')
    """
    tightest: dict[str, tuple[int, int, float]] = {}  # unit -> (remaining, limit, resets_in)
    for u in windows:
        unit = WINDOW_NAMES.get(u.name, ("", 0.0))[0]
        if unit not in UNITS:
            continue
        remaining = max(0, u.limit - u.used)
        resets_in = max(0.0, (u.resets_at or now) - now)
        best = tightest.get(unit)
        if best is None or (remaining, -resets_in) < (best[0], -best[2]):
            tightest[unit] = (remaining, u.limit, resets_in)
    headers = {}
    for unit, (remaining, limit, resets_in) in tightest.items():
        headers[f"x-ratelimit-limit-{unit}"] = str(limit)
        headers[f"x-ratelimit-remaining-{unit}"] = str(remaining)
        headers[f"x-ratelimit-reset-{unit}"] = duration(resets_in)
    return headers


def duration(seconds: float) -> str:
    """OpenAI's reset format: ``250ms`` under a second, else ``1h2m3s`` / ``6m0s`` / ``59.5s``.

    Example:
        >>> duration(0.25), duration(59.5), duration(360), duration(3723)
        ('250ms', '59.5s', '6m0s', '1h2m3s')
    """
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{secs:.3f}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{int(hours)}h{int(minutes)}m{text}"
    if minutes:
        return f"{int(minutes)}m{text}"
    return text
