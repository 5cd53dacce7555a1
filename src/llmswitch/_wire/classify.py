"""Error classification shared by every wire: (status, headers, body) -> a ``ProviderError``.

One classifier serves both protocols because the envelopes overlap: Gemini's OpenAI-compatible
endpoint answers with Google's envelope (sometimes wrapped in a JSON array), and OpenRouter
relays upstream bodies. Rules run most specific first:

======================================================  ==================  =====================
signal (provider)                                       class               window / retry_after
======================================================  ==================  =====================
403 + ``metadata.reasons``/``flagged_input``,           ContentFiltered
``Request blocked`` (OpenRouter moderation/guardrail);
code ``content_filter``/``content_policy_violation``
401; 403 (OpenRouter/Gemini/OpenAI); Gemini 400         AuthFailed
``API_KEY_INVALID`` / ``API key not valid``
``context_length_exceeded`` (OpenAI, OpenRouter),       ContextTooLong
"reduce the length of the messages" (Groq), "input
token count ... exceeds the maximum" (Gemini),
"``inputs`` tokens + ``max_new_tokens`` must be <="
(Together, 400 or 403), "maximum context length"
429/413 "Request too large" (OpenAI, Groq)              BadRequest          never retry
402 (OpenRouter credits, Together ``credit_limit``)     QuotaExhausted
429 ``insufficient_quota``/``credit_balance_exhausted``  QuotaExhausted
(OpenAI)
429 Groq/OpenAI message ``(RPD)``/``(TPD)``             QuotaExhausted      rpd/tpd; message wait
429 Gemini ``QuotaFailure.quotaId`` with ``PerDay``      QuotaExhausted      rpd/tpd; none (park
                                                                            until Pacific midnight)
429 Gemini message ``limit: 0`` (no free access)        QuotaExhausted      none
429 OpenRouter ``free-models-per-day`` /                QuotaExhausted      rpd; X-RateLimit-Reset
``openrouter_free_tier_daily``
429 anything else (per-minute, OpenRouter upstream      RateLimited         rpm/tpm when said;
shared pool, Together ``dynamic_*``, Gemini                                 see below
``PerMinute``, bare ``RESOURCE_EXHAUSTED``)
408                                                     Timeout
other 4xx (400, 404 model gone, 413, 422, ...)          BadRequest
5xx, 498 (Groq flex), 529, Cloudflare 52x, 409          ServerError
200 with an ``error`` object (OpenRouter, Groq)         by embedded code    (a 429 inside ->
                                                        else ServerError    RateLimited)
======================================================  ==================  =====================

``retry_after`` comes from, in order: ``retry-after-ms``; the message (``Please try again in
7.66s`` / ``789.6ms`` / ``1m2s``, Gemini's ``Please retry in 38.9s``); Gemini
``RetryInfo.retryDelay``; ``Retry-After`` seconds; Together's ``x-ratelimit-reset`` seconds;
OpenRouter's ``X-RateLimit-Reset`` epoch milliseconds measured against the reply's ``Date``
header (the server's own clock, which keeps this function pure).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

from llmswitch import _errors as errors
from llmswitch._quota import parse_duration
from llmswitch._wire.base import CallContext

MAX_MESSAGE = 400

_WINDOW_TAG = re.compile(r"\((RPM|RPD|TPM|TPD)\)")
_TRY_AGAIN = re.compile(r"(?:try again|retry) in ((?:\d+(?:\.\d+)?(?:ms|h|m|s))+)", re.I)
_CONTEXT = re.compile(
    r"context_length_exceeded|reduce the length of the messages|maximum context length"
    r"|input token count.{0,40}exceeds the maximum|`inputs` tokens \+ `max_new_tokens` must be",
    re.I,
)
_AUTH_CODES = {"invalid_api_key", "api_key_invalid", "authentication", "unauthorized"}
_QUOTA_CODES = {"insufficient_quota", "credit_balance_exhausted", "credit_limit"}
_FILTER_CODES = {"content_filter", "content_policy_violation", "moderation"}


@dataclass(slots=True)
class ErrorBody:
    """The fields of any provider's error envelope we classify by."""

    message: str = ""
    type: str = ""
    code: str = ""
    code_int: int | None = None  # OpenRouter and Google put the HTTP status here
    google_status: str = ""  # Google canonical code, e.g. RESOURCE_EXHAUSTED
    details: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def haystack(self) -> str:
        """Everything worth searching for phrases, upstream text included."""
        extra = self.metadata.get("raw")
        extra_text = extra if isinstance(extra, str) else json.dumps(extra) if extra else ""
        return " ".join((self.message, self.type, self.code, extra_text))


