"""The Responses API (``POST …/responses``) where a provider serves it (reference §8.2).

OpenAI (stateful: ``store`` defaults to true and ``previous_response_id`` continues a stored
response; an unknown id is a 400), Groq and OpenRouter (stateless: ``store: true`` or a
``previous_response_id`` is a 400). Together and Gemini's compatible endpoint have no such path
(their 404). The answer is the chat answer of the same conversation (``answers.compose``: tool
calls from flat function tools, ``text.format`` JSON), as Responses output items; no ``n``, no
``stop``. Streams are ``event: <type>`` + ``data: <json>`` with a rising ``sequence_number``,
from ``response.created`` to ``response.completed`` (or ``.incomplete``); OpenAI and Groq end
there, OpenRouter adds ``data: [DONE]``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from llmswitch.simulator.answers import Answer, Shape
from llmswitch.simulator.asgi import Exchange, Reply
from llmswitch.simulator.engine import Call, StreamPlan
from llmswitch.simulator.tokens import content_text

if TYPE_CHECKING:
    from llmswitch.simulator.openai_dialect import OpenAIFlavour

SERVES = {"openai": "stored", "groq": "stateless", "openrouter": "stateless"}


def _messages(body: dict[str, Any]) -> list[dict[str, Any]] | str:
    """Chat-style messages of ``instructions`` + ``input``, or what is wrong with the input."""
    out: list[dict[str, Any]] = []
    if isinstance(body.get("instructions"), str):
        out.append({"role": "system", "content": body["instructions"]})
    raw = body.get("input")
    if isinstance(raw, str):
        return [*out, {"role": "user", "content": raw}]
    if not isinstance(raw, list) or not raw:
        return "Missing required parameter: 'input'."
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            return f"Invalid type for 'input[{i}]': expected an object."
        kind = item.get("type", "message")
        if kind == "message":
            out.append({"role": item.get("role", "user"), "content": _text(item.get("content"))})
        elif kind == "function_call":
            call = {"id": item.get("call_id"), "function": {"name": item.get("name")}}
            out.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            out.append(
                {
                    "role": "tool",
                    "tool_call_id": item.get("call_id"),
                    "content": str(item.get("output", "")),
                }
            )
        else:
            return f"Invalid value: '{kind}'. The simulator serves message and function items."
    return out


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return content_text(content)


def _shape(body: dict[str, Any], messages: list[dict[str, Any]]) -> Shape | str:
    shape = Shape()
    for tool in body.get("tools") or []:
        if isinstance(tool, dict) and tool.get("type") == "function":
            if not isinstance(tool.get("name"), str):
                return "Missing required parameter: 'tools[0].name'."
            shape.tools.append({"name": tool["name"], "parameters": tool.get("parameters")})
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        shape.tool_choice, shape.named = "named", choice.get("name")
        if all(t["name"] != shape.named for t in shape.tools):
            return f"Tool choice '{shape.named}' not found in 'tools' parameter."
    elif choice is not None:
        shape.tool_choice = choice
    fmt = (body.get("text") or {}).get("format") if isinstance(body.get("text"), dict) else None
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        shape.json_schema = fmt.get("schema") if isinstance(fmt.get("schema"), dict) else {}
    elif isinstance(fmt, dict) and fmt.get("type") == "json_object":
        shape.json_object = True
    shape.after_tool_result = messages[-1].get("role") == "tool"
    return shape


async def parse(flavour: OpenAIFlavour, ex: Exchange, key: str) -> Call | Reply:
    """A Responses request as a ``Call`` (surface ``responses``), or the provider's refusal."""
    body = await ex.json()
    if not isinstance(body, dict):
        return flavour.bad_request("We could not parse the JSON body of your request.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return flavour.bad_request("Missing required parameter: 'model'.", "model")
    info = flavour.sim.model_status(flavour.name, flavour.normalize_model(model))
    if isinstance(info, str):
        return flavour.model_error(model, info)
    history = _history(flavour, body)
    if isinstance(history, Reply):
        return history
    messages = _messages(body)
    if isinstance(messages, str):
        return flavour.bad_request(messages, "input")
    messages = history + messages
    shape = _shape(body, messages)
    if isinstance(shape, str):
        return flavour.bad_request(shape, "tool_choice")
    cap = body.get("max_output_tokens")
    if cap is not None and (not isinstance(cap, int) or cap < 16):
        return flavour.bad_request(
            f"Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, "
            f"but got {cap} instead.",
            "max_output_tokens",
            "integer_below_min_value",
        )
    call = flavour.build_call(info.id, info, key, messages, cap, shape)
    call.rid = "resp_" + call.rid.removeprefix(flavour.id_prefix)
    call.surface, call.stream = "responses", bool(body.get("stream"))
    call.extra.update(body=body, messages=messages)
    return call


def _history(flavour: OpenAIFlavour, body: dict[str, Any]) -> list[dict[str, Any]] | Reply:
    previous = body.get("previous_response_id")
    if SERVES[flavour.name] == "stateless":
        if body.get("store") is True or previous is not None:
            param = "store" if body.get("store") is True else "previous_response_id"
            return flavour.bad_request(
                f"'{param}' is not supported: this Responses API is stateless; send the whole "
                "conversation as input.",
                param,
            )
        return []
    if previous is None:
        return []
    stored = flavour.sim.responses.get(str(previous))
    if stored is None:
        return flavour.bad_request(
            f"Previous response with id '{previous}' not found.", "previous_response_id"
        )
    return list(stored)


def _items(call: Call) -> list[dict[str, Any]]:
    answer = call.answers[0]
    number = call.rid.removeprefix("resp_")
    if answer.tool_calls:
        return [
            {
                "type": "function_call",
                "id": f"fc_{number}_{i}",
                "call_id": c.id,
                "name": c.name,
                "arguments": c.arguments,
                "status": "completed",
            }
            for i, c in enumerate(answer.tool_calls)
        ]
    part = {"type": "output_text", "text": answer.text, "annotations": [], "logprobs": []}
    status = "incomplete" if answer.capped else "completed"
    return [
        {
            "type": "message",
            "id": f"msg_{number}",
            "status": status,
            "role": "assistant",
            "content": [part],
        }
    ]


def response_object(call: Call, *, status: str | None = None, items: bool = True) -> dict[str, Any]:
    """The ``response`` object: complete, or (``status="in_progress"``) as it starts."""
    answer: Answer = call.answers[0]
    body = call.extra["body"]
    done = status is None
    final = "incomplete" if answer.capped else "completed"
    usage = {
        "input_tokens": call.prompt_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": call.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": call.prompt_tokens + call.completion_tokens,
    }
    stored = call.provider == "openai" and body.get("store", True) is not False
    return {
        "id": call.rid,
        "object": "response",
        "created_at": call.created,
        "status": final if done else status,
        "model": call.model,
        "output": _items(call) if items and done else [],
        "usage": usage if done else None,
        "incomplete_details": {"reason": "max_output_tokens"} if done and answer.capped else None,
        "error": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": body.get("previous_response_id"),
        "store": stored,
        "temperature": body.get("temperature", 1.0),
        "top_p": body.get("top_p", 1.0),
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools") or [],
        "text": body.get("text") or {"format": {"type": "text"}},
        "truncation": "disabled",
        "metadata": body.get("metadata") or {},
    }


def reply(flavour: OpenAIFlavour, call: Call) -> dict[str, Any]:
    out = response_object(call)
    _remember(flavour, call, out)
    return out


def _remember(flavour: OpenAIFlavour, call: Call, out: dict[str, Any]) -> None:
    if not out["store"]:
        return
    answer = call.answers[0]
    said: dict[str, Any] = {"role": "assistant", "content": answer.text}
    if answer.tool_calls:
        said = {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": c.id, "function": {"name": c.name}} for c in answer.tool_calls],
        }
    flavour.sim.responses.put(call.rid, [*call.extra["messages"], said])


def event(kind: str, seq: int, **payload: Any) -> bytes:
    data = json.dumps({"type": kind, "sequence_number": seq, **payload}, separators=(",", ":"))
    return f"event: {kind}\ndata: {data}\n\n".encode()


def stream(flavour: OpenAIFlavour, call: Call, per_chunk: int) -> StreamPlan:
    """Every event of a streamed response, in the order OpenAI sends them."""
    out: list[tuple[str, dict[str, Any]]] = []
    start = response_object(call, status="in_progress")
    out += [
        ("response.created", {"response": start}),
        ("response.in_progress", {"response": start}),
    ]
    for index, item in enumerate(_items(call)):
        out += _item_events(call, index, item, per_chunk)
    final = response_object(call)
    _remember(flavour, call, final)
    terminal = "response.incomplete" if final["status"] == "incomplete" else "response.completed"
    out.append((terminal, {"response": final}))
    events = [event(kind, seq, **payload) for seq, (kind, payload) in enumerate(out)]
    done = b"data: [DONE]\n\n" if call.provider == "openrouter" else None
    return StreamPlan(events, done=done)


def _item_events(
    call: Call, index: int, item: dict[str, Any], per_chunk: int
) -> list[tuple[str, dict[str, Any]]]:
    where = {"output_index": index, "item_id": item["id"]}
    if item["type"] == "function_call":
        opened = {**item, "arguments": "", "status": "in_progress"}
        return [
            ("response.output_item.added", {"output_index": index, "item": opened}),
            ("response.function_call_arguments.delta", {**where, "delta": item["arguments"]}),
            (
                "response.function_call_arguments.done",
                {**where, "name": item["name"], "arguments": item["arguments"]},
            ),
            ("response.output_item.done", {"output_index": index, "item": item}),
        ]
    part = item["content"][0]
    empty = {**part, "text": ""}
    at = {**where, "content_index": 0}
    out: list[tuple[str, dict[str, Any]]] = [
        (
            "response.output_item.added",
            {"output_index": index, "item": {**item, "status": "in_progress", "content": []}},
        ),
        ("response.content_part.added", {**at, "part": empty}),
    ]
    for piece in call.answers[0].pieces(per_chunk):
        out.append(("response.output_text.delta", {**at, "delta": piece, "logprobs": []}))
    out += [
        ("response.output_text.done", {**at, "text": part["text"], "logprobs": []}),
        ("response.content_part.done", {**at, "part": part}),
        ("response.output_item.done", {"output_index": index, "item": item}),
    ]
    return out


def stream_error(seq: int = 0) -> bytes:
    return event("error", seq, code="server_error", message="The server had an error.", param=None)
