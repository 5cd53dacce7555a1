"""``llmswitch demo``: the seed's three failover scenarios, live, with no key and no network.

Why through the gateway: the demo is what a new user runs first, so it exercises the whole
product the way their app would (an HTTP client talking OpenAI's API to ``llmswitch serve``), and
its exit code doubles as an end-to-end smoke test. The simulated providers and the manager share
one ``FakeClock``, so a minute or a day passes in milliseconds and the scenarios finish in
seconds:

1. Rate limit: requests 1-30 go to Groq (30 a minute); request 31 switches to Gemini; once Groq's
   sliding minute frees, traffic returns to Groq.
2. Provider error: Groq answers 503; it cools down for five minutes while Gemini serves, then
   Groq is used again.
3. Daily limit approaching: large prompts fill Groq's daily tokens to 95%; traffic moves to Gemini
   until Groq's (rolling) day has passed.

Every switch is printed with the request number, the provider and the reason, read from the
gateway's ``x-llmswitch-*`` headers. Then the dashboard stays up until Ctrl-C (``--exit`` stops).
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from llmswitch._clock import FakeClock

DEMO_KEYS = {  # fake keys: the simulator accepts any key without "invalid" in it
    "GROQ_API_KEY": "gsk_demo_0000000000000000",
    "GEMINI_API_KEY": "AIza_demo_0000000000000000",
    "OPENROUTER_API_KEY": "sk-or-v1-demo-000000000000",
    "TOGETHER_API_KEY": "tgp_v1_demo_000000000000",
    "OPENAI_API_KEY": "sk-demo-0000000000000000",
}
DEFAULT_PORT = 8888
BIG_PROMPT = "x" * 12_000  # ~3,000 tokens: fills Groq's 100K daily tokens in about 30 calls


@dataclass(slots=True)
class Reply:
    n: int
    provider: str
    attempts: str
    reason: str
    status: int


@dataclass
class DemoRun:
    """One pass through the scenarios: the HTTP client, the controls and what went wrong."""

    client: httpx.Client
    sim: Any
    clock: FakeClock
    console: Console
    progress: Progress
    failures: list[str] = field(default_factory=list)
    last: str | None = None
    last_reason: str = ""

    def ask(self, n: int, *, content: str = "", max_tokens: int = 50) -> Reply:
        body = {
            "model": "auto",
            "max_tokens": max_tokens,
            "messages": [{"role": "user", "content": content or f"request {n}"}],
        }
        r = self.client.post("/v1/chat/completions", json=body)
        reply = Reply(
            n,
            r.headers.get("x-llmswitch-provider", "none"),
            r.headers.get("x-llmswitch-attempts", ""),
            r.headers.get("x-llmswitch-reason", ""),
            r.status_code,
        )
        if reply.provider != self.last or (reply.reason and reply.reason != self.last_reason):
            self._switch(reply)
        self.last, self.last_reason = reply.provider, reply.reason
        return reply

    def _switch(self, reply: Reply) -> None:
        if reply.status != 200:
            why = f"[red]HTTP {reply.status}[/] {reply.attempts}"
        elif self.last is None:
            why = "the preferred provider"
        elif reply.reason:
            why = f"switch: {reply.reason}"
        else:
            why = f"back: {reply.provider} has room again"
        style = "green" if reply.provider == "groq" else "yellow"
        self.say(f"  request {reply.n:>3} -> [{style}]{reply.provider:<8}[/] {why}")

    def say(self, text: str) -> None:
        self.progress.console.print(text, highlight=False, soft_wrap=True)

    def later(self, seconds: float, why: str) -> None:
        self.clock.advance(seconds)
        self.say(f"  [dim]... {_duration(seconds)} of simulated time later: {why}[/]")

    def expect(self, ok: bool, what: str) -> None:
        mark = "[green]ok[/]" if ok else "[red]FAILED[/]"
        self.say(f"  {mark} {what}")
        if not ok:
            self.failures.append(what)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    parts = [
        f"{hours} h" if hours else "",
        f"{minutes} min" if minutes else "",
        f"{secs} s" if secs else "",
    ]
    return " ".join(p for p in parts if p) or "0 s"


def scenario_rate_limit(run: DemoRun) -> None:
    """Requests 1-30 on Groq, 31 on Gemini, back to Groq when its sliding minute frees."""
    run.say("\n[bold]1. Rate limit[/]: Groq takes 30 requests a minute")
    task = run.progress.add_task("rate limit", total=32)
    served = []
    for n in range(1, 32):
        served.append(run.ask(n).provider)
        run.progress.advance(task)
        run.clock.advance(0.5)
    run.later(45.0, "Groq's first requests leave its sliding minute")
    served.append(run.ask(32).provider)
    run.progress.advance(task)
    run.expect(served[:30] == ["groq"] * 30, "requests 1-30 served by groq")
    run.expect(served[30] == "gemini", "request 31 switched to gemini")
    run.expect(served[31] == "groq", "request 32 back on groq once its minute freed")


def scenario_provider_error(run: DemoRun) -> None:
    """A 503 cools Groq down for five minutes; then it serves again."""
    run.say("\n[bold]2. Provider error[/]: Groq starts answering HTTP 503")
    run.later(60.0, "a fresh minute")
    task = run.progress.add_task("provider error", total=4)
    first = run.ask(1)
    run.sim.set_fault("groq", {"kind": "status", "status": 503})
    failed = run.ask(2)
    run.sim.clear_faults("groq")
    run.say("  [dim]Groq is healthy again, but llmswitch waits out its cooldown[/]")
    run.later(299.0, "still inside the 5-minute cooldown")
    cooling = run.ask(3)
    run.later(2.0, "the cooldown is over")
    back = run.ask(4)
    run.progress.update(task, completed=4)
    run.expect(first.provider == "groq", "request 1 served by groq")
    run.expect(
        failed.provider == "gemini" and failed.attempts == "groq:server_error,gemini:ok",
        "the 503 failed over to gemini at once",
    )
    run.expect(
        cooling.provider == "gemini" and "cooling_down" in cooling.attempts,
        "groq skipped while cooling down",
    )
    run.expect(back.provider == "groq", "groq used again after 5 minutes")


def scenario_daily_limit(run: DemoRun) -> None:
    """Groq at 95% of its daily tokens: Gemini serves until Groq's day has passed."""
    run.say("\n[bold]3. Daily limit approaching[/]: large prompts fill Groq's 100K tokens a day")
    run.later(60.0, "a fresh minute")
    task = run.progress.add_task("daily limit", total=45)
    served: list[str] = []
    for n in range(1, 60):
        reply = run.ask(n, content=BIG_PROMPT)
        served.append(reply.provider)
        run.progress.advance(task)
        if reply.provider != "groq":
            break
        run.clock.advance(31.0)  # Groq also allows only 8,000 tokens a minute
    day = _groq_day(run)
    run.say(f"  [dim]Groq's daily tokens: {day}[/]")
    run.later(24 * 3600.0, "Groq's rolling day has passed")
    back = run.ask(len(served) + 1, content=BIG_PROMPT)
    run.progress.update(task, total=len(served) + 1, completed=len(served) + 1)
    run.expect(
        len(served) > 20 and served[:-1] == ["groq"] * (len(served) - 1),
        f"requests 1-{len(served) - 1} served by groq",
    )
    run.expect(served[-1] == "gemini", f"request {len(served)} moved to gemini at 95%")
    run.expect(back.provider == "groq", "groq serves again after its day")


