"""Question 5: how the per-call overhead grows with providers, keys and ledger size.

Each point is an ``LLMProviderManager`` over the fast bench upstream; all points of a series and
the plain-httpx baseline run in the same interleaved rounds, and the overhead is a point's round
median minus the baseline's.

- providers: N OpenAI-compatible providers (priority order), one key each, memory:// state;
- keys: one provider with K keys, memory:// state;
- ledger: SQLite state whose ledger already holds L recorded calls (bulk-inserted over 30 days,
  the daily totals kept by the schema's trigger as in normal use).

Run: ``.venv-bench/bin/python -m bench.scale [--rounds 7 --calls 100]``
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from bench import _common as c

SIZES = (1, 5, 10, 25, 50)
LEDGER_SIZES = (0, 10_000, 100_000, 1_000_000)


def with_providers(up: c.Upstream, n: int) -> Any:
    providers = {
        f"p{i:02d}": c.openai_provider(up.url("ok"), priority=i + 1, keys=[f"BENCH_P{i:02d}_KEY"])
        for i in range(n)
    }
    return c.make_manager(providers)


def with_keys(up: c.Upstream, k: int) -> Any:
    keys = [f"BENCH_KEY_{i:02d}" for i in range(k)]
    return c.make_manager({"solo": c.openai_provider(up.url("ok"), priority=1, keys=keys)})


def _ledger_rows(n: int, now: float) -> Iterator[tuple[Any, ...]]:
    for i in range(n):
        ts = now - (i % (30 * 86400))
        day = time.strftime("%Y-%m-%d", time.gmtime(ts))
        yield (
            ts,
            day,
            f"p{i % 5}",
            "KEY",
            "bench-model",
            "ok" if i % 50 else "server_error",
            12,
            7,
            0.0,
            0.05,
            1,
        )


def prefill_ledger(path: Path, rows: int) -> None:
    """Create the store's schema at ``path``, then bulk-insert ``rows`` ledger entries."""
    from llmswitch._state import store_from_url

    store_from_url(f"sqlite:///{path}").close()
    db = sqlite3.connect(path)
    with db:
        db.executemany(
            "INSERT INTO ledger (ts, day, provider, key_alias, model, outcome, prompt_tokens, "
            "completion_tokens, cost_usd, latency_s, free) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            _ledger_rows(rows, time.time()),
        )
    db.close()


def with_ledger(up: c.Upstream, path: Path) -> Any:
    providers = {
        "primary": c.openai_provider(up.url("ok"), priority=1, keys=["BENCH_PRIMARY_KEY"]),
        "backup": c.openai_provider(up.url("ok"), priority=2, keys=["BENCH_BACKUP_KEY"]),
    }
    return c.make_manager(providers, state=f"sqlite:///{path}")


def _caller(m: Any) -> Callable[[], object]:
    return lambda: m.chat(c.HELLO, max_tokens=c.MAX_TOKENS)


def _series(
    up: c.Upstream, points: dict[str, Any], *, rounds: int, calls: int
) -> dict[str, dict[str, float]]:
    import httpx

    client = httpx.Client(headers={"authorization": "Bearer sk-bench"})
    url = up.url("ok") + "/chat/completions"
    body = c.json_body()
    fns: dict[str, Callable[[], object]] = {"httpx": lambda: client.post(url, json=body).json()}
    for name, m in points.items():
        fns[name] = _caller(m)
    medians = c.interleaved(fns, rounds=rounds, calls=calls, warmup=max(10, calls // 4))
    for m in points.values():
        m.close()
    client.close()
    return c.overheads(medians, "httpx")


def run(
    *,
    rounds: int = 7,
    calls: int = 100,
    sizes: Sequence[int] = SIZES,
    ledger_sizes: Sequence[int] = LEDGER_SIZES,
    out_dir: Path | None = None,
) -> dict[str, Any]:
    result: dict[str, Any] = {"question": "scale", "rounds": rounds, "calls_per_round": calls}
    with c.upstream() as up, tempfile.TemporaryDirectory() as tmp:
        result["providers_us"] = _series(
            up, {str(n): with_providers(up, n) for n in sizes}, rounds=rounds, calls=calls
        )
        result["keys_us"] = _series(
            up, {str(k): with_keys(up, k) for k in sizes}, rounds=rounds, calls=calls
        )
        ledgers = {}
        result["prefill_s"] = {}
        for rows in ledger_sizes:
            path = Path(tmp) / f"ledger-{rows}.db"
            t0 = time.perf_counter()
            prefill_ledger(path, rows)
            result["prefill_s"][str(rows)] = time.perf_counter() - t0
            ledgers[str(rows)] = with_ledger(up, path)
        result["ledger_us"] = _series(up, ledgers, rounds=rounds, calls=calls)
    c.write_result("scale", result, out_dir)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="Q5: scale")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=100)
    args = parser.parse_args()
    r = run(rounds=args.rounds, calls=args.calls)
    for series in ("providers_us", "keys_us", "ledger_us"):
        for point, s in r[series].items():
            print(
                f"{series:13s} {point:>8s}: overhead {s['median']:8.0f} us "
                f"[{s['min']:.0f}, {s['max']:.0f}]"
            )


if __name__ == "__main__":
    main()
