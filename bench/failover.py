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

Continued stream: a groq stream cut after 3 chunks (simulator process, ``cut_stream``), continued
on the next model that takes an assistant prefill; the gap from the cut to the first continued
chunk, against a plain httpx stream with the same prefill. LiteLLM has no equivalent.

Run: ``.venv-bench/bin/python -m bench.failover [--rounds 10 --calls 100 --stream-calls 30]``
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
    from llmswitch._clock import FakeClock

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
            {
                "model_name": "primary",
                "litellm_params": {
                    "model": "openai/bench-model",
                    "api_base": up.url(mode),
                    "api_key": "sk-1",
                },
            },
            {
                "model_name": "backup",
                "litellm_params": {
                    "model": "openai/bench-model",
                    "api_base": up.url("ok"),
                    "api_key": "sk-2",
                },
            },
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
            return client.post(
                up.url("hang") + "/chat/completions", json=body, timeout=HANG_TIMEOUT
            )
        except httpx.TimeoutException as exc:
            return exc

    fns: dict[str, Callable[[], object]] = {
        "httpx-ok": plain("ok"),
        "httpx-fail500": plain("fail500"),
        "httpx-fail429": plain("fail429"),
        "httpx-hang": plain_hang,
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
        for name in names[r % len(names) :] + names[: r % len(names)]:
            n = max(3, calls // 10) if name.endswith("hang") else calls
            t = c.time_calls(fns[name], n)
            all_calls[name] += t
            medians[name].append(statistics.median(t))
    for m in managers:
        m.close()
    out: dict[str, Any] = {"calls_us": {}, "added_us": {}}
    for name, values in all_calls.items():
        out["calls_us"][name] = {
            "p50": c.percentile(values, 50),
            "p99": c.percentile(values, 99),
            "n": len(values),
        }
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
            served = list(
                pool.map(lambda _: m.chat(c.HELLO, max_tokens=c.MAX_TOKENS).provider, range(burst))
            )
        burst_count = up.counts().get(mode, 0) - first - during_count
    finally:
        m.close()
    return {
        "first_failure": first,
        "during_cooldown": during_count,
        "calls_during": during,
        "after_cooldown_burst": burst_count,
        "burst": burst,
        "served_in_burst": {p: served.count(p) for p in set(served)},
    }


def lite_cooldown(up: c.Upstream, *, during: int = 100, burst: int = 16) -> dict[str, Any]:
    """LiteLLM with cooldowns on (its defaults, 5 s): the same count in real time."""
    litellm = c.quiet_litellm()
    router = litellm.Router(
        model_list=[
            {
                "model_name": "auto",
                "litellm_params": {
                    "model": "openai/bench-model",
                    "api_base": up.url("fail500"),
                    "api_key": "sk-1",
                    "order": 1,
                },
            },
            {
                "model_name": "auto",
                "litellm_params": {
                    "model": "openai/bench-model",
                    "api_base": up.url("ok"),
                    "api_key": "sk-2",
                    "order": 2,
                },
            },
        ],
        num_retries=1,
        allowed_fails=0,
        cooldown_time=5,
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
    return {
        "first_failure": first,
        "during_cooldown": during_count,
        "calls_during": done,
        "after_cooldown_burst": burst_count,
        "burst": burst,
        "errors": errors,
    }


# -- continued stream ------------------------------------------------------------------------

CUT_AFTER = 3
SIM_KEYS = {
    "GROQ_API_KEY": "gsk_bench_groq_key_0001",
    "GEMINI_API_KEY": "AIzaSy_bench_gemini_key_0002",
    "OPENROUTER_API_KEY": "sk-or-v1-bench_openrouter_0003",
}
OFF = {"requests_per_minute": 0, "requests_per_day": 0, "tokens_per_minute": 0, "tokens_per_day": 0}


def _continuing_manager(sim: c.Sim, *, setting: bool) -> tuple[Any, Any]:
    """Groq, Gemini (native), OpenRouter on the simulator process; our own windows off."""
    from llmswitch._clock import FakeClock
    from llmswitch.simulator.catalog import GEMINI_NATIVE_PREFIX, OPENAI_PREFIX

    clock = FakeClock()
    urls = {
        "groq": sim.base_url + OPENAI_PREFIX["groq"],
        "gemini": sim.base_url + GEMINI_NATIVE_PREFIX,
        "openrouter": sim.base_url + OPENAI_PREFIX["openrouter"],
    }
    providers = {
        name: {"base_url": url, "api_key_env": [f"{name.upper()}_API_KEY"], **OFF}
        for name, url in urls.items()
    }
    settings: dict[str, Any] = {"cooldown_seconds": COOLDOWN}
    if setting:
        settings["stream_continuation"] = True
    m = c.make_manager(
        providers, env=SIM_KEYS, manager_kwargs={"clock": clock, "sleep": clock.sleep}, **settings
    )
    return m, clock


def continued_stream(*, calls: int = 30, peers: bool = True) -> dict[str, Any]:
    """A groq stream cut after ``CUT_AFTER`` chunks, continued on the next prefill-capable model.

    Gap = from the last chunk of the cut attempt to the first chunk of the continuing one, as the
    caller sees them. Baseline = a plain httpx stream to the continuing provider with the same
    assistant prefill, request to its first content chunk. Added = gap - baseline (per call
    medians). Each call checks the caller got one answer: the joined chunks equal the final
    ``result.text``, start with the cut part, and the attempts are the cut one and a continued one.
    """
    import httpx

    with c.simulator_process() as sim:
        for name in ("groq", "gemini", "openrouter"):  # the simulator's free-tier windows off
            sim.control(
                "POST", "limits", provider=name, rpm=10**6, rpd=10**8, tpm=10**9, tpd=10**10
            )
        sim.control(
            "POST",
            "faults",
            provider="groq",
            fault={"kind": "cut_stream", "after_chunks": CUT_AFTER},
        )
        gaps: list[float] = []
        outcomes: list[list[tuple[str, str, bool]]] = []
        checks = {
            "one_answer": 0,
            "continued_flag": 0,
            "same_words_as_uncut": 0,
            "same_string_as_uncut": 0,
        }
        cut_chunks = 0
        sample: dict[str, Any] = {}
        prefix_text = ""
        for how in ("request", "setting"):
            m, clock = _continuing_manager(sim, setting=how == "setting")
            opts = {"continuation": True} if how == "request" else {}
            # The answer the cut stream would have given uncut (cut_stream spares non-streams).
            expected = m.chat(c.HELLO, max_tokens=60).text
            n = calls if how == "request" else max(3, calls // 5)
            try:
                for i in range(n + 3):
                    clock.advance(COOLDOWN + 1)
                    stamps: list[tuple[float, str, str]] = []
                    final = None
                    for chunk in m.stream(c.HELLO, max_tokens=60, **opts):
                        stamps.append((time.perf_counter_ns() / 1000, chunk.provider, chunk.text))
                        if chunk.result is not None:
                            final = chunk.result
                    assert final is not None
                    text = "".join(t for _, _, t in stamps)
                    cut = [s for s in stamps if s[1] == "groq" and s[2]]
                    cont = [s for s in stamps if s[1] != "groq" and s[2]]
                    prefix_text = "".join(s[2] for s in cut)
                    trail = [(a.provider, a.outcome, a.continued) for a in final.attempts]
                    one = text == final.text and text.startswith(prefix_text) and bool(cont)
                    seam = text.split() == expected.split()
                    exact = text == expected
                    flag = (
                        trail[0][0] == "groq"
                        and trail[0][1] != "ok"
                        and trail[-1][1] == "ok"
                        and trail[-1][2]
                    )
                    if i < 3:  # warm-up
                        continue
                    checks["one_answer"] += one
                    checks["same_words_as_uncut"] += seam
                    checks["same_string_as_uncut"] += exact
                    cut_chunks = len(cut)
                    checks["continued_flag"] += flag
                    if how == "request":
                        gaps.append(cont[0][0] - cut[-1][0])
                    outcomes.append(trail)
                    sample = {
                        "text": text,
                        "cut_part": prefix_text,
                        "attempts": trail,
                        "provider": final.provider,
                        "model": final.model,
                    }
            finally:
                m.close()
        # Baseline: plain httpx, the same continuation request straight to the continuing model.
        model = sample["model"]
        body = {
            "model": model,
            "stream": True,
            "max_tokens": 60,
            "messages": [*c.HELLO, {"role": "assistant", "content": prefix_text}],
        }
        from llmswitch.simulator.catalog import OPENAI_PREFIX

        who = sample["provider"]
        url = sim.base_url + OPENAI_PREFIX[who] + "/chat/completions"
        key = SIM_KEYS[f"{who.upper()}_API_KEY"]
        base: list[float] = []
        with httpx.Client(headers={"authorization": f"Bearer {key}"}) as client:
            for i in range(calls + 3):
                t0 = time.perf_counter_ns() / 1000
                first = None
                with client.stream("POST", url, json=body) as r:
                    for line in r.iter_lines():
                        if first is None and line.startswith("data: {") and '"content"' in line:
                            first = time.perf_counter_ns() / 1000 - t0
                if i >= 3 and first is not None:
                    base.append(first)
    gap_med, base_med = statistics.median(gaps), statistics.median(base)
    distinct = sorted({tuple(map(tuple, t)) for t in outcomes})
    return {
        "fault": {"provider": "groq", "kind": "cut_stream", "after_chunks": CUT_AFTER},
        "calls": len(gaps),
        "calls_with_setting": len(outcomes) - len(gaps),
        "cut_to_first_continued_chunk_us": {
            "p50": gap_med,
            "p99": c.percentile(gaps, 99),
            "min": min(gaps),
            "max": max(gaps),
        },
        "plain_httpx_first_chunk_us": {"p50": base_med, "p99": c.percentile(base, 99)},
        "added_us_p50": gap_med - base_med,
        "content_chunks_before_cut": cut_chunks,
        "one_uninterrupted_answer": f"{checks['one_answer']} of {len(outcomes)}",
        "same_words_as_uncut_answer": f"{checks['same_words_as_uncut']} of {len(outcomes)}",
        "same_string_as_uncut_answer": f"{checks['same_string_as_uncut']} of {len(outcomes)}",
        "uncut_answer": expected,
        "attempts_cut_then_continued": f"{checks['continued_flag']} of {len(outcomes)}",
        "attempt_trails": [list(t) for t in distinct],
        "sample": sample,
        "litellm": (
            "not supported (no stream continuation; LiteLLM issue #27967)"
            if peers
            else "not asked (--no-peers)"
        ),
    }


def profile_failover(
    mode: str = "fail500", n: int = 300, out_dir: Path | None = None
) -> str | None:
    """pyinstrument text of ``n`` failover calls (primary ``mode``, served by the backup)."""
    with _quiet_logs(), c.upstream() as up:
        m, clock = manager(up, mode, timeout=HANG_TIMEOUT if mode == "hang" else 5.0)
        try:
            call = _served_by_backup(m, clock)
            c.time_calls(call, 20)  # warm
            path = (out_dir or c.RESULTS) / f"profile_failover_llmswitch-{mode}.txt"
            return c.profile(call, n, path)
        finally:
            m.close()


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


def run(
    *,
    rounds: int = 10,
    calls: int = 100,
    peers: bool = True,
    stream_calls: int = 30,
    out_dir: Path | None = None,
) -> dict[str, Any]:
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
            "cooldown": {
                f"llmswitch-{mode}": cooldown(up, mode) for mode in ("fail500", "fail429", "hang")
            },
        }
        if skipped is None:
            result["cooldown"]["litellm-fail500"] = lite_cooldown(up)
    with _quiet_logs():
        result["continued_stream"] = continued_stream(calls=stream_calls, peers=peers)
    c.write_result("failover", result, out_dir)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="Q4: failover cost")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument(
        "--stream-calls",
        type=int,
        default=30,
        help="continued-stream calls (cut on groq after 3 chunks)",
    )
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument(
        "--profile",
        choices=("fail500", "fail429", "hang"),
        help="only profile failover calls with pyinstrument (no timing run)",
    )
    parser.add_argument("--profile-calls", type=int, default=300)
    args = parser.parse_args()
    if args.profile:
        text = profile_failover(args.profile, args.profile_calls)
        print(text if text is not None else "pyinstrument is not installed")
        return
    r = run(
        rounds=args.rounds,
        calls=args.calls,
        peers=not args.no_peers,
        stream_calls=args.stream_calls,
    )
    for name, a in r["latency"]["added_us"].items():
        print(
            f"{name:20s} added median {a['median']:8.0f} us  p50 {a['p50']:8.0f}  "
            f"p99 {a['p99']:8.0f}"
        )
    for name, cd in r["cooldown"].items():
        print(f"{name:20s} cooldown: {cd}")
    cs = {k: v for k, v in r["continued_stream"].items() if k not in ("sample", "uncut_answer")}
    print(f"continued stream: {cs}")


if __name__ == "__main__":
    main()
