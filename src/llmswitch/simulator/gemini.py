"""Gemini: the native ``generateContent`` API and the OpenAI-compatible endpoint.

Native: key in ``x-goog-api-key`` (or ``?key=``); ``contents`` with roles ``user``/``model`` and
``systemInstruction``; ``generationConfig.maxOutputTokens`` caps the reply (finish
``MAX_TOKENS``); ``:streamGenerateContent?alt=sse`` sends full response objects holding only the
new text, the last with ``finishReason`` and ``usageMetadata``, and NO ``[DONE]``; an error after
the stream opened is a bare multi-line JSON object; a blocked prompt is a 200 with
``promptFeedback.blockReason`` and no candidates.

Compatible endpoint (``/v1beta/openai``): OpenAI shapes for replies and streams (with
``[DONE]``), Google's envelope for errors, wrapped in a JSON array as observed in 2025.
"""

from __future__ import annotations

import json
from typing import Any

from llmswitch.simulator import embeddings
from llmswitch.simulator.answers import Answer
from llmswitch.simulator.asgi import Exchange, Reply, sse
from llmswitch.simulator.engine import Call, StreamPlan, new_call
from llmswitch.simulator.gemini_errors import GoogleErrors, google_error
from llmswitch.simulator.gemini_shape import native_shape
from llmswitch.simulator.limits import Snapshot
from llmswitch.simulator.openai_dialect import OpenAIFlavour
from llmswitch.simulator.tokens import count_prompt_tokens


def _usage(call: Call, final: bool = True) -> dict[str, Any]:
    out = call.completion_tokens if final else 0
    return {
        "promptTokenCount": call.prompt_tokens,
        "candidatesTokenCount": out,
        "totalTokenCount": call.prompt_tokens + out,
        "thoughtsTokenCount": 0,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": call.prompt_tokens}],
    }


def _messages(body: dict[str, Any]) -> list[dict[str, Any]] | str:
    """OpenAI-like messages for token counting, or the INVALID_ARGUMENT text."""
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        return "* GenerateContentRequest.contents: contents is not specified\n"
    out: list[dict[str, Any]] = []
    system = body.get("systemInstruction") or body.get("system_instruction")
    if isinstance(system, dict):
        out.append({"role": "system", "content": system.get("parts", [])})
    # a model turn that calls functions is a finished turn, not a prefill (see engine)
    for i, item in enumerate(contents):
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("parts"), list)
            or not item["parts"]
        ):
            return (
                f"* GenerateContentRequest.contents[{i}].parts: contents.parts must not be empty.\n"
            )
        if item.get("role", "user") not in ("user", "model"):
            return "Please use a valid role: user, model."
        message = {"role": item.get("role", "user"), "content": item["parts"]}
        if any(isinstance(p, dict) and "functionCall" in p for p in item["parts"]):
            message["tool_calls"] = True
        out.append(message)
    return out


