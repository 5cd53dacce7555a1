"""The OpenAI chat-completions dialect, as OpenAI itself speaks it.

``OpenAIFlavour`` parses and validates requests, builds ``chat.completion`` replies and
``chat.completion.chunk`` streams, and answers errors in OpenAI's envelope
(``{"error": {"message", "type", "param", "code"}}``) with its per-minute rate-limit headers.
Groq, Together, OpenRouter and Gemini's compatibility endpoint subclass it and override only what
differs (error wording and envelope, headers, stream quirks).
"""

from __future__ import annotations

from typing import Any

from llmswitch.simulator import embeddings, responses
from llmswitch.simulator.answers import Answer, Shape
from llmswitch.simulator.asgi import Exchange, Reply, sse
from llmswitch.simulator.catalog import ModelInfo
from llmswitch.simulator.chat_shape import chat_shape
from llmswitch.simulator.engine import Call, Flavour, StreamPlan, new_call
from llmswitch.simulator.faults import Fault
from llmswitch.simulator.limits import Snapshot, Violation, ceil_seconds, go_duration

ROLES = ("system", "assistant", "user", "function", "tool", "developer")
WINDOW_WORDS = {
    "rpm": "requests per min (RPM)",
    "rpd": "requests per day (RPD)",
    "tpm": "tokens per min (TPM)",
    "tpd": "tokens per day (TPD)",
}
Problem = tuple[str, str | None, str | None]  # message, param, code
CANDIDATES_REFUSED = "Multiple candidates is not enabled for this model"
PREFILL_REFUSED = "assistant message prefill is not supported for this model"


def validate_messages(messages: Any) -> Problem | None:
    """The first thing wrong with ``messages``, in OpenAI's words, or None."""
    if messages is None:
        return "Missing required parameter: 'messages'.", "messages", "missing_required_parameter"
    if not isinstance(messages, list) or not messages:
        return (
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got "
            "an empty array instead.",
            "messages",
            "empty_array",
        )
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict) or "role" not in message:
            return (
                f"Missing required parameter: '{where}.role'.",
                f"{where}.role",
                "missing_required_parameter",
            )
        if message["role"] not in ROLES:
            allowed = ", ".join(f"'{r}'" for r in ROLES[:-1]) + f", and '{ROLES[-1]}'"
            return (
                f"Invalid value: '{message['role']}'. Supported values are: {allowed}.",
                f"{where}.role",
                "invalid_value",
            )
        content = message.get("content")
        if content is None and message["role"] != "assistant":
            return (
                f"Missing required parameter: '{where}.content'.",
                f"{where}.content",
                "missing_required_parameter",
            )
        if content is not None and not isinstance(content, (str, list)):
            return (
                f"Invalid type for '{where}.content': expected one of a string or array of "
                f"objects, but got {type(content).__name__} instead.",
                f"{where}.content",
                "invalid_type",
            )
    return None


