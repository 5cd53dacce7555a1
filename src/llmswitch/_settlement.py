"""Settle and record: after an attempt, its reservation becomes what it really used.

A success or a failure that reached the provider settles the reservation to the real tokens and
writes the ledger entry in the same round trip (``store.settle_and_record``); an attempt that
never left this machine releases its reservation instead. What the provider said about its
limits (``quota.LimitObservation``s, read off the reply by the wire) is kept here too: learned
limits, and a block when a window is spent. Closing a circuit after a success is health's
business, but it is settled here because it happens on the same success.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from llmswitch import _ledger as ledger
from llmswitch._admission import Ticket
from llmswitch._clock import Clock
from llmswitch._errors import ProviderError, StorageError
from llmswitch._events import AttemptFinished, CircuitChanged, Sink, emit
from llmswitch._planning import Candidate
from llmswitch._quota import (
    LimitObservation,
    WindowUsage,
    after_call,
    block_from_observations,
    learned_limits,
    model_scope,
    provider_scope,
)
from llmswitch._state.base import Store
from llmswitch._strategies import LatencyTracker
from llmswitch._types import Attempt, FailureKind, Outcome, Usage

log = logging.getLogger("llmswitch")


class Settlement:
    """Settles attempts against the store (one instance per manager, shared by its calls)."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock,
        latency: LatencyTracker,
        sinks: Sequence[Sink] = (),
    ) -> None:
        self.store = store
        self.clock = clock
        self.latency = latency
        self.sinks = tuple(sinks)
        self._day_ends: dict[str, float] = {}  # zone -> its day's end, for ``after_call``

    def succeeded(
        self, ticket: Ticket, usage: Usage, observations: Sequence[LimitObservation] = ()
    ) -> Attempt:
        """Settle a success, keep what it said about the limits, close circuits it recovered."""
        now = self.clock()
        cand, p = ticket.candidate, ticket.candidate.provider
        latency = time.perf_counter() - ticket.timer
        blocked_until = self.learn(ticket, observations)
        windows: tuple[WindowUsage, ...] = ()
        if ticket.used:
            windows = after_call(
                ticket.windows,
                ticket.used,
                reserved=ticket.estimate,
                settled=usage.total_tokens,
                at=ticket.started,
                blocked_until=blocked_until,
                day_ends=self._day_ends,
            )
        attempt = self._account(
            ticket,
            Outcome.OK,
            usage,
            latency,
            now,
            message="",
            settle=usage.total_tokens,
            windows=windows,
        )
        if ticket.had_failures:
            if ticket.provider_failures:
                self.store.record_success(provider_scope(p.name))
            if ticket.model_failures:
                self.store.record_success(model_scope(p.name, cand.model))
            emit(
                self.sinks,
                CircuitChanged(
                    now,
                    p.name,
                    "closed",
                    None,
                    None,
                    model=cand.model,
                    request_id=ticket.request_id,
                ),
            )
            log.info(
                "llmswitch: %s/%s recovered; traffic returns to it (request %s)",
                p.name,
                cand.model,
                ticket.request_id or "-",
            )
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
            Outcome.of(err.kind),
            usage or Usage(),
            time.perf_counter() - ticket.timer,
            now,
            message=err.message,
            status=err.status,
            retry_after=err.retry_after,
            settle=settle,
        )

    def release(self, ticket: Ticket) -> None:
        """An attempt that never reached the provider (a local fault): forget it entirely."""
        self.store.release(ticket.candidate.scope, ticket.reservation_id)
        if ticket.probe_scope is not None:
            self.store.release_probe(ticket.probe_scope)

    def learn(self, ticket: Ticket, observations: Sequence[LimitObservation]) -> float | None:
        """Keep what the provider said about the key's limits (best effort: the call is done);
        returns when the key is blocked till, if the provider said a window is spent."""
        if not observations:
            return None
        cand = ticket.candidate
        try:
            return self._learn(cand, observations, ticket.learned)
        except StorageError as exc:
            log.warning(
                "llmswitch: could not keep the limits %s reported: %s (request %s)",
                cand.scope,
                exc,
                ticket.request_id or "-",
            )
            return None

    def _learn(
        self,
        cand: Candidate,
        observations: Sequence[LimitObservation],
        known: dict[str, int] | None,
    ) -> float | None:
        """``known``: the learned limits read at admission, saving a round trip."""
        now = self.clock()
        current = {w.name: w.limit for w in cand.provider.windows()}
        current.update(self.store.get_learned_limits(cand.scope) if known is None else known)
        changed = learned_limits(list(observations), current)
        if changed:
            self.store.put_learned_limits(cand.scope, {**current, **changed})
        blocked = block_from_observations(list(observations), now=now)
        if blocked is None:
            return None
        self.store.block(cand.scope, until=blocked[0], reason=f"{blocked[1]} spent (headers)")
        return blocked[0]

    def _account(
        self,
        ticket: Ticket,
        outcome: Outcome,
        usage: Usage,
        latency: float,
        now: float,
        *,
        message: str,
        status: int | None = 200,
        retry_after: float | None = None,
        settle: int | None = None,
        windows: tuple[WindowUsage, ...] = (),
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
            outcome=outcome.value,
            usage=usage,
            cost=cost,
            latency_s=latency,
            free=p.free,
            request_id=ticket.request_id,
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
            status=status if outcome is not Outcome.OK else 200,
            latency_s=latency,
            retry_after=retry_after,
            usage=usage,
            cost_usd=cost,
            windows=windows,
        )
        emit(self.sinks, AttemptFinished(now, attempt, sent=True, request_id=ticket.request_id))
        return attempt
