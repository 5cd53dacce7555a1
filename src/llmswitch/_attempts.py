"""The store side of one attempt: admit a candidate, settle a success, carry out a verdict.

The call machine (``call.py``) decides; this module reads and writes the state store for it:
admission (circuits per provider and model, probes, auth, budget, windows), settlement and the
ledger, learning limits from headers, and putting a target out of service when ``health.verdict``
says so. Nothing here does network I/O or reads the real time except for latency.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from llmswitch import _health as health
from llmswitch import _ledger as ledger
from llmswitch._clock import Clock
from llmswitch._config import ProviderSettings, Settings
from llmswitch._errors import AllProvidersFailed, ProviderError, StorageError
from llmswitch._events import AttemptFinished, CircuitChanged, Failover, Sink, emit
from llmswitch._planning import Candidate
from llmswitch._quota import (
    LimitObservation,
    admission_windows,
    block_from_observations,
    learned_limits,
    model_scope,
    next_day_start,
    provider_scope,
    provider_windows,
)
from llmswitch._state.base import Store
from llmswitch._strategies import LatencyTracker
from llmswitch._types import Attempt, FailureKind, Usage
from llmswitch._wire.headers import read_limit_headers

log = logging.getLogger("llmswitch")
T = TypeVar("T")

DEFAULT_RATE_LIMIT_WAIT = 60.0  # a 429 that names no wait: one minute window


@dataclass(slots=True)
class Ticket:
    """A granted admission: what must be settled or released after the attempt."""

    candidate: Candidate
    reservation_id: str
    estimate: int
    started: float
    probing: bool
    had_failures: bool
    timer: float = 0.0  # time.perf_counter() at admission: latency is real time, not the clock's
    learned: dict[str, int] | None = None  # the key's learned limits read at admission
    probe_scope: str | None = None  # the half-open circuit whose probe this attempt holds
    provider_failures: int = 0  # consecutive failures of the provider's circuit at admission
    model_failures: int = 0  # ... and of the model's


class AttemptCore:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        clock: Clock,
        sinks: Sequence[Sink] = (),
        latency: LatencyTracker | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.sinks = tuple(sinks)
        self.latency = latency or LatencyTracker()
        #: (provider, model) pairs seen refusing an assistant prefill (a 400 to a continuation)
        self.no_prefill: set[tuple[str, str]] = set()
        self._breakers: dict[str, health.BreakerPolicy] = {}
        self._retry_policies: dict[str, health.RetryPolicy] = {}

    # -- admission ---------------------------------------------------------------------------
    def admit(self, cand: Candidate, estimate: int, min_context: int) -> Ticket | Attempt:
        """Reserve quota for ``cand`` or say why it is skipped (an unsent ``Attempt``).

        A state store that cannot be read skips the candidate (fail closed): calling a provider
        whose shared limits cannot be checked could overshoot them.
        """
        try:
            return self._admit(cand, estimate, min_context)
        except StorageError as exc:
            return self._skip(cand, FailureKind.STATE_UNAVAILABLE, str(exc), exc.retry_after)

    def _admit(self, cand: Candidate, estimate: int, min_context: int) -> Ticket | Attempt:
        now = self.clock()
        p = cand.provider
        if min_context and 0 < cand.context_window < min_context:
            return self._skip(cand, FailureKind.CONTEXT_TOO_LONG, "context window too small")
        breaker = self.breaker(p)
        pscope, mscope = provider_scope(p.name), model_scope(p.name, cand.model)
        view = self.store.admission_view(pscope, cand.scope, mscope)
        probe_scope = None
        for scope, record in ((pscope, view.provider_health), (mscope, view.model_health)):
            circuit = health.assess_circuit(
                record, now=now, failures_to_trip=breaker.failures_to_trip
            )
            if circuit.state is health.CircuitState.OPEN:
                assert circuit.until is not None
                what = "cooling down" if scope == pscope else f"model {cand.model} cooling down"
                return self._skip(cand, FailureKind.COOLING_DOWN, what, circuit.until - now)
            if circuit.state is health.CircuitState.HALF_OPEN and probe_scope is None:
                if not self.store.try_acquire_probe(
                    scope, now=now, ttl=self.settings.timeout_seconds + 5
                ):
                    return self._skip(
                        cand, FailureKind.COOLING_DOWN, "recovery probe in flight", 1.0
                    )
                probe_scope = scope
        if health.key_auth_failed(view.key_health, cand.key.fingerprint):
            return self._skip(cand, FailureKind.AUTH_FAILED, "key refused by the provider")
        if not p.free and p.daily_budget_usd > 0:
            worst = ledger.cost_usd(Usage(estimate, 0), p.price(cand.model))
            if ledger.spent_today(self.store, p.name, now) + worst > p.daily_budget_usd:
                budget_wait = next_day_start(now, "utc") - now
                return self._skip(cand, FailureKind.BUDGET, "daily budget reached", budget_wait)
        windows = admission_windows(
            provider_windows(p.windows(), view.learned_limits),
            self.settings.daily_soft_limit,
        )
        adm = self.store.reserve(cand.scope, windows, estimate, now=now)
        if not adm.ok:
            wait = adm.retry_at - now if adm.retry_at is not None else None
            why = adm.reason or f"{adm.window} limit reached"
            return self._skip(cand, FailureKind.NOT_ADMITTED, why, wait)
        pfail = view.provider_health.consecutive_failures if view.provider_health else 0
        mfail = view.model_health.consecutive_failures if view.model_health else 0
        return Ticket(
            cand,
            adm.reservation_id,
            estimate,
            now,
            probe_scope is not None,
            bool(pfail or mfail),
            time.perf_counter(),
            view.learned_limits,
            probe_scope,
            pfail,
            mfail,
        )

    def _skip(
        self, cand: Candidate, kind: FailureKind, why: str, wait: float | None = None
    ) -> Attempt:
        attempt = Attempt(
            provider=cand.provider.name,
            model=cand.model,
            key_alias=cand.key.alias,
            outcome=kind.value,
            message=why,
            retry_after=max(0.0, wait) if wait is not None else None,
        )
        emit(self.sinks, AttemptFinished(self.clock(), attempt, sent=False))
        return attempt

    # -- outcomes ----------------------------------------------------------------------------
    def succeeded(
        self, ticket: Ticket, usage: Usage, headers: Mapping[str, str], status: int = 200
    ) -> Attempt:
        now = self.clock()
        cand, p = ticket.candidate, ticket.candidate.provider
        latency = time.perf_counter() - ticket.timer
        attempt = self._account(
            ticket, "ok", usage, latency, now, message="", settle=usage.total_tokens
        )
        self._learn(cand, headers, status, now, ticket.learned)
        if ticket.had_failures:
            if ticket.provider_failures:
                self.store.record_success(provider_scope(p.name))
            if ticket.model_failures:
                self.store.record_success(model_scope(p.name, cand.model))
            emit(self.sinks, CircuitChanged(now, p.name, "closed", None, None, model=cand.model))
            log.info("llmswitch: %s/%s recovered; traffic returns to it", p.name, cand.model)
        self.latency.observe(p.name, latency)
        return attempt

    def failed(self, ticket: Ticket, err: ProviderError, usage: Usage | None = None) -> Attempt:
        """Settle the reservation of a failed attempt and account for it."""
        now = self.clock()
        cand = ticket.candidate
        settle: int | None = None
        if err.kind is FailureKind.CONNECTION and err.status is None and usage is None:
            self.store.release(cand.scope, ticket.reservation_id)  # never reached the provider
        else:
            settle = usage.total_tokens if usage is not None else 0
        return self._account(
            ticket,
            err.kind.value,
            usage or Usage(),
            time.perf_counter() - ticket.timer,
            now,
            message=err.message,
            status=err.status,
            retry_after=err.retry_after,
            settle=settle,
        )

    def _account(
        self,
        ticket: Ticket,
        outcome: str,
        usage: Usage,
        latency: float,
        now: float,
        *,
        message: str,
        status: int | None = 200,
        retry_after: float | None = None,
        settle: int | None = None,
    ) -> Attempt:
        """Write the attempt to the ledger (settling its reservation to ``settle`` tokens in the
        same round trip when given) and tell the sinks."""
        cand, p = ticket.candidate, ticket.candidate.provider
        cost = 0.0 if p.free else ledger.cost_usd(usage, p.price(cand.model))
        entry = ledger.entry(
            ts=now,
            provider=p.name,
            key_alias=cand.key.alias,
            model=cand.model,
            outcome=outcome,
            usage=usage,
            cost=cost,
            latency_s=latency,
            free=p.free,
        )
        if settle is None:
            self.store.record(entry)
        else:
            self.store.settle_and_record(cand.scope, ticket.reservation_id, settle, entry, now=now)
        attempt = Attempt(
            provider=p.name,
            model=cand.model,
            key_alias=cand.key.alias,
            outcome=outcome,
            message=message,
            status=status if outcome != "ok" else 200,
            latency_s=latency,
            retry_after=retry_after,
            usage=usage,
            cost_usd=cost,
        )
        emit(self.sinks, AttemptFinished(now, attempt, sent=True))
        return attempt

    def _learn(
        self,
        cand: Candidate,
        headers: Mapping[str, str],
        status: int,
        now: float,
        known: dict[str, int] | None = None,
    ) -> None:
        """Keep what the rate-limit headers say (``known``: the learned limits read at admission,
        saving a round trip)."""
        observations = read_limit_headers(cand.provider.limit_headers, headers, status, now=now)
        if not observations:
            return
        try:
            self._learn_from(cand, observations, now, known)
        except StorageError as exc:  # learning is best effort; the call itself is done
            log.warning("llmswitch: could not keep the limits %s reported: %s", cand.scope, exc)

    def _learn_from(
        self,
        cand: Candidate,
        observations: list[LimitObservation],
        now: float,
        known: dict[str, int] | None,
    ) -> None:
        current = {w.name: w.limit for w in cand.provider.windows()}
        current.update(self.store.get_learned_limits(cand.scope) if known is None else known)
        changed = learned_limits(observations, current)
        if changed:
            self.store.put_learned_limits(cand.scope, {**current, **changed})
        blocked = block_from_observations(observations, now=now)
        if blocked is not None:
            self.store.block(cand.scope, until=blocked[0], reason=f"{blocked[1]} spent (headers)")

    # -- policies ----------------------------------------------------------------------------
    def breaker(self, p: ProviderSettings) -> health.BreakerPolicy:
        """The provider's breaker: its own settings where given, else the global ones (built
        once per provider: settings are frozen, and admission asks on every call)."""
        policy = self._breakers.get(p.name)
        if policy is None:
            policy = self._breakers[p.name] = self._build_breaker(p)
        return policy

    def _build_breaker(self, p: ProviderSettings) -> health.BreakerPolicy:
        g = self.settings
        return health.BreakerPolicy(
            cooldown_seconds=_pick(p.cooldown_seconds, g.cooldown_seconds),
            probe_after_seconds=_pick(p.probe_after_seconds, g.probe_after_seconds),
            failures_to_trip=_pick(p.failures_to_trip, g.failures_to_trip),
        )

    def retry_policy(self, p: ProviderSettings) -> health.RetryPolicy:
        """The provider's retries (built once per provider, as ``breaker``)."""
        policy = self._retry_policies.get(p.name)
        if policy is None:
            policy = self._retry_policies[p.name] = self._build_retry_policy(p)
        return policy

    def _build_retry_policy(self, p: ProviderSettings) -> health.RetryPolicy:
        g = self.settings
        return health.RetryPolicy(
            retries=_pick(p.retries, g.retries),
            backoff_seconds=g.retry_backoff_seconds,
            retry_after_max_seconds=g.retry_after_max_seconds,
            retry_timeouts=g.retry_timeouts,
        )

    # -- carrying out a verdict ------------------------------------------------------------------
    def put_out(
        self,
        ticket: Ticket,
        err: ProviderError,
        target: health.Target,
        headers: Mapping[str, str],
        request_no: int,
        *,
        moving: bool = True,
    ) -> None:
        """Put ``target`` out of service for ``err`` (the verdict said which), learn from the
        headers, and give a held probe slot back at once."""
        now = self.clock()
        cand, p = ticket.candidate, ticket.candidate.provider
        if headers:
            self._learn(cand, headers, err.status or 0, now, ticket.learned)
        if ticket.probe_scope is not None:
            self.store.release_probe(ticket.probe_scope)
        if target is health.Target.KEY_BLOCK:
            wait = err.retry_after if err.retry_after else DEFAULT_RATE_LIMIT_WAIT
            if err.window in ("rpd", "tpd"):
                wait = max(wait, day_end(p, now, err.retry_after) - now)
            self._block(
                cand, now + wait, err, request_no, "skip key until its window resets", moving=moving
            )
        elif target is health.Target.KEY_DAY:
            until = day_end(p, now, err.retry_after)
            self._block(
                cand,
                until,
                err,
                request_no,
                "skip key until the provider's day ends",
                moving=moving,
            )
        elif target is health.Target.KEY_AUTH:
            self.store.mark_auth_failed(
                cand.scope, fingerprint=cand.key.fingerprint, message=err.message, now=now
            )
            self.store.note_error(
                provider_scope(p.name), kind=err.kind.value, message=err.message, now=now
            )
            emit(
                self.sinks,
                CircuitChanged(
                    now, p.name, "auth_failed", None, err.kind.value, key_alias=cand.key.alias
                ),
            )
            self._failover(
                cand, err, "disable key until its value changes", request_no, moving=moving
            )
        elif target in (health.Target.MODEL, health.Target.PROVIDER):
            self.trip(ticket, err, target, request_no, moving=moving)

    def trip(
        self,
        ticket: Ticket,
        err: ProviderError,
        target: health.Target,
        request_no: int,
        *,
        moving: bool = True,
    ) -> None:
        """Count a failure of the model's or the provider's circuit; open it when due."""
        now = self.clock()
        cand, p = ticket.candidate, ticket.candidate.provider
        is_model = target is health.Target.MODEL
        scope = model_scope(p.name, cand.model) if is_model else provider_scope(p.name)
        failures = (ticket.model_failures if is_model else ticket.provider_failures) + 1
        breaker = self.breaker(p)
        seconds = health.open_seconds(failures, breaker, err.retry_after)
        record = self.store.trip(
            scope, until=now + seconds, kind=err.kind.value, message=err.message, now=now
        )
        if seconds <= 0:
            self._failover(
                cand,
                err,
                f"failure {failures} of {breaker.failures_to_trip} before the circuit opens",
                request_no,
                moving=moving,
            )
            return
        model = cand.model if is_model else None
        emit(
            self.sinks,
            CircuitChanged(now, p.name, "open", record.open_until, err.kind.value, model=model),
        )
        what = f"{p.name}/{cand.model}" if is_model else p.name
        self._failover(
            cand,
            err,
            f"cool {what} down for {record.open_until - now:.0f}s",
            request_no,
            moving=moving,
        )

    def release(self, ticket: Ticket) -> None:
        """An attempt that never reached the provider (a local fault): forget it entirely."""
        self.store.release(ticket.candidate.scope, ticket.reservation_id)
        if ticket.probe_scope is not None:
            self.store.release_probe(ticket.probe_scope)

    def _block(
        self,
        cand: Candidate,
        until: float,
        err: ProviderError,
        request_no: int,
        action: str,
        *,
        moving: bool = True,
    ) -> None:
        now = self.clock()
        block = self.store.block(
            cand.scope, until=until, reason=f"{err.kind.value}: {err.message}"[:200]
        )
        self.store.note_error(
            provider_scope(cand.provider.name), kind=err.kind.value, message=err.message, now=now
        )
        self._failover(cand, err, f"{action} ({block.until - now:.0f}s)", request_no, moving=moving)

    def _failover(
        self,
        cand: Candidate,
        err: ProviderError,
        action: str,
        request_no: int,
        *,
        moving: bool = True,
    ) -> None:
        """Log and announce what happened; ``moving``: the call goes on to another target (a
        stream cut after content without continuation does not, and must not say so)."""
        what = "failover from" if moving else "call failed on"
        log.warning(
            "llmswitch: %s %s/%s [%s]: %s -> %s",
            what,
            cand.provider.name,
            cand.model,
            cand.key.masked,
            err.kind.value,
            action,
        )
        if not moving:
            return
        emit(
            self.sinks,
            Failover(self.clock(), cand.provider.name, err.kind.value, action, request_no),
        )

    # -- giving up -----------------------------------------------------------------------------
    def give_up(self, attempts: Sequence[Attempt], *, planned: int) -> AllProvidersFailed:
        now = self.clock()
        waits = [
            a.retry_after
            for a in attempts
            if a.retry_after is not None and a.outcome != FailureKind.AUTH_FAILED.value
        ]
        retry_after = min(waits) if waits else None
        if planned == 0:
            message = (
                "no provider can be called: none has an API key. Set GROQ_API_KEY, "
                "GEMINI_API_KEY, OPENROUTER_API_KEY, TOGETHER_API_KEY or OPENAI_API_KEY "
                "(or run `llmswitch setup`; `llmswitch demo` needs no key)"
            )
        elif any(a.outcome == FailureKind.STATE_UNAVAILABLE.value for a in attempts):
            detail = next(
                a.message for a in attempts if a.outcome == FailureKind.STATE_UNAVAILABLE.value
            )
            message = (
                f"no provider could be admitted: {detail}. Calls resume by themselves once the "
                "store answers again"
            )
        else:
            message = f"all {len(attempts)} provider attempts failed or were refused"
        return AllProvidersFailed(
            message,
            attempts=attempts,
            retry_after=retry_after,
            retry_at=now + retry_after if retry_after is not None else None,
        )


def _pick(own: T | None, default: T) -> T:
    return default if own is None else own


def day_end(provider: ProviderSettings, now: float, retry_after: float | None) -> float:
    """When a provider's daily quota comes back: its calendar midnight, else what it said."""
    if provider.day_resets != "rolling":
        return next_day_start(now, provider.day_resets)
    if retry_after:
        return now + retry_after
    return next_day_start(now, "utc")
