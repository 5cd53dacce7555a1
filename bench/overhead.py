"""Question 1: per-call overhead in process.

Sequential calls to the same zero-latency upstream (``bench.upstream``, its own process):

- ``httpx``: plain ``httpx.Client.post`` of the same JSON body, reply decoded (the baseline);
- ``llmswitch-memory`` / ``llmswitch-sqlite``: ``LLMProviderManager.chat`` over two providers
  (priority order, requests-per-minute windows set high enough never to bind), memory:// and
  sqlite:// state;
- ``litellm-router``: ``litellm.Router.completion`` with the same two deployments (``rpm`` set,
  ``usage-based-routing-v2``, fallbacks), and ``litellm-router-shuffle`` (its default
  ``simple-shuffle``, its cheapest path) when LiteLLM is installed.

Overhead = a contender's round median minus the baseline's in the same round.

Run: ``.venv-bench/bin/python -m bench.overhead [--rounds 15 --calls 200] [--profile]``
"""

from __future__ import annotations

import argparse
import tempfile
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


def contenders(
    up: c.Upstream, folder: Path, *, peers: bool, closers: list[Callable[[], object]]
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
) -> dict[str, Any]:
    with c.upstream() as up, tempfile.TemporaryDirectory() as tmp:
        closers: list[Callable[[], object]] = []
        fns = contenders(up, Path(tmp), peers=peers, closers=closers)
        medians = c.interleaved(fns, rounds=rounds, calls=calls, warmup=warmup)
        result: dict[str, Any] = {
            "question": "per-call overhead in process",
            "upstream": "bench.upstream (raw asyncio, own process)",
            "rounds": rounds,
            "calls_per_round": calls,
            "latency_us": {name: c.spread(v) for name, v in medians.items()},
            "overhead_us": c.overheads(medians, "httpx"),
        }
        c.write_result("overhead", result, out_dir)
        if profile_calls:
            folder = out_dir or c.RESULTS
            for name in ("llmswitch-memory", "llmswitch-sqlite", "litellm-router"):
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
    args = parser.parse_args()
    result = run(
        rounds=args.rounds,
        calls=args.calls,
        peers=not args.no_peers,
        profile_calls=2000 if args.profile else 0,
    )
    for name, s in result["latency_us"].items():
        o = result["overhead_us"].get(name)
        over = f"  overhead {o['median']:8.1f} us [{o['min']:.1f}, {o['max']:.1f}]" if o else ""
        print(f"{name:24s} {s['median']:8.1f} us{over}")


if __name__ == "__main__":
    main()
