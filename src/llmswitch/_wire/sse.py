"""An incremental Server-Sent Events decoder, fed one line at a time.

Follows the SSE spec where providers do (``data:`` lines joined until a blank line, ``event:``
names, ``:`` comment lines such as OpenRouter's ``: OPENROUTER PROCESSING`` skipped) and adds
the one deviation we meet: Gemini reports an error after the stream opened as a bare multi-line
JSON object with no ``data:`` prefix. Such objects are collected until they parse and come out as
a message with ``event="bare"``.

Both stream decoders share one tolerance: an unparsable ``data:`` event in an otherwise sound
stream (a proxy that mangled one chunk) is skipped, because it costs a few words while failing
the stream would cost the whole answer. More than ``MAX_SKIPPED_EVENTS`` of them mean the stream
itself is broken. ``skip_bad_event`` and ``skipped_summary`` keep the decoders' records and
messages alike.

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

from llmswitch._errors import MalformedReply
from llmswitch._wire.base import CallContext, StreamDecoder, redact

MAX_BARE_JSON = 1 << 20  # a bare error object larger than this is not an error object
MAX_SKIPPED_EVENTS = 3  # unparsable events a stream may contain and still be sound
MAX_BAD_EVENT_CHARS = 200  # how much of the first bad event a decoder keeps


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


def skip_bad_event(decoder: StreamDecoder, data: str, ctx: CallContext) -> None:
    """Record one unparsable event on ``decoder``; raise once there are too many to skip.

    The first bad event is kept redacted, then cut to ``MAX_BAD_EVENT_CHARS`` (redacting before
    cutting keeps a key split at the cut from escaping the mask).

    Raises:
        MalformedReply: the event is the ``MAX_SKIPPED_EVENTS + 1``-th unparsable one.
    """
    decoder.skipped_events += 1
    if decoder.first_bad_event is None:
        decoder.first_bad_event = redact(data)[:MAX_BAD_EVENT_CHARS]
    if decoder.skipped_events > MAX_SKIPPED_EVENTS:
        raise ctx.error(
            MalformedReply,
            f"stream has more than {MAX_SKIPPED_EVENTS} unparsable events"
            + skipped_summary(decoder),
            status=200,
        )


def skipped_summary(decoder: StreamDecoder) -> str:
    """``"; 2 unparsable event(s) skipped, the first: '{bad'"``, or ``""`` when none were."""
    if not decoder.skipped_events:
        return ""
    return (
        f"; {decoder.skipped_events} unparsable event(s) skipped, "
        f"the first: {decoder.first_bad_event!r}"
    )
