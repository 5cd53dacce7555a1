"""The simulator's mutable state and every control over it, shared by HTTP and Python.

``Simulator`` owns the clock, the providers (after config), the per-key limit pools, the armed
faults, the revoked keys and the stats. The ASGI app reads it per request; ``/_sim/...`` and
``SimulatorHandle`` change it. One lock guards the pools: admission is check-and-record in one
step, so concurrent requests cannot overshoot a window.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from typing import Any

from llmswitch._clock import Clock, FakeClock, system_clock
from llmswitch.simulator.catalog import ModelInfo, ProviderSpec, limit_pool
from llmswitch.simulator.config import ConfigSource, SimConfig, key_id, load_config
from llmswitch.simulator.faults import Fault, FaultBook, FaultError, parse_fault
from llmswitch.simulator.limits import Limits, Pool, Snapshot, Violation
from llmswitch.simulator.stats import Record, Stats

__all__ = ["FaultError", "ResponseStore", "Simulator"]

STORED_RESPONSES = 1000  # OpenAI keeps responses; the simulator keeps the latest thousand


class ResponseStore:
    """OpenAI's stored responses: id -> the conversation so far (its output included), so a
    ``previous_response_id`` continues it."""

    def __init__(self) -> None:
        self._items: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, rid: str) -> list[dict[str, Any]] | None:
        with self._lock:
            return self._items.get(rid)

    def put(self, rid: str, messages: list[dict[str, Any]]) -> None:
        with self._lock:
            self._items[rid] = messages
            while len(self._items) > STORED_RESPONSES:
                self._items.popitem(last=False)


class Simulator:
    """Everything a simulated provider needs to decide how to answer.

    Example:
        >>> sim = Simulator(clock=FakeClock())
        >>> sim.set_limits("groq", rpm=2)
        >>> sim.key_status("groq", "gsk_invalid")
        'invalid'
    """

    def __init__(self, *, clock: Clock | None = None, config: ConfigSource = None) -> None:
        self.clock: Clock = clock if clock is not None else system_clock
        self.config: SimConfig = load_config(config)
        self.specs: dict[str, ProviderSpec] = self.config.specs
        self.faults = FaultBook()
        self.stats_log = Stats()
        self.closing = threading.Event()  # set on shutdown: hanging requests give up
        self._lock = threading.Lock()
        self._pools: dict[tuple[str, str, str], Pool] = {}
        self._key_limits: dict[tuple[str, str], dict[str, int | None]] = dict(
            self.config.key_limits
        )
        self._revoked: set[tuple[str, str]] = set()
        self._ids = itertools.count(1)
        self.responses = ResponseStore()
        self._arm_config_faults()

    def _arm_config_faults(self) -> None:
        for provider, model, spec in self.config.faults:
            self.set_fault(provider, spec, model=model)

    # -- controls (Python and /_sim/) -------------------------------------------------------

    def set_fault(
        self, provider: str, fault: dict[str, Any] | str | int, *, model: str | None = None
    ) -> None:
        self._known(provider)
        self.faults.set(provider, parse_fault(fault, now=self.clock()), model)

    def clear_faults(self, provider: str | None = None, *, model: str | None = None) -> None:
        self.faults.clear(provider, model)

    def set_limits(
        self,
        provider: str,
        *,
        key: str | None = None,
        rpm: int | None = None,
        rpd: int | None = None,
        tpm: int | None = None,
        tpd: int | None = None,
    ) -> None:
        """Change windows for a provider (every key) or one key; None leaves a value, 0 disables."""
        spec = self._known(provider)
        changes = {"rpm": rpm, "rpd": rpd, "tpm": tpm, "tpd": tpd}
        with self._lock:
            if key is None:
                spec.limits = spec.limits.merged(**changes)
            else:
                mine = self._key_limits.setdefault((provider, key_id(key)), {})
                mine.update({k: v for k, v in changes.items() if v is not None})

    def revoke_key(self, provider: str, key: str) -> None:
        self._known(provider)
        with self._lock:
            self._revoked.add((provider, key_id(key)))

    def reset(self) -> None:
        """Forget counters, stats and faults (limits, revocations and models stay)."""
        with self._lock:
            self._pools.clear()
        self.stats_log.reset()
        self.faults.clear()

    def stats(self) -> dict[str, Any]:
        out = self.stats_log.summary()
        out["now"] = self.clock()
        out["faults"] = self.faults.describe()
        return out

    def requests(
        self, provider: str, key: str | None = None, model: str | None = None
    ) -> list[dict[str, Any]]:
        return self.stats_log.requests(provider, key, model)

    def advance(self, seconds: float) -> float:
        """Move a FakeClock forward; refused for a real clock."""
        if not isinstance(self.clock, FakeClock):
            raise RuntimeError("the simulator runs on a real clock; only a FakeClock can advance")
        self.clock.advance(seconds)
        return self.clock()

    # -- per-request decisions ---------------------------------------------------------------

    def key_status(self, provider: str, key: str | None) -> str:
        """``"ok"``, ``"missing"`` or ``"invalid"`` (contains ``invalid``, or revoked)."""
        if not key:
            return "missing"
        if "invalid" in key or (provider, key_id(key)) in self._revoked:
            return "invalid"
        return "ok"

    def model_status(self, provider: str, model: str) -> ModelInfo | str:
        """The model's info, or ``"gone"`` / ``"decommissioned"`` / ``"unknown"``."""
        spec = self.specs[provider]
        info = spec.models.get(model)
        if info is not None:
            return info
        return spec.retired.get(model, "unknown")

    def reply_tokens(self, provider: str, info: ModelInfo) -> int:
        return (
            info.reply_tokens
            if info.reply_tokens is not None
            else self.specs[provider].reply_tokens
        )

    def limits_for(self, provider: str, key: str) -> Limits:
        base = self.specs[provider].limits
        extra = self._key_limits.get((provider, key_id(key)))
        return base.merged(**extra) if extra else base

    def admit(self, provider: str, key: str, model: str, tokens: int) -> Snapshot | Violation:
        """Check and record in one step, under the lock."""
        slot = (provider, key_id(key), limit_pool(provider, model))
        with self._lock:
            pool = self._pools.get(slot)
            if pool is None:
                pool = self._pools[slot] = Pool(self.specs[provider].day_rule)
            return pool.admit(self.limits_for(provider, key), self.clock(), tokens)

    def snapshot(self, provider: str, key: str, model: str) -> Snapshot:
        """Current usage of a pool without recording anything (headers on a refusal)."""
        slot = (provider, key_id(key), limit_pool(provider, model))
        with self._lock:
            pool = self._pools.get(slot)
            if pool is None:
                pool = self._pools[slot] = Pool(self.specs[provider].day_rule)
            now = self.clock()
            pool.minute.expire(now)
            pool.day.expire(now)
            return pool.snapshot(self.limits_for(provider, key), now)

    def pick_fault(
        self, provider: str, model: str, *, stream: bool, prefill: bool = False
    ) -> Fault | None:
        return self.faults.pick(provider, model, now=self.clock(), stream=stream, prefill=prefill)

    def next_id(self) -> int:
        return next(self._ids)

    def record(self, rec: Record) -> None:
        self.stats_log.add(rec)

    def _known(self, provider: str) -> ProviderSpec:
        spec = self.specs.get(provider)
        if spec is None:
            raise FaultError(f"unknown provider {provider!r}; known: {sorted(self.specs)}")
        return spec
