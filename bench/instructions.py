"""Instructions per in-process call, counted by valgrind's callgrind: steady where timings on a
shared 2-core box are not (issue 17).

The same ``LLMProviderManager.chat`` as ``bench/overhead.py`` (two providers, priority order),
over a canned transport that answers at once (no sockets: what is counted is llmswitch alone,
its state store included), on ``memory://`` and on a SQLite file. Each backend runs twice under
callgrind, with ``--calls`` calls after a warm-up and with none; the difference over
``--calls`` is the instructions one call costs. Repeatable to well under 1% for the same tree.

Run: ``.venv/bin/python -m bench.instructions [--calls 400] [--pythonpath OTHER/src]``
(``--pythonpath`` counts another tree, e.g. ``git worktree add /tmp/before HEAD~3``, in the same
environment). A child run: ``python -m bench.instructions --child STATE N``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from typing import Any

from bench import _common as c
from bench.gateway_inprocess import REPLY

WARM = 100


class Canned:
    """A sync ``Transport`` answering every request at once with the same reply."""

    def send(self, req: Any, ctx: Any, *, timeout: float | None = None) -> Any:
        from llmswitch._transport import RawReply

        return RawReply(200, {"content-type": "application/json"}, REPLY)

    def stream(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("no streams here")

    def close(self) -> None:
        return None


def child(state: str, calls: int) -> None:
    url = "memory://" if state == "memory" else f"sqlite:///{tempfile.mkdtemp()}/state.db"
    providers = {
        "primary": c.openai_provider("http://127.0.0.1:9/v1", priority=1, keys=["K1"]),
        "backup": c.openai_provider("http://127.0.0.1:9/v1", priority=2, keys=["K2"]),
    }
    mgr = c.make_manager(providers, state=url, manager_kwargs={"transport": Canned()})
    for _ in range(WARM + calls):
        mgr.chat(c.HELLO, max_tokens=c.MAX_TOKENS)
    mgr.close()


def collected(state: str, calls: int, pythonpath: str | None) -> int:
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join([pythonpath, os.getcwd()])
    out = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-m",
            "bench.instructions",
            "--child",
            state,
            str(calls),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    found = re.search(r"Collected : (\d+)", out.stderr)
    if found is None:
        raise RuntimeError(f"callgrind printed no count:\n{out.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--states", nargs="+", default=["memory", "sqlite"])
    parser.add_argument("--pythonpath", default=None)
    parser.add_argument("--child", nargs=2, metavar=("STATE", "CALLS"))
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]))
        return
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    for state in args.states:
        per_call = (
            collected(state, args.calls, args.pythonpath) - collected(state, 0, args.pythonpath)
        ) / args.calls
        print(f"{state:8s} {per_call:12,.0f} instructions per call")


if __name__ == "__main__":
    main()
