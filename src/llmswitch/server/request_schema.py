"""The gateway's contract for ``POST /v1/chat/completions`` bodies: one schema, checked once.

Why a layer of its own: what a request may contain (types, ranges, nesting, Unicode) is a
contract with clients, published in ``/openapi.json``; how the gateway then forwards the fields
it accepts is a separate decision (``shapes.parse_chat``) that will change on its own. Nothing
here decides what is sent upstream: a valid body goes on exactly as the client sent it.

What is checked, each answered 400 with an OpenAI-shaped error naming the field:

- the bytes: JSON (no ``NaN``/``Infinity``), valid UTF-8, no lone surrogate escapes, at most
  ``MAX_DEPTH`` levels of nesting (pydantic-core's JSON parser enforces both);
- the fields OpenAI defines, by type and range (``temperature`` 0-2, ``top_p`` 0-1, penalties
  -2..2, ``n`` 1-128, ``seed`` a 64-bit integer, ...). ``max_tokens`` and
  ``max_completion_tokens`` are bounded here by ``MAX_OUTPUT_TOKENS`` and by the caller's
  ``max_output`` (the context window of the models the request can reach);
- ``messages``: a non-empty list of objects with a known ``role`` and what that role needs, as
  OpenAI defines it (``content`` a string or a list of typed parts; a ``tool`` message names its
  ``tool_call_id``; only an assistant turn may leave ``content`` out).

Fields the schema does not name are allowed and untouched: OpenAI-compatible clients send vendor
fields (OpenRouter's ``models``/``provider``, ``reasoning_effort``, ``metadata``...).

Example:
    >>> validate_chat_body(b'{"messages": [{"role": "user", "content": "hi"}]}')["messages"]
    [{'role': 'user', 'content': 'hi'}]
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal, NotRequired

import pydantic_core
from pydantic import ConfigDict, Field, TypeAdapter, ValidationError
from typing_extensions import TypedDict  # pydantic needs this one on Python < 3.12

from llmswitch.server.shapes import BadInput

#: No model's context window comes near this; it bounds token counts before any model is known
#: (so a count such as 2**62 can never reach a store's arithmetic).
MAX_OUTPUT_TOKENS = 100_000_000
#: pydantic-core's JSON parser refuses deeper nesting; stated here so the error can say it.
MAX_DEPTH = 200
_INT64 = 2**63 - 1

_OPEN = ConfigDict(extra="allow", strict=True)

Unit = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Penalty = Annotated[float, Field(ge=-2, le=2, allow_inf_nan=False)]
Tokens = Annotated[int, Field(ge=1, le=MAX_OUTPUT_TOKENS)]


class ContentPart(TypedDict):
    """One part of a message's content (``text``, ``image_url``, ``input_audio``, ``file``...)."""

    __pydantic_config__ = _OPEN  # type: ignore[misc]
    type: str


class FunctionCall(TypedDict):
    __pydantic_config__ = _OPEN  # type: ignore[misc]
    name: str
    arguments: NotRequired[str]


class ToolCall(TypedDict):
    __pydantic_config__ = _OPEN  # type: ignore[misc]
    id: str
    type: str
    function: FunctionCall


Content = str | list[ContentPart]


class SystemMessage(TypedDict):
    __pydantic_config__ = _OPEN  # type: ignore[misc]
    role: Literal["system", "developer"]
    content: Content
    name: NotRequired[str]


class UserMessage(TypedDict):
    __pydantic_config__ = _OPEN  # type: ignore[misc]
    role: Literal["user"]
    content: Content
    name: NotRequired[str]


class AssistantMessage(TypedDict):
    """An assistant turn; its ``content`` may be null or absent when it calls tools."""

    __pydantic_config__ = _OPEN  # type: ignore[misc]
    role: Literal["assistant"]
    content: NotRequired[Content | None]
    name: NotRequired[str]
    tool_calls: NotRequired[list[ToolCall] | None]


class ToolMessage(TypedDict):
    __pydantic_config__ = _OPEN  # type: ignore[misc]
    role: Literal["tool"]
    content: Content
    tool_call_id: str


class FunctionMessage(TypedDict):
    """The deprecated ``function`` role, still sent by older clients."""

    __pydantic_config__ = _OPEN  # type: ignore[misc]
    role: Literal["function"]
    content: Content | None
    name: str


_SHOWN = ConfigDict(
    extra="allow",
    json_schema_extra={
        "description": (
            "content is required except on an assistant turn (which may call tools instead); "
            "a tool message needs tool_call_id, a function message its name"
        )
    },
)


class AnyMessage(TypedDict):
    """How ``/openapi.json`` shows a message: one object, the per-role rules in words.

    The validator's discriminated union (one type per role) is exact, but as a ``oneOf`` it
    misleads schema-driven fuzzers: a mutation meant to break one branch's ``role`` lands in
    another branch and is valid after all.
    """

    __pydantic_config__ = _SHOWN  # type: ignore[misc]
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: NotRequired[Content | None]
    name: NotRequired[str]
    tool_call_id: NotRequired[str]
    tool_calls: NotRequired[list[ToolCall] | None]


