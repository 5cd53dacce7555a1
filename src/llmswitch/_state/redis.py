"""``redis://``: state shared by every process and machine that points at one Redis.

Admission is one round trip: ``lua/admit.lua`` reads the circuits and learned limits admission
decides on and, when they let the call go as the client assumed, checks the block and every
window of the scope and records the reservation atomically (Redis runs a script alone); the
settle and the ledger entry are a second (``lua/settle_record.lua``). So a successful call is two
round trips; a call the view does not allow as assumed (a circuit not closed, limits newly
learned) takes one more, ``lua/reserve.lua``, after the client decided. Rolling windows are sorted
sets of reservation ids scored by time, with running totals beside them so a reserve touches only
what slid out; calendar days are counters keyed by the day's start. Every key expires once no
window can see it, so Redis does not grow forever (health, learned limits and the ledger's daily
totals and roll-ups are small and kept). The ledger's raw entries are a list capped at
``LEDGER_CAPACITY`` and trimmed to ``ledger_retention_days``; the ids of a day's entries are a set
that expires three days later, which is how long a replayed write is recognized.

Time: scripts use the ``now`` the caller passes, so a ``FakeClock`` drives them in tests. With
``server_time=True`` they read Redis ``TIME`` instead, so machines whose clocks differ still
agree on one timeline; the manager turns it on when it runs on the system clock. Calendar days
are computed by the client (Redis has no time zones), which sends the days around its own ``now``
and lets the script pick the one holding the server's.

Limits: a rolling window counts from the first reservation that names it (the memory and SQLite
stores also count earlier reservations of the scope); keys are not cluster-routed, though every
key of a scope shares a hash tag. A reserve retried after a lost reply (one retry on connection
errors) may count twice: an overcount, never an overshoot.

Failures: every ``redis.exceptions.*`` becomes ``StorageError(backend="redis")`` in ``_errors``.
The pooled client reconnects and the scripts reload themselves when Redis comes back.

Example:
    >>> store = RedisStore(url="redis://127.0.0.1:6379/0", prefix="tenant1:")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, replace
from importlib import resources
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from llmswitch._errors import StorageError
from llmswitch._health import HealthRecord
from llmswitch._ledger import DEFAULT_RETENTION_DAYS, LedgerEntry, RollupRow, UsageRow
from llmswitch._quota import (
    BudgetClaim,
    Window,
    WindowUsage,
    day_start,
    micro_usd,
    next_day_start,
)
from llmswitch._state import _common
from llmswitch._state.base import Admission, AdmissionView, Block, Counted, Store, StoreHealth

LEDGER_CAPACITY = 10_000  # recent entries kept in the capped list
MARGIN_MS = 60_000  # keys outlive the windows that read them by this much
IDS_MS = 3 * 86_400_000  # an entry id is remembered (a replay deduplicated) 3 days past its day
_SCRIPTS = (
    "admit",
    "reserve",
    "usage",
    "settle",
    "settle_record",
    "record",
    "release",
    "probe",
    "health",
    "block",
)
#: Lua shared by several scripts, put before them (Redis scripts cannot import one another).
_PRELUDES = {
    "admit": ("_windows", "_reserve"),
    "reserve": ("_windows", "_reserve"),
    "usage": ("_windows",),
    "settle": ("_settle",),
    "settle_record": ("_settle", "_record"),
    "release": ("_release",),
    "record": ("_record",),
}
_TOTAL_INTS = ("requests", "succeeded", "failed", "prompt_tokens", "completion_tokens")


def _load(name: str) -> str:
    lua = resources.files("llmswitch._state").joinpath("lua")
    parts = [*_PRELUDES.get(name, ()), name]
    return "\n".join(lua.joinpath(f"{part}.lua").read_text("utf-8") for part in parts)


def _num(x: float) -> str:
    """Floats travel as their shortest exact repr, so Lua reads back the very same double."""
    return repr(float(x))


class RedisStore(Store):
    """State in Redis, shared across processes and machines; one round trip per admission.

    ``reserves_with_view``: admission asks ``view_and_reserve`` (``lua/admit.lua``).

    Args:
        client: a ready ``redis.Redis``; built from ``url`` when omitted.
        url: ``redis://[:password@]host:port/db`` or ``rediss://`` (TLS).
        prefix: put before every key, so several tenants share one Redis.
        server_time: read Redis ``TIME`` in the scripts instead of the caller's ``now``.
    """

    backend = "redis"
    reserves_with_view = True

    def __init__(
        self,
        client: redis.Redis | None = None,
        *,
        url: str = "redis://127.0.0.1:6379/0",
        prefix: str = "llmswitch:",
        server_time: bool = False,
        ledger_retention_days: float = DEFAULT_RETENTION_DAYS,
    ) -> None:
        self._owns_pool = client is None
        if client is None:
            pool = redis.ConnectionPool.from_url(
                url,
                socket_connect_timeout=0.5,
                socket_timeout=1.0,
                retry=Retry(NoBackoff(), 1),  # one retry: a stale pooled socket after a restart
            )
            client = redis.Redis(connection_pool=pool)
        self._client = client
        self.prefix = prefix
        self.server_time = server_time
        self.ledger_retention = ledger_retention_days * 86_400.0
        #: names this process (this store) among those reserving on a scope (``Counted``)
        self.process_id = uuid.uuid4().hex[:16]
        kw = client.connection_pool.connection_kwargs
        self._where = f"{kw.get('host', '?')}:{kw.get('port', '?')}/{kw.get('db', 0)}"
        self._scripts = {name: client.register_script(_load(name)) for name in _SCRIPTS}
        self._days: dict[str, tuple[float, float, float, float]] = {}

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        """The one place where ``redis`` exceptions become ours."""
        try:
            yield
        except redis.exceptions.RedisError as exc:
            message = f"Redis at {self._where} failed to {what}: {type(exc).__name__}: {exc}"
            raise StorageError(message, backend="redis") from exc

    def _run(self, name: str, what: str, *args: str) -> Any:
        with self._errors(what):
            return self._scripts[name](args=args)

    def _base(self, scope: str) -> str:
        """Every key of a scope shares one hash tag, so its scripts stay on one cluster slot."""
        return f"{self.prefix}{{{scope}}}:"

    # -- admission ------------------------------------------------------------------------
    def _window_args(self, windows: Sequence[Window], now: float) -> list[str]:
        args: list[str] = []
        for w in windows:
            bounds = ("0", "0", "0", "0") if w.rolling else self._bounds(w.reset, now)
            args += [w.name, w.unit, str(w.limit), f"{w.period:g}", w.reset, *bounds]
        return args

    def _bounds(self, reset: str, now: float) -> tuple[str, str, str, str]:
        """The days before, at and after ``now`` in zone ``reset``, for the script to pick from."""
        cached = self._days.get(reset)
        if cached is None or not cached[1] <= now < cached[2]:
            start, end = day_start(now, reset), next_day_start(now, reset)
            cached = (day_start(start - 1, reset), start, end, next_day_start(end, reset))
            self._days[reset] = cached
        return (_num(cached[0]), _num(cached[1]), _num(cached[2]), _num(cached[3]))

    def reserve(
        self,
        scope: str,
        windows: Sequence[Window],
        tokens: int,
        *,
        now: float,
        budget: BudgetClaim | None = None,
    ) -> Admission:
        args = self._reserve_args(scope, windows, tokens, now, budget)
        return self._admission(self._run("reserve", "reserve", *args), windows, tokens, budget)

    def view_and_reserve(
        self,
        provider_scope: str,
        key_scope: str,
        model_scope: str | None,
        *,
        fingerprint: str,
        failures_to_trip: int,
        learned: Mapping[str, int],
        windows: Sequence[Window],
        tokens: int,
        now: float,
        budget: BudgetClaim | None = None,
    ) -> tuple[AdmissionView, Admission | None]:
        """``lua/admit.lua``: the admission view and, when it allows, the reservation, in one
        round trip (``Store.view_and_reserve``; ``view_allows`` is tested in the script)."""
        reply = self._run(
            "admit",
            "read health and reserve",
            self._base(key_scope),
            self._base(provider_scope),
            self._base(model_scope) if model_scope is not None else "",
            str(max(1, failures_to_trip)),
            fingerprint,
            str(len(learned)),
            *[x for name, limit in learned.items() for x in (name, str(int(limit)))],
            *self._reserve_args(key_scope, windows, tokens, now, budget),
        )
        limits, ph, pp, kh, kp, mh, mp = reply[1:8]
        view = AdmissionView(
            _health_or_none(_pairs(ph), pp),
            _health_or_none(_pairs(kh), kp),
            {name: int(v) for name, v in _pairs(limits).items()},
            _health_or_none(_pairs(mh), mp) if model_scope is not None else None,
        )
        if int(reply[0]) != 1:
            return view, None
        return view, self._admission(reply[8:], windows, tokens, budget)

    def _reserve_args(
        self,
        scope: str,
        windows: Sequence[Window],
        tokens: int,
        now: float,
        budget: BudgetClaim | None,
    ) -> list[str]:
        """``reserve()``'s arguments in ``lua/_reserve.lua``."""
        tokens = max(0, int(tokens))
        retain_ms = int(_common.retain_seconds(windows) * 1000)
        claim = ["", "0", "0"]
        if budget is not None:
            budget_ms = int(_common.retain_seconds((budget.window,)) * 1000)
            claim = [self._base(budget.scope), str(budget.micros), str(budget_ms)]
            claim += self._window_args((budget.window,), now)
        return [
            self._base(scope),
            _num(now),
            "1" if self.server_time else "0",
            str(tokens),
            str(retain_ms),
            str(MARGIN_MS),
            self.process_id,
            *claim,
            *self._window_args(windows, now),
        ]

    def _admission(
        self,
        reply: list[Any],
        windows: Sequence[Window],
        tokens: int,
        budget: BudgetClaim | None,
    ) -> Admission:
        """``reserve()``'s reply as an ``Admission``."""
        tokens = max(0, int(tokens))
        if int(reply[0]) == 1:
            counted = _counted(reply[2:], budget)
            return Admission(
                ok=True,
                reservation_id=_text(reply[1]),
                counted=counted,
                used=tuple(
                    n if w.unit == "requests" else t
                    for w, (n, t) in zip(windows, counted.counts, strict=True)
                ),
            )
        name, retry = _text(reply[1]), _text(reply[2])
        retry_at = float(retry) if retry else None
        if name == "blocked":
            return _common.blocked(Block(until=float(retry), reason=_text(reply[3])))
        if budget is not None and name == budget.window.name:
            refused = _common.refusal(budget.window, retry_at, tokens=budget.micros)
        else:
            window = next(w for w in windows if w.name == name)
            refused = _common.refusal(window, retry_at, tokens=tokens)
        return replace(refused, counted=_counted(reply[4:], budget))

    def settle(self, scope: str, reservation_id: str, tokens: int, *, now: float) -> None:
        self._run("settle", "settle", self._base(scope), reservation_id, str(max(0, int(tokens))))

    def release(self, scope: str, reservation_id: str) -> None:
        self._run("release", "release", self._base(scope), reservation_id)

    def usage(self, scope: str, windows: Sequence[Window], *, now: float) -> list[WindowUsage]:
        flags = "1" if self.server_time else "0"
        args = self._window_args(windows, now)
        reply = self._run("usage", "read usage", self._base(scope), _num(now), flags, *args)
        out = []
        for i, w in enumerate(windows):
            requests, tokens, resets = reply[3 * i : 3 * i + 3]
            used = _common.used(w, int(requests), int(tokens))
            at = float(_text(resets)) if used > 0 and _text(resets) else None
            out.append(WindowUsage(w.name, w.limit, used, at))
        return out

    # -- blocks -----------------------------------------------------------------------------
    def block(self, scope: str, *, until: float, reason: str) -> Block:
        reason = self._scrub(reason)
        reply = self._run("block", "store a block", self._base(scope), _num(until), reason)
        return Block(until=float(reply[0]), reason=_text(reply[1]))

    def get_block(self, scope: str, *, now: float) -> Block | None:
        with self._errors("read a block"):
            until, reason = self._client.hmget(self._base(scope) + "block", ["until", "reason"])
        if until is None or float(until) <= now:
            return None
        return Block(until=float(until), reason=_text(reason))

    def clear_block(self, scope: str) -> None:
        with self._errors("clear a block"):
            self._client.delete(self._base(scope) + "block")

    # -- health -----------------------------------------------------------------------------
    def get_health(self, scope: str) -> HealthRecord | None:
        base = self._base(scope)
        with self._errors("read health"):
            pipe = self._client.pipeline(transaction=True)
            pipe.hgetall(base + "health")
            pipe.get(base + "probe")
            fields, probe = pipe.execute()
        return _health_or_none(fields, probe)

    def admission_view(
        self, provider_scope: str, key_scope: str, model_scope: str | None = None
    ) -> AdmissionView:
        """The circuits and the learned limits in one round trip (a pipeline, no MULTI)."""
        k = self._base(key_scope)
        bases = [self._base(provider_scope), k]
        if model_scope is not None:
            bases.append(self._base(model_scope))
        with self._errors("read health and learned limits"):
            pipe = self._client.pipeline(transaction=False)
            pipe.hgetall(k + "limits")
            for base in bases:
                pipe.hgetall(base + "health")
                pipe.get(base + "probe")
            limits, *replies = pipe.execute()
        records = [
            _health_or_none(f, probe) for f, probe in zip(replies[::2], replies[1::2], strict=True)
        ]
        return AdmissionView(
            records[0],
            records[1],
            {_text(name): int(v) for name, v in limits.items()},
            records[2] if model_scope is not None else None,
        )

    def _health_op(self, scope: str, op: str, *args: str) -> HealthRecord:
        reply = self._run("health", f"record health ({op})", self._base(scope), op, *args)
        pairs = [_text(x) for x in reply]
        return _health(dict(zip(pairs[::2], pairs[1::2], strict=True)))

    def trip(
        self, scope: str, *, until: float, kind: str, message: str, now: float
    ) -> HealthRecord:
        return self._health_op(scope, "trip", _num(now), kind, self._scrub(message), _num(until))

    def note_error(self, scope: str, *, kind: str, message: str, now: float) -> HealthRecord:
        return self._health_op(scope, "note", _num(now), kind, self._scrub(message), "")

    def mark_auth_failed(
        self, scope: str, *, fingerprint: str, message: str, now: float
    ) -> HealthRecord:
        message = self._scrub(message)
        return self._health_op(scope, "auth", _num(now), "auth_failed", message, fingerprint)

    def record_success(self, scope: str) -> None:
        self._run("health", "record a success", self._base(scope), "success", "0", "", "", "")

    def try_acquire_probe(self, scope: str, *, now: float, ttl: float) -> bool:
        flags = "1" if self.server_time else "0"
        reply = self._run("probe", "take the probe", self._base(scope), _num(now), flags, _num(ttl))
        return int(reply) == 1

    def release_probe(self, scope: str) -> None:
        with self._errors("release the probe"):
            self._client.delete(self._base(scope) + "probe")

    def clear_health(self, scope: str) -> None:
        self._run("health", "clear health", self._base(scope), "clear", "0", "", "", "")

    # -- learned limits -----------------------------------------------------------------------
    def put_learned_limits(self, scope: str, limits: dict[str, int]) -> None:
        if not limits:
            return
        with self._errors("store learned limits"):
            mapping = {k: int(v) for k, v in limits.items()}
            self._client.hset(self._base(scope) + "limits", mapping=mapping)  # type: ignore[arg-type]

    def get_learned_limits(self, scope: str) -> dict[str, int]:
        with self._errors("read learned limits"):
            raw = self._client.hgetall(self._base(scope) + "limits")
        return {_text(k): int(v) for k, v in raw.items()}

    # -- ledger -------------------------------------------------------------------------------
    def _record_args(self, entry: LedgerEntry) -> list[str]:
        """``record()``'s arguments in ``lua/_record.lua``."""
        return [
            self.prefix,
            json.dumps(asdict(entry)),
            entry.entry_id,
            entry.day,
            entry.provider,
            json.dumps([entry.provider, entry.model, entry.key_alias]),
            "1" if entry.outcome == "ok" else "0",
            str(int(entry.prompt_tokens)),
            str(int(entry.completion_tokens)),
            _num(entry.cost_usd),
            _num(entry.latency_s),
            str(LEDGER_CAPACITY),
            _num(entry.ts - self.ledger_retention),
            str(IDS_MS),
        ]

    def record(self, entry: LedgerEntry) -> None:
        """The entry, its day's totals and roll-up in one script, once per ``entry_id``."""
        self._run("record", "record to the ledger", *self._record_args(entry))

    def settle_and_record(
        self, scope: str, reservation_id: str, tokens: int, entry: LedgerEntry, *, now: float
    ) -> None:
        """The settle and the ledger entry in one script: one round trip, one reply, atomic."""
        self._run(
            "settle_record",
            "settle and record to the ledger",
            self._base(scope),
            reservation_id,
            str(max(0, int(tokens))),
            str(micro_usd(entry.cost_usd)),
            *self._record_args(entry),
        )

    def usage_rows(
        self, *, since_day: str | None = None, until_day: str | None = None
    ) -> list[UsageRow]:
        lo = f"[{since_day}" if since_day else "-"
        hi = f"[{until_day}" if until_day else "+"
        with self._errors("read daily totals"):
            days = [_text(d) for d in self._client.zrangebylex(self.prefix + "days", lo, hi)]
            pipe = self._client.pipeline(transaction=False)
            for day in days:
                pipe.hgetall(f"{self.prefix}day:{day}")
            totals = pipe.execute()
        rows = [row for day, raw in zip(days, totals, strict=True) for row in _rows(day, raw)]
        return sorted(rows, key=lambda r: (r.day, r.provider))

    def rollup_rows(
        self, *, since_day: str | None = None, until_day: str | None = None
    ) -> list[RollupRow]:
        lo = f"[{since_day}" if since_day else "-"
        hi = f"[{until_day}" if until_day else "+"
        with self._errors("read daily roll-ups"):
            days = [_text(d) for d in self._client.zrangebylex(self.prefix + "days", lo, hi)]
            pipe = self._client.pipeline(transaction=False)
            for day in days:
                pipe.hgetall(f"{self.prefix}rollup:{day}")
            hashes = pipe.execute()
        rows = [row for day, raw in zip(days, hashes, strict=True) for row in _rollups(day, raw)]
        return sorted(rows, key=lambda r: (r.day, r.provider, r.model, r.key_alias))

    def ledger_entries(self, *, limit: int = 100) -> list[LedgerEntry]:
        if limit <= 0:
            return []
        with self._errors("read the ledger"):
            raw = self._client.lrange(self.prefix + "ledger", 0, limit - 1)
        return [LedgerEntry(**json.loads(item)) for item in raw]

    # -- lifecycle ----------------------------------------------------------------------------
    def check(self) -> StoreHealth:
        extra = {"server": self._where, "prefix": self.prefix, "server_time": str(self.server_time)}
        try:
            with self._errors("answer a ping"):
                self._client.ping()
        except StorageError as exc:
            return StoreHealth(backend=self.backend, ok=False, detail=str(exc), extra=extra)
        return StoreHealth(backend=self.backend, ok=True, extra=extra)

    def reset(self) -> None:
        """Delete every key under this store's prefix (and nothing else)."""
        pattern = "".join("\\" + c if c in "*?[]\\" else c for c in self.prefix) + "*"
        with self._errors("reset"):
            batch = []
            for key in self._client.scan_iter(match=pattern, count=500):
                batch.append(key)
                if len(batch) >= 500:
                    self._client.unlink(*batch)
                    batch.clear()
            if batch:
                self._client.unlink(*batch)

    def close(self) -> None:
        self._client.close()
        if self._owns_pool:  # redis-py leaves a pool it was given open
            self._client.connection_pool.disconnect()


