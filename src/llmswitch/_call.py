"""The call machine: every decision of one call, fed replies, stream lines and errors; no I/O.

A ``Call`` answers "what now?" with a step, the way tenacity's ``BaseRetrying.iter`` answers
``DoAttempt``/``DoSleep`` to its two drivers:

- ``Send(http, ...)``: perform this request (streamed or not) and feed back what happens;
- ``Wait(seconds)``: sleep, then ask ``next()`` again (a retry's backoff, or a recovery wait);
- ``Done(result)``: the call succeeded;
- ``Fail(error)``: raise this.

The drivers (``router.Router`` over httpx, ``router.AsyncRouter`` over aiohttp) only move bytes
and sleep, so every rule (retries, breaker, local faults, first-token limit, continuation of a cut
stream) lives here once. Admission, settlement and putting out of service go through the rooms of
``AttemptCore`` (``_admission``, ``_settlement``, ``_outage``), which read and write the state
store; the async driver runs the steps that touch it on its state thread pool.

Rules, in the order a call meets them:

1. Candidates are tried in plan order; one that admission refuses is skipped (an unsent attempt).
2. A failure gets a ``health.verdict``: retry the same target after a backoff (``retries``), fail
   over, try a larger context, or fail the call (bad request, or a fault on our side).
3. Connection failures are held until the call's end: if every attempt that was sent failed to
   connect, across at least two providers, the network is ours to blame and nothing is cooled
   down; otherwise the providers that failed to connect are.
4. A stream fails over freely until its first content. After it, a cut, stall or garbled stream
   either continues on the next candidate that accepts an assistant prefill
   (``stream_continuation``) or ends with the original error, never a truncated answer shown as
   complete.
5. When every candidate is out, the call waits for the earliest recovery if it fits
   ``max_wait_seconds`` (streams too, before their first content), else fails.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING

from llmswitch import _embeddings as embeddings
from llmswitch import _health as health
from llmswitch import _images as images
from llmswitch._capabilities import Need, able, capabilities_of, describe, serves_responses, unmet
from llmswitch._errors import (
    AllProvidersFailed,
    BadRequest,
    ContextTooLong,
    LocalFault,
    MalformedReply,
    ProviderError,
    Timeout,
)
from llmswitch._events import CallFinished, NoProviderAvailable, emit
from llmswitch._patience import STAGGER, free_slot_wait
from llmswitch._quota import after_call
from llmswitch._steps import Done, Fail, Send, Step, Wait
from llmswitch._stream_progress import StreamProgress
from llmswitch._tokens import estimate_prompt_tokens, estimate_text_tokens
from llmswitch._types import (
    Attempt,
    ChatRequest,
    ChatResult,
    EmbeddingResult,
    EmbedRequest,
    Message,
    Outcome,
    StreamChunk,
    Usage,
    WindowUsage,
)
from llmswitch._wire import read_limit_headers, wire_for
from llmswitch._wire.base import CallContext, StreamEvent, Wire
from llmswitch._wire.embeddings import embed_wire_for
from llmswitch._wire.limit_messages import limits_in_message
from llmswitch._wire.responses import RESPONSES

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from llmswitch._admission import Ticket
    from llmswitch._attempts import AttemptCore
    from llmswitch._planning import Candidate
    from llmswitch._quota import LimitObservation
    from llmswitch._transport import RawReply


class Call:
    """One call's decisions. Not thread-safe: one driver feeds it, step by step.

    Args:
        core: admission, settlement and verdicts carried out against the store.
        request: the request as the caller sent it: a chat request, or an ``EmbedRequest``
            (the embeddings operation: same admission, keys, ledger and failover; no stream,
            no completion; candidates judged by ``embeddings.unmet``).
        plan: the candidates in order (``planning.Planner.plan``).
        stream: whether the reply is streamed.
        max_wait: seconds the caller accepts to wait for a recovery (None: the setting).
        free_wait: seconds the caller accepts to wait for a free slot rather than pay (None:
            ``free_wait_seconds``); see ``_patience``.
        continuation: continue a cut stream on another candidate (None: the setting).
        request_no: the call's number, for events.
        rand: uniform [0, 1) for backoff jitter.
    """

    def __init__(
        self,
        core: AttemptCore,
        request: ChatRequest | EmbedRequest,
        plan: list[Candidate],
        *,
        stream: bool = False,
        max_wait: float | None = None,
        free_wait: float | None = None,
        continuation: bool | None = None,
        request_no: int = 0,
        rand: Callable[[], float] = health.system_random,
    ) -> None:
        self.core = core
        self.request = request
        self.plan = plan
        self.stream = stream
        self.attempts: list[Attempt] = []
        self._settings = core.settings
        self._max_wait = self._settings.max_wait_seconds if max_wait is None else max_wait
        self._continuation = continuation
        self._request_no = request_no
        self._rand = rand
        self._started = core.clock()
        self._timer = time.perf_counter()
        if isinstance(request, EmbedRequest):  # the input is all there is: nothing completes
            self._prompt_estimate = embed_estimate(request)
            self._cap: int | None = 0
            self._asked = 0
            self._choices = 1
        else:
            self._prompt_estimate = estimate_prompt_tokens(request.messages)
            self._cap = request.completion_cap()  # the caller's completion limit, times n
            self._asked = max(
                (c for c in (request.max_tokens, request.extra.get("max_completion_tokens")) if c),
                default=0,
            )
            n = request.extra.get("n")
            self._choices = n if isinstance(n, int) and n > 1 else 1
        self._index = 0
        self._pass_start = 0  # attempts before this index belong to earlier passes
        self._free = {c.provider.name for c in plan if c.provider.free}
        own = free_wait
        self._patience = self._settings.free_wait_seconds if own is None else own
        self._retries = 0  # spent on the current candidate
        self._min_context = 0
        self._ticket: Ticket | None = None
        self._held: list[tuple[Ticket, ProviderError]] = []  # connection failures, judged at end
        # Streams: what this attempt delivered, and what earlier (cut) attempts did.
        self._p = StreamProgress(prompt_estimate=self._prompt_estimate)
        self._headers: dict[str, str] = {}  # of the open stream
        self._sent_at = 0.0
        self._prefix = ""  # text delivered by cut attempts, continued by this one
        self._spent = Usage()  # usage of cut attempts
        self._cost = 0.0
        self._cut: ProviderError | None = None  # the cut that started a continuation
        self._unable: Need | None = None  # the last parameter a candidate could not honour
        self._images: images.Fetched | None = None  # https images fetched for Gemini's wire
        self._inlined: ChatRequest | None = None  # the request with them inline

    # -- steps -----------------------------------------------------------------------------------
    def next(self) -> Step:
        """The next thing to do: send to the next admissible candidate, wait, or fail."""
        while self._index < len(self.plan):
            cand = self.plan[self._index]
            if not cand.provider.free and (wait := self._free_slot_wait()) is not None:
                return self._wait_for_free(wait)
            if cand.provider.api == "gemini" and (why := self._image_unsendable()) is not None:
                self._skip_unable(cand, Need("image_url", images.PARAMETER), why)
                continue
            if self._prefix and not self._accepts_prefill(cand):
                self._skip(cand, "cannot continue the cut stream: no assistant prefill")
                continue
            need = self._unmet(cand)
            if need is not None:  # never send a request the model would silently change
                self._skip_unable(cand, need)
                continue
            if self._asked and 0 < cand.context_window < self._asked:
                window = f"{cand.target}'s context window is {cand.context_window}"
                self._skip(cand, f"asks for {self._asked} completion tokens; {window}", small=True)
                continue
            ticket = self.core.admission.admit(
                cand,
                self._estimate(cand),
                self._min_context,
                prompt_tokens=self._prompt_estimate,  # priced at the input price, the rest output
                request_id=self.request.request_id,
            )
            if isinstance(ticket, Attempt):
                self.attempts.append(ticket)
                self._advance()
                continue
            self._ticket = ticket
            return self._send(cand)
        return self._give_up()

    def images_to_fetch(self) -> list[str]:
        """The https images the driver fetches before the first step: those of a request that
        may reach a Gemini-native candidate, whose wire takes images inline only (``_images``)."""
        if self._images is not None or not isinstance(self.request, ChatRequest):
            return []
        if not any(c.provider.api == "gemini" for c in self.plan):
            return []
        return images.https_images(self.request)

    def images_fetched(self, fetched: images.Fetched) -> None:
        """What fetching them gave: Gemini-native candidates get the request with them inline."""
        self._images = fetched
        if fetched.inlined and isinstance(self.request, ChatRequest):
            self._inlined = images.inline(self.request, fetched.inlined)

    def replied(self, raw: RawReply) -> Step:
        """A whole (non-streamed) reply arrived."""
        ticket = self._current()
        ctx = self._ctx(ticket.candidate)
        if isinstance(self.request, EmbedRequest):
            return self._embedded(ticket, raw, ctx)
        try:
            reply = self._wire(ticket.candidate).parse(raw.status, raw.headers, raw.body, ctx)
        except ProviderError as err:
            return self.failed(err, raw.headers)
        observed = self._observed(ticket, raw.headers, raw.status)
        attempt = self.core.settlement.succeeded(ticket, reply.usage, observed)
        self.attempts.append(attempt)
        return self._done(attempt, reply.text, reply.usage, reply.finish_reason, reply.raw)

    def refused(self, status: int, headers: Mapping[str, str], body: bytes) -> Step:
        """A stream was answered with an error status instead of events."""
        ticket = self._current()
        wire = self._wire(ticket.candidate)
        return self.failed(
            wire.classify(status, headers, body, self._ctx(ticket.candidate)), headers
        )

    def serving_windows(self) -> tuple[WindowUsage, ...]:
        """The open attempt's key windows as its grant left them, this call counted at its
        estimate: what a stream's rate-limit headers say before it is settled, with no read of
        the store (empty when no attempt is open or the store gave no counts)."""
        ticket = self._ticket
        if ticket is None or not ticket.used:
            return ()
        return after_call(
            ticket.windows,
            ticket.used,
            reserved=ticket.estimate,
            settled=ticket.estimate,
            at=ticket.started,
        )

    def opened(self, headers: Mapping[str, str]) -> None:
        """A stream's events begin."""
        ticket = self._current()
        self._p.decoder = self._wire(ticket.candidate).stream_decoder(self._ctx(ticket.candidate))
        self._headers = dict(headers)

    def feed(self, line: str) -> list[StreamChunk]:
        """One body line of an open stream; the chunks to pass on to the caller.

        Raises:
            ProviderError: the stream failed (an error event, or no first content in time);
                the driver feeds it back through ``failed``.
        """
        assert self._p.decoder is not None
        out = [c for ev in self._p.decoder.feed(line) for c in self._chunk(ev)]
        if not self._p.content and self._first_token_overdue():
            raise self.first_token_timeout()
        return out

    def close_stream(self) -> list[StreamChunk]:
        """The body ended (EOF): the last chunks the decoder held back.

        Raises:
            ProviderError: the stream ended unsound (no terminator, no finish).
        """
        assert self._p.decoder is not None
        return [c for ev in self._p.decoder.close() for c in self._chunk(ev)]

    def ended(self) -> Step:
        """A stream's body ended and ``close_stream`` found it sound: the call is done."""
        ticket = self._current()
        usage = self._p.usage_so_far()
        observed = self._observed(ticket, self._headers, 200)
        attempt = self._streamed(self.core.settlement.succeeded(ticket, usage, observed))
        self.attempts.append(attempt)
        text = self._prefix + self._p.text
        return self._done(attempt, text, self._spent + usage, self._p.finish, {})

    def first_token_timeout(self) -> Timeout:
        """The error of a stream whose first content did not come in time."""
        ticket = self._current()
        limit = self._first_token_limit(ticket.candidate)
        return self._ctx(ticket.candidate).error(  # type: ignore[return-value]
            Timeout, f"no first token within {limit:g}s (first_token_seconds)"
        )

    def failed(self, err: ProviderError, headers: Mapping[str, str] | None = None) -> Step:
        """The current attempt failed with ``err``."""
        ticket = self._current()
        masked = self.core.redact(err.message)  # a provider may echo the key it was sent
        if masked != err.message:
            err = err.with_message(masked)
        cand = ticket.candidate
        overdue = self.stream and not self._p.content and isinstance(err, Timeout)
        if overdue and self._first_token_overdue():  # the read limit was the first-token one
            err = self.first_token_timeout()
        if isinstance(err, LocalFault):
            self.core.settlement.release(ticket)
            self._note(ticket, err, None, sent=False)
            return self._fail(err)
        usage = self._p.usage_so_far() if self._p.content else None
        self._note(ticket, err, usage)
        observed = self._observed(ticket, headers or {}, err.status or 0)
        observed += limits_in_message(err.message)
        if observed and not isinstance(self.request, EmbedRequest):  # see embeddings.narrowed
            self.core.settlement.learn(ticket, observed)
        if self._prefix and not self._p.content and isinstance(err, BadRequest):
            # The continuation was refused: this model takes no prefill. Learn it, move on.
            self.core.no_prefill.add((cand.provider.name, cand.model))
            self._advance()
            return self.next()
        verdict = health.verdict(
            err.kind,
            retries_done=self._retries,
            policy=self.core.policies.retry_policy(cand.provider),
            retry_after=err.retry_after,
            rand=self._rand,
        )
        if verdict.act is health.Act.RETRY:  # not after content, not a probe, not too late
            if not self._p.content and not ticket.probing and self._fits(verdict.wait):
                self._retries += 1
                self._reset_stream()
                return Wait(verdict.wait)
            verdict = health.Verdict(health.Act.FAIL_OVER, health.target_of(err.kind))
        if isinstance(self.request, EmbedRequest):  # an embedding model's limits are its own
            verdict = embeddings.narrowed(verdict)
        moving = verdict.act is not health.Act.FAIL and (
            not self._p.content or self._continues(cand)
        )
        if verdict.target is health.Target.PROVIDER and ticket.probe_scope is None:
            self._held.append((ticket, err))
        else:
            self.core.outage.put_out(ticket, err, verdict.target, self._request_no, moving=moving)
        if verdict.act is health.Act.FAIL:
            return self._fail(err)
        if verdict.act is health.Act.LARGER_CONTEXT:
            self._min_context = max(self._min_context, cand.context_window + 1)
            rest = self.plan[self._index + 1 :]
            if not any(c.context_window >= self._min_context or not c.context_window for c in rest):
                return self._fail(err)
        if self._p.content:
            return self._after_cut(err)
        self._advance()
        return self.next()

    # -- streams ---------------------------------------------------------------------------------
    def _chunk(self, ev: StreamEvent) -> list[StreamChunk]:
        text = self._p.take(ev)
        if text is None:
            return []
        c = self._current().candidate
        raw = ev.raw if text == ev.text else None  # a stripped echo: the raw chunk is stale
        return [
            StreamChunk(
                text=text, provider=c.provider.name, model=c.model, raw=raw, key_alias=c.key.alias
            )
        ]

    def _after_cut(self, err: ProviderError) -> Step:
        """Content reached the caller, then the stream broke: continue it, or end with ``err``."""
        cand = self._current().candidate
        if not self._continues(cand):
            return self._fail(err)
        spent = self.attempts[-1]
        self._spent += spent.usage
        self._cost += spent.cost_usd
        self._prefix += self._p.text
        self._cut = self._cut or err
        self._advance()
        return self.next()

    def _continues(self, cand: Candidate) -> bool:
        if self._native(cand):  # a Responses stream cannot be continued by a chat prefill
            return False
        if self._continuation is not None:
            return self._continuation
        own = cand.provider.stream_continuation
        return self._settings.stream_continuation if own is None else own

    def _accepts_prefill(self, cand: Candidate) -> bool:
        if self._native(cand):
            return False
        if (cand.provider.name, cand.model) in self.core.no_prefill:
            return False
        return bool(cand.provider.prefill.get(cand.model, False))

    def _first_token_limit(self, cand: Candidate) -> float:
        own = cand.provider.first_token_seconds
        return self._settings.first_token_seconds if own is None else own

    def _first_token_overdue(self) -> bool:
        limit = self._first_token_limit(self._current().candidate)
        return limit > 0 and time.perf_counter() - self._sent_at > limit

    def _reset_stream(self) -> None:
        self._p = StreamProgress(prompt_estimate=self._prompt_estimate, echo=self._prefix)

    # -- embeddings ------------------------------------------------------------------------------
    def _embedded(self, ticket: Ticket, raw: RawReply, ctx: CallContext) -> Step:
        """An embeddings reply: settle it (the provider's count, else the estimate) and finish."""
        assert isinstance(self.request, EmbedRequest)
        wire = embed_wire_for(ticket.candidate.provider.api)
        try:
            reply = wire.parse(raw.status, raw.headers, raw.body, ctx)
        except ProviderError as err:
            return self.failed(err, raw.headers)
        if len(reply.vectors) != len(self.request.inputs):
            short = ctx.error(
                MalformedReply,
                f"{len(reply.vectors)} vectors for {len(self.request.inputs)} inputs",
                status=raw.status,
            )
            return self.failed(short, raw.headers)
        usage = reply.usage or Usage(self._prompt_estimate, 0)
        # nothing learned: the headers describe the embedding model's own limits, not the key's
        attempt = self.core.settlement.succeeded(ticket, usage, [])
        self.attempts.append(attempt)
        self._judge_held()
        latency = time.perf_counter() - self._timer
        self._finished(attempt.provider, attempt.model, latency)
        result = EmbeddingResult(
            vectors=reply.vectors,
            provider=attempt.provider,
            model=attempt.model,
            usage=usage,
            cost_usd=attempt.cost_usd,
            latency_s=latency,
            attempts=tuple(self.attempts),
            request_id=self.request.request_id,
        )
        return Done(result)

    def _unmet(self, cand: Candidate) -> Need | None:
        """The first parameter of the request ``cand`` cannot honour (None: it can)."""
        if isinstance(self.request, EmbedRequest):
            info = cand.provider.embedding_models.get(cand.model)
            return embeddings.unmet(info, self.request)
        caps = capabilities_of(cand.provider.name, cand.model)
        return unmet(caps, self.request, stream=self.stream)

    # -- helpers ---------------------------------------------------------------------------------
    def _send(self, cand: Candidate) -> Send:
        request = self.request
        if cand.provider.api == "gemini" and self._inlined is not None:
            request = self._inlined
        if isinstance(request, EmbedRequest):
            http = embed_wire_for(cand.provider.api).build(
                base_url=cand.provider.base_url,
                api_key=cand.key.secret_value(),
                model=cand.model,
                request=request,
                headers=cand.provider.headers,
            )
            self._sent_at = time.perf_counter()
            return Send(http, self._ctx(cand), False, self._settings.timeout_seconds)
        if self._prefix:
            prefill = Message("assistant", self._prefix)
            request = replace(request, messages=(*request.messages, prefill))
        http = self._wire(cand).build(
            base_url=cand.provider.base_url,
            api_key=cand.key.secret_value(),
            model=cand.model,
            request=request,
            stream=self.stream,
            headers=cand.provider.headers,
        )
        self._reset_stream()
        self._sent_at = time.perf_counter()
        first = self._first_token_limit(cand) if self.stream else 0.0
        return Send(
            http,
            self._ctx(cand),
            self.stream,
            self._settings.timeout_seconds,
            self._settings.stream_stall_seconds if self.stream else None,
            first or None,
        )

    def _observed(
        self, ticket: Ticket, headers: Mapping[str, str], status: int
    ) -> list[LimitObservation]:
        """What the reply's headers say about the key's limits, read by the wire."""
        dialect = ticket.candidate.provider.limit_headers
        return read_limit_headers(dialect, headers, status, now=self.core.clock())

    def _ctx(self, cand: Candidate) -> CallContext:
        return CallContext(cand.provider.name, cand.model, cand.key.alias)

    def _current(self) -> Ticket:
        assert self._ticket is not None, "no attempt in flight"
        return self._ticket

    def _advance(self) -> None:
        self._index += 1
        self._retries = 0

    def _free_slot_wait(self) -> float | None:
        """How long to wait for a free candidate this pass skipped, instead of paying (None:
        buy now). See ``_patience``."""
        skipped = self.attempts[self._pass_start :]
        waited = self.core.clock() - self._started
        return free_slot_wait(skipped, self._free, waited=waited, patience=self._patience)

    def _wait_for_free(self, wait: float) -> Step:
        """Start the plan over once the free slot opens, behind the calls that waited first."""
        place = self.core.free_waiters.place(self)
        self._index, self._retries = 0, 0
        self._pass_start = len(self.attempts)
        return Wait(wait + place * STAGGER)

    def _estimate(self, cand: Candidate) -> int:
        """What admission reserves for ``cand``: the prompt's estimate plus the caller's cap, or
        without one the provider's ``estimate_completion_tokens`` per choice; settled later."""
        if self._cap is not None:
            return self._prompt_estimate + self._cap
        own = cand.provider.estimate_completion_tokens
        per_choice = self._settings.estimate_completion_tokens if own is None else own
        return self._prompt_estimate + per_choice * self._choices

    def _native(self, cand: Candidate) -> bool:
        """A Responses request to a provider that serves the Responses API: sent as it came."""
        request = self.request
        return (
            isinstance(request, ChatRequest)
            and request.responses_body is not None
            and cand.provider.api == "openai"
            and serves_responses(cand.provider.name)
        )

    def _wire(self, cand: Candidate) -> Wire:
        """The wire ``cand`` is spoken to in (the Responses API natively where it is served)."""
        return RESPONSES if self._native(cand) else wire_for(cand.provider.api)

    def _image_unsendable(self) -> str | None:
        """Why a Gemini-native candidate cannot take this request's images (None: it can)."""
        if not isinstance(self.request, ChatRequest):
            return None
        return images.unsendable(self._inlined or self.request, self._images)

    def _skip_unable(self, cand: Candidate, need: Need, why: str = "") -> None:
        why = why or f"cannot honour '{need.parameter}' ({need.capability.replace('_', ' ')})"
        self.attempts.append(
            Attempt(cand.provider.name, cand.model, cand.key.alias, Outcome.CANNOT_HONOUR, why)
        )
        self._unable = need
        self._advance()

    def _skip(self, cand: Candidate, why: str, *, small: bool = False) -> None:
        outcome = Outcome.CONTEXT_TOO_SMALL if small else Outcome.CANNOT_CONTINUE
        self.attempts.append(Attempt(cand.provider.name, cand.model, cand.key.alias, outcome, why))
        self._advance()

    def _note(
        self, ticket: Ticket, err: ProviderError, usage: Usage | None, *, sent: bool = True
    ) -> None:
        if not sent:
            attempt = Attempt(
                ticket.candidate.provider.name,
                ticket.candidate.model,
                ticket.candidate.key.alias,
                Outcome.LOCAL_FAULT,
                err.message,
            )
        else:
            attempt = self._streamed(self.core.settlement.failed(ticket, err, usage))
        self.attempts.append(attempt)

    def _streamed(self, attempt: Attempt) -> Attempt:
        """``attempt`` with what its stream skipped and whether it continued another."""
        if not self.stream:
            return attempt
        return replace(
            attempt,
            skipped_events=self._p.skipped_events,
            first_bad_event=self._p.first_bad_event,
            continued=bool(self._prefix),
        )

    def _fits(self, wait: float) -> bool:
        """Whether a wait of ``wait`` seconds stays within what the caller accepts to wait."""
        if wait <= 0:
            return True
        elapsed = self.core.clock() - self._started
        budget = max(self._max_wait, self._settings.retry_after_max_seconds)
        return elapsed + wait <= budget

    def _judge_held(self) -> bool:
        """Trip the providers that failed to connect, unless the fault is evidently ours.

        Returns True when it is ours: every sent attempt failed to connect, on two or more
        providers (DNS or the network down on this machine, or no file descriptors left).
        """
        if not self._held:
            return False
        sent = {a.outcome for a in self.attempts if a.sent}
        providers = {t.candidate.provider.name for t, _ in self._held}
        ours = sent == {Outcome.CONNECTION} and len(providers) >= 2
        if not ours:
            for ticket, err in self._held:
                self.core.outage.trip(ticket, err, health.Target.PROVIDER, self._request_no)
        self._held = []
        return ours

    def _done(
        self,
        attempt: Attempt,
        text: str,
        usage: Usage,
        finish: str | None,
        raw: dict[str, object] | None,
    ) -> Step:
        self._judge_held()
        latency = time.perf_counter() - self._timer
        self._finished(attempt.provider, attempt.model, latency)
        return Done(
            ChatResult(
                text=text,
                provider=attempt.provider,
                model=attempt.model,
                usage=usage,
                cost_usd=attempt.cost_usd + self._cost,
                latency_s=latency,
                attempts=tuple(self.attempts),
                finish_reason=finish,
                raw=raw,
                request_id=self.request.request_id,
            )
        )

    def _fail(self, err: ProviderError) -> Step:
        self._judge_held()
        if self._cut is not None and err is not self._cut:
            err = self._cut
        err = err.with_attempts(self.attempts)
        self._finished(None, None, time.perf_counter() - self._timer)
        return Fail(err)

    def _give_up(self) -> Step:
        if self._prefix:  # a continuation found no taker: the caller gets the original cut
            assert self._cut is not None
            message = f"{self._cut.message}; no remaining candidate could continue the stream"
            self._cut = self._cut.with_message(message)
            return self._fail(self._cut)
        ours = self._judge_held()
        if self.attempts and all(a.outcome is Outcome.CANNOT_HONOUR for a in self.attempts):
            assert self._unable is not None
            if isinstance(self.request, EmbedRequest):
                why = embeddings.explain(self._unable, self.request, self._settings)
                return self._fail(BadRequest(why))
            targets = [
                (p.name, m) for p in self._settings.providers if p.available for m in p.models
            ]
            return self._fail(BadRequest(describe(self._unable, able(self._unable, targets))))
        if self.attempts and all(a.outcome is Outcome.CONTEXT_TOO_SMALL for a in self.attempts):
            windows = ", ".join(sorted({f"{c.target}: {c.context_window}" for c in self.plan}))
            too_long = ContextTooLong(
                f"max_tokens {self._asked} is more than the context window of every model that "
                f"could serve this request ({windows}); ask for fewer tokens"
            )
            return self._fail(too_long)
        err = all_failed(self.attempts, planned=len(self.plan), now=self.core.clock())
        if ours:
            err = AllProvidersFailed(
                "every provider failed to connect at the same moment: the network, DNS or file "
                "descriptors of this machine are the likely cause, so no provider was cooled "
                "down; calls resume as soon as the cause is gone",
                attempts=self.attempts,
                local=True,
            )
        elapsed = self.core.clock() - self._started
        wait = err.retry_after
        if not ours and wait is not None and self._max_wait and wait <= self._max_wait - elapsed:
            self._index, self._retries, self._pass_start = 0, 0, 0
            self.attempts = []
            return Wait(wait)
        if self.plan:
            emit(
                self.core.sinks,
                NoProviderAvailable(
                    self.core.clock(),
                    str(err).splitlines()[0],
                    err.retry_after,
                    self.request.request_id,
                ),
            )
        self._finished(None, None, time.perf_counter() - self._timer)
        return Fail(err)

    def _finished(self, provider: str | None, model: str | None, latency: float) -> None:
        self.core.free_waiters.leave(self)
        emit(
            self.core.sinks,
            CallFinished(
                self.core.clock(),
                provider,
                model,
                latency,
                len(self.attempts),
                self.stream,
                self.request.request_id,
            ),
        )


