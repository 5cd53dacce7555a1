"""What the simulator saw, for tests to assert on ("at most 30 requests in any minute").

Keys are identified by their last four characters only; a full key is never stored. Each request
becomes one ``Record``; ``Stats.summary`` folds them per provider, key and model into the JSON
served at ``/_sim/stats``. The log keeps the most recent ``MAX_RECORDS`` requests so that a long
benchmark cannot grow memory without bound; the counters are exact regardless.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

MAX_RECORDS = 200_000


def key_tail(key: str | None) -> str:
    """The only part of a key the simulator ever keeps or shows."""
    return (key or "")[-4:]


@dataclass(frozen=True, slots=True)
class Record:
    """One request as the simulator answered it."""

    time: float
    provider: str
    key: str  # last 4 characters
    model: str
    status: int
    outcome: str
    stream: bool
    prompt_tokens: int
    completion_tokens: int
    fault: str | None

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["tokens"] = self.tokens
        return out


def _bucket() -> dict[str, Any]:
    return {
        "requests": 0,
        "outcomes": {},
        "rate_limited": 0,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "total_tokens": 0,
    }


def _count(bucket: dict[str, Any], rec: Record) -> None:
    bucket["requests"] += 1
    bucket["outcomes"][rec.outcome] = bucket["outcomes"].get(rec.outcome, 0) + 1
    bucket["rate_limited"] += rec.status == 429
    bucket["prompt_tokens"] += rec.prompt_tokens
    bucket["completion_tokens"] += rec.completion_tokens
    bucket["total_tokens"] += rec.tokens


class Stats:
    """Thread-safe request log plus running totals."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: deque[Record] = deque(maxlen=MAX_RECORDS)
        self._tree: dict[str, Any] = {}

    def add(self, rec: Record) -> None:
        with self._lock:
            self._records.append(rec)
            prov = self._tree.setdefault(rec.provider, {**_bucket(), "keys": {}})
            _count(prov, rec)
            key = prov["keys"].setdefault(rec.key, {**_bucket(), "models": {}})
            _count(key, rec)
            model = key["models"].setdefault(rec.model, {**_bucket(), "times": []})
            _count(model, rec)
            model["times"].append(rec.time)

    def reset(self) -> None:
        with self._lock:
            self._records.clear()
            self._tree = {}

    def summary(self) -> dict[str, Any]:
        """``{"providers": {name: {requests, outcomes, rate_limited, *_tokens, keys: {tail:
        {…, models: {id: {…, times: [...]}}}}}}}``."""
        with self._lock:
            return {"providers": _deep_copy(self._tree)}

    def requests(
        self, provider: str, key: str | None = None, model: str | None = None
    ) -> list[dict[str, Any]]:
        """The logged requests of a provider, optionally of one key (full or tail) and model."""
        tail = None if key is None else key_tail(key)
        with self._lock:
            return [
                r.as_dict()
                for r in self._records
                if r.provider == provider
                and (tail is None or r.key == tail)
                and (model is None or r.model == model)
            ]


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return list(value)
    return value
