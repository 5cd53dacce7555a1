"""Google's error envelope, shared by Gemini's native API and its OpenAI-compatible endpoint.

``{"error": {"code": int, "message": str, "status": "CANONICAL_CODE", "details": [...]}}``.
A bad key is a 400 ``INVALID_ARGUMENT`` with ``ErrorInfo.reason = API_KEY_INVALID`` (not a 401);
a 429 is ``RESOURCE_EXHAUSTED`` whose ``QuotaFailure.quotaId`` says PerMinute or PerDay and whose
``RetryInfo.retryDelay`` is present even for a per-day violation (20-45 s, to be ignored).
No rate-limit headers and no ``Retry-After`` header: the wait lives in the body only.
"""

from __future__ import annotations

import math
from typing import Any

from llmswitch.simulator.asgi import Reply
from llmswitch.simulator.engine import Call, Flavour
from llmswitch.simulator.faults import Fault
from llmswitch.simulator.limits import Violation

RATE_DOC = "https://ai.google.dev/gemini-api/docs/rate-limits"
QUOTA_IDS = {
    "rpm": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
    "rpd": "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
    "tpm": "GenerateContentInputTokensPerModelPerMinute-FreeTier",
    "tpd": "GenerateContentInputTokensPerModelPerDay-FreeTier",
}
METRIC = "generativelanguage.googleapis.com/generate_content_free_tier_"
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
    529: "UNAVAILABLE",
}
SERVER_WORDS = {
    500: "An internal error has occurred. Please retry or report in "
    "https://developers.generativeai.google/guide/troubleshooting",
    503: "The model is overloaded. Please try again later.",
    504: "The request timed out. Please try again.",
}


def google_error(
    code: int, message: str, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    err: dict[str, Any] = {
        "code": code,
        "message": message,
        "status": STATUS_NAMES.get(code, "UNKNOWN"),
    }
    if details:
        err["details"] = details
    return {"error": err}


def quota_body(model: str, window: str, limit: int, retry: float) -> dict[str, Any]:
    """The live 2026 RESOURCE_EXHAUSTED body for one violated window."""
    kind = "requests" if window in ("rpm", "rpd") else "input_token_count"
    message = (
        "You exceeded your current quota, please check your plan and billing details. For more "
        f"information on this error, head to: {RATE_DOC}. To monitor your current usage, head to: "
        f"https://ai.dev/rate-limit. \n* Quota exceeded for metric: {METRIC}{kind}, limit: "
        f"{limit}, model: {model}\nPlease retry in {retry:.9g}s."
    )
    details: list[dict[str, Any]] = [
        {
            "@type": "type.googleapis.com/google.rpc.Help",
            "links": [{"description": "Learn more about Gemini API quotas", "url": RATE_DOC}],
        },
        {
            "@type": "type.googleapis.com/google.rpc.QuotaFailure",
            "violations": [
                {
                    "quotaMetric": METRIC + kind,
                    "quotaId": QUOTA_IDS[window],
                    "quotaDimensions": {"location": "global", "model": model},
                    "quotaValue": str(limit),
                }
            ],
        },
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{math.ceil(retry)}s"},
    ]
    return google_error(429, message, details)


def day_retry_delay(now: float) -> float:
    """The short, misleading retry hint Google attaches to a per-day violation (20-45 s)."""
    return 20.0 + (int(now) % 26)


class GoogleErrors(Flavour):
    """Error answers in Google's envelope; ``wrap`` decides the outer shape."""

    def wrap(self, status: int, body: dict[str, Any], outcome: str) -> Reply:
        return Reply(status, body, {}, outcome)

    def bad_request(self, message: str, param: str | None = None, code: str | None = None) -> Reply:
        return self.wrap(400, google_error(400, message), "bad_request")

    def auth_error(self, state: str, key: str | None) -> Reply:
        if state == "missing":
            return self.wrap(
                403,
                google_error(
                    403,
                    "Method doesn't allow unregistered callers (callers without established "
                    "identity). Please use API Key or other form of API consumer identity to call "
                    "this API.",
                ),
                "auth_failed",
            )
        details: list[dict[str, Any]] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            },
            {
                "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
                "locale": "en-US",
                "message": "API key not valid. Please pass a valid API key.",
            },
        ]
        body = google_error(400, "API key not valid. Please pass a valid API key.", details)
        return self.wrap(400, body, "auth_failed")

    def model_error(self, model: str, state: str) -> Reply:
        reply = self.wrap(
            404,
            google_error(
                404,
                f"models/{model} is not found for API version v1beta, or is not supported for "
                "generateContent. Call ListModels to see the list of available models and their "
                "supported methods.",
            ),
            "not_found",
        )
        reply.model = model
        return reply

    def server_error(self, status: int) -> Reply:
        message = SERVER_WORDS.get(status, "The service is currently unavailable.")
        return self.wrap(status, google_error(status, message), "server_error")

    def context_error(self, call: Call) -> Reply:
        message = (
            f"The input token count ({call.prompt_tokens}) exceeds the maximum number of "
            f"tokens allowed ({call.context_window})."
        )
        return self.wrap(400, google_error(400, message), "context_too_long")

    def prefill_error(self, call: Call) -> Reply:
        message = (
            "Please ensure that the last turn is a user turn: assistant message prefill is not "
            "supported for this model."
        )
        return self.wrap(400, google_error(400, message), "prefill_rejected")

    def rate_limited(self, call: Call, fault: Fault) -> Reply:
        if fault.retry_after is None:  # the older variant, with no details at all
            body = google_error(429, "Resource has been exhausted (e.g. check quota).")
            return self.wrap(429, body, "rate_limited")
        limit = self.sim.limits_for("gemini", call.key).rpm
        body = quota_body(call.model, "rpm", limit, fault.retry_after)
        return self.wrap(429, body, "rate_limited")

    def quota_exhausted(self, call: Call, fault: Fault) -> Reply:
        limit = self.sim.limits_for("gemini", call.key).rpd
        body = quota_body(call.model, "rpd", limit, day_retry_delay(self.sim.clock()))
        return self.wrap(429, body, "quota_exhausted")

    def limit_hit(self, call: Call, violation: Violation) -> Reply:
        daily = violation.window in ("rpd", "tpd")
        retry = day_retry_delay(self.sim.clock()) if daily else violation.retry_after
        body = quota_body(call.model, violation.window, violation.limit, retry)
        return self.wrap(429, body, "quota_exhausted" if daily else "rate_limited")
