"""Error bodies as each provider sends them (from ``shared/reference/providers.md``), for the
classifier's table in ``test_classify.py``."""

from __future__ import annotations

import json
from typing import Any

GROQ_TPM = (
    "Rate limit reached for model `openai/gpt-oss-20b` in organization `org_x` service tier "
    "`on_demand` on tokens per minute (TPM): Limit 8000, Used 5536, Requested 5599. Please try "
    "again in 23.5125s. Need more tokens? Upgrade to Dev Tier today at "
    "https://console.groq.com/settings/billing"
)
GROQ_RPD = (
    "Rate limit reached for model `openai/gpt-oss-120b` in organization `org_x` service tier "
    "`on_demand` on requests per day (RPD): Limit 1000, Used 1000, Requested 1. Please try again "
    "in 1m26.4s."
)
GROQ_TPD = GROQ_RPD.replace(
    "requests per day (RPD): Limit 1000", "tokens per day (TPD): Limit 100000"
)
GROQ_RPM = GROQ_RPD.replace("requests per day (RPD)", "requests per minute (RPM)").replace(
    "1m26.4s", "789.6ms"
)
GROQ_413 = (
    "Request too large for model `X` in organization `org_x` service tier `on_demand` on tokens "
    "per minute (TPM): Limit 8000, Requested 9000, please reduce your message size and try again."
)
OPENAI_TPM = (
    "Rate limit reached for gpt-4o-mini in organization org-x on tokens per min (TPM): Limit "
    "200000, Used 195869, Requested 4412. Please try again in 84ms. Visit "
    "https://platform.openai.com/account/rate-limits to learn more."
)
OPENAI_TOO_LARGE = (
    "Request too large for gpt-4o in organization org-x on tokens per min (TPM): Limit 30000, "
    "Requested 34307. The input or output tokens must be reduced in order to run successfully."
)
GEMINI_429_MSG = (
    "You exceeded your current quota, please check your plan and billing details. \n* Quota "
    "exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, "
    "limit: 20, model: gemini-3.5-flash\nPlease retry in 38.90923309s."
)


def oai(message: str, type_: str = "", code: str | None = None, **extra: Any) -> bytes:
    return json.dumps(
        {"error": {"message": message, "type": type_, "param": None, "code": code, **extra}}
    ).encode()


def gemini_429(quota_id: str, message: str = GEMINI_429_MSG) -> bytes:
    return json.dumps(
        {
            "error": {
                "code": 429,
                "message": message,
                "status": "RESOURCE_EXHAUSTED",
                "details": [
                    {"@type": "type.googleapis.com/google.rpc.Help", "links": []},
                    {
                        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                        "violations": [
                            {
                                "quotaMetric": "generativelanguage.googleapis.com/"
                                "generate_content_free_tier_requests",
                                "quotaId": quota_id,
                                "quotaDimensions": {"location": "global", "model": "g"},
                                "quotaValue": "20",
                            }
                        ],
                    },
                    {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "38s"},
                ],
            }
        }
    ).encode()


def google(code: int, status: str, message: str, details: list[Any] | None = None) -> bytes:
    err: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details is not None:
        err["details"] = details
    return json.dumps({"error": err}).encode()


def openrouter(code: int, message: str, metadata: dict[str, Any] | None = None) -> bytes:
    err: dict[str, Any] = {"code": code, "message": message}
    if metadata is not None:
        err["metadata"] = metadata
    return json.dumps({"error": err, "user_id": "user_x"}).encode()


GEMINI_BAD_KEY = google(
    400,
    "INVALID_ARGUMENT",
    "API key not valid. Please pass a valid API key.",
    [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "API_KEY_INVALID",
            "domain": "googleapis.com",
            "metadata": {"service": "generativelanguage.googleapis.com"},
        }
    ],
)
OR_FREE_DAY = openrouter(
    429,
    "Rate limit exceeded: free-models-per-day. Add 10 credits to unlock 1000 free model "
    "requests per day",
    {
        "headers": {
            "X-RateLimit-Limit": "50",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": "1788825600000",
        },
        "limit_source": "openrouter_free_tier_daily",
    },
)
OR_UPSTREAM = openrouter(
    429,
    "Provider returned error",
    {
        "raw": "deepseek/deepseek-r1-0528:free is temporarily rate-limited upstream. Please retry "
        "shortly, or add your own key to accumulate your rate limits",
        "provider_name": "Chutes",
        "is_byok": False,
        "limit_source": "upstream_provider_shared_pool",
    },
)
# 2026-09-07T23:00:00Z, one hour before the reset above.
OR_DATE = {"date": "Mon, 07 Sep 2026 23:00:00 GMT", "x-ratelimit-reset": "1788825600000"}
