"""What every benchmark shares: machine facts, statistics, results files, upstreams, managers.

Timing is ``time.perf_counter_ns`` around each call, never the library's own latency figures
(those read the injected clock). Comparisons run in interleaved rounds (A, B, C, A, B, C, ...)
and report the median of the round medians with the min-max spread of the round medians.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
HELLO = [{"role": "user", "content": "Say hello in five words."}]
MAX_TOKENS = 20


# -- machine and versions -------------------------------------------------------------------


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _git_commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return "unknown"
    return head or "unknown"


def litellm_version() -> str | None:
    """The installed LiteLLM's version, or None when the peers are not installed."""
    try:
        from importlib.metadata import version

        return version("litellm")
    except Exception:
        return None


def machine() -> dict[str, Any]:
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "nproc": os.cpu_count(),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "llmswitch_commit": _git_commit(),
        "litellm": litellm_version(),
    }


# -- statistics -----------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[rank]


def spread(round_values: Sequence[float]) -> dict[str, float]:
    """Median of per-round figures and their min, max, and interquartile range."""
    return {
        "median": statistics.median(round_values),
        "min": min(round_values),
        "max": max(round_values),
        "q1": percentile(round_values, 25),
        "q3": percentile(round_values, 75),
        "rounds": len(round_values),
    }


def time_calls(fn: Callable[[], object], n: int) -> list[float]:
    """Microseconds of each of ``n`` sequential calls of ``fn``."""
    out = []
    clock = time.perf_counter_ns
    for _ in range(n):
        t0 = clock()
        fn()
        out.append((clock() - t0) / 1000)
    return out


def interleaved(
    contenders: Mapping[str, Callable[[], object]], *, rounds: int, calls: int, warmup: int
) -> dict[str, list[float]]:
    """Per contender, the median latency (us) of each round; the order rotates every round."""
    names = list(contenders)
    for name in names:
        time_calls(contenders[name], warmup)
    medians: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            medians[name].append(statistics.median(time_calls(contenders[name], calls)))
    return medians


def overheads(medians: dict[str, list[float]], baseline: str) -> dict[str, dict[str, float]]:
    """Each contender's round medians minus the baseline's in the same round, summarized."""
    base = medians[baseline]
    return {
        name: spread([v - b for v, b in zip(values, base, strict=True)])
        for name, values in medians.items()
        if name != baseline
    }


# -- results --------------------------------------------------------------------------------


def write_result(name: str, data: dict[str, Any], out_dir: Path | None = None) -> Path:
    folder = out_dir or RESULTS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **data}, indent=2, sort_keys=False) + "\n")
    return path


