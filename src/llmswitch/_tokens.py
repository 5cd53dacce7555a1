"""Token estimates made before a call, for admission.

Admission reserves ``estimate_prompt_tokens(messages) + max_tokens`` in every token window; the
reply's real usage settles it afterwards. The estimate is deliberately pessimistic (about 3.5
characters a token plus a per-message overhead) so that a reservation rarely undercounts: an
undercount is what lets a burst slip past a provider's token-per-minute limit. Hand-written
rather than tiktoken because every provider tokenizes differently and a pessimistic bound is all
admission needs; it costs a few hundred nanoseconds instead of loading a vocabulary.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable

from llmswitch._types import Message

CHARS_PER_TOKEN = 3.5
PER_MESSAGE_OVERHEAD = 4
#: What admission reserves for the reply of a call that sets no ``max_tokens``.
COMPLETION_ESTIMATE = 1024
#: The estimate of the smallest call there is (one empty message, no ``max_tokens``): what the
#: status prices when it asks whether a budget can still pay for a call.
SMALLEST_CALL_ESTIMATE = 3 + PER_MESSAGE_OVERHEAD + COMPLETION_ESTIMATE


def estimate_text_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def estimate_prompt_tokens(messages: Iterable[Message]) -> int:
    total = 3
    for m in messages:
        content = m.content
        text = content if isinstance(content, str) else json.dumps(content) if content else ""
        total += PER_MESSAGE_OVERHEAD + estimate_text_tokens(text)
    return total
