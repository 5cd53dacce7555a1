"""Soak: 100,000 in-process calls per state backend; memory stays flat and nothing fails.

Each backend (memory://, sqlite://, redis://) gets its own ``LLMProviderManager`` over two
OpenAI-compatible providers on the fast bench upstream (``bench.upstream``, its own process), so
every call is a real HTTP round trip, admission, settlement and ledger write. The manager runs on
a FakeClock advanced one second per call: 100,000 calls span 28 simulated hours, so minute
windows slide, a UTC day rolls over, and the ledger's one-day retention prunes raw rows while
the run lasts. Every ``--sample`` calls the script records the process's RSS and Python's
allocated blocks; "flat" is judged after the first sample (imports, pools and caches warm up).

Run: ``.venv/bin/python -m bench.soak [--calls 100000] [--backends memory,sqlite,redis]``
(Redis on 127.0.0.1:6379; its keys live under a unique prefix and are deleted afterwards.)
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench import _common as c

BACKENDS = ("memory", "sqlite", "redis")


def _state(backend: str, folder: Path) -> str:
    if backend == "memory":
        return "memory://"
    if backend == "sqlite":
        return f"sqlite:///{folder / 'soak.db'}"
    return f"redis://127.0.0.1:6379/0?prefix=llmswitch-soak-{uuid.uuid4().hex[:8]}:"


def soak(up: c.Upstream, backend: str, *, calls: int, sample: int) -> dict[str, Any]:
    from llmswitch.testing import FakeClock

    folder = Path(tempfile.mkdtemp(prefix="llmswitch-soak-"))
    clock = FakeClock()
    providers = {
        "primary": c.openai_provider(up.url("ok"), priority=1, keys=["SOAK_PRIMARY_KEY"]),
        "backup": c.openai_provider(up.url("ok"), priority=2, keys=["SOAK_BACKUP_KEY"]),
    }
    llm = c.make_manager(
        providers,
        state=_state(backend, folder),
        folder=folder,
        ledger_retention_days=1,
        manager_kwargs={"clock": clock, "sleep": clock.sleep},
    )
    errors: dict[str, int] = {}
    samples: list[dict[str, float]] = []
    started = time.perf_counter()
    try:
        for i in range(1, calls + 1):
            try:
                result = llm.chat(c.HELLO, max_tokens=c.MAX_TOKENS)
                if not result.text:
                    errors["empty reply"] = errors.get("empty reply", 0) + 1
            except Exception as exc:  # counted and reported, never hidden
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            clock.advance(1.0)
            if i % sample == 0:
                gc.collect()
                samples.append(
                    {
                        "calls": i,
                        "rss_mb": round(c.rss_mb(os.getpid()), 1),
                        "py_blocks": sys.getallocatedblocks(),
                        "seconds": round(time.perf_counter() - started, 1),
                    }
                )
                print(f"  {backend:7s} {samples[-1]}", flush=True)
        usage = llm.get_usage("all")
        counted = sum(p["requests"] for p in usage["providers"].values())
        kept = len(llm.store.ledger_entries(limit=1_000_000))
    finally:
        if backend == "redis":
            llm.store.reset()
        llm.close()
    first, last = samples[0], samples[-1]
    db = folder / "soak.db"
    return {
        "calls": calls,
        "errors": errors,
        "ledger_counted": counted,
        "raw_rows_kept": kept,
        "rss_mb": {"first": first["rss_mb"], "last": last["rss_mb"]},
        "rss_growth_mb": round(last["rss_mb"] - first["rss_mb"], 1),
        "py_blocks_growth": last["py_blocks"] - first["py_blocks"],
        "calls_per_s": round(calls / (time.perf_counter() - started)),
        "sqlite_mb": round(db.stat().st_size / 1e6, 1) if db.exists() else None,
        "samples": samples,
    }


def run(
    *,
    calls: int = 100_000,
    sample: int = 10_000,
    backends: tuple[str, ...] = BACKENDS,
    out_dir: Path | None = None,
) -> dict[str, Any]:
    results: dict[str, Any] = {"machine": c.machine(), "backends": {}}
    with c.upstream() as up:
        for backend in backends:
            results["backends"][backend] = soak(up, backend, calls=calls, sample=sample)
    c.write_result("soak", results, out_dir)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=10_000)
    parser.add_argument("--backends", default=",".join(BACKENDS))
    args = parser.parse_args()
    r = run(calls=args.calls, sample=args.sample, backends=tuple(args.backends.split(",")))
    for name, b in r["backends"].items():
        print(
            f"{name:7s} {b['calls']:,} calls, errors {b['errors'] or 'none'}, ledger "
            f"{b['ledger_counted']:,}, RSS {b['rss_mb']['first']} -> {b['rss_mb']['last']} MB, "
            f"Python blocks {b['py_blocks_growth']:+,}, {b['calls_per_s']} calls/s"
        )


if __name__ == "__main__":
    main()
