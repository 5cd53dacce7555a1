"""Would compiling the call path meet issue 17's 50 µs? mypyc on the modules one call runs.

The modules of an in-process call (the call machine, admission, settlement, memory:// state,
the OpenAI wire, the value types) are copied to a temporary tree and compiled there with mypyc,
unchanged; the checkout itself is never touched. Then the same chat as ``bench/instructions.py``
(two providers, a canned transport: llmswitch's own work only) runs from the compiled tree and
from the source tree, in interleaved child processes, timed; ``--instructions`` also counts
both under callgrind (steady where timings are not).

Run: ``.venv/bin/python -m bench.mypyc_trial [--rounds 6] [--instructions]`` (~2 min to
compile); results go to ``bench/results/mypyc_trial.json``. A child run:
``python -m bench.mypyc_trial --child CALLS``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import _common as c

#: What one in-process call runs, as far as mypyc compiles it unchanged. Left out: the
#: drivers (``_router``: async generators are not implemented in mypyc) and ``_state/base``,
#: whose ``Store`` protocol mypyc 1.x fails on (an assertion in its vtable code).
MODULES = [
    "_call",
    "_admission",
    "_settlement",
    "_availability",
    "_planning",
    "_quota",
    "_types",
    "_ledger",
    "_events",
    "_strategies",
    "_tokens",
    "_health",
    "_policies",
    "_steps",
    "_stream_progress",
    "_capabilities",
    "_attempts",
    "_key_reading",
    "_outage",
    "_patience",
    "_wire/openai_compat",
    "_wire/headers",
    "_wire/classify",
    "_wire/base",
    "_state/_common",
    "_state/memory",
]


def child(calls: int) -> None:
    """Time ``calls`` chats after a warm-up, in ten blocks; print the median block µs per call."""
    from bench.instructions import Canned

    providers = {
        "primary": c.openai_provider("http://127.0.0.1:9/v1", priority=1, keys=["K1"]),
        "backup": c.openai_provider("http://127.0.0.1:9/v1", priority=2, keys=["K2"]),
    }
    mgr = c.make_manager(providers, state="memory://", manager_kwargs={"transport": Canned()})
    for _ in range(1000):
        mgr.chat(c.HELLO, max_tokens=c.MAX_TOKENS)
    per: list[float] = []
    for _ in range(10):
        start = time.perf_counter()
        for _ in range(calls // 10):
            mgr.chat(c.HELLO, max_tokens=c.MAX_TOKENS)
        per.append((time.perf_counter() - start) / (calls // 10) * 1e6)
    mgr.close()
    print(f"{statistics.median(per):.2f}")


def compile_tree(into: Path) -> Path:
    """A copy of ``src/`` with ``MODULES`` compiled in place; its path for ``PYTHONPATH``."""
    src = into / "src"
    shutil.copytree(c.ROOT / "src", src)
    mypyc = Path(sys.executable).parent / "mypyc"
    files = [f"llmswitch/{m}.py" for m in MODULES]
    subprocess.run(
        [str(mypyc), *files], cwd=src, check=True, stdout=subprocess.DEVNULL, timeout=1800
    )
    return src


def timed(pythonpath: Path, calls: int) -> float:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(pythonpath), str(c.ROOT)])}
    out = subprocess.run(
        [sys.executable, "-m", "bench.mypyc_trial", "--child", str(calls)],
        cwd=c.ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def run(*, rounds: int = 6, calls: int = 20000, instructions: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="llmswitch-mypyc-") as tmp:
        compiled = compile_tree(Path(tmp))
        trees = {"source": c.ROOT / "src", "mypyc": compiled}
        samples: dict[str, list[float]] = {name: [] for name in trees}
        for i in range(rounds):
            order = list(trees) if i % 2 == 0 else list(reversed(trees))
            for name in order:
                samples[name].append(timed(trees[name], calls))
        result: dict[str, Any] = {
            "question": "llmswitch's own work per in-process call, source vs mypyc-compiled",
            "modules": MODULES,
            "rounds": rounds,
            "calls_per_round": calls,
            "us_per_call": {name: c.spread(values) for name, values in samples.items()},
        }
        if instructions:
            from bench.instructions import collected

            counts = {}
            for name, path in trees.items():
                with_calls = collected("memory", 400, str(path))
                without = collected("memory", 0, str(path))
                counts[name] = round((with_calls - without) / 400)
            result["instructions_per_call"] = counts
    c.write_result("mypyc_trial", result, None)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--instructions", action="store_true")
    parser.add_argument("--child", type=int, metavar="CALLS")
    args = parser.parse_args()
    if args.child is not None:
        child(args.child)
        return
    r = run(rounds=args.rounds, calls=args.calls, instructions=args.instructions)
    for name, s in r["us_per_call"].items():
        print(f"{name:7s} {s['median']:.1f} us per call [{s['min']:.1f}, {s['max']:.1f}]")
    for name, n in r.get("instructions_per_call", {}).items():
        print(f"{name:7s} {n:,} instructions per call")


if __name__ == "__main__":
    main()
