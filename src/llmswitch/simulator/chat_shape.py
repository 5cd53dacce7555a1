"""Reading the answer-shaping fields of an OpenAI chat request, and refusing them as OpenAI does.

``tools``, ``tool_choice``, ``response_format``, ``stop`` and ``n`` become one ``Shape``; a
malformed one is a ``Problem`` (message, param, code) in OpenAI's own words, so an SDK sees the
``BadRequestError`` the real API would give. A ``tool`` message must answer an earlier
assistant's ``tool_calls`` by id, as OpenAI checks.
"""

from __future__ import annotations

from typing import Any

from llmswitch.simulator.answers import Shape

Problem = tuple[str, str | None, str | None]  # message, param, code
MAX_STOP = 4
MAX_N = 128


def chat_shape(body: dict[str, Any]) -> Shape | Problem:
    """The ``Shape`` a chat request asks for, or the first thing wrong with it."""
    tools = _tools(body.get("tools"))
    if isinstance(tools, tuple):
        return tools
    shape = Shape(tools=tools)
    problem = (
        _tool_choice(shape, body.get("tool_choice"))
        or _response_format(shape, body.get("response_format"))
        or _stop(shape, body.get("stop"))
        or _n(shape, body.get("n"))
        or _tool_messages(body.get("messages") or [])
    )
    if problem is not None:
        return problem
    messages = body.get("messages") or []
    shape.after_tool_result = bool(messages) and messages[-1].get("role") == "tool"
    return shape


def _tools(raw: Any) -> list[dict[str, Any]] | Problem:
    if raw is None:
        return []
    if not isinstance(raw, list):
        return "Invalid type for 'tools': expected an array.", "tools", "invalid_type"
    out = []
    for i, tool in enumerate(raw):
        fn = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            where = f"tools[{i}].function"
            return f"Missing required parameter: '{where}'.", where, "missing_required_parameter"
        out.append({"name": fn["name"], "parameters": fn.get("parameters")})
    return out


def _tool_choice(shape: Shape, raw: Any) -> Problem | None:
    if raw is None:
        return None
    if not shape.tools:
        return (
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are "
            "specified.",
            "tool_choice",
            None,
        )
    if raw in ("auto", "none", "required"):
        shape.tool_choice = raw
        return None
    fn = raw.get("function") if isinstance(raw, dict) else None
    name = fn.get("name") if isinstance(fn, dict) else None
    if not isinstance(name, str):
        return (
            "Invalid value for 'tool_choice': expected 'none', 'auto', 'required' or a named "
            "function.",
            "tool_choice",
            "invalid_value",
        )
    if all(t["name"] != name for t in shape.tools):
        return (
            f"Invalid value for 'tool_choice': function '{name}' is not among the tools.",
            "tool_choice",
            "invalid_value",
        )
    shape.tool_choice, shape.named = "named", name
    return None


def _response_format(shape: Shape, raw: Any) -> Problem | None:
    if raw is None:
        return None
    kind = raw.get("type") if isinstance(raw, dict) else None
    if kind == "text":
        return None
    if kind == "json_object":
        shape.json_object = True
        return None
    if kind == "json_schema":
        spec = raw.get("json_schema")
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            param = "response_format.json_schema"
            return (
                f"Missing required parameter: '{param}.name'.",
                param,
                "missing_required_parameter",
            )
        shape.json_schema = spec.get("schema") if isinstance(spec.get("schema"), dict) else {}
        return None
    return (
        f"Invalid value: '{kind}'. Supported values are: 'text', 'json_object', and 'json_schema'.",
        "response_format.type",
        "invalid_value",
    )


def _stop(shape: Shape, raw: Any) -> Problem | None:
    if raw is None:
        return None
    stops = [raw] if isinstance(raw, str) else raw
    if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
        return "Invalid type for 'stop': expected a string or an array of strings.", "stop", None
    if len(stops) > MAX_STOP:
        return (
            f"Invalid 'stop': array too long. Expected an array with maximum length {MAX_STOP}, "
            f"but got an array with length {len(stops)} instead.",
            "stop",
            "array_above_max_length",
        )
    shape.stop = stops
    return None


def _n(shape: Shape, raw: Any) -> Problem | None:
    if raw is None:
        return None
    if not isinstance(raw, int) or isinstance(raw, bool) or not 1 <= raw <= MAX_N:
        return (
            f"Invalid 'n': expected an integer between 1 and {MAX_N}, but got {raw!r} instead.",
            "n",
            "invalid_value",
        )
    shape.n = raw
    return None


def _tool_messages(messages: list[Any]) -> Problem | None:
    called: set[str] = set()
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            continue
        calls = message.get("tool_calls")
        for call in calls if isinstance(calls, list) else []:
            if isinstance(call, dict) and isinstance(call.get("id"), str):
                called.add(call["id"])
        if message.get("role") == "tool" and message.get("tool_call_id") not in called:
            return (
                "Invalid parameter: messages with role 'tool' must be a response to a "
                "preceeding message with 'tool_calls'.",
                f"messages.[{i}].role",
                None,
            )
    return None
