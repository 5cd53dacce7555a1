"""Question 2: gateway overhead and throughput.

``llmswitch serve`` (one worker, a process of its own) over the fast bench upstream, against
calling the upstream directly and against LiteLLM's proxy (``litellm --config``, one worker, no
database) with the same two deployments.

- Sequential overhead: one ``httpx.Client`` call at a time, interleaved rounds; overhead is a
  gateway's round median minus the direct call's.
- Throughput: an ``aiohttp`` client keeping ``concurrency`` requests in flight until ``total``
  are done; requests per second, p50 and p99 latency; the server's RSS after the run.

Run: ``.venv-bench/bin/python -m bench.gateway [--rounds 10 --calls 200 --total 2000]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench import _common as c

PROVIDER_VARS = (
    "GROQ_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "OPENROUTER_API_KEY",
    "TOGETHER_API_KEY",
    "OPENAI_API_KEY",
    "LLMSWITCH_API_KEY",
    "LLMSWITCH_CONFIG",
)


def _clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PROVIDER_VARS}
    return {**env, **extra}


@contextlib.contextmanager
def llmswitch_gateway(
    up: c.Upstream, folder: Path, state: str, *, profile: Path | None = None
) -> Iterator[tuple[str, int]]:
    providers = {
        "primary": c.openai_provider(up.url("ok"), priority=1, keys=["BENCH_PRIMARY_KEY"]),
        "backup": c.openai_provider(up.url("ok"), priority=2, keys=["BENCH_BACKUP_KEY"]),
    }
    path = folder / "llmswitch.toml"
    path.write_text(c.config_toml(providers, state=state))
    port = c.free_port()
    exe = Path(sys.executable).parent / "llmswitch"
    cmd = [str(exe), "serve", "--port", str(port), "--config", str(path)]
    if profile is not None:  # pyinstrument writes its text report when the server stops
        pyi = Path(sys.executable).parent / "pyinstrument"
        cmd = [str(pyi), "-i", "0.0002", "-r", "text", "-o", str(profile), *cmd]
    proc = subprocess.Popen(
        cmd,
        cwd=folder,
        env=_clean_env(c.bench_env(providers)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        c.wait_port(port, proc=proc)
        yield f"http://127.0.0.1:{port}/v1", proc.pid
    finally:
        if profile is not None and proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(60)
        c.stop(proc)


@contextlib.contextmanager
def forwarder(up: c.Upstream, folder: Path) -> Iterator[tuple[str, int]]:
    """The bare ASGI forwarder of ``bench.forwarder``: the floor of a Python gateway here."""
    port = c.free_port()
    cmd = [sys.executable, "-m", "bench.forwarder", "--upstream", up.url("ok"), "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=c.ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        c.wait_port(port, proc=proc)
        yield f"http://127.0.0.1:{port}/v1", proc.pid
    finally:
        c.stop(proc)


def profile_gateway(calls: int, path: Path) -> None:
    """Sequential calls through ``llmswitch serve`` running under pyinstrument."""
    with c.upstream() as up, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        state = f"sqlite:///{folder / 'state.db'}"
        with llmswitch_gateway(up, folder, state, profile=path) as (url, _):
            sequential({"direct": up.url("ok"), "llmswitch": url}, rounds=1, calls=calls, warmup=10)


LITELLM_YAML = """\
model_list:
  - model_name: auto
    litellm_params:
      {{model: openai/bench-model, api_base: "{url}", api_key: sk-bench-1, rpm: 1000000}}
  - model_name: backup
    litellm_params:
      {{model: openai/bench-model, api_base: "{url}", api_key: sk-bench-2, rpm: 1000000}}
router_settings:
  routing_strategy: {strategy}
  num_retries: 0
  fallbacks: [{{auto: [backup]}}]
litellm_settings:
  telemetry: false
  drop_params: true
  turn_off_message_logging: true
  set_verbose: false
  json_logs: false
general_settings:
  disable_spend_logs: true
  disable_error_logs: true
  disable_adding_master_key_hash_to_db: true
  allow_requests_on_db_unavailable: true
