"""OpenRouter: OpenAI-compatible under ``/api/v1``, with its own error envelope and free pool.

Reproduced: no rate-limit headers on success; on a platform 429 ``X-RateLimit-Limit``,
``-Remaining`` and ``-Reset`` (epoch MILLISECONDS) echoed in ``error.metadata.headers``; the
``:free`` models share one pool per key (20/min, UTC day); upstream 429s say ``Provider returned
error`` with ``metadata.raw``; ``error.code`` is an integer; streams open with the
``: OPENROUTER PROCESSING`` comment and always end with usage (including ``cost``); a mid-stream
failure is a chunk with a top-level ``error`` and ``finish_reason: "error"``.
"""

from __future__ import annotations

import json
import math
from typing import Any

from llmswitch.simulator.answers import Shape
from llmswitch.simulator.asgi import Reply, sse
from llmswitch.simulator.catalog import ModelInfo
from llmswitch.simulator.engine import Call, StreamPlan
from llmswitch.simulator.faults import Fault
from llmswitch.simulator.limits import Snapshot, Violation, ceil_seconds
from llmswitch.simulator.openai_dialect import PREFILL_REFUSED, OpenAIFlavour
from llmswitch.simulator.stats import key_tail

PRICE_IN, PRICE_OUT = 0.50e-6, 2.15e-6  # USD per token for every paid simulated model
PROCESSING = b": OPENROUTER PROCESSING\n\n"
ERROR_TYPES = {
    400: "invalid_request",
    401: "authentication",
    403: "permission_denied",
    404: "not_found",
    429: "rate_limit_exceeded",
    500: "server",
    502: "provider_unavailable",
    503: "provider_overloaded",
}