def _counted(reply: list[Any], budget: BudgetClaim | None) -> Counted:
    """``processes, n1, t1, n2, t2, ...`` of ``reserve.lua``'s answer (the budget's last)."""
    counts = tuple((int(n), int(t)) for n, t in zip(reply[1::2], reply[2::2], strict=True))
    if budget is None:
        return Counted(processes=int(reply[0]), counts=counts)
    return Counted(processes=int(reply[0]), counts=counts[:-1], budget=counts[-1][1])


def _pairs(flat: Any) -> dict[str, str]:
    """A Lua script's ``HGETALL`` (a flat list ``k1, v1, k2, v2``) as a dict."""
    items = [_text(x) for x in flat or ()]
    return dict(zip(items[::2], items[1::2], strict=True))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _health_or_none(fields: dict[Any, Any], probe: Any) -> HealthRecord | None:
    if not fields and probe is None:
        return None
    pairs = {_text(k): _text(v) for k, v in fields.items()}
    if probe is not None:
        pairs["probe_until"] = _text(probe)
    return _health(pairs)


def _health(pairs: dict[str, str]) -> HealthRecord:
    at = pairs.get("last_error_at")
    return HealthRecord(
        open_until=float(pairs.get("open_until", 0.0)),
        consecutive_failures=int(pairs.get("consecutive_failures", 0)),
        last_error_kind=pairs.get("last_error_kind"),
        last_error_message=pairs.get("last_error_message"),
        last_error_at=float(at) if at is not None else None,
        auth_failed_fingerprint=pairs.get("auth_failed_fingerprint"),
        probe_until=float(pairs.get("probe_until", 0.0)),
        opened_at=float(pairs.get("opened_at", 0.0)),
        opened_by=pairs.get("opened_by"),
    )


