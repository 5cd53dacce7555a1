"""Limits stated only in words: the 429 (and 413) messages of Groq and OpenAI.

Groq names its per-minute limits nowhere but in the error text: "... on requests per minute
(RPM): Limit 30, Used 30, Requested 1. Please try again in 2s." OpenAI writes the same
sentence ("on tokens per min (TPM): Limit 200000, Used 195869, Requested 4412"). Read into the
same ``LimitObservation``s as the headers, so a provider without declared windows learns them.
"""

from __future__ import annotations

import re

from llmswitch._quota import LimitObservation

_SENTENCE = re.compile(
    r"on (?:requests|tokens) per (?:minute|min|day) \((?P<window>RPM|TPM|RPD|TPD)\): "
    r"Limit (?P<limit>\d+)(?:, Used (?P<used>\d+))?",
    re.IGNORECASE,
)


def limits_in_message(message: str) -> list[LimitObservation]:
    """Every limit a provider's error message states (none when it states none)."""
    out = []
    for m in _SENTENCE.finditer(message or ""):
        limit = int(m["limit"])
        used = int(m["used"]) if m["used"] is not None else None
        remaining = max(0, limit - used) if used is not None else None
        out.append(LimitObservation(m["window"].lower(), limit=limit, remaining=remaining))
    return out
