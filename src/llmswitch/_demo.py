"""``llmswitch demo``: the seed's three failover scenarios, live, with no key and no network.

Why through the gateway: the demo is what a new user runs first, so it exercises the whole
product the way their app would (an HTTP client talking OpenAI's API to ``llmswitch serve``), and
its exit code doubles as an end-to-end smoke test. The simulated providers and the manager share
one ``FakeClock``, so a minute or a day passes in milliseconds and the scenarios finish in
seconds:

1. Daily limit approaching: large prompts fill Groq's daily tokens to 95%; traffic moves to
   Gemini until Groq's (rolling) day has passed.
2. Rate limit: requests 1-30 go to Groq (30 a minute); request 31 switches to Gemini; once Groq's
   sliding minute frees, traffic returns to Groq.
3. Provider error: Groq answers 503; it cools down for five minutes while Gemini serves, then
   Groq is used again.

The clock: a day of simulated time passes, so a clock started at the real time would leave the
dashboard a day ahead for good. The clock therefore starts a day (and an hour of room) in the
past, the day's jump lands ``TAIL_S`` before the real time, the scenarios after it use that
tail, and the clock then catches up with the real time and follows it while the dashboard stays
up: after the demo every time shown is true, and the demo's last scenarios sit in the dashboard's
last hour. (The dashboard labels any clock far from the browser's as simulated, so the time
during the run is marked too.)

Every switch is printed with the request number, the provider and the reason, read from the
gateway's ``x-llmswitch-*`` headers. Then the dashboard stays up until Ctrl-C (``--exit`` stops).
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
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
DAY_S = 24 * 3600.0
#: How far before the real time the clock starts: a day plus room for the daily scenario's fill
#: (at most 60 calls 31 s apart).
HEAD_START_S = DAY_S + 3600.0
#: The simulated time the scenarios after the day's jump may use (about 8 minutes today).
TAIL_S = 600.0


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
    wall: Callable[[], float] = time.time  # the real time, which the clock must reach

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
    run.say("\n[bold]2. Rate limit[/]: Groq takes 30 requests a minute")
    run.later(60.0, "a fresh minute")
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
    run.say("\n[bold]3. Provider error[/]: Groq starts answering HTTP 503")
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
    run.say("\n[bold]1. Daily limit approaching[/]: large prompts fill Groq's 100K tokens a day")
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
    # a day at least, and up to the real time less what the scenarios after this one use
    run.later(max(DAY_S, run.wall() - TAIL_S - run.clock()), "Groq's rolling day has passed")
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


class DemoSession:
    """The demo's world: the simulator, a manager and the gateway on one ``FakeClock`` that
    starts ``HEAD_START_S`` before the real time (see the module's docstring).

    A context manager: entering starts the simulator and binds the gateway (``port`` 0 picks a
    free one), leaving stops both. ``follow_real_time`` moves the clock up to the real time.
    """

    def __init__(
        self, *, port: int = DEFAULT_PORT, console: Console, wall: Callable[[], float] = time.time
    ) -> None:
        self.port = port
        self.console = console
        self.wall = wall
        self.clock = FakeClock(start=wall() - HEAD_START_S)
        self._stack = ExitStack()
        self.sim: Any = None
        self.server: Any = None

    def __enter__(self) -> DemoSession:
        from llmswitch._config import load_settings
        from llmswitch._manager import LLMProviderManager
        from llmswitch.server.app import create_app
        from llmswitch.server.dashboard import RequestHistory
        from llmswitch.testing import simulator

        with ExitStack() as stack:
            self.sim = stack.enter_context(simulator(clock=self.clock))
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            settings = load_settings(_settings_file(tmp, self.sim), env=DEMO_KEYS, dotenv=None)
            clock = self.clock
            manager = LLMProviderManager(
                settings, clock=clock, sleep=clock.sleep, async_sleep=clock.asleep
            )
            history = RequestHistory(bucket_s=1.0, buckets=120)
            app = create_app(manager, api_key="", history=history, owns_manager=True)
            self.server = _bind(app, self.port, self.console)
            stack.callback(self.server.stop)
            self._stack = stack.pop_all()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    @property
    def base_url(self) -> str:
        return str(self.server.base_url)

    def follow_real_time(self) -> None:
        """Move the clock up to the real time (never back: a clock ahead keeps its lead, and
        the dashboard labels it simulated)."""
        gap = self.wall() - self.clock()
        if gap > 0:
            self.clock.advance(gap)


def run_demo(
    *, port: int = DEFAULT_PORT, exit_at_end: bool = False, console: Console | None = None
) -> int:
    """Play the three scenarios through a live gateway; return 0 when all behaved as expected."""
    console = console or Console()
    logging.getLogger("llmswitch").addHandler(logging.NullHandler())  # the demo says it itself
    started = time.monotonic()
    with DemoSession(port=port, console=console) as demo:
        failures = play(demo, console)
        demo.follow_real_time()
        console.print(
            "\n[dim]The simulated clock has caught up with the real time: every time on the "
            "dashboard is true.[/]",
            soft_wrap=True,
        )
        _summary(console, failures, time.monotonic() - started, demo.base_url)
        if not exit_at_end:
            _serve_until_interrupted(demo, console)
    return 1 if failures else 0


def play(demo: DemoSession, console: Console) -> list[str]:
    """The three scenarios through ``demo``'s gateway; the expectations that failed."""
    base_url = demo.base_url
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
        run = DemoRun(client, demo.sim, demo.clock, console, progress, wall=demo.wall)
        for scenario in (scenario_daily_limit, scenario_rate_limit, scenario_provider_error):
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


def _serve_until_interrupted(demo: DemoSession, console: Console) -> None:
    """Keep the dashboard live; the clock follows the real time so windows drain and every time
    shown is true."""
    console.print("Serving the dashboard; press Ctrl-C to stop.")
    stop = threading.Event()
    try:
        while not stop.wait(1.0):
            demo.follow_real_time()
    except KeyboardInterrupt:
        console.print("stopped.")
