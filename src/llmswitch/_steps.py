"""The steps the call machine answers with, and the only vocabulary its two drivers speak.

``Send`` a request, ``Wait`` a while, ``Done`` with a result, or ``Fail`` with an error: the
drivers in ``router.py`` perform them, ``call.Call`` decides them (tenacity's DoAttempt/DoSleep).
"""

from __future__ import annotations

from dataclasses import dataclass

from llmswitch._errors import LLMSwitchError
from llmswitch._types import ChatResult, EmbeddingResult
from llmswitch._wire.base import CallContext, HttpRequest


@dataclass(frozen=True, slots=True)
class Send:
    """Perform this request. ``first_token``: seconds to the first content (streams)."""

    http: HttpRequest
    ctx: CallContext
    stream: bool
    timeout: float
    stall: float | None = None
    first_token: float | None = None


@dataclass(frozen=True, slots=True)
class Wait:
    seconds: float


@dataclass(frozen=True, slots=True)
class Done:
    result: ChatResult | EmbeddingResult  # the latter for the embeddings operation


@dataclass(frozen=True, slots=True)
class Fail:
    error: LLMSwitchError


Step = Send | Wait | Done | Fail
