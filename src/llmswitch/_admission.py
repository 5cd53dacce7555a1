"""Admit: may this candidate be sent now? If so, reserve its quota and hand out a ``Ticket``.

The step of a call between ordering the candidates and sending one. The decision itself is
``_availability.decide`` (circuits, the key's auth), the same one the status and
``current_provider()`` ask; then the recovery probe of a half-open circuit is won in the store,
and the windows and the call's worst-case cost are reserved atomically there (``store.reserve``
over ``quota.admission_windows`` with a ``policies.budget_claim`` on the provider's budget). A
budget is therefore never read and then compared: two callers cannot both take its last room.
A refusal is an unsent ``Attempt`` with a skip ``Outcome`` (``budget`` when the budget refused).

On a store where reads cost a round trip or a transaction (Redis, SQLite: ``reserves_with_view``),
the view decide reads and the reservation are asked at once (``store.view_and_reserve``): the
store reserves only when the view leaves nothing to decide (every circuit closed, the key not
refused, its learned limits the ones the windows were built from), else admission decides on the
returned view as above. The windows are built from the key's learned limits as last read: a guess
that needs no invalidation, because a stale one costs a round trip and never reserves on stale
windows. A grant carries each window's count right after it (``Admission.used``), kept on the
``Ticket`` for settlement to report the key's windows after the call.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from llmswitch._availability import Availability, Budget, decide
from llmswitch._clock import Clock
from llmswitch._config import Settings
from llmswitch._errors import StorageError
from llmswitch._events import AttemptFinished, Sink, emit
from llmswitch._planning import Candidate
from llmswitch._policies import ProviderPolicies, budget_claim, worst_case_usd
from llmswitch._quota import (
    BudgetClaim,
    Window,
    admission_windows,
    model_scope,
    provider_scope,
    provider_windows,
)
from llmswitch._state.base import Admission as StoreAdmission
from llmswitch._state.base import AdmissionView, Store
from llmswitch._types import Attempt, Outcome

MAX_KEPT_WINDOWS = 1024  # window sets kept per manager (providers x learned-limit sets seen)


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
    request_id: str = ""  # the call's id: its ledger entry, log lines and events carry it
    windows: tuple[Window, ...] = ()  # the key's windows the reservation was made in
    used: tuple[int, ...] = ()  # what each held right after it (``Admission.used``)


def availability(
    cand: Candidate,
    view: AdmissionView,
    budget: Budget | None,
    *,
    now: float,
    failures_to_trip: int,
    no_room: bool = False,
    no_room_until: float | None = None,
    no_room_reason: str = "a limit is reached",
) -> Availability:
    """``decide`` for one candidate from what the store returned for it."""
    return decide(
        now=now,
        model=cand.model,
        provider_health=view.provider_health,
        model_health=view.model_health,
        key_health=view.key_health,
        fingerprint=cand.key.fingerprint,
        failures_to_trip=failures_to_trip,
        budget=budget,
        no_room=no_room,
        no_room_until=no_room_until,
        no_room_reason=no_room_reason,
    )


class Admission:
    """Admits candidates against the store (one instance per manager, shared by its calls)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        policies: ProviderPolicies,
        *,
        clock: Clock,
        sinks: Sequence[Sink] = (),
    ) -> None:
        self.settings = settings
        self.store = store
        self.policies = policies
        self.clock = clock
        self.sinks = tuple(sinks)
        self._windows_of: dict[tuple[str, tuple[tuple[str, int], ...]], tuple[Window, ...]] = {}
        #: each key's learned limits as last read, to build windows before the view is back;
        #: a stale guess costs a round trip (the store reserves only on an exact match), never
        #: a limit, so it needs no invalidation
        self._learned: dict[str, dict[str, int]] = {}

    def admit(
        self,
        cand: Candidate,
        estimate: int,
        min_context: int,
        *,
        prompt_tokens: int | None = None,
        request_id: str = "",
    ) -> Ticket | Attempt:
        """Reserve quota for ``cand`` or say why it is skipped (an unsent ``Attempt``).

        ``estimate`` is the tokens the call may use; ``prompt_tokens`` how many of them are the
        prompt's, so the budget prices them at the input price and the rest at the output price
        (without it, all at the dearer of the two). A state store that cannot be read skips the
        candidate (fail closed): calling a provider whose shared limits cannot be checked could
        overshoot them.
        """
        try:
            return self._admit(cand, estimate, min_context, prompt_tokens, request_id)
        except StorageError as exc:
            why, wait = str(exc), exc.retry_after
            return self.skip(cand, Outcome.STATE_UNAVAILABLE, why, wait, request_id=request_id)

    def _admit(
        self,
        cand: Candidate,
        estimate: int,
        min_context: int,
        prompt_tokens: int | None,
        request_id: str,
    ) -> Ticket | Attempt:
        now = self.clock()
        p = cand.provider
        if min_context and 0 < cand.context_window < min_context:
            why = "context window too small"
            return self.skip(cand, Outcome.CONTEXT_TOO_SMALL, why, request_id=request_id)
        pscope, mscope = provider_scope(p.name), model_scope(p.name, cand.model)
        trip = self.policies.breaker(p).failures_to_trip
        adm: StoreAdmission | None = None
        if self.store.reserves_with_view:  # Redis, SQLite: the view and reservation at once
            guess = self._learned.get(cand.scope, {})
            windows = self._windows(cand, guess)
            view, adm = self.store.view_and_reserve(
                pscope,
                cand.scope,
                mscope,
                fingerprint=cand.key.fingerprint,
                failures_to_trip=trip,
                learned=guess,
                windows=windows,
                tokens=estimate,
                now=now,
                budget=self._claim(cand, estimate, prompt_tokens),
            )
            self._learned[cand.scope] = view.learned_limits
        else:
            view = self.store.admission_view(pscope, cand.scope, mscope)
        if adm is not None:
            return self._granted(cand, adm, None, view, windows, estimate, now, request_id)
        verdict = availability(
            cand,
            view,
            None,  # the budget is held by the reservation below, atomically with the windows
            now=now,
            failures_to_trip=trip,
        )
        if not verdict.available:
            assert verdict.refusal is not None
            wait = verdict.until - now if verdict.until is not None else None
            return self.skip(cand, verdict.refusal, verdict.reason, wait, request_id=request_id)
        probe_scope = {"provider": pscope, "model": mscope, None: None}[verdict.probe]
        if probe_scope is not None and not self.store.try_acquire_probe(
            probe_scope, now=now, ttl=self.settings.timeout_seconds + 5
        ):
            why = "recovery probe in flight"
            return self.skip(cand, Outcome.COOLING_DOWN, why, 1.0, request_id=request_id)
        windows = self._windows(cand, view.learned_limits)
        claim = self._claim(cand, estimate, prompt_tokens)
        adm = self.store.reserve(cand.scope, windows, estimate, now=now, budget=claim)
        return self._granted(cand, adm, probe_scope, view, windows, estimate, now, request_id)

    def _windows(self, cand: Candidate, learned: dict[str, int]) -> tuple[Window, ...]:
        """The windows admission reserves in: the key's, tightened by what it learned.

        Kept per provider and learned limits (they change when a provider announces new ones,
        rarely): building them is the same work on every call otherwise.
        """
        p = cand.provider
        key = (p.name, tuple(sorted(learned.items())))
        found = self._windows_of.get(key)
        if found is None:
            if len(self._windows_of) >= MAX_KEPT_WINDOWS:
                self._windows_of.clear()
            found = self._windows_of[key] = admission_windows(
                provider_windows(
                    p.windows(), learned, day_reset=p.day_resets, guard=p.window_guard_seconds
                ),
                self.settings.daily_soft_limit,
            )
        return found

    def _claim(
        self, cand: Candidate, estimate: int, prompt_tokens: int | None
    ) -> BudgetClaim | None:
        """The call's worst-case cost as a claim on its provider's budget (None: no budget)."""
        p = cand.provider
        worst = worst_case_usd(p, cand.model, estimate, prompt_tokens=prompt_tokens)
        return budget_claim(p, worst)

    def _granted(
        self,
        cand: Candidate,
        adm: StoreAdmission,
        probe_scope: str | None,
        view: AdmissionView,
        windows: tuple[Window, ...],
        estimate: int,
        now: float,
        request_id: str,
    ) -> Ticket | Attempt:
        """The store's answer as a ``Ticket``, or a skip naming the window that refused."""
        if not adm.ok:
            if probe_scope is not None:
                self.store.release_probe(probe_scope)
            wait = adm.retry_at - now if adm.retry_at is not None else None
            why = adm.reason or f"{adm.window} limit reached"
            refused = Outcome.BUDGET if adm.window == "budget" else Outcome.NOT_ADMITTED
            return self.skip(cand, refused, why, wait, request_id=request_id)
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
            request_id,
            windows,
            adm.used,
        )

    def skip(
        self,
        cand: Candidate,
        outcome: Outcome,
        why: str,
        wait: float | None = None,
        *,
        request_id: str = "",
    ) -> Attempt:
        """An unsent attempt: ``cand`` is passed over for ``outcome``, and the sinks hear it."""
        attempt = Attempt(
            provider=cand.provider.name,
            model=cand.model,
            key_alias=cand.key.alias,
            outcome=outcome,
            message=why,
            retry_after=max(0.0, wait) if wait is not None else None,
        )
        emit(self.sinks, AttemptFinished(self.clock(), attempt, sent=False, request_id=request_id))
        return attempt
