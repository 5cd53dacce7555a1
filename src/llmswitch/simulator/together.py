"""Together AI: OpenAI-compatible under ``/v1``, with per-second limit headers.

Reproduced: ``x-ratelimit-*`` / ``x-tokenlimit-*`` headers (and their ``-dynamic`` twins) in
units per SECOND; ``x-ratelimit-reset`` in seconds; 429 typed ``dynamic_request_limited`` or
``dynamic_token_limited``; ``eos`` as the natural finish reason; usage on the final chunk that
carries ``finish_reason`` (no separate usage chunk), with ``cached_tokens`` beside
``prompt_tokens``; ``/models`` as a bare array (see ``app.py``).
"""

from __future__ import annotations

from typing import Any

from llmswitch.simulator.asgi import Reply, sse
from llmswitch.simulator.engine import Call, StreamPlan
from llmswitch.simulator.faults import Fault
from llmswitch.simulator.limits import DAY, MINUTE, Snapshot, Violation, ceil_seconds
from llmswitch.simulator.openai_dialect import OpenAIFlavour

KEY_URL = "https://api.together.xyz/settings/api-keys"


def _per_second(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text or "0"


class TogetherFlavour(OpenAIFlavour):
    name = "together"
    id_prefix = "oSim-"

    natural_finish = "eos"

    def usage(self, call: Call) -> dict[str, Any]:
        return {
            "prompt_tokens": call.prompt_tokens,
            "completion_tokens": call.completion_tokens,
            "total_tokens": call.prompt_tokens + call.completion_tokens,
            "cached_tokens": 0,
        }

    def envelope(self, call: Call, obj: str) -> dict[str, Any]:
        out = super().envelope(call, obj)
        del out["system_fingerprint"]
        return out

    def stream(self, call: Call) -> StreamPlan:
        chunks = self.stream_chunks(call)
        chunks[-1]["usage"] = self.usage(call)
        return StreamPlan([sse(c) for c in chunks])

    def auth_error(self, state: str, key: str | None) -> Reply:
        message = (
            "Missing API key"
            if state == "missing"
            else (f"Invalid API key provided. You can find your API key at {KEY_URL}.")
        )
        return self.error(
            401, message, "invalid_request_error", "invalid_api_key", outcome="auth_failed"
        )

    def model_error(self, model: str, state: str) -> Reply:
        reply = self.error(
            404,
            f"Unable to access model {model}. Please visit "
            "https://api.together.ai/models to view the list of supported models.",
            "invalid_request_error",
            "model_not_available",
            outcome="not_found",
        )
        reply.model = model
        return reply

    def server_error(self, status: int) -> Reply:
        message = {503: "The server is overloaded or not ready yet."}.get(
            status, f"Internal server error ({status})"
        )
        return self.error(status, message, "server_error", None, outcome="server_error")

    def context_error(self, call: Call) -> Reply:
        message = (
            f"Input validation error: `inputs` tokens + `max_new_tokens` must be <= "
            f"{call.context_window}. Given: {call.prompt_tokens} `inputs` tokens and "
            f"{call.max_tokens or 0} `max_new_tokens`"
        )
        return self.error(400, message, "invalid_request_error", None, outcome="context_too_long")

    def content_filter(self, call: Call) -> Reply:
        return self.error(
            400,
            "The prompt was flagged by the moderation model.",
            "invalid_request_error",
            "content_filter",
            outcome="content_filter",
        )

    def rate_limited(self, call: Call, fault: Fault) -> Reply:
        headers = self.current_headers(call)
        if fault.retry_after is not None:
            headers["x-ratelimit-reset"] = str(ceil_seconds(fault.retry_after))
            headers["retry-after"] = str(ceil_seconds(fault.retry_after))
        return self.error(
            429,
            "You have been rate limited: your request rate is above your "
            "current dynamic limit. Please slow down.",
            "dynamic_request_limited",
            None,
            outcome="rate_limited",
            headers=headers,
        )

    def quota_exhausted(self, call: Call, fault: Fault) -> Reply:
        return self.error(
            402, "Credit limit exceeded", "credit_limit", None, outcome="quota_exhausted"
        )

    def limit_hit(self, call: Call, violation: Violation) -> Reply:
        tokens = violation.window in ("tpm", "tpd")
        kind = "dynamic_token_limited" if tokens else "dynamic_request_limited"
        what = "token" if tokens else "request"
        headers = self.current_headers(call)
        headers["x-ratelimit-reset"] = str(ceil_seconds(violation.retry_after))
        return self.error(
            429,
            f"You have been rate limited: your {what} rate is above your "
            f"current limit of {violation.limit} ({violation.window}). Please "
            "slow down.",
            kind,
            None,
            outcome="rate_limited",
            headers=headers,
        )

    def limit_headers(self, call: Call, snap: Snapshot) -> dict[str, str]:
        """Per-second figures, as Together reports them, from the minute (or day) windows."""
        lim = snap.limits
        rps = lim.rpm / MINUTE if lim.rpm else lim.rpd / DAY
        rps_left = snap.remaining("rpm") / MINUTE if lim.rpm else snap.remaining("rpd") / DAY
        tps = lim.tpm / MINUTE if lim.tpm else lim.tpd / DAY
        tps_left = snap.remaining("tpm") / MINUTE if lim.tpm else snap.remaining("tpd") / DAY
        out: dict[str, str] = {}
        for suffix in ("", "-dynamic"):
            out[f"x-ratelimit-limit{suffix}"] = _per_second(rps)
            out[f"x-ratelimit-remaining{suffix}"] = _per_second(rps_left)
            out[f"x-tokenlimit-limit{suffix}"] = _per_second(tps)
            out[f"x-tokenlimit-remaining{suffix}"] = _per_second(tps_left)
        out["x-ratelimit-reset"] = (
            str(ceil_seconds(snap.next_minute_slot)) if snap.used["rpm"] >= lim.rpm > 0 else "0"
        )
        return out
