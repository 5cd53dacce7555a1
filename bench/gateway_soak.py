"""Gateway soak (issue 16, item 7): many requests through ``llmswitch serve``; memory stays flat.

``llmswitch serve`` (one process, default SQLite state, default limits) over the fast bench
upstream with two providers; an ``aiohttp`` client keeps ``--concurrency`` requests in flight
until ``--total`` are done. The gateway's RSS is sampled every ``--sample-every`` requests.
"Flat" is judged on the second half of the run, after caches, pools and the SQLite page cache
have warmed: the least-squares slope of RSS against requests, in MB per 10,000 requests, and the
RSS growth over that half. Every non-200 reply and every client error counts as an error.

Run: ``.venv/bin/python -m bench.gateway_soak [--total 20000 --concurrency 32]``
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench import _common as c
from bench.gateway import llmswitch_gateway


def slope_per_10k(points: list[tuple[int, float]]) -> float:
    """Least-squares slope of RSS (MB) per 10,000 requests."""
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return 0.0 if den == 0 else sum((x - mx) * (y - my) for x, y in points) / den * 10_000


async def soak(url: str, pid: int, *, total: int, concurrency: int, every: int) -> dict[str, Any]:
    body = c.json_body("auto")
    latencies: list[float] = []
    errors: dict[str, int] = {}
    samples: list[tuple[int, float]] = [(0, c.rss_mb(pid))]
    done = 0
    started = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def worker() -> None:
            nonlocal done, started
            while started < total:
                started += 1
                t0 = time.perf_counter_ns()
                try:
                    async with session.post(url + "/chat/completions", json=body) as resp:
                        await resp.read()
                        if resp.status != 200:
                            errors[str(resp.status)] = errors.get(str(resp.status), 0) + 1
                except (aiohttp.ClientError, TimeoutError) as exc:
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                latencies.append((time.perf_counter_ns() - t0) / 1e6)
                done += 1
                if done % every == 0:
                    samples.append((done, c.rss_mb(pid)))

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    half = [p for p in samples if p[0] >= total // 2]
    return {
        "requests": total,
        "concurrency": concurrency,
        "errors": sum(errors.values()),
        "errors_by_kind": errors,
        "seconds": round(elapsed, 1),
        "rps": round(total / elapsed, 1),
        "p50_ms": round(c.percentile(latencies, 50), 1),
        "p99_ms": round(c.percentile(latencies, 99), 1),
        "rss_mb": [(n, round(mb, 1)) for n, mb in samples],
        "rss_start_mb": round(samples[1][1] if len(samples) > 1 else samples[0][1], 1),
        "rss_end_mb": round(samples[-1][1], 1),
        "second_half_growth_mb": round(half[-1][1] - half[0][1], 1) if half else 0.0,
        "second_half_slope_mb_per_10k": round(slope_per_10k(half), 2) if len(half) > 1 else 0.0,
    }


def run(*, total: int, concurrency: int, every: int, out_dir: Path | None = None) -> dict[str, Any]:
    with c.upstream() as up, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        state = f"sqlite:///{folder / 'state.db'}"
        with llmswitch_gateway(up, folder, state) as (url, pid):
            result = asyncio.run(soak(url, pid, total=total, concurrency=concurrency, every=every))
    result["machine"] = c.machine()
    result["state"] = "sqlite"
    c.write_result("gateway_soak", result, out_dir)
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--total", type=int, default=20_000)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--sample-every", type=int, default=1_000)
    a = p.parse_args()
    r = run(total=a.total, concurrency=a.concurrency, every=a.sample_every)
    print({k: v for k, v in r.items() if k not in ("rss_mb", "machine")})
    print("rss_mb", r["rss_mb"])


if __name__ == "__main__":
    main()
