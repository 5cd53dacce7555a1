"""What one streamed attempt has delivered so far: text, usage, finish reason, skipped events.

Kept apart from the call machine because it is the only part of a call that changes per line:
the machine asks it whether content has reached the caller (failover is free until then), what
the partial answer is (the prefill of a continuation) and what usage to settle.
"""

from __future__ import annotations

from llmswitch._tokens import estimate_text_tokens
from llmswitch._types import Usage
from llmswitch._wire.base import StreamDecoder, StreamEvent


class StreamProgress:
    """One streamed attempt's progress.

    Args:
        prompt_estimate: tokens of the prompt, for usage when the provider reports none.
        echo: text a continuation may repeat at its start (the prefill it was given); a
            repeated prefix is dropped, so the caller never sees it twice.
    """

    __slots__ = ("content", "decoder", "echo", "finish", "parts", "prompt_estimate", "usage")

    def __init__(self, *, prompt_estimate: int, echo: str = "") -> None:
        self.decoder: StreamDecoder | None = None
        self.parts: list[str] = []
        self.usage: Usage | None = None
        self.finish: str | None = None
        self.content = False  # content (text, a tool call, reasoning) reached the caller
        self.echo = echo
        self.prompt_estimate = prompt_estimate

    def take(self, ev: StreamEvent) -> str | None:
        """The text to pass on for ``ev`` (possibly ``""`` for a tool call or reasoning delta),
        or None when the event carries nothing for the caller."""
        if ev.usage is not None:
            self.usage = ev.usage
        if ev.finish_reason is not None:
            self.finish = ev.finish_reason
        text = ev.text
        if not (text or ev.answering):
            return None
        if self.echo and text:
            text = self._strip_echo(text)
            if not text:
                return None
        self.content = True
        self.parts.append(text)
        return text

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def usage_so_far(self) -> Usage:
        """The provider's count when it sent one, else an estimate of what was delivered."""
        if self.usage is not None:
            return self.usage
        return Usage(self.prompt_estimate, estimate_text_tokens(self.text))

    @property
    def skipped_events(self) -> int:
        return getattr(self.decoder, "skipped_events", 0) if self.decoder else 0

    @property
    def first_bad_event(self) -> str | None:
        return getattr(self.decoder, "first_bad_event", None) if self.decoder else None

    def _strip_echo(self, text: str) -> str:
        if self.echo.startswith(text):
            self.echo = self.echo[len(text) :]
            return ""
        if text.startswith(self.echo):
            text, self.echo = text[len(self.echo) :], ""
            return text
        self.echo = ""  # it does not repeat: keep everything
        return text