"""


@contextlib.contextmanager
def litellm_proxy(
    up: c.Upstream, folder: Path, strategy: str = "usage-based-routing-v2"
) -> Iterator[tuple[str, int]]:
    path = folder / "litellm.yaml"
    path.write_text(LITELLM_YAML.format(url=up.url("ok"), strategy=strategy))
    port = c.free_port()
    exe = Path(sys.executable).parent / "litellm"
    env = _clean_env(
        {
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "LITELLM_LOG": "ERROR",
            "DISABLE_SCHEMA_UPDATE": "True",
            "LITELLM_TELEMETRY": "False",
            "LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY": "true",
        }
    )
    env.pop("DATABASE_URL", None)
    log = (folder / "litellm.log").open("w")
    proc = subprocess.Popen(
        [
            str(exe),
            "--config",
            str(path),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--num_workers",
            "1",
        ],
        cwd=folder,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        c.wait_port(port, timeout=180, proc=proc)
        yield f"http://127.0.0.1:{port}/v1", proc.pid
    finally:
        c.stop(proc)
        log.close()


def sequential(targets: dict[str, str], *, rounds: int, calls: int, warmup: int) -> dict[str, Any]:
    import httpx

    client = httpx.Client(headers={"authorization": "Bearer sk-bench"}, timeout=30)
    body = c.json_body("auto")

    def caller(url: str) -> Callable[[], object]:
        def call() -> object:
            r = client.post(url + "/chat/completions", json=body)
            r.raise_for_status()
            return r.json()

        return call

    medians = c.interleaved(
        {name: caller(url) for name, url in targets.items()},
        rounds=rounds,
        calls=calls,
        warmup=warmup,
    )
    client.close()
    return {
        "latency_us": {n: c.spread(v) for n, v in medians.items()},
        "overhead_us": c.overheads(medians, "direct"),
    }


async def _load(url: str, *, concurrency: int, total: int) -> dict[str, Any]:
    import aiohttp

    body = c.json_body("auto")
    latencies: list[float] = []
    errors = 0
    remaining = total
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(
        connector=connector, headers={"authorization": "Bearer sk-bench"}
    ) as session:

        async def worker() -> None:
            nonlocal remaining, errors
            while remaining > 0:
                remaining -= 1
                t0 = time.perf_counter_ns()
                async with session.post(url + "/chat/completions", json=body) as resp:
                    await resp.read()
                    if resp.status != 200:
                        errors += 1
                latencies.append((time.perf_counter_ns() - t0) / 1e6)

        # warm the pool, then measure
        remaining = concurrency * 2
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        latencies.clear()
        errors = 0
        remaining = total
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return {
        "requests": total,
        "errors": errors,
        "seconds": elapsed,
        "rps": total / elapsed,
        "p50_ms": c.percentile(latencies, 50),
        "p99_ms": c.percentile(latencies, 99),
        "mean_ms": statistics.fmean(latencies),
    }


def throughput(url: str, *, concurrency: int, total: int) -> dict[str, Any]:
    return asyncio.run(_load(url, concurrency=concurrency, total=total))


def run(
    *,
    rounds: int = 10,
    calls: int = 200,
    warmup: int = 100,
    concurrency: int = 64,
    total: int = 2000,
    peers: bool = True,
    state: str = "sqlite",
    out_dir: Path | None = None,
    out: str = "",
) -> dict[str, Any]:
    skipped = c.peers_missing_reason() if peers else "not asked (--no-peers)"
    result: dict[str, Any] = {
        "question": "gateway overhead and throughput",
        "upstream": "bench.upstream (raw asyncio, own process)",
        "state": state,
        "rounds": rounds,
        "calls_per_round": calls,
        "peers_skipped": skipped,
        "sequential": {"latency_us": {}, "overhead_us": {}},
        "throughput": {},
        "rss_mb": {},
        "concurrency": concurrency,
    }
    seq = result["sequential"]
    with c.upstream() as up:
        result["throughput"]["direct"] = throughput(
            up.url("ok"), concurrency=concurrency, total=total
        )
        servers: dict[str, Callable[[Path], Any]] = {
            "forwarder": lambda folder: forwarder(up, folder),
            "llmswitch": lambda folder: llmswitch_gateway(
                up, folder, "memory://" if state == "memory" else f"sqlite:///{folder / 'state.db'}"
            ),
        }
        if skipped is None:
            servers["litellm-proxy"] = lambda folder: litellm_proxy(up, folder)
        for name, server in servers.items():  # one server alive at a time: no idle neighbour
            with tempfile.TemporaryDirectory() as tmp, server(Path(tmp)) as (url, pid):
                s = sequential(
                    {"direct": up.url("ok"), name: url}, rounds=rounds, calls=calls, warmup=warmup
                )
                seq["latency_us"].setdefault("direct", s["latency_us"]["direct"])
                seq["latency_us"][name] = s["latency_us"][name]
                seq["overhead_us"][name] = s["overhead_us"][name]
                cpu_before = c.cpu_seconds(pid)
                result["throughput"][name] = throughput(url, concurrency=concurrency, total=total)
                cpu = c.cpu_seconds(pid) - cpu_before  # the warm-up requests included
                served = total + 2 * concurrency
                result["throughput"][name]["cpu_us_per_request"] = cpu / served * 1e6
                result["rss_mb"][name] = c.rss_mb(pid)
    c.write_result(out or ("gateway" if state == "sqlite" else f"gateway_{state}"), result, out_dir)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="Q2: gateway overhead and throughput")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--total", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--state", choices=["sqlite", "memory"], default="sqlite")
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--out", default="", help="bench/results/OUT.json (default by state)")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="only profile 1,000 sequential calls through llmswitch serve",
    )
    args = parser.parse_args()
    if args.profile:
        profile_gateway(1000, c.RESULTS / "profile_gateway_llmswitch.txt")
        return
    r = run(
        rounds=args.rounds,
        calls=args.calls,
        total=args.total,
        state=args.state,
        concurrency=args.concurrency,
        peers=not args.no_peers,
        out=args.out,
    )
    for name, s in r["sequential"]["latency_us"].items():
        o = r["sequential"]["overhead_us"].get(name)
        extra = f" overhead {o['median']:.0f} us [{o['min']:.0f}, {o['max']:.0f}]" if o else ""
        print(f"{name:14s} sequential {s['median']:8.0f} us{extra}")
    for name, t in r["throughput"].items():
        print(
            f"{name:14s} {t['rps']:7.0f} req/s p50 {t['p50_ms']:.1f} ms p99 {t['p99_ms']:.1f} ms "
            f"errors {t['errors']} cpu {t.get('cpu_us_per_request', 0):.0f} us/request "
            f"rss {r['rss_mb'].get(name, 0):.0f} MB"
        )


if __name__ == "__main__":
    main()
