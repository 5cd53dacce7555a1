"""``memory://``: the whole state in one process, behind one lock.

Built for speed because reserve, settle and record run on every call. Each scope keeps one
``_Counter`` per distinct window shape (period and reset), holding a deque of the entries it
counts and running totals of requests and tokens. Reserve evicts what slid out from the left of
each deque and compares totals with limits: O(1) amortized instead of a sum over a day of
entries. An entry carries a bit mask of the counters that still hold it, so settle and release
adjust exactly those and nothing is subtracted twice.

A reservation is kept only as long as a window of its scope needs it (the longest period seen,
plus ``LATE_WINDOW_MARGIN`` for a limit learned from the first reply's headers); one of a scope
with no window is not kept at all. The ledger keeps the last ``LEDGER_CAPACITY`` entries of the
last ``ledger_retention_days`` and the daily roll-ups.

Example:
    >>> from llmswitch._quota import make_window
    >>> store = MemoryStore()
    >>> store.reserve("groq:GROQ_API_KEY", [make_window("rpm", 30)], 100, now=0.0).ok
    True
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import replace

from llmswitch import _health as health
from llmswitch import _ledger as ledger
from llmswitch._health import HealthRecord
from llmswitch._ledger import DEFAULT_RETENTION_DAYS, LedgerEntry, RollupRow, UsageRow
from llmswitch._quota import BudgetClaim, Window, WindowUsage, micro_usd
from llmswitch._state import _common
from llmswitch._state.base import Admission, AdmissionView, Block, Store, StoreHealth

LEDGER_CAPACITY = 10_000  # recent entries kept for ``ledger_entries``; daily totals are exact
#: How long past its longest window a reservation stays: a window learned from a reply's
#: headers (rpd, say) then still counts the reservations made just before it was learned.
LATE_WINDOW_MARGIN = 120.0


def _retain_claim() -> float:
    """How long a budget claim may wait for its settlement: as long as its day entry lives."""
    return _common.LONGEST_DAY + LATE_WINDOW_MARGIN


def _retain(w: Window) -> float:
    """How long ``w`` needs a reservation: its period, or the longest day for a calendar one."""
    return (w.period if w.rolling else _common.LONGEST_DAY) + LATE_WINDOW_MARGIN


class _Entry:
    __slots__ = ("live", "mask", "rid", "tokens", "ts")

    def __init__(self, rid: str, ts: float, tokens: int) -> None:
        self.rid = rid
        self.ts = ts
        self.tokens = tokens
        self.mask = 0  # bit i set: counter i of the scope holds (counts) this entry
        self.live = True  # False once released


class _Counter:
    """Entries and running totals of one window shape; rpm and tpm share one counter."""

    __slots__ = ("bit", "end", "period", "q", "requests", "reset", "rolling", "start", "tokens")

    def __init__(self, bit: int, window: Window) -> None:
        self.bit = bit
        self.period = window.period
        self.reset = window.reset
        self.rolling = window.rolling
        self.q: deque[_Entry] = deque()
        self.requests = 0
        self.tokens = 0
        self.start = float("-inf")  # calendar period bounds (unused when rolling)
        self.end = float("-inf")

    def add(self, e: _Entry) -> None:
        self.q.append(e)
        e.mask |= self.bit
        self.requests += 1
        self.tokens += e.tokens

    def drop(self, e: _Entry) -> None:
        """Stop counting ``e`` (it may stay in the deque; eviction skips it)."""
        if e.mask & self.bit:
            e.mask &= ~self.bit
            self.requests -= 1
            self.tokens -= e.tokens

    def evict(self, now: float) -> None:
        """Drop entries that slid out: an entry at ``t`` counts while ``now < t + period``."""
        edge = now - self.period
        q = self.q
        while q and q[0].ts <= edge:
            self.drop(q.popleft())

    def holds(self) -> Iterator[_Entry]:
        """The entries this counter counts, oldest first (lazily: callers stop early)."""
        return (e for e in self.q if e.mask & self.bit)

    def retry_at(self, window: Window, need: int) -> float | None:
        """When enough of the oldest entries have slid out to free ``need`` more units."""
        if need > window.limit:
            return None
        if not self.rolling:
            return self.end
        excess = _common.used(window, self.requests, self.tokens) + need - window.limit
        freed = 0
        for e in self.holds():
            freed += 1 if window.unit == "requests" else e.tokens
            if freed >= excess:
                return e.ts + self.period
        return None  # unreachable while totals match the deque

    def resets_at(self, used: int) -> float | None:
        if used <= 0:
            return None
        if not self.rolling:
            return self.end
        newest = next((e for e in reversed(self.q) if e.mask & self.bit), None)
        return newest.ts + self.period if newest is not None else None


class _Scope:
    """Everything about one provider key: its entries, counters and block."""

    __slots__ = ("block", "counters", "entries", "log", "retain")

    def __init__(self) -> None:
        self.entries: dict[str, _Entry] = {}
        self.log: deque[_Entry] = deque()  # every entry in reservation order, for pruning
        self.counters: dict[tuple[float, str], _Counter] = {}
        self.block: Block | None = None
        self.retain = 0.0  # no window yet: nothing needs a reservation

    def counter(self, w: Window, now: float, periods: _common.CalendarPeriods) -> _Counter:
        """The counter for ``w``, brought up to ``now`` (created and filled on first use)."""
        c = self.counters.get((w.period, w.reset))
        if c is None:
            c = _Counter(1 << len(self.counters), w)
            self.counters[(w.period, w.reset)] = c
            self.retain = max(self.retain, _retain(w))
            if c.rolling:
                self._refill(c, now - w.period, float("inf"), inclusive=False)
        if c.rolling:
            c.evict(now)
        elif not c.start <= now < c.end:
            for e in c.q:
                c.drop(e)
            c.q.clear()
            c.start, c.end = periods.period(c.reset, now)
            self._refill(c, c.start, c.end, inclusive=True)
        return c

    def _refill(self, c: _Counter, lo: float, hi: float, *, inclusive: bool) -> None:
        """Count the live entries of a new counter or a new calendar day (rare: O(entries))."""
        for e in self.log:
            if e.live and (e.ts >= lo if inclusive else e.ts > lo) and e.ts < hi:
                c.add(e)

    def prune(self, now: float) -> None:
        edge = now - self.retain
        log = self.log
        while log and log[0].ts < edge:
            e = log.popleft()
            if self.entries.get(e.rid) is e:
                del self.entries[e.rid]


class MemoryStore(Store):
    """All state in this process; fast, exact, forgotten on exit. For tests and the demo."""

    backend = "memory"

    def __init__(self, *, ledger_retention_days: float = DEFAULT_RETENTION_DAYS) -> None:
        self.ledger_retention = ledger_retention_days * 86_400.0
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._periods = _common.CalendarPeriods()
        self._scopes: dict[str, _Scope] = {}
        self._health: dict[str, HealthRecord] = {}
        self._limits: dict[str, dict[str, int]] = {}
        self._ledger: deque[LedgerEntry] = deque()
        self._recorded: set[str] = set()  # entry ids of ``_ledger``, to apply each entry once
        self._totals: dict[tuple[str, str], UsageRow] = {}
        self._rollups: dict[tuple[str, str, str, str], RollupRow] = {}
        #: reservation id -> (budget scope, when): the budget claim a reservation holds there
        self._claims: dict[str, tuple[str, float]] = {}

    def _scope(self, scope: str) -> _Scope:
        sc = self._scopes.get(scope)
        if sc is None:
            sc = self._scopes[scope] = _Scope()
        return sc

    # -- admission ------------------------------------------------------------------------
    def reserve(
        self,
        scope: str,
        windows: Sequence[Window],
        tokens: int,
        *,
        now: float,
        budget: BudgetClaim | None = None,
    ) -> Admission:
        tokens = max(0, int(tokens))
        with self._lock:
            held: tuple[_Scope, list[_Counter]] | None = None
            if budget is not None:  # first, as ``decide`` checks the budget before the windows
                bsc = self._scope(budget.scope)
                counted, worst = self._check(bsc, (budget.window,), budget.micros, now)
                if worst is not None:
                    return _common.refusal(worst[0], worst[1], tokens=budget.micros)
                held = (bsc, counted)
            sc = self._scope(scope)
            if sc.block is not None and sc.block.until > now:
                return _common.blocked(sc.block)
            counters, worst = self._check(sc, windows, tokens, now)
            if worst is not None:
                return _common.refusal(worst[0], worst[1], tokens=tokens)
            rid = str(next(self._ids))
            used = tuple(
                _common.used_after(w, c.requests, c.tokens, tokens)
                for w, c in zip(windows, counters, strict=True)
            )
            if sc.retain > 0:  # some window needs it (a scope without one keeps nothing)
                self._hold(sc, counters, rid, tokens, now)
            sc.prune(now)
            if held is not None and budget is not None:
                self._hold(held[0], held[1], rid, budget.micros, now)
                held[0].prune(now)
                self._claims[rid] = (budget.scope, now)
                self._prune_claims(now)
        return Admission(ok=True, reservation_id=rid, used=used)

    def _check(
        self, sc: _Scope, windows: Sequence[Window], amount: int, now: float
    ) -> tuple[list[_Counter], tuple[Window, float | None] | None]:
        """The counters of ``windows`` and the refusal that binds longest (None: all fit)."""
        counters = []
        worst: tuple[Window, float | None] | None = None
        for w in windows:
            c = sc.counter(w, now, self._periods)
            counters.append(c)
            need = _common.cost(w, amount)
            if w.limit > 0 and _common.used(w, c.requests, c.tokens) + need > w.limit:
                refused = (w, c.retry_at(w, need))
                if _common.later(worst, refused):
                    worst = refused
        return counters, worst

    @staticmethod
    def _hold(sc: _Scope, counters: list[_Counter], rid: str, amount: int, now: float) -> None:
        e = _Entry(rid, now, amount)
        for c in counters:
            if not e.mask & c.bit:
                c.add(e)
        sc.entries[rid] = e
        sc.log.append(e)

    def _prune_claims(self, now: float) -> None:
        """Forget the claims of calls never settled (their budget entries have gone too)."""
        claims, edge = self._claims, now - _retain_claim()
        while claims:
            rid, (_, ts) = next(iter(claims.items()))
            if ts >= edge:
                break
            del claims[rid]

    def settle(self, scope: str, reservation_id: str, tokens: int, *, now: float) -> None:
        with self._lock:
            self._settle(scope, reservation_id, tokens)

    def _settle(self, scope: str, reservation_id: str, amount: int) -> None:
        amount = max(0, int(amount))
        sc = self._scopes.get(scope)
        e = sc.entries.get(reservation_id) if sc is not None else None
        if sc is None or e is None:
            return
        delta = amount - e.tokens
        e.tokens = amount
        if e.mask:
            for c in sc.counters.values():
                if e.mask & c.bit:
                    c.tokens += delta

    def settle_and_record(
        self, scope: str, reservation_id: str, tokens: int, entry: LedgerEntry, *, now: float
    ) -> None:
        """The settle, the budget claim's real cost and the entry under one lock."""
        with self._lock:
            self._settle(scope, reservation_id, tokens)
            claim = self._claims.pop(reservation_id, None)
            if claim is not None:
                self._settle(claim[0], reservation_id, micro_usd(entry.cost_usd))
            self._record(entry)

    def release(self, scope: str, reservation_id: str) -> None:
        with self._lock:
            self._release(scope, reservation_id)
            claim = self._claims.pop(reservation_id, None)
            if claim is not None:
                self._release(claim[0], reservation_id)

    def _release(self, scope: str, reservation_id: str) -> None:
        sc = self._scopes.get(scope)
        e = sc.entries.pop(reservation_id, None) if sc is not None else None
        if sc is None or e is None:
            return
        e.live = False
        for c in sc.counters.values():
            c.drop(e)

    def usage(self, scope: str, windows: Sequence[Window], *, now: float) -> list[WindowUsage]:
        out = []
        with self._lock:
            sc = self._scope(scope)
            for w in windows:
                c = sc.counter(w, now, self._periods)
                used = _common.used(w, c.requests, c.tokens)
                out.append(WindowUsage(w.name, w.limit, used, c.resets_at(used)))
        return out

    # -- blocks -----------------------------------------------------------------------------
    def block(self, scope: str, *, until: float, reason: str) -> Block:
        reason = self._scrub(reason)
        with self._lock:
            sc = self._scope(scope)
            if sc.block is None or until > sc.block.until:
                sc.block = Block(until=until, reason=reason)
            return sc.block

    def get_block(self, scope: str, *, now: float) -> Block | None:
        with self._lock:
            sc = self._scopes.get(scope)
            b = sc.block if sc is not None else None
        return b if b is not None and b.until > now else None

    def clear_block(self, scope: str) -> None:
        with self._lock:
            sc = self._scopes.get(scope)
            if sc is not None:
                sc.block = None

    # -- health -----------------------------------------------------------------------------
    def admission_view(
        self, provider_scope: str, key_scope: str, model_scope: str | None = None
    ) -> AdmissionView:
        """The reads admission makes before it reserves, under one lock acquisition."""
        with self._lock:
            p, k = self._health.get(provider_scope), self._health.get(key_scope)
            m = self._health.get(model_scope) if model_scope is not None else None
            return AdmissionView(
                replace(p) if p is not None else None,
                replace(k) if k is not None else None,
                dict(self._limits.get(key_scope, {})),
                replace(m) if m is not None else None,
            )

    def get_health(self, scope: str) -> HealthRecord | None:
        with self._lock:
            rec = self._health.get(scope)
            return replace(rec) if rec is not None else None

    def _update(self, scope: str, rec: HealthRecord) -> HealthRecord:
        self._health[scope] = rec
        return replace(rec)

    def trip(
        self, scope: str, *, until: float, kind: str, message: str, now: float
    ) -> HealthRecord:
        message = self._scrub(message)
        with self._lock:
            rec = health.tripped(
                self._health.get(scope), until=until, kind=kind, message=message, now=now
            )
            return self._update(scope, rec)

    def note_error(self, scope: str, *, kind: str, message: str, now: float) -> HealthRecord:
        message = self._scrub(message)
        with self._lock:
            rec = health.noted(self._health.get(scope), kind=kind, message=message, now=now)
            return self._update(scope, rec)

    def mark_auth_failed(
        self, scope: str, *, fingerprint: str, message: str, now: float
    ) -> HealthRecord:
        message = self._scrub(message)
        with self._lock:
            rec = health.auth_failed(
                self._health.get(scope), fingerprint=fingerprint, message=message, now=now
            )
            return self._update(scope, rec)

    def record_success(self, scope: str) -> None:
        with self._lock:
            if scope in self._health:
                self._health[scope] = health.succeeded(self._health[scope])

    def try_acquire_probe(self, scope: str, *, now: float, ttl: float) -> bool:
        with self._lock:
            rec = self._health.get(scope)
            if rec is None:
                rec = self._health[scope] = HealthRecord()
            if rec.probe_until > now:
                return False
            rec.probe_until = now + ttl
            return True

    def release_probe(self, scope: str) -> None:
        with self._lock:
            if scope in self._health:
                self._health[scope] = health.probe_released(self._health[scope])

    def clear_health(self, scope: str) -> None:
        with self._lock:
            if scope in self._health:
                self._health[scope] = health.cleared(self._health[scope])

    # -- learned limits -----------------------------------------------------------------------
    def put_learned_limits(self, scope: str, limits: dict[str, int]) -> None:
        with self._lock:
            self._limits.setdefault(scope, {}).update({k: int(v) for k, v in limits.items()})

    def get_learned_limits(self, scope: str) -> dict[str, int]:
        with self._lock:
            return dict(self._limits.get(scope, {}))

    # -- ledger -------------------------------------------------------------------------------
    def record(self, entry: LedgerEntry) -> None:
        with self._lock:
            self._record(entry)

    def _record(self, entry: LedgerEntry) -> None:
        if entry.entry_id:
            if entry.entry_id in self._recorded:
                return
            self._recorded.add(entry.entry_id)
        self._ledger.append(entry)
        key = (entry.day, entry.provider)
        self._totals[key] = ledger.add_entry(self._totals.get(key), entry)
        rkey = ledger.rollup_key(entry)
        self._rollups[rkey] = ledger.add_to_rollup(self._rollups.get(rkey), entry)
        self._prune_ledger(entry.ts)

    def _prune_ledger(self, now: float) -> None:
        """Drop raw entries past the capacity or the retention (the totals stay)."""
        kept, edge = self._ledger, now - self.ledger_retention
        while kept and (len(kept) > LEDGER_CAPACITY or kept[0].ts < edge):
            self._recorded.discard(kept.popleft().entry_id)

    def usage_rows(
        self, *, since_day: str | None = None, until_day: str | None = None
    ) -> list[UsageRow]:
        with self._lock:
            rows = [r for r in self._totals.values() if ledger.in_days(r.day, since_day, until_day)]
        return sorted(rows, key=lambda r: (r.day, r.provider))

    def rollup_rows(
        self, *, since_day: str | None = None, until_day: str | None = None
    ) -> list[RollupRow]:
        with self._lock:
            rows = [
                r for k, r in self._rollups.items() if ledger.in_days(k[0], since_day, until_day)
            ]
        return sorted(rows, key=lambda r: (r.day, r.provider, r.model, r.key_alias))

    def ledger_entries(self, *, limit: int = 100) -> list[LedgerEntry]:
        with self._lock:
            return list(itertools.islice(reversed(self._ledger), max(0, limit)))

    # -- lifecycle ----------------------------------------------------------------------------
    def check(self) -> StoreHealth:
        with self._lock:
            scopes = len(self._scopes)
        return StoreHealth(backend=self.backend, ok=True, extra={"scopes": str(scopes)})

    def reset(self) -> None:
        with self._lock:
            self._scopes.clear()
            self._health.clear()
            self._limits.clear()
            self._ledger.clear()
            self._recorded.clear()
            self._totals.clear()
            self._rollups.clear()
            self._claims.clear()