def embed_estimate(request: EmbedRequest) -> int:
    """What admission reserves for an embeddings call: its inputs' tokens (a token array
    counts its length), as pessimistic as chat's estimate."""
    return (
        sum(estimate_text_tokens(i) if isinstance(i, str) else len(i) for i in request.inputs) or 1
    )


def all_failed(attempts: Sequence[Attempt], *, planned: int, now: float) -> AllProvidersFailed:
    """The error of a call that ran out of candidates, with the earliest recovery when known."""
    waits = [  # a refused key comes back when its value changes, not at a time
        a.retry_after
        for a in attempts
        if a.retry_after is not None and a.outcome is not Outcome.AUTH_FAILED
    ]
    retry_after = min(waits) if waits else None
    if planned == 0:
        message = (
            "no provider can be called: none has an API key. Set GROQ_API_KEY, "
            "GEMINI_API_KEY, OPENROUTER_API_KEY, TOGETHER_API_KEY or OPENAI_API_KEY "
            "(or run `llmswitch setup`; `llmswitch demo` needs no key)"
        )
    elif unreadable := [a for a in attempts if a.outcome is Outcome.STATE_UNAVAILABLE]:
        message = (
            f"no provider could be admitted: {unreadable[0].message}. Calls resume by "
            "themselves once the store answers again"
        )
    else:
        message = f"all {len(attempts)} provider attempts failed or were refused"
    return AllProvidersFailed(
        message,
        attempts=attempts,
        retry_after=retry_after,
        retry_at=now + retry_after if retry_after is not None else None,
    )
