"""Groq: OpenAI-compatible under ``/openai/v1``, with its own limits, headers and wording.

Differences from OpenAI reproduced here: the ``-requests`` header triple is per DAY and the
``-tokens`` triple per MINUTE; 429 messages name the window (``on requests per minute (RPM)``)
and the exact wait; a single request above the TPM limit gets 413; usage carries timing floats;
``x_groq`` holds the request id (first and final chunk) and the usage (final chunk); ``n``,
``logprobs`` and ``messages[].name`` are refused; retired models answer 404 or 400.
"""

from __future__ import annotations

from typing import Any

from llmswitch.simulator.asgi import Reply
from llmswitch.simulator.engine import Call
from llmswitch.simulator.faults import Fault
from llmswitch.simulator.limits import Snapshot, Violation, ceil_seconds, go_duration
from llmswitch.simulator.openai_dialect import OpenAIFlavour, Problem, triples

WINDOWS = {
    "rpm": "requests per minute (RPM)",
    "rpd": "requests per day (RPD)",
    "tpm": "tokens per minute (TPM)",
    "tpd": "tokens per day (TPD)",
}
UPGRADE = "Need more tokens? Upgrade to Dev Tier today at https://console.groq.com/settings/billing"


class GroqFlavour(OpenAIFlavour):
    name = "groq"
    id_prefix = "chatcmpl-sim"

    def extra_checks(self, body: dict[str, Any]) -> Problem | None:
        for field in ("logprobs", "logit_bias", "top_logprobs"):
            if body.get(field) not in (None, False):
                return f"'{field}' : not supported", field, None
        if body.get("n", 1) != 1:
            return "'n' : number must be at most 1", "n", None
        for i, message in enumerate(body["messages"]):
            if "name" in message:
                return (
                    f"'messages.{i}' : for 'role:{message['role']}' the following must be "
                    f"satisfied[('messages.{i}.name' : property 'name' is unsupported)]",
                    f"messages.{i}.name",
                    None,
                )
        return None

    # -- replies -----------------------------------------------------------------------------

    def usage(self, call: Call) -> dict[str, Any]:
        return {
            "queue_time": 0.0001,
            "prompt_tokens": call.prompt_tokens,
            "prompt_time": 0.0002,
            "completion_tokens": call.completion_tokens,
            "completion_time": 0.0003,
            "total_tokens": call.prompt_tokens + call.completion_tokens,
            "total_time": 0.0005,
        }

    def request_id(self, call: Call) -> str:
        return "req_" + call.rid.removeprefix(self.id_prefix)

    def reply(self, call: Call) -> dict[str, Any]:
        out = super().reply(call)
        out["service_tier"] = "on_demand"
        out["x_groq"] = {"id": self.request_id(call)}
        return out

    def stream_chunks(self, call: Call) -> list[dict[str, Any]]:
        chunks = super().stream_chunks(call)
        chunks[0]["x_groq"] = {"id": self.request_id(call)}
        chunks[-1]["x_groq"] = {"id": self.request_id(call), "usage": self.usage(call)}
        return chunks

    # -- errors ------------------------------------------------------------------------------

    def error(
        self,
        status: int,
        message: str,
        type_: str | None,
        code: str | None,
        param: str | None = None,
        outcome: str = "bad_request",
        headers: dict[str, str] | None = None,
    ) -> Reply:
        body: dict[str, Any] = {"message": message, "type": type_}
        if code is not None:
            body["code"] = code
        if param is not None:
            body["param"] = param
        return Reply(status, {"error": body}, headers or {}, outcome)

    def auth_error(self, state: str, key: str | None) -> Reply:
        return self.error(
            401,
            "Invalid API Key",
            "invalid_request_error",
            "invalid_api_key",
            outcome="auth_failed",
        )

    def model_error(self, model: str, state: str) -> Reply:
        if state == "decommissioned":
            reply = self.error(
                400,
                f"The model `{model}` has been decommissioned and is no longer supported. Please "
                "refer to https://console.groq.com/docs/deprecations for a recommendation on "
                "which model to use instead.",
                "invalid_request_error",
                "model_decommissioned",
            )
        else:
            reply = self.error(
                404,
                f"The model `{model}` does not exist or you do not have access to it.",
                "invalid_request_error",
                "model_not_found",
                outcome="not_found",
            )
        reply.model = model
        return reply

    def server_error(self, status: int) -> Reply:
        words = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
        message = words.get(status, f"Server error {status}")
        return self.error(status, message, "internal_server_error", None, outcome="server_error")

    def context_error(self, call: Call) -> Reply:
        return self.error(
            400,
            "Please reduce the length of the messages or completion.",
            "invalid_request_error",
            "context_length_exceeded",
            "messages",
            outcome="context_too_long",
        )

    def content_filter(self, call: Call) -> Reply:
        return self.error(
            400,
            "The request was blocked by a content filter.",
            "invalid_request_error",
            "content_filter",
            outcome="content_filter",
        )

    def limit_message(self, call: Call, window: str, tail: str) -> str:
        return (
            f"Rate limit reached for model `{call.model}` in organization `org_sim` service "
            f"tier `on_demand` on {WINDOWS[window]}: {tail} {UPGRADE}"
        )

    def limit_hit(self, call: Call, violation: Violation) -> Reply:
        v = violation
        kind = "tokens" if v.window in ("tpm", "tpd") else "requests"
        if v.too_large:
            message = (
                f"Request too large for model `{call.model}` in organization `org_sim` "
                f"service tier `on_demand` on {WINDOWS[v.window]}: Limit {v.limit}, "
                f"Requested {v.requested}, please reduce your message size and try again. "
                f"{UPGRADE}"
            )
            return self.error(
                413,
                message,
                "tokens",
                "rate_limit_exceeded",
                outcome="too_large",
                headers=self.current_headers(call),
            )
        tail = (
            f"Limit {v.limit}, Used {v.used}, Requested {v.requested}. Please try again in "
            f"{go_duration(v.retry_after)}."
        )
        headers = {**self.current_headers(call), "retry-after": str(ceil_seconds(v.retry_after))}
        return self.error(
            429,
            self.limit_message(call, v.window, tail),
            kind,
            "rate_limit_exceeded",
            outcome="rate_limited",
            headers=headers,
        )

    def rate_limited(self, call: Call, fault: Fault) -> Reply:
        limit = self.sim.limits_for(self.name, call.key).rpm or 30
        tail = f"Limit {limit}, Used {limit}, Requested 1."
        headers = self.current_headers(call)
        if fault.retry_after is not None:
            tail += f" Please try again in {go_duration(fault.retry_after)}."
            headers["retry-after"] = str(ceil_seconds(fault.retry_after))
        return self.error(
            429,
            self.limit_message(call, "rpm", tail),
            "requests",
            "rate_limit_exceeded",
            outcome="rate_limited",
            headers=headers,
        )

    def quota_exhausted(self, call: Call, fault: Fault) -> Reply:
        limit = self.sim.limits_for(self.name, call.key).rpd or 1000
        wait = fault.retry_after or _schedule_left(fault, self.sim.clock()) or 86_400.0
        tail = f"Limit {limit}, Used {limit}, Requested 1. Please try again in {go_duration(wait)}."
        headers = {**self.current_headers(call), "retry-after": str(ceil_seconds(wait))}
        return self.error(
            429,
            self.limit_message(call, "rpd", tail),
            "requests",
            "rate_limit_exceeded",
            outcome="quota_exhausted",
            headers=headers,
        )

    def limit_headers(self, call: Call, snap: Snapshot) -> dict[str, str]:
        """Groq: ``-requests`` is the per-DAY budget, ``-tokens`` the per-MINUTE one."""
        return triples(snap, requests="rpd", tokens="tpm")


def _schedule_left(fault: Fault, now: float) -> float | None:
    if fault.for_seconds is None:
        return None
    return max(1.0, fault.set_at + fault.for_seconds - now)