Message = Annotated[
    SystemMessage | UserMessage | AssistantMessage | ToolMessage | FunctionMessage,
    Field(discriminator="role"),
]


class FunctionDefinition(TypedDict):
    __pydantic_config__ = _OPEN  # type: ignore[misc]
    name: str
    description: NotRequired[str]
    parameters: NotRequired[dict[str, Any]]


class Tool(TypedDict):
    __pydantic_config__ = _OPEN  # type: ignore[misc]
    type: str
    function: FunctionDefinition


class StreamOptions(TypedDict):
    __pydantic_config__ = _OPEN  # type: ignore[misc]
    include_usage: NotRequired[bool]


class ResponseFormat(TypedDict):
    __pydantic_config__ = _OPEN  # type: ignore[misc]
    type: str


class ChatCompletionRequest(TypedDict):
    """A ``/v1/chat/completions`` body as OpenAI defines it; other fields pass untouched."""

    __pydantic_config__ = _OPEN  # type: ignore[misc]
    messages: Annotated[list[Message], Field(min_length=1)]
    model: NotRequired[str | None]
    stream: NotRequired[bool | None]
    stream_options: NotRequired[StreamOptions | None]
    max_tokens: NotRequired[Tokens | None]
    max_completion_tokens: NotRequired[Tokens | None]
    temperature: NotRequired[Annotated[float, Field(ge=0, le=2, allow_inf_nan=False)] | None]
    top_p: NotRequired[Unit | None]
    n: NotRequired[Annotated[int, Field(ge=1, le=128)] | None]
    stop: NotRequired[str | list[str] | None]
    presence_penalty: NotRequired[Penalty | None]
    frequency_penalty: NotRequired[Penalty | None]
    seed: NotRequired[Annotated[int, Field(ge=-_INT64 - 1, le=_INT64)] | None]
    logprobs: NotRequired[bool | None]
    top_logprobs: NotRequired[Annotated[int, Field(ge=0, le=20)] | None]
    logit_bias: NotRequired[
        dict[str, Annotated[float, Field(ge=-100, le=100, allow_inf_nan=False)]] | None
    ]
    user: NotRequired[str | None]
    tools: NotRequired[list[Tool] | None]
    tool_choice: NotRequired[str | dict[str, Any] | None]
    parallel_tool_calls: NotRequired[bool | None]
    response_format: NotRequired[ResponseFormat | None]


CHAT_REQUEST: TypeAdapter[ChatCompletionRequest] = TypeAdapter(ChatCompletionRequest)
TOKEN_FIELDS = ("max_tokens", "max_completion_tokens")
#: OpenAI-style codes by pydantic error type; ``*_type`` errors are ``invalid_type`` and the rest
#: ``invalid_value``.
_CODES = {
    "missing": "missing_required_parameter",
    "union_tag_not_found": "missing_required_parameter",
}
#: The roles a message may have (the discriminator of ``Message``).
ROLES = ("system", "developer", "user", "assistant", "tool", "function")


def validate_chat_body(
    body: bytes, *, max_output: Callable[[str | None], int | None] | None = None
) -> dict[str, Any]:
    """The parsed body, as sent, once it meets the schema.

    Args:
        body: the raw request body.
        max_output: the largest ``max_tokens`` the request's ``model`` allows (its context
            window), or None when unknown; None skips the per-model bound.

    Returns:
        The JSON object exactly as the client sent it (vendor fields included).

    Raises:
        BadInput: naming the field (``param``), what is wrong and what is allowed.
    """
    try:
        payload = pydantic_core.from_json(body, allow_inf_nan=False)
    except ValueError as exc:
        raise _not_json(str(exc)) from None
    if not isinstance(payload, dict):
        raise BadInput(
            "the body must be a JSON object with 'messages'", param=None, code="invalid_type"
        )
    try:
        CHAT_REQUEST.validate_python(payload)
    except ValidationError as exc:
        raise _bad_field(exc, payload) from None
    if max_output is not None:
        _check_tokens(payload, max_output)
    return payload


def _check_tokens(payload: dict[str, Any], max_output: Callable[[str | None], int | None]) -> None:
    fields = [f for f in TOKEN_FIELDS if isinstance(payload.get(f), int)]
    if not fields:
        return
    model = payload.get("model")
    limit = max_output(model)
    for field in fields:
        if limit is not None and payload[field] > limit:
            raise BadInput(
                f"'{field}' is {payload[field]}, over the context window of {limit} tokens of "
                f"the largest model {model or 'auto'!r} can reach; ask for at most {limit}",
                param=field,
                code="invalid_value",
            )


