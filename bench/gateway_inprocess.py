"""The gateway's own CPU per request, without sockets: where a request's time goes.

The ASGI app of ``llmswitch serve`` is called directly (no HTTP parsing, no loopback) over a
manager whose upstream is a canned reply (an ``AsyncTransport`` that answers at once), so what
is measured is llmswitch alone: the server's middleware, validation and reply shaping, and the
call machine with its state store. Per state backend it reports, in rounds:

- ``app``: one ``POST /v1/chat/completions`` through the whole app;
- ``achat``: the library call the handler makes (``LLMProviderManager.achat``);
- ``server``: the difference, what the HTTP layer adds;
- for SQLite, the same request with every state step forced onto the state thread pool
  (``offloaded``) beside the default (steps inline while the lock is free, issue 17 item 3).

Run: ``.venv/bin/python -m bench.gateway_inprocess [--rounds 5 --calls 1000]``; results go to
``bench/results/gateway_inprocess.json``. ``--profile`` prints a cProfile of the app per backend.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench import _common as c
from llmswitch._transport import RawReply

REPLY = json.dumps(
    {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 1,
        "model": "bench-model",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello there"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15},
    }
).encode()


class CannedUpstream:
    """An ``AsyncTransport`` answering every request at once with the same reply."""

    async def send(self, req: Any, ctx: Any, *, timeout: float | None = None) -> RawReply:
        return RawReply(200, {"content-type": "application/json"}, REPLY)

    def stream(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("the in-process bench sends no streams")

    async def close(self) -> None:
        return None

    async def aclose(self) -> None:
        return None


def manager(state: str) -> Any:
    providers = {
        "primary": c.openai_provider(
            "http://127.0.0.1:9/v1", priority=1, keys=["BENCH_PRIMARY_KEY"]
        ),
        "backup": c.openai_provider("http://127.0.0.1:9/v1", priority=2, keys=["BENCH_BACKUP_KEY"]),
    }
    return c.make_manager(
        providers, state=state, manager_kwargs={"async_transport": CannedUpstream()}
    )


def request_driver(app: Any) -> Callable[[], Awaitable[None]]:
    """One POST to ``/v1/chat/completions`` straight into the ASGI app."""
    body = json.dumps(c.json_body("auto")).encode()
    headers = [
        (b"host", b"127.0.0.1"),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]

    async def one() -> None:
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # the client never disconnects
            raise AssertionError("unreachable")

        status: list[int] = []

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/v1/chat/completions",
            "raw_path": b"/v1/chat/completions",
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8888),
            "state": {},
        }
        await app(scope, receive, send)
        if status != [200]:
            raise RuntimeError(f"the gateway answered {status}")

    return one


async def per_call_us(fn: Callable[[], Awaitable[object]], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        await fn()
    return (time.perf_counter() - start) / calls * 1e6


async def measure(state: str, *, rounds: int, calls: int, profile: bool) -> dict[str, Any]:
    from llmswitch.server.app import create_app

    llm = manager(state)
    app = create_app(llm, api_key="")
    one = request_driver(app)

    async def lib() -> None:
        await llm.achat(c.HELLO, max_tokens=c.MAX_TOKENS)

    for _ in range(min(300, calls)):
        await one()
    real = llm.store.may_wait
    samples: dict[str, list[float]] = {"app": [], "achat": [], "server": []}
    if llm.store.backend == "sqlite":
        samples["app_offloaded"] = []
    for _ in range(rounds):
        app_us, lib_us = await per_call_us(one, calls), await per_call_us(lib, calls)
        samples["app"].append(app_us)
        samples["achat"].append(lib_us)
        samples["server"].append(app_us - lib_us)
        if "app_offloaded" in samples:
            llm.store.may_wait = lambda: True  # every step on the state pool, as before
            samples["app_offloaded"].append(await per_call_us(one, calls))
            llm.store.may_wait = real
    if profile:
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(calls):
            await one()
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
    await llm.aclose()
    return {name: c.spread(values) for name, values in samples.items()}


def run(
    *, rounds: int = 5, calls: int = 1000, profile: bool = False, out_dir: Path | None = None
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "question": "the gateway's own CPU per request, without sockets (canned upstream)",
        "rounds": rounds,
        "calls_per_round": calls,
        "us_per_request": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        for name, state in (("memory", "memory://"), ("sqlite", f"sqlite:///{tmp}/state.db")):
            result["us_per_request"][name] = asyncio.run(
                measure(state, rounds=rounds, calls=calls, profile=profile)
            )
    c.write_result("gateway_inprocess", result, out_dir)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    r = run(rounds=args.rounds, calls=args.calls, profile=args.profile)
    for backend, parts in r["us_per_request"].items():
        line = ", ".join(f"{k} {v['median']:.0f} us" for k, v in parts.items())
        print(f"{backend:7s} {line}")


if __name__ == "__main__":
    main()
