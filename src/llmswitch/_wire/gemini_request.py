"""OpenAI chat requests as Gemini ``generateContent`` bodies (the request half of the wire).

``system`` -> ``systemInstruction``; ``assistant`` -> role ``model``; a ``tool`` message ->
a ``functionResponse`` named after the function of the call it answers (looked up by
``tool_call_id`` in the earlier assistant turns: Gemini refuses another name); ``max_tokens``
/ ``max_completion_tokens`` -> ``maxOutputTokens``; ``stop`` -> ``stopSequences``; ``n`` ->
``candidateCount``; ``top_p`` / ``top_k`` / ``seed`` / penalties -> their camelCase twins;
``response_format`` JSON -> ``responseMimeType`` and a ``json_schema`` -> ``responseJsonSchema``;
``tools`` -> ``functionDeclarations`` and ``tool_choice`` -> ``toolConfig`` (auto -> AUTO,
none -> NONE, required -> ANY, named -> ANY + ``allowedFunctionNames``). Native fields
(``safetySettings``, ``toolConfig``, ``cachedContent``, ``thinkingConfig``,
``generationConfig``) in ``request.extra`` pass through and win.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from llmswitch import _errors as errors
from llmswitch._types import ChatRequest, Message

_CONFIG_FIELDS = {
    "top_p": "topP",
    "top_k": "topK",
    "seed": "seed",
    "n": "candidateCount",
    "presence_penalty": "presencePenalty",
    "frequency_penalty": "frequencyPenalty",
}
_NATIVE_FIELDS = ("safetySettings", "toolConfig", "cachedContent")


def _parts(content: Any) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"text": content}]
    parts: list[dict[str, Any]] = []
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            parts.append({"text": str(part.get("text", ""))})
        elif kind == "image_url" and str(part["image_url"].get("url", "")).startswith("data:"):
            header, _, data = part["image_url"]["url"].partition(",")
            mime = header.removeprefix("data:").split(";")[0]
            parts.append({"inlineData": {"mimeType": mime, "data": data}})
        else:
            raise errors.ConfigError(
                f"message part {kind!r} cannot be sent to Gemini's native API; use text parts, "
                "data: image URLs, or Gemini's OpenAI-compatible endpoint"
            )
    return parts


def call_names(messages: tuple[Message, ...]) -> dict[str, str]:
    """Each tool call's id -> its function's name, from the assistant turns that made them.

    A chat ``tool`` message carries only ``tool_call_id``; Gemini's ``functionResponse`` needs
    the ``name`` of the ``functionCall`` it answers (and refuses another).
    """
    names: dict[str, str] = {}
    for message in messages:
        for call in message.tool_calls or []:
            if isinstance(call, dict) and call.get("id"):
                names[str(call["id"])] = str((call.get("function") or {}).get("name", ""))
    return names


def _content(message: Message, names: Mapping[str, str]) -> dict[str, Any]:
    if message.role == "tool":
        name = message.name or names.get(message.tool_call_id or "") or message.tool_call_id
        response = {"name": name or "tool", "response": {"content": message.content}}
        return {"role": "user", "parts": [{"functionResponse": response}]}
    parts = _parts(message.content)
    for call in message.tool_calls or []:
        fn = call.get("function", {})
        args = fn.get("arguments") or "{}"
        parts.append(
            {
                "functionCall": {
                    "name": fn.get("name", ""),
                    "args": json.loads(args) if isinstance(args, str) else args,
                }
            }
        )
    return {"role": "model" if message.role == "assistant" else "user", "parts": parts}


def tool_config(choice: Any) -> dict[str, Any] | None:
    """Chat's ``tool_choice`` as Gemini's ``toolConfig`` (reference §8.5): auto -> AUTO,
    none -> NONE, required -> ANY, a named function -> ANY limited to that name."""
    if choice in ("auto", "none", "required"):
        mode = {"auto": "AUTO", "none": "NONE", "required": "ANY"}[choice]
        return {"functionCallingConfig": {"mode": mode}}
    name = (choice.get("function") or {}).get("name") if isinstance(choice, dict) else None
    if isinstance(name, str):
        return {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [name]}}
    return None


def _response_format(config: dict[str, Any], response_format: Any) -> None:
    """JSON mode -> ``responseMimeType``; a ``json_schema`` -> ``responseJsonSchema`` too (the
    JSON Schema field; never ``responseSchema`` beside it, which Gemini refuses)."""
    if not isinstance(response_format, dict):
        return
    kind = response_format.get("type")
    if kind not in ("json_object", "json_schema"):
        return
    config["responseMimeType"] = "application/json"
    spec = response_format.get("json_schema")
    schema = spec.get("schema") if isinstance(spec, dict) else None
    if kind == "json_schema" and isinstance(schema, dict) and "responseSchema" not in config:
        config["responseJsonSchema"] = schema


def _generation_config(request: ChatRequest) -> dict[str, Any]:
    extra = request.extra
    config: dict[str, Any] = dict(extra.get("generationConfig") or {})
    if request.temperature is not None:
        config["temperature"] = request.temperature
    max_tokens = extra.get("max_completion_tokens", request.max_tokens)
    if max_tokens is not None:
        config["maxOutputTokens"] = max_tokens
    stop = extra.get("stop")
    if stop:
        config["stopSequences"] = [stop] if isinstance(stop, str) else list(stop)
    for name, native in _CONFIG_FIELDS.items():
        if extra.get(name) is not None:
            config[native] = extra[name]
    _response_format(config, extra.get("response_format"))
    if "thinkingConfig" in extra:
        config["thinkingConfig"] = extra["thinkingConfig"]
    return config


def build_body(request: ChatRequest) -> dict[str, Any]:
    """The ``generateContent`` JSON body for ``request``."""
    system = [p for m in request.messages if m.role == "system" for p in _parts(m.content)]
    names = call_names(request.messages)
    body: dict[str, Any] = {
        "contents": [_content(m, names) for m in request.messages if m.role != "system"],
    }
    if system:
        body["systemInstruction"] = {"parts": system}
    config = _generation_config(request)
    if config:
        body["generationConfig"] = config
    tools = request.extra.get("tools")
    if tools:
        declarations = [t["function"] for t in tools if t.get("type") == "function"]
        body["tools"] = [{"functionDeclarations": declarations}]
    config_of_tools = tool_config(request.extra.get("tool_choice"))
    if config_of_tools is not None:
        body["toolConfig"] = config_of_tools
    for name in _NATIVE_FIELDS:  # a native toolConfig, when sent, wins
        if name in request.extra:
            body[name] = request.extra[name]
    return body