class GeminiNativeFlavour(GoogleErrors):
    name = "gemini"

    def api_key(self, ex: Exchange) -> str | None:
        return ex.headers.get("x-goog-api-key") or ex.query.get("key") or None

    async def parse(self, ex: Exchange, key: str) -> Call | Reply:
        body = await ex.json()
        if not isinstance(body, dict):
            return self.bad_request("Invalid JSON payload received. Unexpected token.")
        model = ex.scope["sim.model"].removeprefix("models/")
        info = self.sim.model_status(self.name, model)
        if isinstance(info, str):
            return self.model_error(model, info)
        messages = _messages(body)
        if isinstance(messages, str):
            return self.bad_request(messages)
        config = body.get("generationConfig") or {}
        cap = config.get("maxOutputTokens") if isinstance(config, dict) else None
        if cap is not None and (not isinstance(cap, int) or cap < 1):
            return self.bad_request(
                f"Invalid value at 'generation_config.max_output_tokens' ({cap!r})"
            )
        shape = native_shape(body, info.max_candidates)
        if isinstance(shape, str):
            return self.bad_request(shape)
        call = new_call(
            self.sim,
            provider=self.name,
            id_prefix="sim-",
            model=model,
            info=info,
            key=key,
            messages=messages,
            cap=cap,
            shape=shape,
        )
        call.stream = (
            ex.scope["sim.method"] == "streamGenerateContent" and ex.query.get("alt") == "sse"
        )
        call.extra["array"] = ex.scope["sim.method"] == "streamGenerateContent" and not call.stream
        if call.prompt_tokens > info.context_window:
            return self.context_error(call)
        return call

    def _candidate(self, answer: Answer, text: str | None, final: bool) -> dict[str, Any]:
        parts: list[dict[str, Any]] = [{"text": text}] if text else []
        if final:
            parts += [
                {"functionCall": {"name": c.name, "args": json.loads(c.arguments)}}
                for c in answer.tool_calls
            ]
        candidate: dict[str, Any] = {
            "content": {"parts": parts, "role": "model"},
            "index": answer.index,
        }
        if final:
            candidate["finishReason"] = "MAX_TOKENS" if answer.capped else "STOP"
        return candidate

    def _chunk(self, call: Call, candidates: list[dict[str, Any]], final: bool) -> dict[str, Any]:
        return {
            "candidates": candidates,
            "usageMetadata": _usage(call, final),
            "modelVersion": call.model,
            "responseId": call.rid,
        }

    def reply(self, call: Call) -> Any:
        if call.extra.get("array"):
            return [json.loads(event[6:]) for event in self.stream(call).events]
        candidates = [self._candidate(a, a.text, final=True) for a in call.answers]
        return self._chunk(call, candidates, final=True)

    def stream(self, call: Call) -> StreamPlan:
        """One chunk per piece of each candidate in turn, each candidate's last piece with its
        ``finishReason`` (and function calls); the stream's last chunk has the final usage."""
        chunks = []
        answers = call.answers
        for n, answer in enumerate(answers):
            pieces = answer.pieces(self.sim.config.chunk_tokens) or [""]
            for i, piece in enumerate(pieces):
                final = i == len(pieces) - 1
                candidate = self._candidate(answer, piece, final=final)
                chunks.append(self._chunk(call, [candidate], final and n == len(answers) - 1))
        return StreamPlan([sse(c) for c in chunks], done=None)

    def render(self, call: Call) -> Any:
        if call.surface == "embeddings":
            return embeddings.native_reply(call)
        return super().render(call)

    def stream_error(self, call: Call) -> bytes:
        return (
            json.dumps(google_error(500, "An internal error has occurred."), indent=2).encode()
            + b"\n"
        )

    def malformed_event(self) -> bytes:
        return b'data: {"candidates": [{"content": {"parts": [{"text": \n\n'

    def content_filter(self, call: Call) -> Reply:
        body = {
            "promptFeedback": {"blockReason": "SAFETY"},
            "usageMetadata": {
                "promptTokenCount": call.prompt_tokens,
                "totalTokenCount": call.prompt_tokens,
            },
            "modelVersion": call.model,
            "responseId": call.rid,
        }
        return Reply(200, body, {}, "content_filter")

    def error_in_200(self, call: Call) -> Reply:
        return Reply(200, google_error(500, "An internal error has occurred."), {}, "error_in_200")

    def model_list(self) -> dict[str, Any]:
        models = []
        for info in self.sim.specs[self.name].models.values():
            models.append(
                {
                    "name": f"models/{info.id}",
                    "version": "001",
                    "displayName": info.id,
                    "description": f"Simulated {info.id}",
                    "inputTokenLimit": info.context_window,
                    "outputTokenLimit": 65536,
                    "temperature": 1,
                    "maxTemperature": 2,
                    "topP": 0.95,
                    "topK": 64,
                    "thinking": True,
                    "supportedGenerationMethods": ["generateContent", "countTokens"],
                }
            )
        return {"models": models}

    def count_tokens(self, body: Any) -> Reply:
        messages = _messages(body if isinstance(body, dict) else {})
        if isinstance(messages, str):
            return self.bad_request(messages)
        return Reply(200, {"totalTokens": count_prompt_tokens(messages)})


class GeminiCompatFlavour(GoogleErrors, OpenAIFlavour):
    """``/v1beta/openai``: OpenAI replies, Google errors in a JSON array."""

    name = "gemini"
    id_prefix = "sim-gemini-"

    def normalize_model(self, model: str) -> str:
        return model.removeprefix("models/")

    def wrap(self, status: int, body: dict[str, Any], outcome: str) -> Reply:
        return Reply(status, [body], {}, outcome)

    def content_filter(self, call: Call) -> Reply:
        body = google_error(400, "The request was blocked by the safety filters.")
        return self.wrap(400, body, "content_filter")

    def error_in_200(self, call: Call) -> Reply:
        return Reply(200, google_error(500, "An internal error has occurred."), {}, "error_in_200")

    def limit_headers(self, call: Call, snap: Snapshot) -> dict[str, str]:
        return {}  # Gemini sends no rate-limit headers on either surface
