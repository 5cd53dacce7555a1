"""Pure translation between the Responses API and chat completions (reference §8.2's table).

The gateway serves ``POST /v1/responses`` through the same call machine as chat, so a Responses
client (the SDK's ``responses.create`` / ``responses.stream``, agent SDKs) works through every
provider, Gemini's native API included. The gateway is stateless, as Groq's and OpenRouter's
Responses APIs are: ``store: true``, ``previous_response_id`` and ``conversation`` are refused
with a 400 saying to send the whole conversation as ``input``, and so is every other field chat
completions cannot carry (never dropped silently).

Request: ``instructions`` -> a system message; ``input`` (a string, or message /
``function_call`` / ``function_call_output`` items) -> messages; flat function tools -> chat
tools; ``{"type": "function", "name"}`` -> a named ``tool_choice``; ``text.format`` ->
``response_format``; ``max_output_tokens`` -> ``max_completion_tokens``; ``reasoning.effort``
-> ``reasoning_effort``. Reply: the message and its tool calls -> output items; ``length`` ->
``incomplete`` (``max_output_tokens``), ``content_filter`` -> ``incomplete``
(``content_filter``); usage -> ``input_tokens`` / ``output_tokens``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from llmswitch.server.shapes import BadInput

#: Fields with the same meaning in both APIs, passed on as they are.
_SAME = ("model", "temperature", "top_p", "parallel_tool_calls", "user", "stream")
#: Fields the gateway cannot honour; each is a 400 naming what to do instead.
_STATEFUL = ("previous_response_id", "conversation")
_KNOWN = {
    *_SAME,
    *_STATEFUL,
    "input",
    "instructions",
    "tools",
    "tool_choice",
    "text",
    "max_output_tokens",
    "reasoning",
    "store",
    "metadata",
    "stream_options",
    # OpenRouter's routing vocabulary, consumed by the gateway as on chat
    "models",
    "provider",
}


def to_chat(payload: Any) -> dict[str, Any]:
    """The chat-completions body a Responses request means, or BadInput naming the field."""
    if not isinstance(payload, dict):
        raise BadInput(
            "the body must be a JSON object with 'model' and 'input'", code="invalid_type"
        )
    _refuse_what_cannot_be_honoured(payload)
    chat: dict[str, Any] = {k: payload[k] for k in (*_SAME, "models", "provider") if k in payload}
    chat["messages"] = _messages(payload)
    if payload.get("tools") is not None:
        chat["tools"] = _tools(payload["tools"])
    if payload.get("tool_choice") is not None:
        chat["tool_choice"] = _tool_choice(payload["tool_choice"])
    fmt = _response_format(payload.get("text"))
    if fmt is not None:
        chat["response_format"] = fmt
    if payload.get("max_output_tokens") is not None:
        chat["max_completion_tokens"] = payload["max_output_tokens"]
    reasoning = payload.get("reasoning")
    if isinstance(reasoning, dict) and reasoning.get("effort") is not None:
        chat["reasoning_effort"] = reasoning["effort"]
    if payload.get("stream") is True:
        chat["stream_options"] = {"include_usage": True}
    return chat


def _refuse_what_cannot_be_honoured(payload: dict[str, Any]) -> None:
    for name in _STATEFUL:
        if payload.get(name) is not None:
            raise BadInput(
                f"'{name}' is not supported: the llmswitch gateway keeps no responses (it routes "
                "each call to whichever provider can serve it); send the whole conversation as "
                "'input'",
                param=name,
                code="unsupported_parameter",
            )
    if payload.get("store") is True:
        raise BadInput(
            "'store': true is not supported: the llmswitch gateway keeps no responses; leave "
            "'store' out or set it to false",
            param="store",
            code="unsupported_parameter",
        )
    unknown = sorted(set(payload) - _KNOWN)
    if unknown:
        raise BadInput(
            f"'{unknown[0]}' is not supported by the gateway's Responses API (it is served "
            f"through chat completions); supported fields: {', '.join(sorted(_KNOWN))}",
            param=unknown[0],
            code="unsupported_parameter",
        )


def _messages(payload: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    instructions = payload.get("instructions")
    if instructions is not None:
        if not isinstance(instructions, str):
            raise BadInput("'instructions' must be a string", param="instructions")
        out.append({"role": "system", "content": instructions})
    raw = payload.get("input")
    if isinstance(raw, str):
        return [*out, {"role": "user", "content": raw}]
    if not isinstance(raw, list) or not raw:
        raise BadInput(
            "'input' must be a string or a non-empty array of items",
            param="input",
            code="missing_required_parameter" if raw is None else "invalid_type",
        )
    for i, item in enumerate(raw):
        _add_item(out, item, f"input[{i}]")
    return out


def _add_item(out: list[dict[str, Any]], item: Any, where: str) -> None:
    if not isinstance(item, dict):
        raise BadInput(f"'{where}' must be an object", param=where, code="invalid_type")
    kind = item.get("type", "message")
    if kind == "message":
        role = item.get("role")
        if role not in ("user", "assistant", "system", "developer"):
            raise BadInput(
                f"'{where}.role' must be user, assistant, system or developer",
                param=f"{where}.role",
            )
        out.append({"role": role, "content": _content(item.get("content"), f"{where}.content")})
    elif kind == "function_call":
        call = {
            "id": item.get("call_id"),
            "type": "function",
            "function": {"name": item.get("name"), "arguments": item.get("arguments", "{}")},
        }
        last = out[-1] if out else None
        if last is not None and last["role"] == "assistant" and last.get("tool_calls"):
            last["tool_calls"].append(call)  # parallel calls: one assistant turn
        else:
            out.append({"role": "assistant", "content": None, "tool_calls": [call]})
    elif kind == "function_call_output":
        output = item.get("output")
        text = output if isinstance(output, str) else json.dumps(output)
        out.append({"role": "tool", "tool_call_id": item.get("call_id"), "content": text})
    else:
        raise BadInput(
            f"'{where}.type' {kind!r} is not supported: the gateway takes message, "
            "function_call and function_call_output items",
            param=f"{where}.type",
            code="unsupported_value",
        )


def _content(content: Any, where: str) -> Any:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise BadInput(f"'{where}' must be a string or an array of parts", param=where)
    parts: list[dict[str, Any]] = []
    for i, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in ("input_text", "output_text", "text"):
            parts.append({"type": "text", "text": part.get("text", "")})
        elif kind == "input_image" and part.get("image_url"):
            image: dict[str, Any] = {"url": part["image_url"]}
            if part.get("detail"):
                image["detail"] = part["detail"]
            parts.append({"type": "image_url", "image_url": image})
        else:
            raise BadInput(
                f"'{where}[{i}].type' {kind!r} is not supported: the gateway takes input_text, "
                "output_text and input_image (with image_url) parts",
                param=f"{where}[{i}].type",
                code="unsupported_value",
            )
    return parts


def _tools(tools: Any) -> list[dict[str, Any]]:
    if not isinstance(tools, list):
        raise BadInput("'tools' must be an array", param="tools", code="invalid_type")
    out = []
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict) or tool.get("type") != "function":
            kind = tool.get("type") if isinstance(tool, dict) else None
            raise BadInput(
                f"'tools[{i}]' of type {kind!r} is not supported: the gateway serves function "
                "tools (built-in tools run only on OpenAI's own Responses API)",
                param=f"tools[{i}].type",
                code="unsupported_value",
            )
        fn = {k: tool[k] for k in ("name", "description", "parameters", "strict") if k in tool}
        out.append({"type": "function", "function": fn})
    return out


def _tool_choice(choice: Any) -> Any:
    if isinstance(choice, dict) and choice.get("type") == "function":
        return {"type": "function", "function": {"name": choice.get("name")}}
    return choice


def _response_format(text: Any) -> dict[str, Any] | None:
    fmt = text.get("format") if isinstance(text, dict) else None
    if not isinstance(fmt, dict) or fmt.get("type") in (None, "text"):
        return None
    if fmt["type"] == "json_object":
        return {"type": "json_object"}
    if fmt["type"] == "json_schema":
        spec = {k: fmt[k] for k in ("name", "schema", "strict", "description") if k in fmt}
        return {"type": "json_schema", "json_schema": spec}
    raise BadInput(
        f"'text.format.type' {fmt['type']!r} is not supported (text, json_object, json_schema)",
        param="text.format.type",
        code="unsupported_value",
    )


# -- replies ----------------------------------------------------------------------------------


def new_id(prefix: str = "resp_") -> str:
    return prefix + uuid.uuid4().hex


def usage_of(usage: Any) -> dict[str, Any]:
    """Chat usage (``prompt_tokens``...) in Responses' words, cost kept."""
    usage = usage if isinstance(usage, dict) else {}
    prompt, output = int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
    out: dict[str, Any] = {
        "input_tokens": prompt,
        "input_tokens_details": {
            "cached_tokens": int(
                (usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
            )
        },
        "output_tokens": output,
        "output_tokens_details": {
            "reasoning_tokens": int(
                (usage.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0
            )
        },
        "total_tokens": prompt + output,
    }
    if "cost" in usage:
        out["cost"] = usage["cost"]
    return out


def status_of(finish: str | None) -> tuple[str, dict[str, str] | None]:
    if finish == "length":
        return "incomplete", {"reason": "max_output_tokens"}
    if finish == "content_filter":
        return "incomplete", {"reason": "content_filter"}
    return "completed", None


def output_items(message: dict[str, Any], rid: str) -> list[dict[str, Any]]:
    """A chat reply's message as Responses output items: its text, then its tool calls."""
    items: list[dict[str, Any]] = []
    text = message.get("content")
    if text:
        part = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
        items.append(message_item(rid, [part], "completed"))
    for i, call in enumerate(message.get("tool_calls") or []):
        fn = call.get("function") or {}
        items.append(
            {
                "type": "function_call",
                "id": f"fc_{rid.removeprefix('resp_')}_{i}",
                "call_id": call.get("id") or f"call_{i}",
                "name": fn.get("name", ""),
                "arguments": fn.get("arguments") or "{}",
                "status": "completed",
            }
        )
    return items


def message_item(rid: str, content: list[dict[str, Any]], status: str) -> dict[str, Any]:
    return {
        "type": "message",
        "id": f"msg_{rid.removeprefix('resp_')}",
        "status": status,
        "role": "assistant",
        "content": content,
    }


def response_body(
    request: dict[str, Any],
    *,
    rid: str,
    created: int,
    model: str,
    status: str,
    output: list[dict[str, Any]],
    usage: dict[str, Any] | None,
    incomplete: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The ``response`` object, echoing the request's settings as OpenAI does."""
    return {
        "id": rid,
        "object": "response",
        "created_at": created,
        "status": status,
        "model": model,
        "output": output,
        "usage": usage,
        "incomplete_details": incomplete,
        "error": None,
        "instructions": request.get("instructions"),
        "max_output_tokens": request.get("max_output_tokens"),
        "parallel_tool_calls": request.get("parallel_tool_calls", True),
        "previous_response_id": None,
        "store": False,
        "temperature": request.get("temperature"),
        "top_p": request.get("top_p"),
        "tool_choice": request.get("tool_choice", "auto"),
        "tools": request.get("tools") or [],
        "text": request.get("text") or {"format": {"type": "text"}},
        "truncation": "disabled",
        "metadata": request.get("metadata") or {},
    }


def from_chat(
    request: dict[str, Any], chat: dict[str, Any], *, rid: str, created: int
) -> dict[str, Any]:
    """A chat completion (the gateway's own reply body) as a Responses ``response``."""
    choice = (chat.get("choices") or [{}])[0]
    status, incomplete = status_of(choice.get("finish_reason"))
    return response_body(
        request,
        rid=rid,
        created=created,
        model=str(chat.get("model", "")),
        status=status,
        output=output_items(choice.get("message") or {}, rid),
        usage=usage_of(chat.get("usage")),
        incomplete=incomplete,
    )
