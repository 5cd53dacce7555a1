"""One worker process of the shared-state tests: ``callers`` threads through one manager.

    python _callers.py CONFIG KEYS_JSON CALLERS [pause]

Each caller makes two calls. With ``pause`` the callers stop after the first call until a line
arrives on stdin, so the test can stop Redis between the two. The process prints
``phase1-done``, ``store-down`` and ``store-up`` lines as they happen, and at the end one JSON line:
``{"served": {provider: n}, "errors": [...]}``.
"""

from __future__ import annotations

import json
import sys
import threading
from collections import Counter

from llmswitch._config import load_settings
from llmswitch._events import Event, StoreHealthChanged
from llmswitch._manager import LLMProviderManager


def main() -> None:
    config, keys, callers = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
    pause = sys.argv[4:] == ["pause"]
    lock = threading.Lock()

    def say(line: str) -> None:
        with lock:
            print(line, flush=True)

    def sink(event: Event) -> None:
        if isinstance(event, StoreHealthChanged):
            say("store-up" if event.ok else "store-down")

    llm = LLMProviderManager(load_settings(config, env=keys, dotenv=None), sinks=[sink])
    served: Counter[str] = Counter()
    errors: list[str] = []
    go = threading.Event()
    first_calls_done = threading.Barrier(callers, action=lambda: say("phase1-done"))

    def caller(i: int) -> None:
        for phase in (1, 2):
            try:
                provider = llm.chat(
                    [{"role": "user", "content": f"caller {i} call {phase}"}], max_tokens=50
                )
                with lock:
                    served[provider.provider] += 1
            except Exception as exc:
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")
            if phase == 1:
                first_calls_done.wait()
                if pause:
                    go.wait()

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(callers)]
    for t in threads:
        t.start()
    if pause:
        sys.stdin.readline()
        go.set()
    for t in threads:
        t.join()
    llm.close()
    say(json.dumps({"served": dict(served), "errors": errors}))


if __name__ == "__main__":
    main()
