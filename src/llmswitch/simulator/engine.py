"""The request flow every simulated chat endpoint shares, and the ``Flavour`` it is shaped by.

Order of checks, as real providers do it: key -> body and model -> context window -> prefill
capability -> injected fault -> rate windows -> reply. A request refused before the windows does
not count against them; one that was served (even partly, as a cut stream) does. A ``Flavour``
supplies the provider's own request parsing, error bodies, headers and stream dialect; the
engine decides which to use.

A request whose last message is the assistant's (a prefill: "continue from here") gets the rest
of the answer it would otherwise have had, so prefill + reply reads as one answer of the usual
length; a model marked ``prefill = false``, or under a ``reject_prefill`` fault, refuses it with
a 400 in the provider's shape instead.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from llmswitch.simulator.answers import Answer, Shape, compose
from llmswitch.simulator.asgi import DONE, Exchange, Reply
from llmswitch.simulator.catalog import ModelInfo
from llmswitch.simulator.faults import Fault, retry_after_headers
from llmswitch.simulator.limits import Snapshot, Violation
from llmswitch.simulator.state import Simulator
from llmswitch.simulator.stats import Record, key_tail
from llmswitch.simulator.tokens import content_text, count_prompt_tokens

FILLER = [
    "lorem",
    "ipsum",
    "dolor",
    "sit",
    "amet",
    "consectetur",
    "adipiscing",
    "elit",
    "sed",
    "do",
    "eiusmod",
    "tempor",
]


@dataclass(slots=True)
class Call:
    """A validated request and the reply the simulator will give to it.

    ``surface`` is the endpoint: ``"chat"`` (chat completions, Gemini's generateContent),
    ``"responses"`` or ``"embeddings"``; ``answers`` are the choices (``n`` of them) of a chat
    or Responses reply, empty for embeddings.
    """

    provider: str
    model: str
    key: str
    stream: bool
    prompt_tokens: int
    max_tokens: int | None
    answers: list[Answer]
    rid: str
    created: int
    include_usage: bool = False
    context_window: int = 0
    prefill: bool = False  # the last message is the assistant's: the reply continues it
    prefill_ok: bool = True  # the model accepts such a request
    surface: str = "chat"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def completion_tokens(self) -> int:
        return sum(answer.tokens for answer in self.answers)

    @property
    def capped(self) -> bool:
        """The (first) reply was cut at the caller's max tokens."""
        return bool(self.answers) and self.answers[0].capped

    @property
    def text(self) -> str:
        return self.answers[0].text if self.answers else ""

    def pieces(self, per_chunk: int) -> list[str]:
        """The first reply cut into stream deltas of ``per_chunk`` tokens; they join to ``text``."""
        return self.answers[0].pieces(per_chunk) if self.answers else []


def reply_words(provider: str, model: str, prompt: str, count: int) -> list[str]:
    """Deterministic reply: who answered, the first words of the prompt, then filler."""
    words = ["Simulated", "reply", "from", f"{provider}/{model}", "to:"]
    words += [*prompt.split()[:6], "..."]
    while len(words) < count:
        words += FILLER
    return words[:count]


def prefill_text(messages: list[dict[str, Any]]) -> str | None:
    """The text of a trailing assistant message (Gemini's ``model`` role too), else None.

    An assistant turn that calls tools is the model's finished turn, not a prefill.
    """
    last = messages[-1] if messages else {}
    if last.get("role") in ("assistant", "model") and not last.get("tool_calls"):
        return content_text(last.get("content"))
    return None


def last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return content_text(message.get("content"))
    return ""


def new_call(
    sim: Simulator,
    *,
    provider: str,
    id_prefix: str,
    model: str,
    info: ModelInfo,
    key: str,
    messages: list[dict[str, Any]],
    cap: int | None,
    shape: Shape | None = None,
) -> Call:
    """The call and its deterministic reply: ``reply_tokens`` capped at the caller's maximum.

    After an assistant prefill the reply is the continuation: the usual answer without as many
    leading words as the prefill has, then capped; the prefill's own words are not repeated.
    ``shape`` (tools, JSON, stop, n) shapes the answers as ``answers.compose`` says.
    """
    prefill = prefill_text(messages)
    user = last_user_text(messages)
    full = reply_words(provider, model, user, sim.reply_tokens(provider, info))
    rest = full[len(prefill.split()) :] if prefill is not None else full
    lead = " " if prefill and not prefill[-1].isspace() else ""
    number = sim.next_id()
    answers = compose(
        rest, shape or Shape(), cap=cap, lead=lead, last_user=user, call_id=f"call_sim{number:08d}"
    )
    return Call(
        provider=provider,
        model=model,
        key=key,
        stream=False,
        prompt_tokens=count_prompt_tokens(messages),
        max_tokens=cap,
        answers=answers,
        rid=f"{id_prefix}{number:012d}",
        created=int(sim.clock()),
        context_window=info.context_window,
        prefill=prefill is not None,
        prefill_ok=info.prefill,
    )


@dataclass(slots=True)
class StreamPlan:
    """The events of a healthy stream; ``done`` is the terminator (None when there is none)."""

    events: list[bytes]
    done: bytes | None = DONE
    preamble: bytes = b""  # e.g. OpenRouter's ": OPENROUTER PROCESSING" comment


class Flavour(ABC):
    """One provider's dialect: parsing, replies, streams, errors and limit headers."""

    name: str = ""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    @abstractmethod
    def api_key(self, ex: Exchange) -> str | None: ...
    @abstractmethod
    async def parse(self, ex: Exchange, key: str) -> Call | Reply: ...
    @abstractmethod
    def reply(self, call: Call) -> dict[str, Any]: ...
    @abstractmethod
    def stream(self, call: Call) -> StreamPlan: ...
    @abstractmethod
    def stream_error(self, call: Call) -> bytes: ...
    @abstractmethod
    def auth_error(self, state: str, key: str | None) -> Reply: ...
    @abstractmethod
    def bad_request(
        self, message: str, param: str | None = None, code: str | None = None
    ) -> Reply: ...
    @abstractmethod
    def model_error(self, model: str, state: str) -> Reply: ...
    @abstractmethod
    def server_error(self, status: int) -> Reply: ...
    @abstractmethod
    def context_error(self, call: Call) -> Reply: ...
    @abstractmethod
    def prefill_error(self, call: Call) -> Reply: ...
    @abstractmethod
    def content_filter(self, call: Call) -> Reply: ...
    @abstractmethod
    def error_in_200(self, call: Call) -> Reply: ...
    @abstractmethod
    def rate_limited(self, call: Call, fault: Fault) -> Reply: ...
    @abstractmethod
    def quota_exhausted(self, call: Call, fault: Fault) -> Reply: ...
    @abstractmethod
    def limit_hit(self, call: Call, violation: Violation) -> Reply: ...

    def limit_headers(self, call: Call, snap: Snapshot) -> dict[str, str]:
        """Headers every answered request carries (none by default)."""
        return {}

    def malformed_event(self) -> bytes:
        return b'data: {"id":"broken","choices":[{"delta":{"content":\n\n'

    # -- other surfaces than chat: the flavours that serve them override these ---------------

    def render(self, call: Call) -> Any:
        """The JSON body of a served call, by its surface."""
        if call.surface == "chat":
            return self.reply(call)
        raise NotImplementedError(f"{self.name} serves no {call.surface}")

    def render_stream(self, call: Call) -> StreamPlan:
        if call.surface == "chat":
            return self.stream(call)
        raise NotImplementedError(f"{self.name} streams no {call.surface}")

    def render_stream_error(self, call: Call) -> bytes:
        return self.stream_error(call)


Parse = Callable[[Exchange, str], Awaitable["Call | Reply"]]


async def handle(flavour: Flavour, ex: Exchange, parse: Parse | None = None) -> None:
    """Answer one request through every check, then record it; ``parse`` reads the body of
    another surface than chat (embeddings, Responses)."""
    sim = flavour.sim
    now = sim.clock()
    key = flavour.api_key(ex)
    state = sim.key_status(flavour.name, key)
    if state != "ok":
        reply = flavour.auth_error(state, key)
        _record(sim, flavour.name, key, "", now, reply.status, reply.outcome)
        return await ex.respond(reply)
    assert key is not None
    parsed = await (parse or flavour.parse)(ex, key)
    if isinstance(parsed, Reply):
        _record(sim, flavour.name, key, parsed.model, now, parsed.status, parsed.outcome)
        return await ex.respond(parsed)
    await _serve(flavour, ex, parsed, now)


async def _serve(flavour: Flavour, ex: Exchange, call: Call, now: float) -> None:
    sim = flavour.sim
    if call.prefill and not call.prefill_ok:  # the model's capability, before any fault
        reply = flavour.prefill_error(call)
        _record_call(sim, call, now, reply.status, reply.outcome, served=False)
        return await ex.respond(reply)
    fault = sim.pick_fault(call.provider, call.model, stream=call.stream, prefill=call.prefill)
    if fault is not None and await _early_fault(flavour, ex, call, fault, now):
        return
    verdict = sim.admit(call.provider, call.key, call.model, _cost(call))
    if isinstance(verdict, Violation):
        reply = flavour.limit_hit(call, verdict)
        _record_call(sim, call, now, reply.status, reply.outcome, served=False)
        return await ex.respond(reply)
    headers = flavour.limit_headers(call, verdict)
    outcome = "ok" if fault is None or fault.kind == "slow_first_token" else fault.kind
    _record_call(sim, call, now, 200, outcome, served=True, fault=fault)
    slow = fault is not None and fault.kind == "slow_first_token" and not call.stream
    if slow and fault is not None and not await ex.wait(fault.seconds):
        ex.abort(reset=False)
    if not call.stream:
        return await ex.respond(Reply(200, flavour.render(call), headers))
    await _stream(flavour, ex, call, headers, fault)


def _cost(call: Call) -> int:
    return call.prompt_tokens + call.completion_tokens


async def _early_fault(
    flavour: Flavour, ex: Exchange, call: Call, fault: Fault, now: float
) -> bool:
    """Answer with the fault if it replaces the reply; False lets the request proceed."""
    kind = fault.kind
    if kind in ("reset", "hang"):
        _record_call(flavour.sim, call, now, 0, kind, served=False, fault=fault)
        if kind == "hang":
            await ex.hang()
        ex.abort(reset=True)
    reply = _fault_reply(flavour, call, fault)
    if reply is None:
        return False
    _record_call(flavour.sim, call, now, reply.status, reply.outcome, served=False, fault=fault)
    await ex.respond(reply)
    return True


def _fault_reply(flavour: Flavour, call: Call, fault: Fault) -> Reply | None:
    kind = fault.kind
    if kind in ("status", "error_rate"):
        reply = flavour.server_error(fault.status)
        return replace(reply, headers={**reply.headers, **retry_after_headers(fault)})
    if kind == "rate_limit":
        return flavour.rate_limited(call, fault)
    if kind == "quota_exhausted":
        return flavour.quota_exhausted(call, fault)
    if kind == "context_length":
        return flavour.context_error(call)
    if kind == "content_filter":
        return flavour.content_filter(call)
    if kind == "reject_prefill":  # picked only for a request that ends in a prefill
        return flavour.prefill_error(call)
    if kind == "error_in_200" and not call.stream:
        return flavour.error_in_200(call)
    return None


async def _stream(
    flavour: Flavour, ex: Exchange, call: Call, headers: dict[str, str], fault: Fault | None
) -> None:
    plan = flavour.render_stream(call)
    kind = fault.kind if fault is not None else None
    await ex.start(200, {**headers, "cache-control": "no-cache"}, "text/event-stream")
    if plan.preamble:
        await ex.write(plan.preamble)
    if kind == "slow_first_token" and fault is not None and not await ex.wait(fault.seconds):
        ex.abort(reset=False)
    after = min(fault.after_chunks, len(plan.events)) if fault is not None else -1
    for i, event in enumerate([*plan.events, None]):
        if i == after and fault is not None:
            await _mid_stream_fault(flavour, ex, call, fault)
            if kind == "error_in_200":
                return await ex.end()
        if event is not None:
            await ex.write(event)
    if plan.done is not None and kind != "no_done":
        await ex.write(plan.done)
    await ex.end()


async def _mid_stream_fault(flavour: Flavour, ex: Exchange, call: Call, fault: Fault) -> None:
    if fault.kind == "cut_stream":
        ex.abort(reset=False)
    elif fault.kind == "stall":
        await ex.hang()
    elif fault.kind == "malformed_sse":
        await ex.write(flavour.malformed_event())
    elif fault.kind == "error_in_200":
        await ex.write(flavour.render_stream_error(call))


def _record_call(
    sim: Simulator,
    call: Call,
    now: float,
    status: int,
    outcome: str,
    *,
    served: bool,
    fault: Fault | None = None,
) -> None:
    sim.record(
        Record(
            time=now,
            provider=call.provider,
            key=key_tail(call.key),
            model=call.model,
            status=status,
            outcome=outcome,
            stream=call.stream,
            prompt_tokens=call.prompt_tokens if served else 0,
            completion_tokens=call.completion_tokens if served else 0,
            fault=None if fault is None else fault.kind,
        )
    )


def _record(
    sim: Simulator,
    provider: str,
    key: str | None,
    model: str,
    now: float,
    status: int,
    outcome: str,
) -> None:
    sim.record(Record(now, provider, key_tail(key), model, status, outcome, False, 0, 0, None))