def profile(fn: Callable[[], object], n: int, path: Path) -> str | None:
    """Profile ``n`` calls of ``fn`` with pyinstrument (if installed); save and return the text."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        return None
    profiler = Profiler(interval=0.001)
    profiler.start()
    for _ in range(n):
        fn()
    profiler.stop()
    text = profiler.output_text(unicode=False, color=False, show_all=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return text


# -- processes ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 60.0, proc: subprocess.Popen[Any] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process {proc.args!r} exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


def stop(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _with_children(pid: int) -> list[int]:
    """``pid`` and its direct children (the workers of a worker-spawning server)."""
    pids = [pid]
    with contextlib.suppress(OSError):
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    return pids


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process (and its children, as ``rss_mb``) has used so far, seconds."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for p in _with_children(pid):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def rss_mb(pid: int) -> float:
    """Resident set size of a process (and its children, for worker-spawning servers), MB."""
    total = 0
    for p in _with_children(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


@dataclass
class Upstream:
    """The fast bench upstream (``bench.upstream``) in its own process."""

    proc: subprocess.Popen[str]
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, mode: str = "ok") -> str:
        """The OpenAI base URL (``.../v1``) whose requests behave as ``mode``."""
        return f"{self.base_url}/{mode}/v1"

    def counts(self) -> dict[str, int]:
        import httpx

        return dict(httpx.get(f"{self.base_url}/_count/").json())

    def reset(self) -> None:
        import httpx

        httpx.post(f"{self.base_url}/_reset/")


@contextlib.contextmanager
def upstream() -> Iterator[Upstream]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.upstream", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError(f"bench upstream did not start: {line!r}")
        yield Upstream(proc, int(line.split()[1]))
    finally:
        stop(proc)
        if proc.stdout is not None:
            proc.stdout.close()


@dataclass
class Sim:
    """``llmswitch simulate`` on the system clock, in its own process."""

    proc: subprocess.Popen[bytes]
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def control(self, method: str, path: str, **body: Any) -> Any:
        import httpx

        r = httpx.request(method, f"{self.base_url}/_sim/{path}", json=body or None)
        r.raise_for_status()
        return r.json()

    def requests(self, provider: str) -> list[dict[str, Any]]:
        import httpx

        r = httpx.get(f"{self.base_url}/_sim/requests", params={"provider": provider})
        return list(r.json()["requests"])


@contextlib.contextmanager
def simulator_process() -> Iterator[Sim]:
    port = free_port()
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "llmswitch"), "simulate", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port, proc=proc)
        yield Sim(proc, port)
    finally:
        stop(proc)


# -- llmswitch managers ---------------------------------------------------------------------


def provider_toml(name: str, fields: Mapping[str, Any]) -> str:
    lines = [f"[providers.{name}]"]
    for key, value in fields.items():
        lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def config_toml(providers: Mapping[str, Mapping[str, Any]], *, state: str, **settings: Any) -> str:
    head = ["[llmswitch]", f"state = {json.dumps(state)}"]
    head += [f"{k} = {json.dumps(v)}" for k, v in settings.items()]
    return "\n".join(head) + "\n\n" + "\n".join(provider_toml(n, f) for n, f in providers.items())


def openai_provider(
    base_url: str, *, priority: int, keys: Sequence[str], rpm: int = 1_000_000, **extra: Any
) -> dict[str, Any]:
    """An OpenAI-compatible provider entry with only a requests-per-minute window."""
    return {
        "priority": priority,
        "api": "openai",
        "base_url": base_url,
        "api_key_env": list(keys),
        "models": ["bench-model"],
        "requests_per_minute": rpm,
        "requests_per_day": 0,
        "tokens_per_minute": 0,
        "tokens_per_day": 0,
        **extra,
    }


def make_manager(
    providers: Mapping[str, Mapping[str, Any]],
    *,
    state: str = "memory://",
    env: Mapping[str, str] | None = None,
    folder: Path | None = None,
    manager_kwargs: Mapping[str, Any] | None = None,
    **settings: Any,
) -> Any:
    """An ``LLMProviderManager`` over exactly ``providers`` (built-ins get no key, so stay idle)."""
    from llmswitch._config import load_settings
    from llmswitch._manager import LLMProviderManager

    folder = folder or Path(tempfile.mkdtemp(prefix="llmswitch-bench-"))
    path = folder / "llmswitch.toml"
    path.write_text(config_toml(providers, state=state, **settings))
    keys = env if env is not None else bench_env(providers)
    return LLMProviderManager(
        load_settings(path, env=dict(keys), dotenv=None), **(manager_kwargs or {})
    )


def bench_env(providers: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """A value for every key variable the providers name (only our providers have keys)."""
    env = {}
    for fields in providers.values():
        for var in fields.get("api_key_env", []):
            env[var] = f"sk-bench-{var.lower()}"
    return env


def json_body(model: str = "bench-model") -> dict[str, Any]:
    return {"model": model, "messages": HELLO, "max_tokens": MAX_TOKENS, "temperature": 0.3}


def peers_missing_reason() -> str | None:
    """Why the peer side cannot run here, or None when LiteLLM is installed."""
    if litellm_version() is None:
        return "litellm is not installed in this environment (bash bench/setup.sh; .venv-bench)"
    return None


def quiet_litellm() -> Any:
    """Import LiteLLM with its telemetry, debug output and remote cost-map fetch turned off."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    os.environ.setdefault("LITELLM_LOG", "ERROR")
    import litellm

    litellm.telemetry = False
    litellm.suppress_debug_info = True
    litellm.set_verbose = False
    litellm.turn_off_message_logging = True
    litellm.drop_params = True
    return litellm