def error_body(body: bytes) -> ErrorBody | None:
    """The error envelope of ``body``, or ``None`` when it holds no error object."""
    try:
        obj = json.loads(body)
    except ValueError:
        return None
    return error_from_json(obj)


def error_from_json(obj: Any) -> ErrorBody | None:
    """Read ``{"error": ...}``, Google's array-wrapped variant, or a bare string error."""
    if isinstance(obj, list) and obj:
        obj = obj[0]  # Gemini's compatible endpoint wraps its 429 in an array
    if not isinstance(obj, dict):
        return None
    err = obj.get("error")
    if isinstance(err, str) and err:
        return ErrorBody(message=err)
    if not isinstance(err, dict):
        return None
    code = err.get("code")
    details = err.get("details")
    metadata = err.get("metadata")
    return ErrorBody(
        message=str(err.get("message") or ""),
        type=str(err.get("type") or ""),
        code=code if isinstance(code, str) else "",
        code_int=code if isinstance(code, int) else None,
        google_status=str(err.get("status") or ""),
        details=[d for d in details if isinstance(d, dict)] if isinstance(details, list) else [],
        metadata=metadata if isinstance(metadata, dict) else {},
    )


def classify(
    status: int, headers: Mapping[str, str], body: bytes, ctx: CallContext
) -> errors.ProviderError:
    """Classify a failed reply (any status) into the ``ProviderError`` the router acts on."""
    err = error_body(body)
    if err is None:
        text = body.decode("utf-8", "replace").strip()
        err = ErrorBody(message=_fallback_message(text, status))
    return classify_error(status, headers, err, ctx)


def classify_error(
    status: int, headers: Mapping[str, str], err: ErrorBody, ctx: CallContext
) -> errors.ProviderError:
    """Classify a parsed error; ``status`` is the HTTP status (2xx for an error in a 200)."""
    h = {k.lower(): v for k, v in headers.items()}
    effective = status
    if 200 <= status < 300:
        effective = err.code_int if err.code_int and err.code_int >= 400 else 500
    cls, window, retry = _decide(effective, h, err)
    message = err.message[:MAX_MESSAGE] or f"HTTP {status}"
    if effective != status:
        message = f"error inside a {status} reply: {message}"
    return ctx.error(cls, message, status=status, retry_after=retry, window=window)


_Decision = tuple[type[errors.ProviderError], "str | None", "float | None"]


def _decide(status: int, h: Mapping[str, str], err: ErrorBody) -> _Decision:
    text = err.haystack
    lowered = text.lower()
    if _is_filtered(status, err, lowered):
        return errors.ContentFiltered, None, None
    if status == 401 or (status in (400, 403) and _is_auth(err, lowered)):
        return errors.AuthFailed, None, None
    if status != 429 and 400 <= status < 500 and _CONTEXT.search(text):
        return errors.ContextTooLong, None, None
    if status == 403:
        return errors.AuthFailed, None, None
    if status in (413, 429) and "request too large" in lowered:
        return errors.BadRequest, None, None
    if status == 402:
        return errors.QuotaExhausted, None, None
    if status == 429:
        return _decide_429(h, err, text)
    if status == 408:
        return errors.Timeout, None, _retry_after(h, err, text)
    if 400 <= status < 500 and status not in (409, 498):
        return errors.BadRequest, None, None
    return errors.ServerError, None, _retry_after(h, err, text)


def _is_filtered(status: int, err: ErrorBody, lowered: str) -> bool:
    if err.code in _FILTER_CODES or err.type in _FILTER_CODES:
        return True
    if err.metadata.get("error_type") in _FILTER_CODES:
        return True
    meta_flags = "reasons" in err.metadata or "flagged_input" in err.metadata
    return status == 403 and (meta_flags or lowered.startswith("request blocked"))


