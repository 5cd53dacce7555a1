"""Deterministic token counting, so that tests can predict usage to the token.

``prompt_tokens = 3 + sum(ceil(len(text) / 4) + 3 for each message)``, where ``text`` is the
message content (a string, or the concatenated ``text`` of its parts; nothing for None).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any


def content_text(content: Any) -> str:
    """The text of an OpenAI-style content value (string, list of parts, or None)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def count_prompt_tokens(messages: Iterable[dict[str, Any]]) -> int:
    """Prompt tokens the simulator charges for ``messages`` (see the module docstring).

    Example:
        >>> count_prompt_tokens([{"role": "user", "content": "Hello!"}])
        8
    """
    total = 3
    for message in messages:
        total += math.ceil(len(content_text(message.get("content"))) / 4) + 3
    return total