class OpenAIFlavour(Flavour):
    """OpenAI's own API; the base of every OpenAI-compatible provider."""

    name = "openai"
    id_prefix = "chatcmpl-sim"

    # -- requests ----------------------------------------------------------------------------

    def api_key(self, ex: Exchange) -> str | None:
        auth = ex.headers.get("authorization", "")
        return auth[7:].strip() or None if auth.lower().startswith("bearer ") else None

    async def parse(self, ex: Exchange, key: str) -> Call | Reply:
        body = await ex.json()
        if not isinstance(body, dict):
            return self.bad_request(
                "We could not parse the JSON body of your request. (HINT: This likely means you "
                "aren't using your HTTP library correctly.)",
                None,
                None,
            )
        model = body.get("model")
        if not isinstance(model, str) or not model:
            return self.bad_request("you must provide a model parameter", "model", None)
        model = self.normalize_model(model)
        info = self.sim.model_status(self.name, model)
        if isinstance(info, str):
            return self.model_error(model, info)
        problem = validate_messages(body.get("messages")) or self.extra_checks(body)
        if problem is not None:
            return self.bad_request(*problem)
        shape = chat_shape(body)
        if isinstance(shape, tuple):
            return self.bad_request(*shape)
        refusal = self.fit_shape(shape, info)
        if refusal is not None:
            return refusal
        max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
        if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
            return self.bad_request(
                f"Invalid 'max_tokens': integer below minimum value. Expected a value >= 1, "
                f"but got {max_tokens} instead.",
                "max_tokens",
                "integer_below_min_value",
            )
        call = self.build_call(model, info, key, body["messages"], max_tokens, shape)
        call.stream = bool(body.get("stream"))
        options = body.get("stream_options") or {}
        call.include_usage = bool(isinstance(options, dict) and options.get("include_usage"))
        if call.prompt_tokens + (max_tokens or 0) > info.context_window:
            return self.context_error(call)
        return call

    def normalize_model(self, model: str) -> str:
        """The catalog id for a requested model id (Gemini accepts a ``models/`` prefix)."""
        return model

    def extra_checks(self, body: dict[str, Any]) -> Problem | None:
        """Provider-specific refusals of otherwise valid requests (Groq overrides)."""
        return None

    def fit_shape(self, shape: Shape, info: ModelInfo) -> Reply | None:
        """The provider's own refusal of a valid shape, or None after narrowing it to what the
        provider does (OpenRouter ignores ``n``, which its request schema lacks)."""
        if shape.n > info.max_candidates:
            return self.bad_request(CANDIDATES_REFUSED, "n", None)
        return None

    def build_call(
        self,
        model: str,
        info: ModelInfo,
        key: str,
        messages: list[dict[str, Any]],
        cap: int | None,
        shape: Shape | None = None,
    ) -> Call:
        return new_call(
            self.sim,
            provider=self.name,
            id_prefix=self.id_prefix,
            model=model,
            info=info,
            key=key,
            messages=messages,
            cap=cap,
            shape=shape,
        )

    # -- replies -----------------------------------------------------------------------------

    natural_finish = "stop"  # the finish reason of an answer that ended by itself

    def finish_reason(self, answer: Answer) -> str:
        return answer.finish(self.natural_finish)

    def usage(self, call: Call) -> dict[str, Any]:
        return {
            "prompt_tokens": call.prompt_tokens,
            "completion_tokens": call.completion_tokens,
            "total_tokens": call.prompt_tokens + call.completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        }

    def envelope(self, call: Call, obj: str) -> dict[str, Any]:
        """Top-level fields shared by replies and chunks."""
        return {
            "id": call.rid,
            "object": obj,
            "created": call.created,
            "model": call.model,
            "system_fingerprint": "fp_sim0000001",
        }

    def message(self, answer: Answer) -> dict[str, Any]:
        if not answer.tool_calls:
            return {"role": "assistant", "content": answer.text, "refusal": None}
        calls = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in answer.tool_calls
        ]
        return {"role": "assistant", "content": None, "refusal": None, "tool_calls": calls}

    def reply(self, call: Call) -> dict[str, Any]:
        choices = [
            {
                "index": answer.index,
                "message": self.message(answer),
                "logprobs": None,
                "finish_reason": self.finish_reason(answer),
            }
            for answer in call.answers
        ]
        return {
            **self.envelope(call, "chat.completion"),
            "choices": choices,
            "usage": self.usage(call),
            "service_tier": "default",
        }

    def chunk(
        self, call: Call, delta: dict[str, Any], finish: str | None, index: int = 0
    ) -> dict[str, Any]:
        choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}
        out = {**self.envelope(call, "chat.completion.chunk"), "choices": [choice]}
        if call.include_usage:
            out["usage"] = None
        return out

    def stream_chunks(self, call: Call) -> list[dict[str, Any]]:
        """Per answer: role chunk, content (or tool call) chunks, finish chunk; no usage chunk."""
        chunks = []
        for answer in call.answers:
            i = answer.index
            chunks.append(self.chunk(call, {"role": "assistant", "content": ""}, None, i))
            for piece in answer.pieces(self.sim.config.chunk_tokens):
                chunks.append(self.chunk(call, {"content": piece}, None, i))
            for n, tc in enumerate(answer.tool_calls):
                head = {"index": n, "id": tc.id, "type": "function"}
                head["function"] = {"name": tc.name, "arguments": ""}
                chunks.append(self.chunk(call, {"tool_calls": [head]}, None, i))
                args = {"index": n, "function": {"arguments": tc.arguments}}
                chunks.append(self.chunk(call, {"tool_calls": [args]}, None, i))
            chunks.append(self.chunk(call, {}, self.finish_reason(answer), i))
        return chunks

    def stream(self, call: Call) -> StreamPlan:
        chunks = self.stream_chunks(call)
        if call.include_usage:
            chunks.append(
                {
                    **self.envelope(call, "chat.completion.chunk"),
                    "choices": [],
                    "usage": self.usage(call),
                }
            )
        return StreamPlan([sse(c) for c in chunks])

    def stream_error(self, call: Call) -> bytes:
        return sse(self.error_in_200(call).body)

    def render(self, call: Call) -> Any:
        if call.surface == "embeddings":
            return embeddings.openai_reply(call)
        if call.surface == "responses":
            return responses.reply(self, call)
        return super().render(call)

    def render_stream(self, call: Call) -> StreamPlan:
        if call.surface == "responses":
            return responses.stream(self, call, self.sim.config.chunk_tokens)
        return super().render_stream(call)

    def render_stream_error(self, call: Call) -> bytes:
        if call.surface == "responses":
            return responses.stream_error()
        return super().render_stream_error(call)

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
        body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
        return Reply(status, body, headers or {}, outcome)

    def bad_request(self, message: str, param: str | None = None, code: str | None = None) -> Reply:
        return self.error(400, message, "invalid_request_error", code, param)

    def auth_error(self, state: str, key: str | None) -> Reply:
        if state == "missing":
            message = (
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)"
                ", or as the password field (with blank username) if you're accessing the "
                "API from your browser and are prompted for a username. You can obtain an "
                "API key from https://platform.openai.com/account/api-keys."
            )
            return self.error(401, message, "invalid_request_error", None, outcome="auth_failed")
        message = (
            f"Incorrect API key provided: ***{(key or '')[-4:]}. You can find your API "
            "key at https://platform.openai.com/account/api-keys."
        )
        return self.error(
            401, message, "invalid_request_error", "invalid_api_key", outcome="auth_failed"
        )

    def model_error(self, model: str, state: str) -> Reply:
        reply = self.error(
            404,
            f"The model '{model}' does not exist or you do not have access to it.",
            "invalid_request_error",
            "model_not_found",
            outcome="not_found",
        )
        reply.model = model
        return reply

    def server_error(self, status: int) -> Reply:
        messages = {
            500: "The server had an error while processing your request. Sorry about that!",
            502: "Bad gateway.",
            503: "The engine is currently overloaded, please try again later",
            529: "The server is overloaded, please try again later.",
        }
        message = messages.get(status, f"The server returned status {status}.")
        return self.error(status, message, "server_error", None, outcome="server_error")

    def context_error(self, call: Call) -> Reply:
        total = call.prompt_tokens + (call.max_tokens or 0)
        message = (
            f"This model's maximum context length is {call.context_window} tokens. However,"
            f" your messages resulted in {total} tokens. Please reduce the length of the "
            "messages."
        )
        return self.error(
            400,
            message,
            "invalid_request_error",
            "context_length_exceeded",
            "messages",
            outcome="context_too_long",
        )

    def prefill_error(self, call: Call) -> Reply:
        return self.error(
            400,
            PREFILL_REFUSED,
            "invalid_request_error",
            "prefill_not_supported",
            "messages",
            outcome="prefill_rejected",
        )

    def content_filter(self, call: Call) -> Reply:
        message = (
            "Your request was rejected as a result of our safety system. Your prompt may "
            "contain text that is not allowed by our safety system."
        )
        return self.error(
            400,
            message,
            "invalid_request_error",
            "content_policy_violation",
            "messages",
            outcome="content_filter",
        )

    def error_in_200(self, call: Call) -> Reply:
        reply = self.server_error(500)
        return Reply(200, reply.body, {}, "error_in_200")

    def rate_limited(self, call: Call, fault: Fault) -> Reply:
        wait = fault.retry_after
        hint = f" Please try again in {go_duration(wait)}." if wait is not None else ""
        message = (
            f"Rate limit reached for {call.model} in organization org-sim on requests per "
            f"min (RPM): Limit 60, Used 60, Requested 1.{hint} Visit "
            "https://platform.openai.com/account/rate-limits to learn more."
        )
        headers = {} if wait is None else {"retry-after": str(ceil_seconds(wait))}
        return self.error(
            429, message, "requests", "rate_limit_exceeded", outcome="rate_limited", headers=headers
        )

    def quota_exhausted(self, call: Call, fault: Fault) -> Reply:
        message = (
            "You exceeded your current quota, please check your plan and billing details. "
            "For more information on this error, read the docs: "
            "https://platform.openai.com/docs/guides/error-codes/api-errors."
        )
        return self.error(
            429, message, "insufficient_quota", "insufficient_quota", outcome="quota_exhausted"
        )

    def limit_hit(self, call: Call, violation: Violation) -> Reply:
        v, unit = violation, WINDOW_WORDS[violation.window]
        kind = "tokens" if v.window in ("tpm", "tpd") else "requests"
        if v.too_large:
            message = (
                f"Request too large for {call.model} in organization org-sim on {unit}: "
                f"Limit {v.limit}, Requested {v.requested}. The input or output tokens "
                "must be reduced in order to run successfully. Visit "
                "https://platform.openai.com/account/rate-limits to learn more."
            )
            return self.error(429, message, kind, "rate_limit_exceeded", outcome="too_large")
        message = (
            f"Rate limit reached for {call.model} in organization org-sim on {unit}: "
            f"Limit {v.limit}, Used {v.used}, Requested {v.requested}. Please try again in "
            f"{go_duration(v.retry_after)}. Visit "
            "https://platform.openai.com/account/rate-limits to learn more."
        )
        headers = {**self.current_headers(call), "retry-after": str(ceil_seconds(v.retry_after))}
        return self.error(
            429, message, kind, "rate_limit_exceeded", outcome="rate_limited", headers=headers
        )

    def current_headers(self, call: Call) -> dict[str, str]:
        return self.limit_headers(call, self.sim.snapshot(call.provider, call.key, call.model))

    def limit_headers(self, call: Call, snap: Snapshot) -> dict[str, str]:
        """OpenAI: both triples per minute (requests from RPM, tokens from TPM)."""
        return triples(snap, requests="rpm", tokens="tpm")


def triples(snap: Snapshot, *, requests: str, tokens: str) -> dict[str, str]:
    """``x-ratelimit-{limit,remaining,reset}-{requests,tokens}`` from the chosen windows."""
    out: dict[str, str] = {}
    for suffix, window in (("requests", requests), ("tokens", tokens)):
        if snap.limits.get(window) > 0:
            out[f"x-ratelimit-limit-{suffix}"] = str(snap.limits.get(window))
            out[f"x-ratelimit-remaining-{suffix}"] = str(snap.remaining(window))
            out[f"x-ratelimit-reset-{suffix}"] = go_duration(snap.refill(window))
    return out
