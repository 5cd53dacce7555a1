"""Question 1: per-call overhead in process.

Sequential calls to the same zero-latency upstream (``bench.upstream``, its own process):

- ``httpx``: plain ``httpx.Client.post`` of the same JSON body, reply decoded (the baseline);
- ``llmswitch-memory`` / ``llmswitch-sqlite``: ``LLMProviderManager.chat`` over two providers
  (priority order, requests-per-minute windows set high enough never to bind), memory:// and
  sqlite:// state;
- ``llmswitch-redis``: the same on ``redis://`` (``--redis URL``, default the local
  127.0.0.1:6379/0, under a key prefix of its own that is deleted afterwards; left out when no
  Redis answers), and with ``--redis-before`` also ``llmswitch-redis-3trips``: the same manager
  with admission's one-script path turned off (``reserves_with_view``), i.e. the three round
  trips per call of before issue 17 (admission view, reserve, settle), in the same rounds;
- ``litellm-router``: ``litellm.Router.completion`` with the same two deployments (``rpm`` set,
  ``usage-based-routing-v2``, fallbacks), and ``litellm-router-shuffle`` (its default
  ``simple-shuffle``, its cheapest path) when LiteLLM is installed.

Overhead = a contender's round median minus the baseline's in the same round.

Run: ``.venv-bench/bin/python -m bench.overhead [--rounds 15 --calls 200] [--profile]``
(``.venv/bin/python -m bench.overhead --no-peers`` without LiteLLM; ``--out NAME`` writes
``bench/results/NAME.json`` instead of ``overhead.json``)
"""

from __future__ import annotations

import argparse
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import _common as c


def ours(up: c.Upstream, state: str) -> Any:
    providers = {
        "primary": c.openai_provider(up.url("ok"), priority=1, keys=["BENCH_PRIMARY_KEY"]),
        "backup": c.openai_provider(up.url("ok"), priority=2, keys=["BENCH_BACKUP_KEY"]),
    }
    return c.make_manager(providers, state=state)


def litellm_router(up: c.Upstream, strategy: str) -> Any:
    litellm = c.quiet_litellm()
    model_list = [
        {
            "model_name": "primary",
            "litellm_params": {
                "model": "openai/bench-model",
                "api_base": up.url("ok"),
                "api_key": "sk-bench-primary",
                "rpm": 1_000_000,
            },
        },
        {
            "model_name": "backup",
            "litellm_params": {
                "model": "openai/bench-model",
                "api_base": up.url("ok"),
                "api_key": "sk-bench-backup",
                "rpm": 1_000_000,
            },
        },
    ]
    return litellm.Router(
        model_list=model_list,
        routing_strategy=strategy,
        fallbacks=[{"primary": ["backup"]}],
        num_retries=0,
    )


def redis_missing_reason(url: str) -> str | None:
    """Why ``url`` cannot be benchmarked, or None when a Redis answers there."""
    try:
        import redis
    except ImportError:
        return "the redis package is not installed (pip install 'llmswitch[redis]')"
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
    try:
        client.ping()
    except redis.exceptions.RedisError as exc:
        return f"no Redis answers at {url} ({exc})"
    finally:
        client.close()
    return None


def redis_ping_us(url: str, n: int = 2000) -> float:
    """The median microseconds of one redis-py ``PING``: what one round trip costs here."""
    import statistics

    import redis

    client = redis.Redis.from_url(url)
    try:
        return statistics.median(c.time_calls(client.ping, n))
    finally:
        client.close()


def redis_contenders(
    up: c.Upstream, url: str, *, before: bool, closers: list[Callable[[], object]]
) -> dict[str, Callable[[], object]]:
    """``llmswitch-redis`` (and ``llmswitch-redis-3trips``), each under its own key prefix."""
    out: dict[str, Callable[[], object]] = {}
    names = ["llmswitch-redis", *(["llmswitch-redis-3trips"] if before else [])]
    for name in names:
        sep = "&" if "?" in url else "?"
        mgr = ours(up, f"{url}{sep}prefix=llmswitch-bench-{uuid.uuid4().hex[:12]}:")
        if name.endswith("3trips"):
            mgr.store.reserves_with_view = False  # admission_view, then reserve: as before
        closers += [mgr.store.reset, mgr.close]
        out[name] = lambda mgr=mgr: mgr.chat(c.HELLO, max_tokens=c.MAX_TOKENS)
    return out


