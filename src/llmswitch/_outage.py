"""Put out of service: carry out what ``health.verdict`` decided about a failed attempt.

The verdict names a ``health.Target``; this room writes it to the store and says so:

=================  ==========================================================================
target             what happens
=================  ==========================================================================
``KEY_BLOCK``      the key is blocked until its window resets (the provider's ``Retry-After``,
                   else a minute; a daily window until the provider's day ends)
``KEY_DAY``        the key is blocked until the provider's day ends
``KEY_AUTH``       the key is marked refused until its value changes
``MODEL``          one more failure of the model's circuit on that provider (``trip``)
``PROVIDER``       one more failure of the provider's circuit (``trip``)
=================  ==========================================================================

A circuit opens once its failures reach ``failures_to_trip``, for ``health.open_seconds``.
Every step is logged and announced (``Failover``, ``CircuitChanged``) unless the call does not
move on (``moving=False``: a stream cut after content that cannot continue).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from llmswitch import _health as health
from llmswitch._admission import Ticket
from llmswitch._clock import Clock
from llmswitch._config import ProviderSettings
from llmswitch._errors import ProviderError
from llmswitch._events import CircuitChanged, Failover, Sink, emit
from llmswitch._planning import Candidate
from llmswitch._policies import ProviderPolicies
from llmswitch._quota import model_scope, next_day_start, provider_scope
from llmswitch._state.base import Store

log = logging.getLogger("llmswitch")

DEFAULT_RATE_LIMIT_WAIT = 60.0  # a 429 that names no wait: one minute window


class Outage:
    """Puts targets out of service in the store (one instance per manager)."""

    def __init__(
        self,
        store: Store,
        policies: ProviderPolicies,
        *,
        clock: Clock,
        sinks: Sequence[Sink] = (),
    ) -> None:
        self.store = store
        self.policies = policies
        self.clock = clock
        self.sinks = tuple(sinks)

    def put_out(
        self,
        ticket: Ticket,
        err: ProviderError,
        target: health.Target,
        request_no: int,
        *,
        moving: bool = True,
    ) -> None:
        """Put ``target`` out of service for ``err`` and give a held probe slot back at once."""
        now = self.clock()
        cand, p, rid = ticket.candidate, ticket.candidate.provider, ticket.request_id
        if ticket.probe_scope is not None:
            self.store.release_probe(ticket.probe_scope)
        if target is health.Target.KEY_BLOCK:
            wait = err.retry_after if err.retry_after else DEFAULT_RATE_LIMIT_WAIT
            if err.window in ("rpd", "tpd"):
                wait = max(wait, day_end(p, now, err.retry_after) - now)
            action = "skip key until its window resets"
            self._block(cand, now + wait, err, request_no, action, moving=moving, rid=rid)
        elif target is health.Target.KEY_DAY:
            until = day_end(p, now, err.retry_after)
            action = "skip key until the provider's day ends"
            self._block(cand, until, err, request_no, action, moving=moving, rid=rid)
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
                    now,
                    p.name,
                    "auth_failed",
                    None,
                    err.kind.value,
                    key_alias=cand.key.alias,
                    request_id=rid,
                ),
            )
            action = "disable key until its value changes"
            self._failover(cand, err, action, request_no, moving=moving, rid=rid)
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
        cand, p, rid = ticket.candidate, ticket.candidate.provider, ticket.request_id
        is_model = target is health.Target.MODEL
        scope = model_scope(p.name, cand.model) if is_model else provider_scope(p.name)
        failures = (ticket.model_failures if is_model else ticket.provider_failures) + 1
        breaker = self.policies.breaker(p)
        seconds = health.open_seconds(failures, breaker, err.retry_after)
        record = self.store.trip(
            scope, until=now + seconds, kind=err.kind.value, message=err.message, now=now
        )
        if seconds <= 0:
            action = f"failure {failures} of {breaker.failures_to_trip} before the circuit opens"
            self._failover(cand, err, action, request_no, moving=moving, rid=rid)
            return
        model = cand.model if is_model else None
        emit(
            self.sinks,
            CircuitChanged(
                now, p.name, "open", record.open_until, err.kind.value, model=model, request_id=rid
            ),
        )
        what = f"{p.name}/{cand.model}" if is_model else p.name
        action = f"cool {what} down for {record.open_until - now:.0f}s"
        self._failover(cand, err, action, request_no, moving=moving, rid=rid)

    def _block(
        self,
        cand: Candidate,
        until: float,
        err: ProviderError,
        request_no: int,
        action: str,
        *,
        moving: bool = True,
        rid: str = "",
    ) -> None:
        now = self.clock()
        block = self.store.block(
            cand.scope, until=until, reason=f"{err.kind.value}: {err.message}"[:200]
        )
        self.store.note_error(
            provider_scope(cand.provider.name), kind=err.kind.value, message=err.message, now=now
        )
        action = f"{action} ({block.until - now:.0f}s)"
        self._failover(cand, err, action, request_no, moving=moving, rid=rid)

    def _failover(
        self,
        cand: Candidate,
        err: ProviderError,
        action: str,
        request_no: int,
        *,
        moving: bool = True,
        rid: str = "",
    ) -> None:
        """Log and announce what happened; ``moving``: the call goes on to another target (a
        stream cut after content without continuation does not, and must not say so). ``rid``:
        the call's request id, in the line so one grep finds every line of a call."""
        what = "failover from" if moving else "call failed on"
        log.warning(
            "llmswitch: %s %s/%s [%s]: %s -> %s (request %s)",
            what,
            cand.provider.name,
            cand.model,
            cand.key.masked,
            err.kind.value,
            action,
            rid or "-",
        )
        if not moving:
            return
        emit(
            self.sinks,
            Failover(self.clock(), cand.provider.name, err.kind.value, action, request_no, rid),
        )


def day_end(provider: ProviderSettings, now: float, retry_after: float | None) -> float:
    """When a provider's daily quota comes back: its calendar midnight, else what it said."""
    if provider.day_resets != "rolling":
        return next_day_start(now, provider.day_resets)
    if retry_after:
        return now + retry_after
    return next_day_start(now, "utc")