def _is_auth(err: ErrorBody, lowered: str) -> bool:
    if err.code.lower() in _AUTH_CODES or err.metadata.get("error_type") == "authentication":
        return True
    reasons = {str(d.get("reason", "")) for d in err.details}
    return "API_KEY_INVALID" in reasons or "api key not valid" in lowered


def _decide_429(h: Mapping[str, str], err: ErrorBody, text: str) -> _Decision:
    retry = _retry_after(h, err, text)
    if err.code in _QUOTA_CODES or err.type in _QUOTA_CODES:
        return errors.QuotaExhausted, None, None
    tag = _WINDOW_TAG.search(text)
    window = tag.group(1).lower() if tag else None
    gemini_window, per_day = _gemini_quota(err)
    if gemini_window is not None:
        window = gemini_window
    lowered = text.lower()
    if per_day:
        return errors.QuotaExhausted, window, None  # RetryInfo on a per-day miss is misleading
    if re.search(r"\blimit: 0\b", text):
        return errors.QuotaExhausted, window, None
    source = str(err.metadata.get("limit_source", ""))
    if "free-models-per-day" in lowered or source == "openrouter_free_tier_daily":
        return errors.QuotaExhausted, "rpd", retry
    if "free-models-per-min" in lowered:
        window = "rpm"
    if window in ("rpd", "tpd"):
        return errors.QuotaExhausted, window, retry
    return errors.RateLimited, window, retry


def _gemini_quota(err: ErrorBody) -> tuple[str | None, bool]:
    """(window, per_day) from Gemini's ``QuotaFailure`` violations, if any."""
    for detail in err.details:
        if not str(detail.get("@type", "")).endswith("QuotaFailure"):
            continue
        for violation in detail.get("violations") or []:
            if not isinstance(violation, dict):
                continue
            quota_id = str(violation.get("quotaId", ""))
            metric = str(violation.get("quotaMetric", ""))
            unit = "t" if "token" in (quota_id + metric).lower() else "r"
            if "PerDay" in quota_id:
                return f"{unit}pd", True
            if "PerMinute" in quota_id:
                return f"{unit}pm", False
    return None, False


def _retry_after(h: Mapping[str, str], err: ErrorBody, text: str) -> float | None:
    """The provider's own wait, most precise source first."""
    ms = _number(h.get("retry-after-ms"))
    if ms is not None:
        return ms / 1000.0
    match = _TRY_AGAIN.search(text)
    if match:
        return parse_duration(match.group(1))
    for detail in err.details:
        if str(detail.get("@type", "")).endswith("RetryInfo"):
            delay = parse_duration(str(detail.get("retryDelay", "")))
            if delay is not None:
                return delay
    for name in ("retry-after", "x-ratelimit-reset"):
        seconds = _number(h.get(name))
        if seconds is not None and seconds < 1e9:  # an epoch is not a wait
            return seconds
    return _openrouter_reset(h, err)


def _openrouter_reset(h: Mapping[str, str], err: ErrorBody) -> float | None:
    echoed = err.metadata.get("headers")
    reset_ms = _number(h.get("x-ratelimit-reset"))
    if reset_ms is None and isinstance(echoed, dict):
        reset_ms = _number(str(echoed.get("X-RateLimit-Reset", "")))
    date = h.get("date")
    if reset_ms is None or reset_ms < 1e12 or date is None:
        return None
    try:
        server_now = parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, reset_ms / 1000.0 - server_now)


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value.strip())
    except ValueError:
        return None


def _fallback_message(text: str, status: int) -> str:
    """A short message from a non-JSON body (HTML from Cloudflare, text/plain 401s)."""
    if not text:
        return f"HTTP {status} with an empty body"
    if text.startswith("<"):
        title = re.search(r"<title>(.*?)</title>", text, re.I | re.S)
        return f"HTTP {status}: " + (title.group(1).strip() if title else "HTML error page")
    try:
        obj = json.loads(text)
    except ValueError:
        return text[:MAX_MESSAGE]
    if isinstance(obj, dict):
        for name in ("detail", "message", "msg"):
            if isinstance(obj.get(name), str):
                return str(obj[name])[:MAX_MESSAGE]
    return text[:MAX_MESSAGE]