def contenders(
    up: c.Upstream,
    folder: Path,
    *,
    peers: bool,
    closers: list[Callable[[], object]],
    redis_url: str | None = None,
    redis_before: bool = False,
) -> dict[str, Callable[[], object]]:
    import httpx

    client = httpx.Client(headers={"authorization": "Bearer sk-bench"})
    url = up.url("ok") + "/chat/completions"
    body = c.json_body()
    mem = ours(up, "memory://")
    sql = ours(up, f"sqlite:///{folder / 'state.db'}")
    closers += [client.close, mem.close, sql.close]
    out: dict[str, Callable[[], object]] = {
        "httpx": lambda: client.post(url, json=body).json(),
        "llmswitch-memory": lambda: mem.chat(c.HELLO, max_tokens=c.MAX_TOKENS),
        "llmswitch-sqlite": lambda: sql.chat(c.HELLO, max_tokens=c.MAX_TOKENS),
    }
    if redis_url is not None:
        out.update(redis_contenders(up, redis_url, before=redis_before, closers=closers))
    if peers and c.peers_missing_reason() is None:
        v2 = litellm_router(up, "usage-based-routing-v2")
        shuffle = litellm_router(up, "simple-shuffle")
        out["litellm-router"] = lambda: v2.completion(
            model="primary", messages=c.HELLO, max_tokens=c.MAX_TOKENS
        )
        out["litellm-router-shuffle"] = lambda: shuffle.completion(
            model="primary", messages=c.HELLO, max_tokens=c.MAX_TOKENS
        )
    return out


def run(
    *,
    rounds: int = 15,
    calls: int = 200,
    warmup: int = 100,
    peers: bool = True,
    profile_calls: int = 0,
    out_dir: Path | None = None,
    redis_url: str | None = None,
    redis_before: bool = False,
    out_name: str = "overhead",
    only: tuple[str, ...] = (),
) -> dict[str, Any]:
    redis_skipped = redis_missing_reason(redis_url) if redis_url else "not asked"
    with c.upstream() as up, tempfile.TemporaryDirectory() as tmp:
        closers: list[Callable[[], object]] = []
        fns = contenders(
            up,
            Path(tmp),
            peers=peers,
            closers=closers,
            redis_url=redis_url if redis_skipped is None else None,
            redis_before=redis_before,
        )
        if only:  # the baseline always runs: overheads are measured against it
            fns = {n: f for n, f in fns.items() if n == "httpx" or n in only}
        medians = c.interleaved(fns, rounds=rounds, calls=calls, warmup=warmup)
        result: dict[str, Any] = {
            "question": "per-call overhead in process",
            "upstream": "bench.upstream (raw asyncio, own process)",
            "rounds": rounds,
            "calls_per_round": calls,
            "redis": redis_url if redis_skipped is None else f"skipped: {redis_skipped}",
            "latency_us": {name: c.spread(v) for name, v in medians.items()},
            "overhead_us": c.overheads(medians, "httpx"),
            "round_medians_us": medians,  # per contender, round by round (paired comparisons)
        }
        if redis_url is not None and redis_skipped is None:
            result["redis_ping_us"] = redis_ping_us(redis_url)
        c.write_result(out_name, result, out_dir)
        if profile_calls:
            folder = out_dir or c.RESULTS
            for name in (
                "llmswitch-memory",
                "llmswitch-sqlite",
                "llmswitch-redis",
                "litellm-router",
            ):
                if name in fns:  # LiteLLM: a tenth as many calls, each is ten times longer
                    n = profile_calls // 10 if name.startswith("litellm") else profile_calls
                    c.profile(fns[name], n, folder / f"profile_overhead_{name}.txt")
        for close in closers:
            close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="Q1: per-call overhead in process")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--profile", action="store_true", help="pyinstrument 2,000 calls each")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="'' leaves it out")
    parser.add_argument("--redis-before", action="store_true", help="also the 3-trip path")
    parser.add_argument("--out", default="overhead", help="bench/results/OUT.json")
    parser.add_argument("--only", nargs="*", default=[], help="these contenders (and httpx)")
    args = parser.parse_args()
    result = run(
        rounds=args.rounds,
        calls=args.calls,
        peers=not args.no_peers,
        profile_calls=2000 if args.profile else 0,
        redis_url=args.redis or None,
        redis_before=args.redis_before,
        out_name=args.out,
        only=tuple(args.only),
    )
    for name, s in result["latency_us"].items():
        o = result["overhead_us"].get(name)
        over = f"  overhead {o['median']:8.1f} us [{o['min']:.1f}, {o['max']:.1f}]" if o else ""
        print(f"{name:24s} {s['median']:8.1f} us{over}")


if __name__ == "__main__":
    main()