class OpenRouterFlavour(OpenAIFlavour):
    name = "openrouter"
    id_prefix = "gen-sim"

    def usage(self, call: Call) -> dict[str, Any]:
        free = call.model.endswith(":free")
        cost = 0.0 if free else call.prompt_tokens * PRICE_IN + call.completion_tokens * PRICE_OUT
        return {
            "prompt_tokens": call.prompt_tokens,
            "completion_tokens": call.completion_tokens,
            "total_tokens": call.prompt_tokens + call.completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0},
            "cost": round(cost, 10),
            "cost_details": {"upstream_inference_cost": None},
        }

    def envelope(self, call: Call, obj: str) -> dict[str, Any]:
        out = super().envelope(call, obj)
        del out["system_fingerprint"]
        out["provider"] = "Simulated"
        return out

    def reply(self, call: Call) -> dict[str, Any]:
        out = super().reply(call)
        for choice in out["choices"]:
            choice["native_finish_reason"] = choice["finish_reason"]
        del out["service_tier"]
        return out

    def fit_shape(self, shape: Shape, info: ModelInfo) -> Reply | None:
        shape.n = 1  # not in OpenRouter's request schema: ignored, as unknown parameters are
        return None

    def stream(self, call: Call) -> StreamPlan:
        chunks = self.stream_chunks(call)
        chunks.append(
            {
                **self.envelope(call, "chat.completion.chunk"),
                "choices": [],
                "usage": self.usage(call),
            }
        )
        return StreamPlan([sse(c) for c in chunks], preamble=PROCESSING)

    def stream_error(self, call: Call) -> bytes:
        chunk = {
            **self.envelope(call, "chat.completion.chunk"),
            "error": self._error_obj(502, "Provider returned error", {}),
            "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}],
        }
        return sse(chunk)

    def limit_headers(self, call: Call, snap: Snapshot) -> dict[str, str]:
        return {}  # OpenRouter sends rate-limit headers only on its own 429s

    def key_info(self, key: str) -> dict[str, Any]:
        """``GET /api/v1/key``: the key's label (masked), limits and free-tier standing."""
        limits = self.sim.limits_for(self.name, key)
        used = self.sim.snapshot(self.name, key, ":free").used["rpd"]
        return {
            "data": {
                "label": f"sk-or-v1-...{key_tail(key)}",
                "limit": None,
                "limit_reset": None,
                "limit_remaining": None,
                "include_byok_in_limit": False,
                "usage": 0,
                "usage_daily": 0,
                "usage_weekly": 0,
                "usage_monthly": 0,
                "byok_usage": 0,
                "is_free_tier": limits.rpd < 1000,
                "is_management_key": False,
                "is_provisioning_key": False,
                "expires_at": None,
                "rate_limit": {"requests": limits.rpm, "interval": "1m"},
                "free_model_daily_requests": {
                    "used": used,
                    "limit": limits.rpd,
                    "remaining": max(0, limits.rpd - used),
                },
            }
        }

    # -- errors ------------------------------------------------------------------------------

    def _error_obj(self, status: int, message: str, metadata: dict[str, Any]) -> dict[str, Any]:
        meta = {"error_type": ERROR_TYPES.get(status, "server"), **metadata}
        return {"code": status, "message": message, "metadata": meta}

    def or_error(
        self,
        status: int,
        message: str,
        outcome: str,
        metadata: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        body = {"error": self._error_obj(status, message, metadata or {}), "user_id": "user_sim"}
        return Reply(status, body, headers or {}, outcome)

    def bad_request(self, message: str, param: str | None = None, code: str | None = None) -> Reply:
        return self.or_error(400, message, "bad_request")

    def prefill_error(self, call: Call) -> Reply:
        """OpenRouter's envelope, the upstream's own refusal in ``metadata.raw``."""
        raw = {
            "error": {
                "message": PREFILL_REFUSED,
                "type": "invalid_request_error",
                "param": "messages",
                "code": "prefill_not_supported",
            }
        }
        meta = {"raw": json.dumps(raw), "provider_name": "Simulated"}
        return self.or_error(400, PREFILL_REFUSED, "prefill_rejected", meta)

    def auth_error(self, state: str, key: str | None) -> Reply:
        message = "Missing Authentication header" if state == "missing" else "User not found."
        return self.or_error(401, message, "auth_failed")

    def model_error(self, model: str, state: str) -> Reply:
        reply = self.or_error(404, f"No endpoints found for {model}.", "not_found")
        reply.model = model
        return reply

    def server_error(self, status: int) -> Reply:
        words = {
            500: "Internal Server Error",
            502: "Provider returned error",
            503: "Service temporarily unavailable",
        }
        return self.or_error(status, words.get(status, "Provider returned error"), "server_error")

    def error_in_200(self, call: Call) -> Reply:
        reply = self.server_error(502)
        return Reply(200, reply.body, {}, "error_in_200")

    def context_error(self, call: Call) -> Reply:
        out = call.max_tokens or 0
        message = (
            f"This endpoint's maximum context length is {call.context_window} tokens. "
            f"However, you requested about {call.prompt_tokens + out} tokens "
            f"({call.prompt_tokens} of text input, 0 of tool input, {out} in the output). "
            'Please reduce the length of either one, or use the "middle-out" transform '
            "to compress your prompt automatically."
        )
        return self.or_error(
            400, message, "context_too_long", {"error_type": "context_length_exceeded"}
        )

    def content_filter(self, call: Call) -> Reply:
        meta = {
            "reasons": ["violence"],
            "flagged_input": "...",
            "provider_name": "Simulated",
            "model_slug": call.model,
        }
        return self.or_error(
            403,
            f"{call.model} requires moderation on Simulated. Your input "
            'was flagged for "violence".',
            "content_filter",
            meta,
        )

    def rate_limited(self, call: Call, fault: Fault) -> Reply:
        meta = {
            "raw": f"{call.model} is temporarily rate-limited upstream. Please retry shortly, or "
            "add your own key to accumulate your rate limits: "
            "https://openrouter.ai/settings/integrations",
            "provider_name": "Simulated",
            "is_byok": False,
            "provider_error_code": 429,
            "limit_source": "upstream_provider_shared_pool",
            "remedy_hint": "retry_shortly_or_use_another_model",
        }
        headers = (
            {}
            if fault.retry_after is None
            else {"retry-after": str(ceil_seconds(fault.retry_after))}
        )
        return self.or_error(429, "Provider returned error", "rate_limited", meta, headers)

    def quota_exhausted(self, call: Call, fault: Fault) -> Reply:
        limit = self.sim.limits_for(self.name, call.key).rpd or 50
        reset = self._next_utc_midnight()
        return self._platform_429(call, "rpd", limit, reset, "quota_exhausted")

    def limit_hit(self, call: Call, violation: Violation) -> Reply:
        outcome = "quota_exhausted" if violation.window in ("rpd", "tpd") else "rate_limited"
        return self._platform_429(
            call, violation.window, violation.limit, violation.reset_at, outcome
        )

    def _platform_429(
        self, call: Call, window: str, limit: int, reset_at: float, outcome: str
    ) -> Reply:
        free = call.model.endswith(":free")
        per = "day" if window in ("rpd", "tpd") else "min"
        name = f"free-models-per-{per}" if free else f"requests-per-{per}"
        message = f"Rate limit exceeded: {name}."
        if free and per == "day" and limit < 1000:
            message = message[:-1] + ". Add 10 credits to unlock 1000 free model requests per day"
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(math.ceil(reset_at * 1000)),
        }
        source = "openrouter_free_tier_daily" if per == "day" else "openrouter_free_tier_minute"
        meta = {"headers": headers, "limit_source": source if free else "openrouter_key_limit"}
        return self.or_error(429, message, outcome, meta, headers)

    def _next_utc_midnight(self) -> float:
        now = self.sim.clock()
        return (math.floor(now / 86_400) + 1) * 86_400.0
