"""An incremental Server-Sent Events decoder, fed one line at a time.

Follows the SSE spec where providers do (``data:`` lines joined until a blank line, ``event:``
names, ``:`` comment lines such as OpenRouter's ``: OPENROUTER PROCESSING`` skipped) and adds
the one deviation we meet: Gemini reports an error after the stream opened as a bare multi-line
JSON object with no ``data:`` prefix. Such objects are collected until they parse and come out as
a message with ``event="bare"``.

Example:
    >>> parser = SSEParser()
    >>> parser.feed('data: {"a": 1}')
    []
    >>> parser.feed("")
    [SSEMessage(event='message', data='{"a": 1}')]
"""

from __future__ import annotations

import json
from dataclasses import dataclass

MAX_BARE_JSON = 1 << 20  # a bare error object larger than this is not an error object


@dataclass(frozen=True, slots=True)
class SSEMessage:
    event: str
    data: str


class SSEParser:
    """Turns body lines into complete SSE messages; ``close()`` flushes at EOF."""

    __slots__ = ("_bare", "_data", "_event")

    def __init__(self) -> None:
        self._data: list[str] = []
        self._event = ""
        self._bare: list[str] = []

    def feed(self, line: str) -> list[SSEMessage]:
        line = line.rstrip("\r\n")
        if self._bare or (not self._data and line.lstrip().startswith("{")):
            return self._feed_bare(line)
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return []
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "data":
            self._data.append(value)
        elif field == "event":
            self._event = value
        return []  # "id", "retry" and unknown fields carry nothing we use

    def close(self) -> list[SSEMessage]:
        """Flush a message the server did not end with a blank line, and any bare JSON."""
        out = self._dispatch()
        if self._bare:
            out.append(SSEMessage("bare", "\n".join(self._bare)))
            self._bare = []
        return out

    def _dispatch(self) -> list[SSEMessage]:
        if not self._data:
            self._event = ""
            return []
        message = SSEMessage(self._event or "message", "\n".join(self._data))
        self._data, self._event = [], ""
        return [message]

    def _feed_bare(self, line: str) -> list[SSEMessage]:
        self._bare.append(line)
        text = "\n".join(self._bare)
        if len(text) > MAX_BARE_JSON:
            self._bare = []
            return [SSEMessage("bare", text)]  # let the dialect call it malformed
        try:
            json.loads(text)
        except ValueError:
            return []
        self._bare = []
        return [SSEMessage("bare", text)]
