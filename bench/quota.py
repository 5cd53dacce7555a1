"""Question 3: quota accuracy, against the simulator that enforces real limits and counts 429s.

The seed's rate-limit scenario: a 30/min primary (the simulated Groq) and a 60/min fallback (the
simulated Gemini, its OpenAI-compatible endpoint for both sides), 100 requests at concurrency 16,
so 10 requests more than a minute holds. Then the same 100 requests from 4 processes x 4 threads
sharing state (llmswitch: SQLite; LiteLLM: its Redis support, ``redis_host``).

Counted: the 429s the upstream had to send (each is an overshoot of a limit by the client), the
errors the caller saw, and who served what. llmswitch runs with ``max_wait_seconds = 90`` (wait
for the earliest window to free rather than fail); LiteLLM with its best-suited documented
settings: ``usage-based-routing-v2`` with ``rpm`` per deployment, ``num_retries=3``.

Run: ``.venv-bench/bin/python -m bench.quota`` (about four minutes: each run lives through a
real minute). The simulator is ``llmswitch simulate`` in its own process, on the system clock.
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from bench import _common as c

PRIMARY_MODEL = "openai/gpt-oss-120b"
FALLBACK_MODEL = "gemini-3.6-flash"


def _sim_requests(sim_url: str, provider: str) -> list[dict[str, Any]]:
    r = httpx.get(f"{sim_url}/_sim/requests", params={"provider": provider})
    return list(r.json()["requests"])


def prepare_sim(sim_url: str) -> None:
    """Forget earlier traffic; requests per minute are the only binding limits."""
    httpx.post(f"{sim_url}/_sim/reset").raise_for_status()
    for provider in ("groq", "gemini"):
        body = {"provider": provider, "tpm": 0}
        httpx.post(f"{sim_url}/_sim/limits", json=body).raise_for_status()


def count_429(sim_url: str) -> dict[str, int]:
    return {
        p: sum(1 for r in _sim_requests(sim_url, p) if r["status"] == 429)
        for p in ("groq", "gemini")
    }


def sent(sim_url: str) -> dict[str, int]:
    return {p: len(_sim_requests(sim_url, p)) for p in ("groq", "gemini")}


# -- llmswitch --------------------------------------------------------------------------------


def apply_minute_guard(seconds: float) -> None:
    """Experiment (``--minute-guard``): hold each request ``seconds`` past its sliding minute at
    admission, the fix proposed in bench/README.md, patched in without changing the library."""
    if not seconds:
        return
    import dataclasses

    from llmswitch import _attempts as attempts
    from llmswitch import _quota as quota

    original = quota.admission_windows

    def guarded(windows: Any, daily_soft_limit: float) -> tuple[Any, ...]:
        return tuple(
            dataclasses.replace(w, period=w.period + seconds)
            if w.period == quota.MINUTE and w.rolling
            else w
            for w in original(windows, daily_soft_limit)
        )

    attempts.admission_windows = guarded  # type: ignore[assignment]


def ours_manager(sim_url: str, state: str, **manager_kwargs: Any) -> Any:
    providers = {
        "groq": {
            "base_url": f"{sim_url}/groq/openai/v1",
            "tokens_per_minute": 0,
            "requests_per_minute": 30,
            "priority": 1,
        },
        "gemini": {
            "api": "openai",
            "base_url": f"{sim_url}/gemini/v1beta/openai",
            "tokens_per_minute": 0,
            "requests_per_minute": 60,
            "priority": 2,
        },
    }
    env = {"GROQ_API_KEY": "gsk_bench_quota_1", "GEMINI_API_KEY": "bench-gemini-quota-1"}
    return c.make_manager(
        providers,
        state=state,
        env=env,
        manager_kwargs=manager_kwargs,
        max_wait_seconds=90,
        strategy="priority",
    )


def _fire(call: Callable[[int], str], *, requests: int, threads: int) -> dict[str, Any]:
    served: collections.Counter[str] = collections.Counter()
    errors: collections.Counter[str] = collections.Counter()
    samples: dict[str, str] = {}

    def one(n: int) -> None:
        try:
            served[call(n)] += 1
        except Exception as exc:
            errors[type(exc).__name__] += 1
            samples.setdefault(type(exc).__name__, str(exc)[:300])

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(one, range(requests)))
    return {
        "served": dict(served),
        "errors": dict(errors),
        "error_samples": samples,
        "seconds": time.perf_counter() - start,
    }


def ours_fire(manager: Any, *, requests: int, threads: int) -> dict[str, Any]:
    def call(n: int) -> str:
        msgs = [{"role": "user", "content": f"request {n}"}]
        return str(manager.chat(msgs, max_tokens=c.MAX_TOKENS).provider)

    return _fire(call, requests=requests, threads=threads)


def ours_single(
    sim_url: str,
    *,
    requests: int = 100,
    threads: int = 16,
    state: str = "memory://",
    **manager_kwargs: Any,
) -> dict[str, Any]:
    prepare_sim(sim_url)
    manager = ours_manager(sim_url, state, **manager_kwargs)
    try:
        out = ours_fire(manager, requests=requests, threads=threads)
    finally:
        manager.close()
    return {**out, "upstream_429": count_429(sim_url), "sent": sent(sim_url)}


def _ours_worker(
    sim_url: str, arg: tuple[str, float], requests: int, threads: int, barrier: Any, queue: Any
) -> None:
    state, guard = arg
    apply_minute_guard(guard)
    manager = ours_manager(sim_url, state)
    barrier.wait()
    queue.put(ours_fire(manager, requests=requests, threads=threads))
    manager.close()


def _lite_worker(
    sim_url: str, redis: bool, requests: int, threads: int, barrier: Any, queue: Any
) -> None:
    router = lite_router(sim_url, redis=redis)
    barrier.wait()
    queue.put(lite_fire(router, requests=requests, threads=threads))


def multi_process(
    worker: Callable[..., None],
    sim_url: str,
    arg: Any,
    *,
    processes: int = 4,
    requests: int = 100,
    threads: int = 4,
) -> dict[str, Any]:
    prepare_sim(sim_url)
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(processes)
    queue = ctx.Queue()
    per = requests // processes
    procs = [
        ctx.Process(target=worker, args=(sim_url, arg, per, threads, barrier, queue))
        for _ in range(processes)
    ]
    for p in procs:
        p.start()
    parts = [queue.get(timeout=600) for _ in procs]
    for p in procs:
        p.join(30)
    served: collections.Counter[str] = collections.Counter()
    errors: collections.Counter[str] = collections.Counter()
    samples: dict[str, str] = {}
    for part in parts:
        served.update(part["served"])
        errors.update(part["errors"])
        samples.update(part["error_samples"])
    return {
        "served": dict(served),
        "errors": dict(errors),
        "error_samples": samples,
        "seconds": max(p["seconds"] for p in parts),
        "upstream_429": count_429(sim_url),
        "sent": sent(sim_url),
    }


# -- LiteLLM ------------------------------------------------------------------------------------


def lite_router(sim_url: str, *, redis: bool = False) -> Any:
    litellm = c.quiet_litellm()
    model_list = [
        {
            "model_name": "auto",
            "litellm_params": {
                "model": f"openai/{PRIMARY_MODEL}",
                "api_base": f"{sim_url}/groq/openai/v1",
                "api_key": "gsk_bench_quota_2",
                "rpm": 30,
                "order": 1,
            },
        },
        {
            "model_name": "auto",
            "litellm_params": {
                "model": f"openai/{FALLBACK_MODEL}",
                "api_base": f"{sim_url}/gemini/v1beta/openai",
                "api_key": "bench-gemini-quota-2",
                "rpm": 60,
                "order": 2,
            },
        },
    ]
    extra: dict[str, Any] = {"redis_host": "127.0.0.1", "redis_port": 6379} if redis else {}
    return litellm.Router(
        model_list=model_list,
        routing_strategy="usage-based-routing-v2",
        num_retries=3,
        timeout=30,
        **extra,
    )


def lite_fire(router: Any, *, requests: int, threads: int) -> dict[str, Any]:
    def call(n: int) -> str:
        msgs = [{"role": "user", "content": f"request {n}"}]
        resp = router.completion(model="auto", messages=msgs, max_tokens=c.MAX_TOKENS)
        return "gemini" if "gemini" in str(resp.model) else "groq"

    return _fire(call, requests=requests, threads=threads)


def lite_single(sim_url: str, *, requests: int = 100, threads: int = 16) -> dict[str, Any]:
    prepare_sim(sim_url)
    out = lite_fire(lite_router(sim_url), requests=requests, threads=threads)
    return {**out, "upstream_429": count_429(sim_url), "sent": sent(sim_url)}


def _flush_redis() -> None:
    import redis

    redis.Redis(host="127.0.0.1", port=6379).flushdb()


def run(
    *,
    peers: bool = True,
    out_dir: Path | None = None,
    requests: int = 100,
    minute_guard: float = 0.0,
) -> dict[str, Any]:
    apply_minute_guard(minute_guard)
    tag = f", minute guard {minute_guard:g} s" if minute_guard else ""
    result: dict[str, Any] = {
        "question": "quota accuracy",
        "scenario": f"{requests} requests, 30/min primary + 60/min fallback",
        "runs": {},
    }
    skipped = c.peers_missing_reason() if peers else "not asked (--no-peers)"
    result["peers_skipped"] = skipped
    with c.simulator_process() as sim, tempfile.TemporaryDirectory() as tmp:
        runs = result["runs"]
        runs[f"llmswitch, 1 process x 16 threads, memory{tag}"] = ours_single(
            sim.base_url, requests=requests
        )
        runs[f"llmswitch, 4 processes x 4 threads, sqlite{tag}"] = multi_process(
            _ours_worker,
            sim.base_url,
            (f"sqlite:///{Path(tmp) / 'shared.db'}", minute_guard),
            requests=requests,
        )
        if skipped is None:
            runs["litellm, 1 process x 16 threads"] = lite_single(sim.base_url, requests=requests)
            _flush_redis()
            runs["litellm, 4 processes x 4 threads, redis"] = multi_process(
                _lite_worker, sim.base_url, True, requests=requests
            )
    c.write_result("quota_minute_guard" if minute_guard else "quota", result, out_dir)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="Q3: quota accuracy")
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument(
        "--minute-guard",
        type=float,
        default=0.0,
        help="experiment: the proposed admission margin, seconds (our side only)",
    )
    args = parser.parse_args()
    r = run(peers=not args.no_peers and not args.minute_guard, minute_guard=args.minute_guard)
    for name, v in r["runs"].items():
        print(
            f"{name:45s} 429s {v['upstream_429']} errors {v['errors']} served {v['served']} "
            f"in {v['seconds']:.1f}s"
        )


if __name__ == "__main__":
    main()
