"""Every malformed chat request is a 4xx naming the field, never a server error (issue 16, item 2).

The table goes over real HTTP to the gateway; the property tests drive the request schema with
hypothesis, once in process (many examples, fast) and once over HTTP against the simulator
(fewer examples, the whole path).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from llmswitch.server.request_schema import MAX_DEPTH, validate_chat_body
from llmswitch.server.shapes import BadInput, parse_chat
from tests.server.conftest import Gateway

USER = [{"role": "user", "content": "hi"}]
GROQ_MODEL = "openai/gpt-oss-120b"  # context window 131,072 in the catalog


def body(**fields: Any) -> bytes:
    return json.dumps({"model": "auto", "messages": USER, **fields}).encode()


def raw_body(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


MESSAGES = '"messages": [{"role": "user", "content": "hi"}]'
CASES: list[tuple[str, bytes, str | None, str]] = [
    ("max_tokens a string", body(max_tokens="abc"), "max_tokens", "invalid_type"),
    ("max_tokens an object", body(max_tokens={}), "max_tokens", "invalid_type"),
    ("max_tokens a list", body(max_tokens=[1]), "max_tokens", "invalid_type"),
    ("max_tokens 1e400", raw_body("{" + MESSAGES + ', "max_tokens": 1e400}'), "max_tokens", ""),
    ("max_tokens NaN", raw_body("{" + MESSAGES + ', "max_tokens": NaN}'), None, "invalid_json"),
    ("max_tokens 10**30", body(max_tokens=10**30), "max_tokens", "invalid_value"),
    ("max_tokens 2**62", body(max_tokens=2**62), "max_tokens", "invalid_value"),
    ("max_tokens 0", body(max_tokens=0), "max_tokens", "invalid_value"),
    ("max_tokens a bool", body(max_tokens=True), "max_tokens", "invalid_type"),
    (
        "max_tokens over the pinned model's window",
        body(model=f"groq/{GROQ_MODEL}", max_tokens=131_073),
        "max_tokens",
        "invalid_value",
    ),
    (
        "max_completion_tokens over every window",
        body(max_completion_tokens=50_000_000),
        "max_completion_tokens",
        "invalid_value",
    ),
    ("temperature 3", body(temperature=3), "temperature", "invalid_value"),
    ("temperature a string", body(temperature="hot"), "temperature", "invalid_type"),
    ("top_p 1.5", body(top_p=1.5), "top_p", "invalid_value"),
    ("n 0", body(n=0), "n", "invalid_value"),
    ("stop a number", body(stop=5), "stop", "invalid_type"),
    ("seed 2**64", body(seed=2**64), "seed", "invalid_value"),
    ("stream a string", body(stream="yes"), "stream", "invalid_type"),
    ("model a number", body(model=5), "model", "invalid_type"),
    ("messages missing", b'{"model": "auto"}', "messages", "missing_required_parameter"),
    ("messages empty", body(messages=[]), "messages", "invalid_value"),
    ("messages an object", body(messages={}), "messages", "invalid_type"),
    ("a role unknown", body(messages=[{"role": "bot"}]), "messages[0].role", "invalid_value"),
    ("a role missing", body(messages=[{"content": "x"}]), "messages[0].role", "missing"),
    (
        "a content part without its type",
        body(messages=[{"role": "user", "content": [{"text": "x"}]}]),
        "messages[0].content[0].type",
        "missing_required_parameter",
    ),
    (
        "a tool without a name",
        body(tools=[{"type": "function", "function": {}}]),
        "tools[0].function.name",
        "missing_required_parameter",
    ),
    (
        "nested 1,000 deep",
        raw_body("{" + MESSAGES + ', "x": ' + "[" * 1000 + "]" * 1000 + "}"),
        None,
        "invalid_json",
    ),
    (
        "a lone surrogate",
        raw_body('{"messages": [{"role": "user", "content": "\\ud800"}]}'),
        None,
        "invalid_json",
    ),
    (
        "invalid UTF-8",
        b'{"messages": [{"role": "user", "content": "\xff\xfe"}]}',
        None,
        "invalid_json",
    ),
    ("not JSON", b"{messages", None, "invalid_json"),
    ("empty", b"", None, "invalid_json"),
    ("an array", b"[]", None, "invalid_type"),
]


@pytest.mark.parametrize(
    ("data", "param", "code"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_a_malformed_request_is_a_400_naming_the_field(
    gateway: Gateway, data: bytes, param: str | None, code: str
) -> None:
    r = httpx.post(
        gateway.v1 + "/chat/completions",
        content=data,
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    if code == "missing":
        code = "missing_required_parameter"
    if code:
        assert error["code"] == code
    assert error["message"]
    if param:
        assert param in error["message"]
    assert gateway.sim.requests("groq") == []  # refused before any provider was asked


def test_the_depth_limit_is_stated_and_just_under_it_is_accepted() -> None:
    def nested(depth: int) -> bytes:
        return ("{" + MESSAGES + ', "x": ' + "[" * depth + "]" * depth + "}").encode()

    assert validate_chat_body(nested(MAX_DEPTH - 10))["x"]
    with pytest.raises(BadInput, match=f"deeper than {MAX_DEPTH}"):
        validate_chat_body(nested(MAX_DEPTH + 10))


def test_the_window_bound_names_the_limit_and_allows_it_exactly(gateway: Gateway) -> None:
    with openai.OpenAI(base_url=gateway.v1, api_key="unused", max_retries=0) as client:
        with pytest.raises(openai.BadRequestError) as caught:
            client.chat.completions.create(
                model=f"groq/{GROQ_MODEL}",
                messages=[{"role": "user", "content": "hi"}],
                max_tokens=131_073,
            )
        assert "131072" in caught.value.message
    exact = httpx.post(
        gateway.v1 + "/chat/completions",
        content=body(model=f"groq/{GROQ_MODEL}", max_tokens=131_072),
    )
    assert exact.status_code == 429  # past the schema; the quota (8,000 tokens/min) says no
    assert exact.json()["error"]["code"] == "rate_limit_exceeded"


def test_vendor_fields_are_no_error(gateway: Gateway) -> None:
    r = httpx.post(
        gateway.v1 + "/chat/completions",
        content=body(metadata={"team": "a"}, x_vendor_option={"a": [1, 2]}, reasoning_effort="low"),
    )
    assert r.status_code == 200, r.text


# -- property tests -------------------------------------------------------------------------

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
TEXT = st.text(max_size=20)
#: Values a client would plausibly send, so that most examples pass the schema and go on to the
#: providers; the rest of the time a field gets any JSON at all.
PLAUSIBLE: dict[str, st.SearchStrategy[Any]] = {
    "model": st.sampled_from(["auto", f"groq/{GROQ_MODEL}", "gemini-2.5-pro", "nope"]),
    "stream": st.booleans(),
    "stream_options": st.fixed_dictionaries({"include_usage": st.booleans()}),
    "max_tokens": st.integers(1, 200),
    "max_completion_tokens": st.integers(1, 200),
    "temperature": st.floats(0, 2),
    "top_p": st.floats(0, 1),
    "n": st.integers(1, 2),
    "stop": TEXT | st.lists(TEXT, max_size=4),
    "presence_penalty": st.floats(-2, 2),
    "frequency_penalty": st.floats(-2, 2),
    "seed": st.integers(-(2**63), 2**63 - 1),
    "logprobs": st.booleans(),
    "top_logprobs": st.integers(0, 20),
    "logit_bias": st.dictionaries(st.integers(0, 99999).map(str), st.floats(-100, 100)),
    "user": TEXT,
    "tools": st.just([{"type": "function", "function": {"name": "f", "parameters": {}}}]),
    "tool_choice": st.sampled_from(["auto", "none"]),
    "parallel_tool_calls": st.booleans(),
    "response_format": st.sampled_from([{"type": "text"}, {"type": "json_object"}]),
    "vendor_field": JSON,
}
MESSAGE_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "role": st.sampled_from(["system", "developer", "user", "assistant"]),
    "content": TEXT | st.lists(st.fixed_dictionaries({"type": st.just("text"), "text": TEXT})),
    "name": TEXT,
}


def value(strategies: dict[str, st.SearchStrategy[Any]], draw: st.DrawFn) -> tuple[str, Any]:
    name = draw(st.sampled_from(sorted(strategies)))
    return name, draw(strategies[name] | JSON if draw(st.booleans()) else strategies[name])


@st.composite
def requests(draw: st.DrawFn) -> Any:
    """A valid request with some fields (top level or in a message) replaced by plausible values
    or by any JSON; now and then any JSON at all."""
    payload: dict[str, Any] = {"model": "auto", "messages": [{"role": "user", "content": "hi"}]}
    for _ in range(draw(st.integers(0, 3))):
        name, v = value(PLAUSIBLE, draw)
        payload[name] = v
    if draw(st.booleans()):
        name, v = value(MESSAGE_VALUES, draw)
        payload["messages"][0][name] = v
    if draw(st.integers(0, 9)) == 0:
        payload[draw(st.sampled_from(["messages", "model", "max_tokens"]))] = draw(JSON)
    return draw(JSON) if draw(st.integers(0, 19)) == 0 else payload


def encode(payload: Any) -> bytes:
    return json.dumps(payload).encode()


@settings(max_examples=400, deadline=None)
@given(requests())
def test_the_schema_either_accepts_or_names_the_field(payload: Any) -> None:
    try:
        accepted = validate_chat_body(encode(payload))
    except BadInput as exc:
        assert str(exc)
        assert exc.code in {
            "invalid_type",
            "invalid_value",
            "missing_required_parameter",
            "invalid_json",
        }
        if exc.param is not None:
            root = exc.param.split(".")[0].split("[")[0]
            assert isinstance(payload, dict) and (root in payload or root == "messages")
        return
    assert accepted == payload
    parse_chat(accepted)  # what the schema accepts, the forwarding layer takes without a fault
    json.dumps(accepted).encode("utf-8")  # and it can be sent on


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30), st.binary(max_size=30))
def test_no_string_or_byte_sequence_escapes_as_another_error(text: str, junk: bytes) -> None:
    for data in (
        raw_body('{"messages": [{"role": "user", "content": "' + text + '"}]}'),
        raw_body(json.dumps({"messages": [{"role": "user", "content": text}]})),
        junk,
        b'{"messages": [{"role": "user", "content": "' + junk + b'"}]}',
    ):
        try:
            accepted = validate_chat_body(data)
        except BadInput:
            continue
        json.dumps(accepted).encode("utf-8")  # anything accepted is valid Unicode


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(requests())
def test_over_http_no_request_is_a_server_error(gateway: Gateway, payload: Any) -> None:
    gateway.clock.advance(61.0)  # a fresh minute: the providers' windows never run dry here
    try:
        data = json.dumps(payload, allow_nan=False).encode()
    except ValueError:
        return
    r = httpx.post(gateway.v1 + "/chat/completions", content=data, timeout=10.0)
    event(f"status {r.status_code}")
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        error = r.json()["error"]
        assert error["type"] and error["message"]
    elif isinstance(payload, dict) and payload.get("stream") is True:
        assert r.headers["content-type"].startswith("text/event-stream")
    else:
        assert r.json()["choices"]
