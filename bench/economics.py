"""A simulated Pacific day of traffic: free capacity used, paid calls bought, budget kept.

The question of issue 14: over a whole day in which demand exceeds what the free tiers allow, does
llmswitch use (nearly) all of the free capacity, buy a paid call only when no free slot would come
within ``free_wait_seconds``, and keep the paid provider within its daily budget on every budget
day? One run is one Pacific day (00:00-24:00 America/Los_Angeles, Gemini's quota day) on a
FakeClock, through the public API against the in-process simulator:

- **Providers**: Groq, Gemini and OpenRouter free (the catalog's limits; the simulator's OpenRouter
  key is set to the 50 requests a day of an account without credits, which is what the catalog
  assumes), OpenAI paid with ``daily_budget_usd`` (its budget day is UTC, so a Pacific day holds
  two budget days: 00:00-16:00 and 16:00-24:00 Pacific). Gemini's 1,500 requests a day are not
  in the catalog (Google publishes no number): llmswitch learns them from Gemini's first 429.
- **Traffic**: 1.5 times the day's soft-limited free capacity (each daily window at
  ``daily_soft_limit``, 95%), 80% of it in working hours 08:00-18:00 and the rest spread over the
  night, in three shapes: ``smooth`` (Poisson arrivals), ``waves`` (each hour's volume arriving
  at 130 a minute, just above the free tiers' 110 a minute together, so slots free up while the
  wave lasts) and ``bursty`` (bursts of 40-160 calls within 15 s: the free minute windows fill
  at once and free up only a minute later). One caller works through the arrivals in order, as
  a queue worker does: a call that waits delays the calls behind it (the report's queue delay).
- **The checker** is independent of admission: it keeps its own record of the calls each free
  pool served and, before each call, computes from the simulator's limits (the provider's truth)
  when each free pool would next take the call's worst case (prompt plus ``max_tokens``) under
  the soft daily limit, a minute slot held for 60 s plus llmswitch's ``window_guard_seconds``.
  A paid call is *avoidable* when one of them would have come within ``free_wait_seconds`` of
  the call's start; the report also counts the paid calls a free slot would have served within
  the default wait (5 s), which is what ``free_wait_seconds = 0`` gives away.

Reports per run: free capacity used (each free pool's binding daily window, per its own day),
paid calls and how many were avoidable, paid spend per budget day against the budget, upstream
429s, caller errors by cause, and how long calls waited. Every shape runs under each strategy
with the default ``free_wait_seconds`` (5 s), and under ``priority`` with ``free_wait_seconds = 0``
(the seed's behaviour).

Run: ``.venv/bin/python -m bench.economics`` (about three minutes with two cores); results go to
``bench/results/economics.json``; ``--help`` lists the knobs.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from llmswitch import LLMProviderManager
from llmswitch._clock import FakeClock
from llmswitch._config import DEFAULT_WINDOW_GUARD, Settings, load_settings
from llmswitch._errors import LLMSwitchError
from llmswitch._strategies import STRATEGIES
from llmswitch._types import Outcome
from llmswitch.simulator.limits import CalendarDay, Limits, RollingLog, next_midnight
from llmswitch.testing import simulator

ROOT = Path(__file__).resolve().parent.parent
PACIFIC = ZoneInfo("America/Los_Angeles")
DAY = 86_400.0
SOFT = 0.95  # the default daily_soft_limit
MAX_TOKENS = 64
PROMPT = "Summarise the overnight order flow in one line."
KEYS = {
    "GROQ_API_KEY": "gsk_bench_economics_groq_0001",
    "GEMINI_API_KEY": "AIzaSyBenchEconomicsGemini0002",
    "OPENROUTER_API_KEY": "sk-or-v1-bench-economics-0003",
    "OPENAI_API_KEY": "sk-proj-bench_economics_0005",
}
FREE = ("groq", "gemini", "openrouter")
PAID = "openai"
# The simulator's OpenRouter key: an account without credits, as the catalog assumes.
OPENROUTER_DAILY = 50
WAVE_RATE = 130  # a minute: just above the free providers' 110 requests a minute together
DEFAULT_FREE_WAIT: float = Settings.model_fields["free_wait_seconds"].default
BUDGET = 0.005  # OpenAI's daily_budget_usd: below what the paid share of the day would cost


@dataclass(frozen=True, slots=True)
class Call:
    """What one call did, in simulated seconds since the day began."""

    arrival: float
    start: float
    end: float
    provider: str | None  # None: the call failed
    cost_usd: float
    cause: str | None  # why it failed
    free_slot_in: float  # seconds until the first free pool would take it (checker)


def day_start(date: str) -> float:
    """Epoch seconds of 00:00 Pacific on ``date`` (YYYY-MM-DD)."""
    y, m, d = (int(p) for p in date.split("-"))
    return datetime(y, m, d, tzinfo=PACIFIC).timestamp()


def free_capacity(start: float) -> dict[str, int]:
    """Soft-limited requests each free pool takes over the Pacific day from ``start``.

    Groq: its rolling day starts empty, so 95% of 1,000 within the 24 hours. Gemini: 95% of the
    1,500 of its Pacific day. OpenRouter: 95% of 50 on each UTC day the Pacific day touches.
    Tokens never bind at this call size (checked by the report's token share).
    """
    end = start + DAY
    utc_days = 1 + sum(1 for t in _utc_midnights(start, end))
    return {
        "groq": int(1000 * SOFT),
        "gemini": int(1500 * SOFT),
        "openrouter": int(OPENROUTER_DAILY * SOFT) * utc_days,
    }


def _utc_midnights(start: float, end: float) -> Iterator[float]:
    t = next_midnight(start, ZoneInfo("UTC"))
    while t < end:
        yield t
        t += DAY


def arrivals(shape: str, total: int, rng: random.Random) -> list[float]:
    """Arrival times (seconds into the day): 80% in 08:00-18:00, the rest over the other hours."""
    busy = [(8 + h) * 3600.0 for h in range(10)]
    quiet = [h * 3600.0 for h in range(24) if not 8 <= h < 18]
    per_hour = [(h, 0.8 * total / len(busy)) for h in busy] + [
        (h, 0.2 * total / len(quiet)) for h in quiet
    ]
    out: list[float] = []
    for hour, volume in per_hour:
        count = _poisson_count(volume, rng)
        if shape == "smooth":
            out += [hour + rng.uniform(0, 3600) for _ in range(count)]
            continue
        if shape == "waves":  # the hour's volume at 130 a minute from a random moment
            at = hour + rng.uniform(0, 3600 - count * 60 / WAVE_RATE)
            for _ in range(count):
                at += rng.expovariate(WAVE_RATE / 60)
                out.append(at)
            continue
        while count > 0:  # bursts of 40-160 calls within 15 s at random moments of the hour
            size = min(count, rng.randint(40, 160))
            at = hour + rng.uniform(0, 3600 - 15)
            out += [at + rng.uniform(0, 15) for _ in range(size)]
            count -= size
    return sorted(out)


def _poisson_count(mean: float, rng: random.Random) -> int:
    return max(0, round(rng.gauss(mean, math.sqrt(mean))))


class FreePool:
    """The checker's own record of one free pool: the calls llmswitch got served there.

    The limits and day rule are the simulator's (the provider's truth); a minute slot is held
    for 60 s plus llmswitch's ``window_guard_seconds`` (its margin for the clock between it and
    the provider), and day windows count at the soft limit. Kept apart from both the simulator's
    windows (which forget a request after exactly 60 s) and llmswitch's admission.
    """

    def __init__(self, limits: Limits, day_rule: str, guard: float) -> None:
        self.limits = limits
        self.minute = RollingLog(60.0 + guard)
        self.day: RollingLog | CalendarDay = (
            RollingLog(DAY + guard) if day_rule == "rolling" else CalendarDay(day_rule)
        )

    def add(self, now: float, tokens: int) -> None:
        self._expire(now)
        self.minute.add(now, tokens)
        self.day.add(now, tokens)

    def wait(self, now: float, tokens: int) -> float:
        """Seconds from ``now`` until this pool would take a request of ``tokens``."""
        self._expire(now)
        lim = self.limits
        waits = [_log_wait(self.minute, lim.rpm, lim.tpm, tokens, now)]
        rpd, tpd = int(lim.rpd * SOFT), int(lim.tpd * SOFT)
        if isinstance(self.day, RollingLog):
            waits.append(_log_wait(self.day, rpd, tpd, tokens, now))
        elif (rpd and self.day.count + 1 > rpd) or (tpd and self.day.tokens + tokens > tpd):
            waits.append(next_midnight(now, self.day.zone) - now)
        return max(waits)

    def _expire(self, now: float) -> None:
        self.minute.expire(now)
        self.day.expire(now)


def _log_wait(log: RollingLog, requests: int, tokens_cap: int, tokens: int, now: float) -> float:
    wait = 0.0
    if requests and log.count + 1 > requests:
        wait = log.wait_for_slot(requests, now)
    if tokens_cap and log.tokens + tokens > tokens_cap:
        wait = max(wait, log.wait_for_tokens(tokens_cap, tokens, now))
    return wait


def cause_of(error: LLMSwitchError) -> str:
    """One word for why a call failed: the paid provider's budget if it was refused for it, else
    the most common outcome among the attempts."""
    attempts = getattr(error, "attempts", ())
    outcomes = [a.outcome for a in attempts]
    if Outcome.BUDGET in outcomes:
        return "budget"
    if not outcomes:
        return type(error).__name__
    return str(Counter(outcomes).most_common(1)[0][0])


def run(
    shape: str,
    strategy: str,
    free_wait: float,
    *,
    date: str = "2026-12-03",
    demand: float = 1.5,
    budget: float = BUDGET,
    hours: tuple[int, int] = (0, 24),
    seed: int = 7,
) -> dict[str, Any]:
    """One simulated day; ``hours`` keeps only the arrivals between those Pacific hours (the
    smoke test runs one busy hour)."""
    start = day_start(date)
    capacity = free_capacity(start)
    total = round(demand * sum(capacity.values()))
    times = arrivals(shape, total, random.Random(seed))
    times = [t for t in times if hours[0] * 3600 <= t < hours[1] * 3600]
    clock = FakeClock(start)
    calls: list[Call] = []
    with simulator(clock=clock) as sim, tempfile.TemporaryDirectory() as tmp:
        sim.set_limits("openrouter", rpd=OPENROUTER_DAILY)
        path = Path(tmp) / "llmswitch.toml"
        path.write_text(_config(sim, strategy, free_wait, budget))
        settings = load_settings(path, env=KEYS, dotenv=None)
        llm = LLMProviderManager(settings, clock=clock, sleep=clock.sleep)
        truth = sim.sim
        shadow = {
            name: FreePool(
                truth.limits_for(name, KEYS[_env(name)]),
                truth.specs[name].day_rule,
                DEFAULT_WINDOW_GUARD,
            )
            for name in FREE
        }
        need = _prompt_tokens() + MAX_TOKENS  # the worst case admission reserves
        for at in times:
            if clock() < start + at:
                clock.set(start + at)
            began = clock()
            slot = min(pool.wait(began, need) for pool in shadow.values())
            try:
                result = llm.chat([{"role": "user", "content": PROMPT}], max_tokens=MAX_TOKENS)
                provider, cost, cause = result.provider, result.cost_usd, None
                if provider in shadow:
                    shadow[provider].add(clock(), result.usage.total_tokens)
            except LLMSwitchError as error:
                provider, cost, cause = None, 0.0, cause_of(error)
            calls.append(Call(at, began - start, clock() - start, provider, cost, cause, slot))
        usage = llm.get_usage("week")
        stats = sim.stats()
        llm.close()
    return report(shape, strategy, free_wait, budget, start, calls, capacity, stats, usage)


def _env(provider: str) -> str:
    return f"{provider.upper()}_API_KEY"


def _prompt_tokens() -> int:
    """What llmswitch estimates for the prompt (its own tokenizer guess): the checker's share of
    the worst case, so both sides reserve the same."""
    from llmswitch._tokens import estimate_prompt_tokens
    from llmswitch._types import Message

    return estimate_prompt_tokens([Message("user", PROMPT)])


def _config(sim: Any, strategy: str, free_wait: float, budget: float) -> str:
    lines = [
        "[llmswitch]",
        'state = "memory://"',
        f'strategy = "{strategy}"',
        f"free_wait_seconds = {free_wait}",
    ]
    for name in (*FREE, PAID):
        url = sim.gemini_native_base_url if name == "gemini" else sim.provider_base_url(name)
        lines += [f"[providers.{name}]", f'base_url = "{url}"']
    lines.append(f"daily_budget_usd = {budget}")
    return "\n".join(lines) + "\n"


def report(
    shape: str,
    strategy: str,
    free_wait: float,
    budget: float,
    start: float,
    calls: Sequence[Call],
    capacity: Mapping[str, int],
    stats: Mapping[str, Any],
    usage: Mapping[str, Any],
) -> dict[str, Any]:
    served = Counter(c.provider for c in calls if c.provider)
    paid = [c for c in calls if c.provider == PAID]
    avoidable = [c for c in paid if c.free_slot_in <= free_wait]
    within_default = [c for c in paid if c.free_slot_in <= DEFAULT_FREE_WAIT]
    used = {name: served[name] / capacity[name] for name in FREE}
    overall = sum(min(served[n], capacity[n]) for n in FREE) / sum(capacity.values())
    spend: dict[str, float] = {}
    for c in paid:
        day = datetime.fromtimestamp(start + c.end, UTC).date().isoformat()
        spend[day] = spend.get(day, 0.0) + c.cost_usd
    first_paid = paid[0].end if paid else None
    served_before_paid = sum(1 for c in calls if c.provider in FREE and c.end <= (first_paid or 0))
    delays = [c.start - c.arrival for c in calls] or [0.0]
    return {
        "shape": shape,
        "strategy": strategy,
        "free_wait_seconds": free_wait,
        "calls": len(calls),
        "served": dict(served),
        "free_capacity": dict(capacity),
        "free_used_share": {n: round(v, 4) for n, v in used.items()},
        "free_used_overall": round(overall, 4),
        "free_used_when_first_paid": round(served_before_paid / sum(capacity.values()), 4),
        "first_paid_at": _clock_text(start, first_paid),
        "paid_calls": len(paid),
        "paid_avoidable": len(avoidable),
        "paid_free_within_default_wait": len(within_default),
        "budget_usd": budget,
        "spend_by_budget_day": {d: round(v, 6) for d, v in sorted(spend.items())},
        "over_budget_days": [d for d, v in spend.items() if v > budget + 1e-12],
        "upstream_429": _upstream_429(stats),
        "errors": dict(Counter(c.cause for c in calls if c.cause)),
        "queue_delay_p50_s": round(statistics.median(delays), 1),
        "queue_delay_p99_s": round(sorted(delays)[int(0.99 * (len(delays) - 1))], 1),
        "savings_usd": usage.get("savings_usd"),
    }


def _clock_text(start: float, offset: float | None) -> str | None:
    if offset is None:
        return None
    return (datetime.fromtimestamp(start, PACIFIC) + timedelta(seconds=offset)).strftime("%H:%M")


def _upstream_429(stats: Mapping[str, Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for provider, row in stats.get("providers", {}).items():
        count = int(row.get("rate_limited", 0))
        if count:
            out[provider] = count
    return out


def runs(
    shapes: Sequence[str], strategies: Sequence[str], *, jobs: int = 2, **kw: Any
) -> list[dict[str, Any]]:
    """Every shape with the seed's ``free_wait_seconds = 0`` under ``priority``, then under each
    strategy with the default wait; ``jobs`` days run side by side in their own processes."""
    plan = []
    for shape in shapes:
        plan.append((shape, "priority", 0.0))
        plan += [(shape, strategy, DEFAULT_FREE_WAIT) for strategy in strategies]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(run, *args, **kw) for args in plan]
        return [f.result() for f in futures]


def table(rows: Sequence[dict[str, Any]]) -> str:
    head = (
        "| traffic | strategy | free_wait | calls | free used | at first paid | paid "
        "| free slot within own wait | within 5 s | spend per budget day (budget) | 429s "
        "| errors | queue p99 |"
    )
    lines = [head, "|" + " --- |" * 13]
    for r in rows:
        spend = ", ".join(f"${v:.4f}" for v in r["spend_by_budget_day"].values()) or "-"
        errors = ", ".join(f"{k} {v}" for k, v in sorted(r["errors"].items())) or "0"
        lines.append(
            f"| {r['shape']} | {r['strategy']} | {r['free_wait_seconds']:.0f} s | {r['calls']:,} "
            f"| {r['free_used_overall']:.1%} | {r['free_used_when_first_paid']:.1%} "
            f"| {r['paid_calls']:,} | {r['paid_avoidable']} | {r['paid_free_within_default_wait']} "
            f"| {spend} (${r['budget_usd']}) "
            f"| {sum(r['upstream_429'].values())} | {errors} | {r['queue_delay_p99_s']} s |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shapes", default="smooth,waves,bursty")
    parser.add_argument("--jobs", type=int, default=2, help="days simulated side by side")
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--budget", type=float, default=BUDGET, help="daily_budget_usd of OpenAI")
    parser.add_argument("--demand", type=float, default=1.5, help="times the free capacity")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    rows = runs(
        args.shapes.split(","),
        args.strategies.split(","),
        budget=args.budget,
        demand=args.demand,
        jobs=args.jobs,
    )
    print(table(rows))
    args.out.mkdir(parents=True, exist_ok=True)
    command = "python -m bench.economics " + " ".join(sys.argv[1:] if argv is None else argv)
    (args.out / "economics.json").write_text(
        json.dumps({"command": command.strip(), "rows": rows}, indent=2) + "\n"
    )


if __name__ == "__main__":
    main()
