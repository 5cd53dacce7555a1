"""A Responses reply from a provider that served the Responses API itself, as the client gets it.

When ``/v1/responses`` reached a native provider (``_wire.responses``), its ``response`` object
and its stream events go to the client as they came, with what the gateway adds to every reply:
``model`` is ``provider/model`` (send it back to reach the same target, as on chat), and
``usage.cost`` the ledger's cost of the call. Which path served is known from the result: a
native reply's ``raw`` is a ``response`` object, a native stream's chunks carry the provider's
events in ``raw["events"]``; failover happens before the first output, so a stream is one or
the other from its first chunk to its end.
"""

from __future__ import annotations

import json
from typing import Any

from llmswitch._types import ChatResult, StreamChunk

_FINAL = ("response.completed", "response.incomplete")


def native_body(result: ChatResult) -> dict[str, Any] | None:
    """The provider's own ``response`` object with the gateway's model and cost (None: the
    call was served through chat completions and must be translated)."""
    raw = result.raw
    if not raw or raw.get("object") != "response":
        return None
    return _stamped(raw, result.target, result.cost_usd)


def is_native(chunk: StreamChunk) -> bool:
    """Whether a stream's chunk came from a native Responses stream."""
    return bool(chunk.raw) and isinstance((chunk.raw or {}).get("events"), list)


class NativeEvents:
    """The frames of a native stream: the provider's events, its final one held back until the
    call's cost is known (the ledger settles after the stream's last byte)."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.held: list[dict[str, Any]] = []
        self.seq = 0

    def chunk(self, chunk: StreamChunk) -> list[bytes]:
        out = []
        for event in (chunk.raw or {}).get("events", []):
            if event.get("type") in _FINAL:
                self.held.append(event)
                continue
            out.append(self._frame(event))
        return out

    def end(self, result: ChatResult | None) -> list[bytes]:
        cost = result.cost_usd if result is not None else 0.0
        out = []
        for event in self.held:
            response = event.get("response")
            if isinstance(response, dict):
                event = {**event, "response": _stamped(response, self.target, cost)}
            out.append(self._frame(event))
        self.held = []
        return out

    def failed(self, error: dict[str, Any]) -> list[bytes]:
        """A failure after the stream opened: an ``error`` event (no ``response.completed``)."""
        event = {
            "type": "error",
            "code": error.get("code") or "server_error",
            "message": error.get("message", ""),
            "param": None,
            "sequence_number": self.seq,
        }
        return [self._frame(event)]

    def _frame(self, event: dict[str, Any]) -> bytes:
        response = event.get("response")
        if isinstance(response, dict) and "model" in response:
            event = {**event, "response": {**response, "model": self.target}}
        self.seq = int(event.get("sequence_number", self.seq)) + 1
        kind = str(event.get("type", "message"))
        return f"event: {kind}\ndata: {json.dumps(event, separators=(',', ':'))}\n\n".encode()


def _stamped(response: dict[str, Any], target: str, cost: float) -> dict[str, Any]:
    body = dict(response)
    body["model"] = target
    usage = body.get("usage")
    if isinstance(usage, dict):
        body["usage"] = {**usage, "cost": round(cost, 10)}
    return body
