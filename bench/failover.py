"""Question 4: failover cost, and requests sent to a provider during its cooldown.

Two providers on the fast bench upstream: the primary fails at once (``/fail500``: 500;
``/fail429``: 429 with ``retry-after: 1``) or hangs (``/hang``, cut by ``timeout_seconds``); the
fallback answers (``/ok``). The manager lives on a ``FakeClock`` that only drives cooldowns and
windows: before each timed call it moves past the cooldown, so every call meets the failing
primary (as a half-open probe), fails over and is served by the fallback. Latency is measured
with ``perf_counter``.

Added latency = failover call - the failed attempt itself (a plain httpx call to the failing
endpoint; for a hang, a plain httpx call cut by the same timeout) - a plain httpx call to the
fallback, per round. The library's failover warnings are silenced (as LiteLLM's are): printing
them to stderr is the application's logging choice, not the router's cost.

Cooldown: on the fake clock, the primary fails once; 100 calls during its 300 s cooldown; then,
once it is over, 16 concurrent calls: the primary may see exactly one request (the probe).

Run: ``.venv-bench/bin/python -m bench.failover [--rounds 10 --calls 100]``
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import statistics
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench import _common as c

HANG_TIMEOUT = 0.1
COOLDOWN = 300.0


def manager(up: c.Upstream, mode: str, *, timeout: float = 5.0) -> tuple[Any, Any]:
    from llmswitch.clock import FakeClock

    clock = FakeClock()
    providers = {
        "primary": c.openai_provider(up.url(mode), priority=1, keys=["BENCH_PRIMARY_KEY"]),
        "backup": c.openai_provider(up.url("ok"), priority=2, keys=["BENCH_BACKUP_KEY"]),
    }
    m = c.make_manager(
        providers,
        manager_kwargs={"clock": clock, "sleep": clock.sleep},
        cooldown_seconds=COOLDOWN,
        timeout_seconds=timeout,
    )
    return m, clock


def _served_by_backup(m: Any, clock: Any) -> Callable[[], object]:
    def call() -> object:
        clock.advance(COOLDOWN + 1)  # past any cooldown or block: the primary is tried again
        result = m.chat(c.HELLO, max_tokens=c.MAX_TOKENS)
        assert result.provider == "backup", result.attempts
        return result

    return call


def lite_failover(up: c.Upstream, mode: str) -> Callable[[], object]:
    litellm = c.quiet_litellm()
    router = litellm.Router(
        model_list=[
            {"model_name": "primary", "litellm_params": {
                "model": "openai/bench-model", "api_base": up.url(mode), "api_key": "sk-1"}},
            {"model_name": "backup", "litellm_params": {
                "model": "openai/bench-model", "api_base": up.url("ok"), "api_key": "sk-2"}},
        ],
        fallbacks=[{"primary": ["backup"]}],
        num_retries=0,
        timeout=HANG_TIMEOUT if mode == "hang" else 5.0,
        disable_cooldowns=True,  # every call meets the failing primary, as ours do above
    )
    return lambda: router.completion(model="primary", messages=c.HELLO, max_tokens=c.MAX_TOKENS)


def latency(up: c.Upstream, *, rounds: int, calls: int, peers: bool) -> dict[str, Any]:
    import httpx

    client = httpx.Client(headers={"authorization": "Bearer sk-bench"})
    body = c.json_body()

    def plain(mode: str) -> Callable[[], object]:
        return lambda: client.post(up.url(mode) + "/chat/completions", json=body).content

    def plain_hang() -> object:
        try:
            return client.post(up.url("hang") + "/chat/completions", json=body,
                               timeout=HANG_TIMEOUT)
        except httpx.TimeoutException as exc:
            return exc

    fns: dict[str, Callable[[], object]] = {
        "httpx-ok": plain("ok"), "httpx-fail500": plain("fail500"),
        "httpx-fail429": plain("fail429"), "httpx-hang": plain_hang,
    }
    managers = []
    for mode in ("fail500", "fail429", "hang"):
        m, clock = manager(up, mode, timeout=HANG_TIMEOUT if mode == "hang" else 5.0)
        managers.append(m)
        fns[f"llmswitch-{mode}"] = _served_by_backup(m, clock)
        if peers:
            fns[f"litellm-{mode}"] = lite_failover(up, mode)
    all_calls: dict[str, list[float]] = {n: [] for n in fns}
    medians: dict[str, list[float]] = {n: [] for n in fns}
    for fn in fns.values():
        c.time_calls(fn, 5)
    for r in range(rounds):
        names = list(fns)
        for name in names[r % len(names):] + names[: r % len(names)]:
            n = max(3, calls // 10) if name.endswith("hang") else calls
            t = c.time_calls(fns[name], n)
            all_calls[name] += t
            medians[name].append(statistics.median(t))
    for m in managers:
        m.close()
    out: dict[str, Any] = {"calls_us": {}, "added_us": {}}
    for name, values in all_calls.items():
        out["calls_us"][name] = {"p50": c.percentile(values, 50), "p99": c.percentile(values, 99),
                                 "n": len(values)}
    ok = medians["httpx-ok"]
    for name in fns:
        if name.startswith("httpx"):
            continue
        mode = name.split("-", 1)[1]
        failed = medians[f"httpx-{mode}"]
        added = [v - f - o for v, f, o in zip(medians[name], failed, ok, strict=True)]
        base = statistics.median(failed) + statistics.median(ok)
        out["added_us"][name] = {
            **c.spread(added),
            "p50": c.percentile(all_calls[name], 50) - base,
            "p99": c.percentile(all_calls[name], 99) - base,
        }
    return out


def cooldown(up: c.Upstream, mode: str, *, during: int = 100, burst: int = 16) -> dict[str, Any]:
    """Primary requests during the cooldown (want 0) and in a burst after it (want 1, the probe)."""
    m, clock = manager(up, mode, timeout=HANG_TIMEOUT if mode == "hang" else 5.0)
    up.reset()
    try:
        m.chat(c.HELLO, max_tokens=c.MAX_TOKENS)
        first = up.counts().get(mode, 0)
        step = (1.0 if mode == "fail429" else COOLDOWN) * 0.9 / during  # stay inside the window
        for _ in range(during):
            clock.advance(step)
            m.chat(c.HELLO, max_tokens=c.MAX_TOKENS)
        during_count = up.counts().get(mode, 0) - first
        clock.advance(COOLDOWN + 1)
        with ThreadPoolExecutor(burst) as pool:
            served = list(pool.map(lambda _: m.chat(c.HELLO, max_tokens=c.MAX_TOKENS).provider,
                                   range(burst)))
        burst_count = up.counts().get(mode, 0) - first - during_count
    finally:
        m.close()
    return {"first_failure": first, "during_cooldown": during_count,
            "calls_during": during, "after_cooldown_burst": burst_count, "burst": burst,
            "served_in_burst": {p: served.count(p) for p in set(served)}}


def lite_cooldown(up: c.Upstream, *, during: int = 100, burst: int = 16) -> dict[str, Any]:
    """LiteLLM with cooldowns on (its defaults, 5 s): the same count in real time."""
    litellm = c.quiet_litellm()
    router = litellm.Router(
        model_list=[
            {"model_name": "auto", "litellm_params": {
                "model": "openai/bench-model", "api_base": up.url("fail500"), "api_key": "sk-1",
                "order": 1}},
            {"model_name": "auto", "litellm_params": {
                "model": "openai/bench-model", "api_base": up.url("ok"), "api_key": "sk-2",
                "order": 2}},
        ],
        num_retries=1, allowed_fails=0, cooldown_time=5,
    )

    def call() -> Any:
        return router.completion(model="auto", messages=c.HELLO, max_tokens=c.MAX_TOKENS)

    up.reset()
    errors = 0
    try:
        call()
    except Exception:
        errors += 1
    first = up.counts().get("fail500", 0)
    start = time.monotonic()
    done = 0
    while done < during and time.monotonic() - start < 4.0:
        try:
            call()
        except Exception:
            errors += 1
        done += 1
    during_count = up.counts().get("fail500", 0) - first
    time.sleep(max(0.0, 5.5 - (time.monotonic() - start)))
    with ThreadPoolExecutor(burst) as pool:
        outcomes = list(pool.map(lambda _: _ok(call), range(burst)))
    errors += outcomes.count(False)
    burst_count = up.counts().get("fail500", 0) - first - during_count
    return {"first_failure": first, "during_cooldown": during_count, "calls_during": done,
            "after_cooldown_burst": burst_count, "burst": burst, "errors": errors}


def _ok(fn: Callable[[], object]) -> bool:
    try:
        fn()
    except Exception:
        return False
    return True


@contextlib.contextmanager
def _quiet_logs() -> Iterator[None]:
    """The library's failover warnings off for the run, then back as they were."""
    logger = logging.getLogger("llmswitch")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def run(*, rounds: int = 10, calls: int = 100, peers: bool = True,
        out_dir: Path | None = None) -> dict[str, Any]:
    skipped = c.peers_missing_reason() if peers else "not asked (--no-peers)"
    with _quiet_logs(), c.upstream() as up:
        result: dict[str, Any] = {
            "question": "failover cost",
            "upstream": "bench.upstream (raw asyncio, own process)",
            "hang_timeout_s": HANG_TIMEOUT,
            "rounds": rounds,
            "calls_per_round": calls,
            "peers_skipped": skipped,
            "latency": latency(up, rounds=rounds, calls=calls, peers=skipped is None),
            "cooldown": {f"llmswitch-{mode}": cooldown(up, mode)
                         for mode in ("fail500", "fail429", "hang")},
        }
        if skipped is None:
            result["cooldown"]["litellm-fail500"] = lite_cooldown(up)
    c.write_result("failover", result, out_dir)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="Q4: failover cost")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--no-peers", action="store_true")
    args = parser.parse_args()
    r = run(rounds=args.rounds, calls=args.calls, peers=not args.no_peers)
    for name, a in r["latency"]["added_us"].items():
        print(f"{name:20s} added median {a['median']:8.0f} us  p50 {a['p50']:8.0f}  "
              f"p99 {a['p99']:8.0f}")
    for name, cd in r["cooldown"].items():
        print(f"{name:20s} cooldown: {cd}")


if __name__ == "__main__":
    main()