def _groq_day(run: DemoRun) -> str:
    status = run.client.get("/api/llm-providers").json()
    tpd = status["providers"]["groq"]["windows"].get("tpd", {})
    return f"{tpd.get('used', 0):,} used of {tpd.get('limit', 0):,}"


def _settings_file(folder: Path, sim: Any) -> Path:
    from llmswitch.simulator.runner import toml_snippet

    path = folder / "llmswitch-demo.toml"
    path.write_text('[llmswitch]\nstate = "memory://"\n\n' + toml_snippet(sim.base_url))
    return path


def _bind(app: Any, port: int, console: Console) -> Any:
    from llmswitch.server.run import BackgroundServer

    try:
        return BackgroundServer(app, port=port).start()
    except OSError:
        server = BackgroundServer(app, port=0).start()
        console.print(f"[yellow]port {port} is taken; the gateway uses port {server.port}[/]")
        return server


def run_demo(
    *, port: int = DEFAULT_PORT, exit_at_end: bool = False, console: Console | None = None
) -> int:
    """Play the three scenarios through a live gateway; return 0 when all behaved as expected."""
    from llmswitch._config import load_settings
    from llmswitch._manager import LLMProviderManager
    from llmswitch.server.app import create_app
    from llmswitch.server.dashboard import RequestHistory
    from llmswitch.testing import simulator

    console = console or Console()
    logging.getLogger("llmswitch").addHandler(logging.NullHandler())  # the demo says it itself
    clock = FakeClock(start=time.time())
    started = time.monotonic()
    with simulator(clock=clock) as sim, tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(_settings_file(Path(tmp), sim), env=DEMO_KEYS, dotenv=None)
        manager = LLMProviderManager(
            settings, clock=clock, sleep=clock.sleep, async_sleep=clock.asleep
        )
        history = RequestHistory(bucket_s=1.0, buckets=120)
        server = _bind(
            create_app(manager, api_key="", history=history, owns_manager=True), port, console
        )
        try:
            failures = _play(server.base_url, sim, clock, console)
            _summary(console, failures, time.monotonic() - started, server.base_url)
            if not exit_at_end:
                _serve_until_interrupted(clock, console)
        finally:
            server.stop()
    return 1 if failures else 0


def _play(base_url: str, sim: Any, clock: FakeClock, console: Console) -> list[str]:
    console.print(
        f"[bold]llmswitch demo[/]: five simulated providers, gateway at {base_url}/v1, "
        f"dashboard at {base_url}/",
        soft_wrap=True,
    )
    columns = (TextColumn("{task.description:<15}"), BarColumn(), MofNCompleteColumn())
    with (
        httpx.Client(base_url=base_url, timeout=30.0) as client,
        Progress(*columns, console=console, transient=True) as progress,
    ):
        run = DemoRun(client, sim, clock, console, progress)
        for scenario in (scenario_rate_limit, scenario_provider_error, scenario_daily_limit):
            run.last, run.last_reason = None, ""
            scenario(run)
    return run.failures


def _summary(console: Console, failures: list[str], elapsed: float, base_url: str) -> None:
    if failures:
        console.print(
            f"\n[red bold]{len(failures)} expectation(s) failed[/]: " + "; ".join(failures)
        )
    else:
        console.print(
            f"\n[green bold]All three scenarios behaved as expected[/] "
            f"in {elapsed:.1f} s of real time."
        )
    console.print(f"Dashboard: {base_url}/   Status: {base_url}/api/llm-providers", soft_wrap=True)


def _serve_until_interrupted(clock: FakeClock, console: Console) -> None:
    """Keep the dashboard live; simulated time now runs at real speed so windows drain."""
    console.print("Serving the dashboard; press Ctrl-C to stop.")
    stop = threading.Event()
    try:
        while not stop.wait(1.0):
            clock.advance(1.0)
    except KeyboardInterrupt:
        console.print("stopped.")
