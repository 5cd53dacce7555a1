"""The capabilities room's table: which request parameter a model cannot honour, named."""

from __future__ import annotations

from typing import Any

import pytest

from llmswitch._capabilities import TEXT_ONLY, Capabilities, Need, describe, needs, unmet
from llmswitch._types import ChatRequest, Message

TOOL = {"type": "function", "function": {"name": "f"}}
HI = Message("user", "hi")


def req(*messages: Message, **extra: Any) -> ChatRequest:
    return ChatRequest(messages=messages or (HI,), extra=extra)


def image(url: str) -> Message:
    return Message("user", [{"type": "image_url", "image_url": {"url": url}}])


@pytest.mark.parametrize(
    ("request_", "stream", "caps", "expected"),
    [
        (req(), False, Capabilities(tools=False, json_schema=False), None),
        (req(tools=[TOOL]), False, Capabilities(tools=False), Need("tools", "tools")),
        (req(tools=[TOOL], tool_choice="auto"), False, Capabilities(tool_choice=False), None),
        (
            req(tools=[TOOL], tool_choice="required"),
            False,
            Capabilities(tool_choice=False),
            Need("tool_choice", "tool_choice"),
        ),
        (
            req(image("https://x/cat.png")),
            False,
            TEXT_ONLY,
            Need("image_url", "messages[].content[].image_url"),
        ),
        (
            req(image("data:image/png;base64,AA")),
            False,
            Capabilities(image_url=False),
            None,
        ),
        (
            req(response_format={"type": "json_schema", "json_schema": {}}),
            False,
            Capabilities(json_schema=False),
            Need("json_schema", "response_format"),
        ),
        (
            req(response_format={"type": "json_object"}),
            False,
            Capabilities(json_schema=False),
            None,
        ),
        (req(n=2), False, Capabilities(multiple_choices=False), Need("multiple_choices", "n")),
        (req(n=1), False, Capabilities(multiple_choices=False), None),
        (
            req(stream_options={"include_usage": True}),
            True,
            Capabilities(stream_usage=False),
            Need("stream_usage", "stream_options.include_usage"),
        ),
        (
            req(stream_options={"include_usage": True}),
            False,
            Capabilities(stream_usage=False),
            None,
        ),
        (  # prefill is declared, but the stream continuation alone routes on it
            req(HI, Message("assistant", "The answer is")),
            False,
            Capabilities(prefill=False),
            None,
        ),
        (
            req(HI, Message("assistant", None, tool_calls=[{"id": "c"}])),
            False,
            Capabilities(prefill=False),
            None,
        ),
        (req(tools=[TOOL], n=3), False, None, None),  # nothing declared: nothing refused here
    ],
)
def test_unmet(
    request_: ChatRequest, stream: bool, caps: Capabilities | None, expected: Need | None
) -> None:
    assert unmet(caps, request_, stream=stream) == expected


def test_needs_come_in_the_order_a_400_names_them() -> None:
    both = req(tools=[TOOL], tool_choice="required", n=2)
    assert [n.parameter for n in needs(both, stream=False)] == ["tools", "tool_choice", "n"]


def test_describe_names_the_parameter_and_the_models_that_can() -> None:
    text = describe(Need("multiple_choices", "n"), ["openai/gpt-4o-mini", "gemini/gemini-2.5-pro"])
    assert text.startswith("'n' needs multiple choices")
    assert "openai/gpt-4o-mini, gemini/gemini-2.5-pro" in text
    assert "drop the parameter" in describe(Need("tools", "tools"), [])
