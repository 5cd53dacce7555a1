"""Slow and oversized clients against ``llmswitch serve`` (issue 16): do they hurt real calls?

``llmswitch serve`` runs in its own process under the common open-file limit of 1,024, over the
fast bench upstream (two providers), with its default SQLite state and default limits. Then:

1. **Slowloris**: ``--clients`` connections (1,100 by default, more than the limit) each send a
   request line and then one header byte a second, for ``--attack-s`` seconds; a dropped one
   reconnects at once, as an attacker would. A real call goes through the gateway every second
   meanwhile. After the attack, ``--after-calls`` calls and the providers' status: a provider
   cooled down by the attack would still refuse them.
2. **Short bodies**: ``--short-bodies`` requests that declare ``Content-Length: 1000`` and send
   10 bytes; how many are still held open after ``--body-wait-s`` seconds.
3. **A big body**: one ``--big-mb`` MB request; its status and the gateway's peak RSS (VmHWM).

``--src`` runs another source tree (``PYTHONPATH``), which is how the "before" figures were made:
``git archive <commit> | tar -x -C /tmp/before`` and ``--src /tmp/before/src --label before``.

Run: ``.venv/bin/python -m bench.slow_clients [--label after] [--clients 1100 --attack-s 30]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from bench import _common as c

GATEWAY_NOFILE = 1024
SLOW_HEAD = b"POST /v1/chat/completions HTTP/1.1\r\nhost: gateway\r\nx-slow: "


@contextlib.contextmanager
def gateway(
    up: c.Upstream, folder: Path, *, src: Path | None, nofile: int
) -> Iterator[tuple[str, int]]:
    """``llmswitch serve`` (sqlite state) with ``RLIMIT_NOFILE`` = ``nofile``."""
    providers = {
        "primary": c.openai_provider(up.url("ok"), priority=1, keys=["BENCH_PRIMARY_KEY"]),
        "backup": c.openai_provider(up.url("ok"), priority=2, keys=["BENCH_BACKUP_KEY"]),
    }
    path = folder / "llmswitch.toml"
    path.write_text(c.config_toml(providers, state=f"sqlite:///{folder / 'state.db'}"))
    port = c.free_port()
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(c.bench_env(providers))
    env.pop("LLMSWITCH_CONFIG", None)
    if src is not None:
        env["PYTHONPATH"] = str(src)

    def limit_files() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    with (folder / "serve.log").open("wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "llmswitch",
                "serve",
                "--port",
                str(port),
                "--config",
                str(path),
            ],
            cwd=folder,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
            preexec_fn=limit_files,
        )
    try:
        c.wait_port(port, proc=proc)
        yield f"http://127.0.0.1:{port}", proc.pid
    finally:
        c.stop(proc)


def open_fds(pid: int) -> int:
    with contextlib.suppress(OSError):
        return len(os.listdir(f"/proc/{pid}/fd"))
    return -1


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def slow_client(port: int, until: float, stats: Counter[str]) -> None:
    """Headers one byte a second; reconnect when dropped, until ``until``."""
    while time.monotonic() < until:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            stats["connect_failed"] += 1
            await asyncio.sleep(0.5)
            continue
        stats["connected"] += 1
        try:
            writer.write(SLOW_HEAD)
            while time.monotonic() < until:
                await writer.drain()
                with contextlib.suppress(TimeoutError):
                    reply = await asyncio.wait_for(reader.read(4096), 1.0)
                    stats[f"answered {reply[9:12].decode() or 'close'}"] += 1
                    break
                writer.write(b"a")
        except OSError:
            stats["dropped"] += 1
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        await asyncio.sleep(0.1)


async def real_call(base: str) -> str:
    body = c.json_body("auto")
    try:
        async with httpx.AsyncClient(timeout=5.0) as client:
            r = await client.post(f"{base}/v1/chat/completions", json=body)
        return str(r.status_code)
    except httpx.HTTPError as exc:
        return type(exc).__name__


async def attack(base: str, pid: int, clients: int, seconds: float) -> dict[str, Any]:
    port = int(base.rsplit(":", 1)[1])
    until = time.monotonic() + seconds
    stats: Counter[str] = Counter()
    tasks = [asyncio.create_task(slow_client(port, until, stats)) for _ in range(clients)]
    during: Counter[str] = Counter()
    max_fds = 0
    while time.monotonic() < until:
        tick = time.monotonic()
        during[await real_call(base)] += 1
        max_fds = max(max_fds, open_fds(pid))
        await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
    await asyncio.gather(*tasks)
    return {"slow_clients": dict(stats), "calls_during": dict(during), "gateway_max_fds": max_fds}


async def after_attack(base: str, calls: int) -> dict[str, Any]:
    await asyncio.sleep(1.0)
    results = Counter([await real_call(base) for _ in range(calls)])
    async with httpx.AsyncClient(timeout=5.0) as client:
        status = (await client.get(f"{base}/api/llm-providers")).json()
    return {
        "calls_after": dict(results),
        "providers_after": {n: status["providers"][n]["status"] for n in ("primary", "backup")},
    }


async def short_bodies(base: str, pid: int, count: int, wait_s: float) -> dict[str, Any]:
    port = int(base.rsplit(":", 1)[1])
    head = (
        b"POST /v1/chat/completions HTTP/1.1\r\nhost: gateway\r\n"
        b"content-type: application/json\r\ncontent-length: 1000\r\n\r\n"
    )

    async def one() -> str:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(head + b'{"message')
        try:
            reply = await asyncio.wait_for(reader.read(4096), wait_s)
            return f"answered {reply[9:12].decode() or 'close'}"
        except TimeoutError:
            return "still open"
        finally:
            writer.close()

    fds_before = open_fds(pid)
    start = time.monotonic()
    outcomes = Counter(await asyncio.gather(*(one() for _ in range(count))))
    return {
        "outcomes": dict(outcomes),
        "seconds": round(time.monotonic() - start, 1),
        "gateway_fds_before": fds_before,
    }


def big_body(base: str, pid: int, mb: int) -> dict[str, Any]:
    text = "x" * (mb * 1024 * 1024)
    payload = (
        '{"model": "auto", "messages": [{"role": "user", "content": "' + text + '"}]}'
    ).encode()
    before = peak_rss_mb(pid)
    start = time.monotonic()
    try:
        r = httpx.post(f"{base}/v1/chat/completions", content=payload, timeout=60.0)
        status = str(r.status_code)
    except httpx.HTTPError as exc:
        status = type(exc).__name__
    return {
        "mb": mb,
        "status": status,
        "seconds": round(time.monotonic() - start, 2),
        "peak_rss_mb_before": round(before, 1),
        "peak_rss_mb_after": round(peak_rss_mb(pid), 1),
    }


def run(
    *,
    label: str,
    src: Path | None,
    clients: int,
    attack_s: float,
    after_calls: int,
    short: int,
    body_wait_s: float,
    big_mb: int,
    out_dir: Path | None = None,
) -> dict[str, Any]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, clients * 2 + 256)), hard))
    with (
        c.upstream() as up,
        tempfile.TemporaryDirectory() as tmp,
        gateway(up, Path(tmp), src=src, nofile=GATEWAY_NOFILE) as (base, pid),
    ):
        result: dict[str, Any] = {
            "machine": c.machine(),
            "label": label,
            "src": str(src) if src else "this checkout",
            "gateway_nofile": GATEWAY_NOFILE,
            "clients": clients,
            "attack_s": attack_s,
        }
        result["slowloris"] = asyncio.run(attack(base, pid, clients, attack_s))
        result["slowloris"].update(asyncio.run(after_attack(base, after_calls)))
        result["short_bodies"] = asyncio.run(short_bodies(base, pid, short, body_wait_s))
        result["big_body"] = big_body(base, pid, big_mb)
    c.write_result(f"slow_clients-{label}", result, out_dir)
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--label", default="after")
    p.add_argument("--src", type=Path, default=None, help="source tree to run (PYTHONPATH)")
    p.add_argument("--clients", type=int, default=1100)
    p.add_argument("--attack-s", type=float, default=30.0)
    p.add_argument("--after-calls", type=int, default=10)
    p.add_argument("--short-bodies", type=int, default=50)
    p.add_argument("--body-wait-s", type=float, default=40.0)
    p.add_argument("--big-mb", type=int, default=50)
    a = p.parse_args()
    r = run(
        label=a.label,
        src=a.src,
        clients=a.clients,
        attack_s=a.attack_s,
        after_calls=a.after_calls,
        short=a.short_bodies,
        body_wait_s=a.body_wait_s,
        big_mb=a.big_mb,
    )
    for part in ("slowloris", "short_bodies", "big_body"):
        print(part, r[part])


if __name__ == "__main__":
    main()
