"""What a simulated model answers: text, tool calls, JSON, cut at ``stop``, ``n`` times.

Pure and deterministic, so a test (or an app rehearsing offline) can predict every byte:

- **Tool calls.** With function tools and a ``tool_choice`` other than ``none``, the model calls
  one tool: the named one (``{"type": "function", "function": {"name": ...}}``, or Gemini's
  ``allowedFunctionNames``), else the first tool whose name appears in the last user message,
  else the first tool. Under ``auto`` (the default) it answers in text instead once the
  conversation ends with a tool result, so an agent loop of call -> result -> answer ends. The
  arguments are ``schema_instance`` of the tool's parameters: valid JSON of that shape. A tool
  call costs ``ceil(len(name + arguments) / 4)`` completion tokens.
- **JSON.** ``json_object`` mode answers ``{"reply": "<the usual words>"}``; a ``json_schema``
  answers ``schema_instance(schema)``. Either costs ``ceil(len(text) / 4)`` tokens and, past the
  caller's max tokens, is cut to ``4 * max_tokens`` characters (invalid JSON, finish ``length``),
  as a real model's would be.
- **stop.** The answer ends just before the first occurrence of any stop string (finish
  ``stop``, the stop string not included); each word kept, whole or cut, is one token.
- **n.** ``n`` answers, identical except that answer ``i > 0`` says ``reply-<i+1>`` for
  ``reply``; usage counts the completion tokens of all of them.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

WORDS = ["lorem", "ipsum", "dolor", "sit", "amet"]
MAX_ITEMS = 16  # a schema asking for more gets this many (a caller's minItems is not a DoS)
MAX_TEXT = 1000


def _int(value: Any, default: int) -> int:
    """A schema bound as an int; anything else (a string, a float, a bool) is ``default``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    return math.ceil(value)


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One function call of an answer; ``arguments`` is a JSON text."""

    id: str
    name: str
    arguments: str

    @property
    def tokens(self) -> int:
        return math.ceil(len(self.name + self.arguments) / 4)


@dataclass(slots=True)
class Shape:
    """What the request asks of the answer, in a dialect-free form."""

    tools: list[dict[str, Any]] = field(default_factory=list)  # {"name", "parameters"}
    tool_choice: Any = None  # None/"auto", "none", "required", or a tool name (str, named)
    named: str | None = None  # the one tool a named choice forces
    json_object: bool = False
    json_schema: dict[str, Any] | None = None
    stop: list[str] = field(default_factory=list)
    n: int = 1
    after_tool_result: bool = False  # the conversation ends with a tool result


@dataclass(slots=True)
class Answer:
    """One choice (or Gemini candidate) of a reply."""

    index: int
    words: list[str]
    lead: str = ""
    capped: bool = False
    stopped: bool = False
    tool_calls: list[ToolCall] = field(default_factory=list)
    json_text: str | None = None  # set for JSON answers: the content, already cut
    json_tokens: int = 0

    @property
    def text(self) -> str:
        if self.json_text is not None:
            return self.json_text
        return self.lead + " ".join(self.words)

    @property
    def tokens(self) -> int:
        if self.tool_calls:
            return sum(call.tokens for call in self.tool_calls)
        if self.json_text is not None:
            return self.json_tokens
        return sum(1 for word in self.words if word)

    def pieces(self, per_chunk: int) -> list[str]:
        """The text cut into stream deltas of ``per_chunk`` tokens; they join to ``text``."""
        if self.tool_calls:
            return []
        if self.json_text is not None:
            step = 4 * per_chunk
            return [self.json_text[i : i + step] for i in range(0, len(self.json_text), step)]
        out = []
        for i in range(0, len(self.words), per_chunk):
            lead = self.lead if i == 0 else " "
            out.append(lead + " ".join(self.words[i : i + per_chunk]))
        return out

    def finish(self, natural: str = "stop") -> str:
        """OpenAI's finish reason; ``natural`` is the provider's word for a clean end."""
        if self.tool_calls:
            return "tool_calls"
        if self.capped:
            return "length"
        return "stop" if self.stopped else natural


def schema_instance(schema: Any, defs: dict[str, Any] | None = None, depth: int = 0) -> Any:
    """A deterministic value of ``schema``'s shape (JSON Schema, or Gemini's OpenAPI subset).

    Every property is filled (required or not); enums, consts and defaults win; numbers sit at
    their minimum (else 1); arrays hold ``minItems`` items (at least one); ``anyOf``/``oneOf``
    take the first branch; ``$ref`` follows ``#/$defs/...`` and ``#/definitions/...``.
    """
    if not isinstance(schema, dict) or depth > 12:
        return None
    defs = {**(defs or {}), **schema.get("$defs", {}), **schema.get("definitions", {})}
    if "$ref" in schema:
        target = str(schema["$ref"]).rsplit("/", 1)[-1]
        return schema_instance(defs.get(target), defs, depth + 1)
    for key in ("const", "default"):
        if key in schema:
            return schema[key]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return schema_instance(schema[key][0], defs, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    kind = str(kind).lower() if kind is not None else ("object" if "properties" in schema else "")
    return _typed_instance(kind, schema, defs, depth)


def _typed_instance(kind: str, schema: dict[str, Any], defs: dict[str, Any], depth: int) -> Any:
    if kind == "object":
        props = schema.get("properties") or {}
        return {name: schema_instance(sub, defs, depth + 1) for name, sub in props.items()}
    if kind == "array":
        count = min(MAX_ITEMS, max(1, _int(schema.get("minItems"), 1)))
        items = schema.get("items")
        if isinstance(schema.get("prefixItems"), list):
            return [schema_instance(s, defs, depth + 1) for s in schema["prefixItems"]]
        return [schema_instance(items, defs, depth + 1) for _ in range(count)]
    if kind == "integer":
        return _int(schema.get("minimum"), 1)
    if kind == "number":
        low = schema.get("minimum")
        return float(low) if isinstance(low, (int, float)) and not isinstance(low, bool) else 1.5
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    if kind == "string":
        size = min(MAX_TEXT, _int(schema.get("minLength"), 0))
        text = " ".join(WORDS)
        while len(text) < size:
            text += " " + " ".join(WORDS)
        return text if "maxLength" not in schema else text[: max(0, _int(schema["maxLength"], 0))]
    return None


def choose_tool(shape: Shape, last_user: str) -> dict[str, Any] | None:
    """The tool this answer calls, or None for a text answer (see the module docstring)."""
    if not shape.tools or shape.tool_choice == "none":
        return None
    if shape.named is not None:
        return next((t for t in shape.tools if t["name"] == shape.named), None)
    if shape.tool_choice != "required" and shape.after_tool_result:
        return None
    mentioned = [t for t in shape.tools if t["name"] and t["name"] in last_user]
    return (mentioned or shape.tools)[0]


def compose(
    words: list[str],
    shape: Shape,
    *,
    cap: int | None,
    lead: str,
    last_user: str,
    call_id: str,
) -> list[Answer]:
    """The ``shape.n`` answers to a request whose plain reply would be ``words`` (uncapped)."""
    out = []
    for index in range(max(1, shape.n)):
        mine = [(f"reply-{index + 1}" if w == "reply" and index else w) for w in words]
        out.append(_one(index, mine, shape, cap=cap, lead=lead, last_user=last_user, cid=call_id))
    return out


def _one(
    index: int,
    words: list[str],
    shape: Shape,
    *,
    cap: int | None,
    lead: str,
    last_user: str,
    cid: str,
) -> Answer:
    tool = choose_tool(shape, last_user)
    if tool is not None:
        args = json.dumps(schema_instance(tool.get("parameters") or {"type": "object"}) or {})
        return Answer(index, [], tool_calls=[ToolCall(f"{cid}_{index}", tool["name"], args)])
    if shape.json_schema is not None or shape.json_object:
        return _json_answer(index, words, shape, cap)
    answer = Answer(index, list(words), lead=lead)
    _apply_stop(answer, shape.stop)
    if cap is not None and answer.tokens > cap:
        answer.words, answer.capped, answer.stopped = answer.words[:cap], True, False
    if not answer.words:
        answer.lead = ""
    return answer


def _json_answer(index: int, words: list[str], shape: Shape, cap: int | None) -> Answer:
    if shape.json_schema is not None:
        value = schema_instance(shape.json_schema)
    else:
        value = {"reply": " ".join(words)}
    text = json.dumps(value)
    answer = Answer(index, [], json_text=text)
    answer.json_tokens = math.ceil(len(text) / 4)
    if cap is not None and answer.json_tokens > cap:
        answer.json_text, answer.json_tokens, answer.capped = text[: 4 * cap], cap, True
    return answer


def _apply_stop(answer: Answer, stops: list[str]) -> None:
    text = answer.text
    hits = [text.find(s) for s in stops if s and s in text]
    if not hits:
        return
    kept = text[: min(hits)]
    body = kept[len(answer.lead) :] if kept.startswith(answer.lead) else kept
    answer.lead = kept[: len(kept) - len(body)]
    answer.words = body.split(" ") if body else []
    answer.stopped = True