def _not_json(reason: str) -> BadInput:
    if "recursion limit" in reason:
        return BadInput(
            f"the body nests deeper than {MAX_DEPTH} levels ({reason}); flatten it",
            code="invalid_json",
        )
    if any(word in reason.lower() for word in ("surrogate", "hex escape", "unicode", "utf-8")):
        return BadInput(
            f"the body is not valid Unicode ({reason}); send UTF-8 JSON without lone "
            "surrogate escapes",
            code="invalid_json",
        )
    return BadInput(
        f"the body is not valid JSON ({reason}); NaN and Infinity are not JSON",
        code="invalid_json",
    )


_JSON_TYPES = {
    str: "a string",
    bool: "a boolean",
    int: "a number",
    float: "a number",
    list: "an array",
    dict: "an object",
    type(None): "null",
}


def _json_type(value: Any) -> str:
    return _JSON_TYPES.get(type(value), "another type")


def _bad_field(exc: ValidationError, payload: Any) -> BadInput:
    """The most specific error, named by its path into the client's own JSON.

    A union (``content``: string, list of parts or null) fails once per member; the member that
    got furthest into the value says most (``messages[0].content[0].type`` is required), and
    members failing at the same depth are joined (must be a valid string or a valid list).
    """
    found = [
        (json_path(payload, e["loc"], missing=e["type"] == "missing"), e)
        for e in exc.errors(include_url=False, include_input=False)
    ]
    deepest = max(len(path) for path, _ in found)
    errors = [e for path, e in found if len(path) == deepest]
    param = next(path for path, _ in found if len(path) == deepest)
    first = errors[0]
    if first["type"] in ("union_tag_not_found", "union_tag_invalid"):  # a message's role
        param = f"{param}.role"
        roles = ", ".join(repr(r) for r in ROLES)
        if first["type"] == "union_tag_not_found":
            message = f"'{param}' is required: one of {roles}"
        else:
            message = f"invalid '{param}': must be one of {roles}"
    elif first["type"] == "missing":
        message = f"'{param}' is required"
    else:
        msgs = list(dict.fromkeys(e["msg"] for e in errors))
        prefix = "Input should be "
        if all(m.startswith(prefix) for m in msgs):
            wanted = " or ".join(m.removeprefix(prefix) for m in msgs)
            message = f"invalid '{param or 'body'}': must be {wanted}"
        else:
            message = f"invalid '{param or 'body'}': {'; '.join(msgs)}"
        if first["type"].endswith("_type"):
            message += f" (got {_json_type(value_at(payload, param))})"
    return BadInput(
        message,
        param=param or None,
        code=_CODES.get(first["type"])
        or ("invalid_type" if first["type"].endswith("_type") else "invalid_value"),
    )


def value_at(payload: Any, path: str) -> Any:
    """The value at a ``json_path`` (None when the path leads nowhere)."""
    node = payload
    for name, index in re.findall(r"\.?([^.\[\]]+)|\[(\d+)\]", path):
        try:
            node = node[int(index)] if index else node[name]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def json_path(payload: Any, loc: Sequence[int | str], *, missing: bool = False) -> str:
    """``messages[0].content[0].type`` for ``('messages', 0, 'content', 'list[ContentPart]', 0,
    'type')``.

    pydantic adds a step per union member tried (``'str'``, ``'list[ContentPart]'``); a step
    that leads nowhere in the client's JSON is such a tag and is skipped, except a ``missing``
    error's last step, which names the absent field.
    """
    parts: list[str] = []
    node = payload
    for n, step in enumerate(loc):
        if isinstance(step, str):
            if isinstance(node, dict) and step in node:
                node = node[step]
            elif not (missing and n == len(loc) - 1):
                continue  # a union member's tag
            parts.append(f".{step}" if parts else step)
        elif isinstance(node, list) and 0 <= step < len(node):
            parts.append(f"[{step}]")
            node = node[step]
        else:
            break
    return "".join(parts)


def json_schema(*, max_tokens: int | None = None) -> dict[str, Any]:
    """The request schema as JSON Schema (2020-12, OpenAPI 3.1's dialect), refs into
    ``#/components/schemas``; ``max_tokens`` lowers the token fields' maximum to the largest
    configured context window."""
    schema = CHAT_REQUEST.json_schema(ref_template="#/components/schemas/{model}")
    shown = TypeAdapter(AnyMessage).json_schema(ref_template="#/components/schemas/{model}")
    defs = schema["$defs"]
    for name in ("SystemMessage", "UserMessage", "AssistantMessage", "ToolMessage"):
        defs.pop(name, None)
    defs.pop("FunctionMessage", None)
    defs.update(shown.pop("$defs", {}))
    defs["Message"] = shown
    schema["properties"]["messages"]["items"] = {"$ref": "#/components/schemas/Message"}
    if max_tokens is not None:
        for field in TOKEN_FIELDS:
            for option in schema["properties"][field]["anyOf"]:
                if option.get("type") == "integer":
                    option["maximum"] = max_tokens
    return schema
