"""Where an in-process call's time goes: the send, and llmswitch's own work hot and cold.

Four contenders in interleaved rounds, one process, the fast bench upstream:

- ``httpx``: plain ``httpx.Client.post`` of the chat body (the baseline of ``bench/overhead.py``);
- ``transport``: llmswitch's ``HttpxTransport.send`` of the same request, alone;
- ``llmswitch``: ``LLMProviderManager.chat`` on memory://, its transport timed from inside
  (``send_in_call``), so ``own_cold`` = the call minus its send: our work between real sends;
- ``canned``: the same chat over a transport that returns the upstream's real reply (headers
  included) at once: ``own_hot``, our work with nothing else running between calls.

Run: ``.venv/bin/python -m bench.call_split [--rounds 15 --calls 200]``; results go to
``bench/results/call_split.json``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import _common as c


class TimedTransport:
    """A sync transport that times the sends of the transport it wraps."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.spent = 0.0

    def send(self, req: Any, ctx: Any, *, timeout: float | None = None) -> Any:
        start = time.perf_counter()
        try:
            return self.inner.send(req, ctx, timeout=timeout)
        finally:
            self.spent += time.perf_counter() - start

    def stream(self, *args: Any, **kwargs: Any) -> Any:
        return self.inner.stream(*args, **kwargs)

    def close(self) -> None:
        self.inner.close()


class ReplayTransport:
    """Answers every request at once with one recorded reply."""

    def __init__(self, reply: Any) -> None:
        self.reply = reply

    def send(self, req: Any, ctx: Any, *, timeout: float | None = None) -> Any:
        return self.reply

    def stream(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("no streams here")

    def close(self) -> None:
        return None


def run(*, rounds: int = 15, calls: int = 200, out_dir: Path | None = None) -> dict[str, Any]:
    import httpx

    from llmswitch._transport import HttpxTransport
    from llmswitch._wire.base import HttpRequest

    with c.upstream() as up:
        url = up.url("ok") + "/chat/completions"
        body = c.json_body()
        headers = {"authorization": "Bearer sk-bench", "content-type": "application/json"}
        req = HttpRequest("POST", url, headers, body)
        client = httpx.Client(headers={"authorization": "Bearer sk-bench"})
        alone = HttpxTransport()
        timed = TimedTransport(HttpxTransport())
        providers = {
            "primary": c.openai_provider(up.url("ok"), priority=1, keys=["BENCH_PRIMARY_KEY"]),
            "backup": c.openai_provider(up.url("ok"), priority=2, keys=["BENCH_BACKUP_KEY"]),
        }
        live = c.make_manager(providers, manager_kwargs={"transport": timed})
        canned = c.make_manager(
            providers, manager_kwargs={"transport": ReplayTransport(alone.send(req, None))}
        )
        fns: dict[str, Callable[[], object]] = {
            "httpx": lambda: client.post(url, json=body).json(),
            "transport": lambda: alone.send(req, None),
            "llmswitch": lambda: live.chat(c.HELLO, max_tokens=c.MAX_TOKENS),
            "canned": lambda: canned.chat(c.HELLO, max_tokens=c.MAX_TOKENS),
        }
        for fn in fns.values():
            for _ in range(calls):
                fn()
        samples: dict[str, list[float]] = {name: [] for name in [*fns, "send_in_call"]}
        names = list(fns)
        for r in range(rounds):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                timed.spent = 0.0
                start = time.perf_counter()
                for _ in range(calls):
                    fns[name]()
                samples[name].append((time.perf_counter() - start) / calls * 1e6)
                if name == "llmswitch":
                    samples["send_in_call"].append(timed.spent / calls * 1e6)
        for closer in (client.close, alone.close, live.close, canned.close):
            closer()
    samples["own_cold"] = [
        a - b for a, b in zip(samples["llmswitch"], samples["send_in_call"], strict=True)
    ]
    samples["own_hot"] = samples.pop("canned")
    result = {
        "question": "an in-process call: the send, and llmswitch's own work hot and cold",
        "rounds": rounds,
        "calls_per_round": calls,
        "us_per_call": {name: c.spread(values) for name, values in samples.items()},
    }
    c.write_result("call_split", result, out_dir)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    r = run(rounds=args.rounds, calls=args.calls)
    for name, s in r["us_per_call"].items():
        print(f"{name:13s} {s['median']:7.1f} us [{s['min']:.1f}, {s['max']:.1f}]")


if __name__ == "__main__":
    main()
