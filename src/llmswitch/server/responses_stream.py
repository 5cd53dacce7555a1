"""Chat-completion chunks as Responses stream events, the way OpenAI sends them.

``ResponsesEvents`` reads the gateway's own chat chunks (``shapes.chunk_body`` and the closing
chunks) and emits ``event: <type>`` / ``data: <json>`` frames with a rising
``sequence_number``: ``response.created`` and ``response.in_progress`` first; for text,
``output_item.added`` (a message), ``content_part.added``, one ``output_text.delta`` per chunk;
for each tool call, ``output_item.added`` (a ``function_call``) and its
``function_call_arguments.delta``; at the end every ``.done`` event and ``response.completed``
(or ``response.incomplete``) carrying the whole response and its usage. No ``[DONE]``, as on
OpenAI. A failure after the stream opened is an ``error`` event then ``response.failed``, so a
cut answer is never presented as complete. Pure: no I/O, one instance per stream.
"""

from __future__ import annotations

import json
from typing import Any

from llmswitch.server import responses_shapes as rs


class ResponsesEvents:
    """Translator state of one streamed response."""

    def __init__(self, request: dict[str, Any], *, rid: str, created: int, model: str) -> None:
        self.request, self.rid, self.created, self.model = request, rid, created, model
        self.seq = 0
        self.text: list[str] = []
        self.items: list[dict[str, Any]] = []  # output items in order, as they opened
        self.calls: dict[int, dict[str, Any]] = {}  # tool call index -> its item
        self.message: dict[str, Any] | None = None
        self.finish: str | None = None
        self.usage: dict[str, Any] | None = None

    def _event(self, kind: str, **payload: Any) -> bytes:
        data = json.dumps(
            {"type": kind, "sequence_number": self.seq, **payload}, separators=(",", ":")
        )
        self.seq += 1
        return f"event: {kind}\ndata: {data}\n\n".encode()

    def _response(self, status: str, *, final: bool) -> dict[str, Any]:
        incomplete = None
        if final:
            status, incomplete = rs.status_of(self.finish)
        return rs.response_body(
            self.request,
            rid=self.rid,
            created=self.created,
            model=self.model,
            status=status,
            output=[self._done_item(i) for i in self.items] if final else [],
            usage=self.usage if final else None,
            incomplete=incomplete,
        )

    def start(self) -> list[bytes]:
        opened = self._response("in_progress", final=False)
        return [
            self._event("response.created", response=opened),
            self._event("response.in_progress", response=opened),
        ]

    def chunk(self, body: dict[str, Any]) -> list[bytes]:
        """Events for one chat chunk (content, tool-call deltas, finish reason, usage)."""
        out: list[bytes] = []
        if body.get("usage"):
            self.usage = rs.usage_of(body["usage"])
        for choice in body.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("content"):
                out += self._text(delta["content"])
            for call in delta.get("tool_calls") or []:
                out += self._tool_call(call)
            if choice.get("finish_reason"):
                self.finish = choice["finish_reason"]
        return out

    def _text(self, piece: str) -> list[bytes]:
        out = []
        if self.message is None:
            self.message = rs.message_item(self.rid, [], "in_progress")
            self.items.append(self.message)
            index = len(self.items) - 1
            out.append(
                self._event("response.output_item.added", output_index=index, item=self.message)
            )
            part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
            out.append(self._event("response.content_part.added", **self._at(), part=part))
        self.text.append(piece)
        out.append(
            self._event("response.output_text.delta", **self._at(), delta=piece, logprobs=[])
        )
        return out

    def _at(self) -> dict[str, Any]:
        assert self.message is not None
        index = self.items.index(self.message)
        return {"output_index": index, "item_id": self.message["id"], "content_index": 0}

    def _tool_call(self, call: dict[str, Any]) -> list[bytes]:
        index = int(call.get("index", 0))
        fn = call.get("function") or {}
        out = []
        item = self.calls.get(index)
        if item is None:
            item = {
                "type": "function_call",
                "id": f"fc_{self.rid.removeprefix('resp_')}_{index}",
                "call_id": call.get("id") or f"call_{index}",
                "name": fn.get("name") or "",
                "arguments": "",
                "status": "in_progress",
            }
            self.calls[index] = item
            self.items.append(item)
            out.append(
                self._event(
                    "response.output_item.added", output_index=len(self.items) - 1, item=dict(item)
                )
            )
        if fn.get("arguments"):
            item["arguments"] += fn["arguments"]
            out.append(
                self._event(
                    "response.function_call_arguments.delta",
                    output_index=self.items.index(item),
                    item_id=item["id"],
                    delta=fn["arguments"],
                )
            )
        return out

    def _done_item(self, item: dict[str, Any]) -> dict[str, Any]:
        if item["type"] == "function_call":
            return {**item, "arguments": item["arguments"] or "{}", "status": "completed"}
        part = {
            "type": "output_text",
            "text": "".join(self.text),
            "annotations": [],
            "logprobs": [],
        }
        return {**item, "content": [part], "status": "completed"}

    def end(self) -> list[bytes]:
        """Every ``.done`` event, then ``response.completed`` / ``response.incomplete``."""
        out = []
        for index, item in enumerate(self.items):
            done = self._done_item(item)
            if item["type"] == "message":
                part = done["content"][0]
                out.append(
                    self._event(
                        "response.output_text.done", **self._at(), text=part["text"], logprobs=[]
                    )
                )
                out.append(self._event("response.content_part.done", **self._at(), part=part))
            else:
                out.append(
                    self._event(
                        "response.function_call_arguments.done",
                        output_index=index,
                        item_id=item["id"],
                        name=item["name"],
                        arguments=done["arguments"],
                    )
                )
            out.append(self._event("response.output_item.done", output_index=index, item=done))
        final = self._response("completed", final=True)
        kind = "response.incomplete" if final["status"] == "incomplete" else "response.completed"
        out.append(self._event(kind, response=final))
        return out

    def failed(self, error: dict[str, Any]) -> list[bytes]:
        """A failure after the stream opened: the error, then the failed response."""
        failed = self._response("failed", final=False)
        failed["error"] = {
            "code": error.get("code") or "server_error",
            "message": error.get("message", ""),
        }
        return [
            self._event(
                "error", code=error.get("code"), message=error.get("message", ""), param=None
            ),
            self._event("response.failed", response=failed),
        ]
