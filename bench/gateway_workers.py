"""Issue 17: ``llmswitch serve --workers N`` on one Redis, throughput at concurrency 64.

Each run starts the fast bench upstream (``bench.upstream``) once, then for every worker count in
turn (1, 2, 4, rotated between runs so none always goes first) a fresh ``llmswitch serve
--workers N`` whose state is the one Redis (``redis://127.0.0.1:6379/0`` under a key prefix of
its own, deleted afterwards), over the same two providers as ``bench.gateway``. The load is
``bench.gateway.throughput``: an ``aiohttp`` client keeping ``concurrency`` requests in flight
until ``total`` are done, after a warm-up of two per slot; requests a second, p50, p99, errors and
the server's RSS (all workers) after the run. The upstream alone (``direct``) is measured in every
run as the ceiling. Medians over runs with their min-max spread.

``--pythonpath DIR`` runs the gateway from another source tree (e.g. ``git archive <commit> src``
unpacked in DIR) with the same venv, so an older commit can be measured beside this one.

``--state redis sqlite`` also runs each worker count on a SQLite file (the default backend) right
after its Redis server, as a reference measured under the same conditions.

Run: ``.venv/bin/python -m bench.gateway_workers [--runs 2 --total 2000 --workers 1 2 4]``
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bench import _common as c
from bench.gateway import _clean_env, throughput

REDIS_URL = "redis://127.0.0.1:6379/0"


@contextlib.contextmanager
def redis_gateway(
    up: c.Upstream,
    folder: Path,
    workers: int,
    *,
    redis_url: str,
    pythonpath: str | None,
    state: str = "redis",
) -> Iterator[tuple[str, int]]:
    """``llmswitch serve --workers N`` on ``redis_url`` under a fresh prefix (deleted after);
    ``state="sqlite"``: on a fresh SQLite file instead (the default backend, for reference)."""
    import redis

    prefix = f"llmswitch-bench-{uuid.uuid4().hex[:12]}:"
    url = f"{redis_url}?prefix={prefix}" if state == "redis" else f"sqlite:///{folder / 's.db'}"
    providers = {
        "primary": c.openai_provider(up.url("ok"), priority=1, keys=["BENCH_PRIMARY_KEY"]),
        "backup": c.openai_provider(up.url("ok"), priority=2, keys=["BENCH_BACKUP_KEY"]),
    }
    path = folder / "llmswitch.toml"
    path.write_text(c.config_toml(providers, state=url))
    port = c.free_port()
    exe = Path(sys.executable).parent / "llmswitch"
    cmd = [str(exe), "serve", "--port", str(port), "--config", str(path)]
    cmd += ["--workers", str(workers)]
    env = _clean_env(c.bench_env(providers))
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [pythonpath, env.get("PYTHONPATH")]))
    proc = subprocess.Popen(
        cmd, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        c.wait_port(port, proc=proc)
        yield f"http://127.0.0.1:{port}/v1", proc.pid
    finally:
        c.stop(proc)
        client = redis.Redis.from_url(redis_url)
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.unlink(*keys)
        client.close()


def run(
    *,
    runs: int = 2,
    workers: Sequence[int] = (1, 2, 4),
    concurrency: int = 64,
    total: int = 3000,
    redis_url: str = REDIS_URL,
    pythonpath: str | None = None,
    label: str = "",
    out_name: str = "gateway_workers",
    out_dir: Path | None = None,
    states: Sequence[str] = ("redis",),
) -> dict[str, Any]:
    per_run: list[dict[str, Any]] = []
    with c.upstream() as up:
        for r in range(runs):
            order = list(workers)[r % len(workers) :] + list(workers)[: r % len(workers)]
            one: dict[str, Any] = {
                "direct": throughput(up.url("ok"), concurrency=concurrency, total=total)
            }
            for n, state in [(n, state) for n in order for state in states]:
                name = f"workers_{n}" + ("" if state == "redis" else f"_{state}")
                with tempfile.TemporaryDirectory() as tmp:
                    server = redis_gateway(
                        up, Path(tmp), n, redis_url=redis_url, pythonpath=pythonpath, state=state
                    )
                    with server as (url, pid):
                        t = throughput(url, concurrency=concurrency, total=total)
                        t["rss_mb"] = c.rss_mb(pid)
                        one[name] = t
            per_run.append(one)
            print(f"run {r + 1}/{runs}: " + summary_line(one), flush=True)
    names = list(per_run[0])
    result: dict[str, Any] = {
        "question": "llmswitch serve --workers N on one Redis: throughput",
        "upstream": "bench.upstream (raw asyncio, own process)",
        "state": f"{redis_url} (a fresh key prefix per server)",
        "states": list(states),
        "label": label,
        "pythonpath": pythonpath or "",
        "concurrency": concurrency,
        "requests_per_run": total,
        "runs": per_run,
        "summary": {
            name: {
                field: c.spread([run_[name][field] for run_ in per_run])
                for field in ("rps", "p50_ms", "p99_ms")
            }
            | {"errors": sum(run_[name]["errors"] for run_ in per_run)}
            for name in names
        },
    }
    c.write_result(out_name, result, out_dir)
    return result


def summary_line(one: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v['rps']:.0f} req/s (p99 {v['p99_ms']:.0f} ms)" for k, v in one.items())


def main() -> None:
    parser = argparse.ArgumentParser(description="issue 17: serve --workers N on one Redis")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--total", type=int, default=3000)
    parser.add_argument("--redis", default=REDIS_URL)
    parser.add_argument("--pythonpath", default=None, help="run the gateway from this src tree")
    parser.add_argument("--label", default="")
    parser.add_argument("--out", default="gateway_workers", help="bench/results/OUT.json")
    parser.add_argument(
        "--state",
        nargs="+",
        choices=["redis", "sqlite"],
        default=["redis"],
        help="sqlite too: the default backend beside Redis, per worker count",
    )
    args = parser.parse_args()
    r = run(
        runs=args.runs,
        workers=args.workers,
        concurrency=args.concurrency,
        total=args.total,
        redis_url=args.redis,
        pythonpath=args.pythonpath,
        label=args.label,
        out_name=args.out,
        states=args.state,
    )
    for name, s in r["summary"].items():
        rps, p99 = s["rps"], s["p99_ms"]
        print(
            f"{name:10s} {rps['median']:7.0f} req/s [{rps['min']:.0f}, {rps['max']:.0f}]  "
            f"p99 {p99['median']:.0f} ms [{p99['min']:.0f}, {p99['max']:.0f}]  "
            f"errors {s['errors']}"
        )


if __name__ == "__main__":
    main()