def _rollups(day: str, raw: dict[Any, Any]) -> list[RollupRow]:
    """One day's roll-up hash (``["provider", "model", "key"]|field`` -> value) as rows."""
    fields: dict[str, dict[str, str]] = {}
    for key, value in raw.items():
        who, _, name = _text(key).rpartition("|")
        fields.setdefault(who, {})[name] = _text(value)
    rows = []
    for who, f in fields.items():
        provider, model, key_alias = json.loads(who)
        rows.append(
            RollupRow(
                day=day,
                provider=provider,
                model=model,
                key_alias=key_alias,
                cost_usd=float(f.get("cost_usd", 0.0)),
                latency_s_total=float(f.get("latency_s_total", 0.0)),
                **{name: int(f.get(name, 0)) for name in _TOTAL_INTS},
            )
        )
    return rows


def _rows(day: str, raw: dict[Any, Any]) -> list[UsageRow]:
    """One day's hash (``provider|field`` -> value) as rows, one per provider."""
    fields: dict[str, dict[str, str]] = {}
    for key, value in raw.items():
        provider, _, name = _text(key).rpartition("|")
        fields.setdefault(provider, {})[name] = _text(value)
    rows = []
    for provider, f in fields.items():
        ints = {name: int(f.get(name, 0)) for name in _TOTAL_INTS}
        rows.append(
            UsageRow(
                day=day,
                provider=provider,
                cost_usd=float(f.get("cost_usd", 0.0)),
                latency_s_total=float(f.get("latency_s_total", 0.0)),
                **ints,
            )
        )
    return rows
