"""The dashboard's pure helpers: the one-line error, the chart buckets, savings per model."""

from __future__ import annotations

from typing import Any

import pytest

from llmswitch._ledger import LedgerEntry, RollupRow
from llmswitch.server.charts import Span, bucket, spans
from llmswitch.server.dashboard import one_line, savings_by_model, summarised

GROQ_429 = (
    "Rate limit reached for model `openai/gpt-oss-120b` in organization org_01 service tier "
    "on_demand on requests per minute (RPM): Limit 30, Used 30, Requested 1.\n\n"
    "Please try again in 2s. Visit https://console.groq.com/docs/rate-limits for more."
)


@pytest.mark.parametrize(
    ("text", "width", "expected"),
    [
        ("short", 72, "short"),
        ("  folded\n\nwhite   space ", 72, "folded white space"),
        ("exactly ten", 11, "exactly ten"),
        ("one two three four", 12, "one two…"),  # never "one two thr…"
        ("stop, here; please", 12, "stop, here…"),  # no dangling punctuation before the mark
        ("x" * 30, 10, "x" * 9 + "…"),  # one long word (a URL): a hard cut is the only cut
        ("a " + "y" * 30, 10, "a yyyyyyy…"),  # a word boundary too early to be worth it
    ],
)
def test_one_line_cuts_at_a_word_and_marks_the_cut(text: str, width: int, expected: str) -> None:
    assert one_line(text, width) == expected
    assert len(one_line(text, width)) <= width


def test_one_line_of_a_real_429_is_its_start_up_to_a_whole_word() -> None:
    line = one_line("rate_limited: " + GROQ_429, 72)
    assert line == "rate_limited: Rate limit reached for model `openai/gpt-oss-120b` in…"
    assert "\n" not in line and len(line) <= 72


def test_the_summary_is_made_from_the_redacted_text() -> None:
    """A cut through a key would leave a fragment the redactor no longer recognises."""
    secret = "sk-live-" + "k" * 40
    status: dict[str, Any] = {
        "providers": {
            "openai": {"last_error": {"kind": "auth_failed", "message": f"bad key {secret} x"}},
            "groq": {"last_error": None},
        }
    }

    def redact(text: str) -> str:
        return text.replace(secret, "sk-…kkkk")

    out = summarised(status, redact)["providers"]
    assert out["openai"]["last_error"]["summary"] == "auth_failed: bad key sk-…kkkk x"
    assert out["groq"]["last_error"] is None


def _entry(ts: float, provider: str, outcome: str = "ok", **kw: Any) -> LedgerEntry:
    return LedgerEntry(ts=ts, day="2026-05-28", provider=provider, key_alias="K", model="m",
                       outcome=outcome, **kw)  # fmt: skip


def test_spans_end_with_the_current_minute_and_cover_the_utc_day() -> None:
    now = 1_780_000_000.0 + 25.0  # 2026-05-28T20:27:05Z
    hour, today = spans(now)
    assert (hour.bucket_s, hour.buckets) == (60.0, 60)
    assert hour.index(now) == 59 and hour.index(now - 3600) is None
    assert hour.index(hour.start) == 0 and hour.end == 1_780_000_020.0 + 60
    assert (today.bucket_s, today.buckets) == (3600.0, 24)
    assert today.start == 1_779_926_400.0  # 2026-05-28T00:00:00Z
    assert today.index(now) == 20


def test_buckets_count_requests_tokens_cost_and_answered_latency_per_provider() -> None:
    span = Span("hour", 0.0, 60.0, 3)
    entries = [
        _entry(5, "groq", prompt_tokens=10, completion_tokens=5, latency_s=0.2),
        _entry(50, "groq", prompt_tokens=1, completion_tokens=1, latency_s=0.4),
        _entry(70, "groq", outcome="rate_limited", latency_s=9.0),  # no latency of a failure
        _entry(130, "together", prompt_tokens=100, cost_usd=0.25, latency_s=1.0),
        _entry(180, "groq"),  # outside the span
        _entry(-1, "groq"),
    ]
    got = bucket(entries, span)
    assert got["groq"] == {
        "requests": [2, 1, 0],
        "failed": [0, 1, 0],
        "tokens": [17, 0, 0],
        "cost_usd": [0.0, 0.0, 0.0],
        "latency_ms": [300.0, None, None],
    }
    assert got["together"]["cost_usd"] == [0.0, 0.0, 0.25]
    assert got["together"]["latency_ms"] == [None, None, 1000.0]
    assert list(got) == ["groq", "together"]


def test_savings_per_model_price_each_model_at_its_own_list_price() -> None:
    from llmswitch._config import load_settings

    keys = {"GROQ_API_KEY": "gsk_x", "GEMINI_API_KEY": "AIza_x"}
    settings = load_settings(None, env=keys, dotenv=None)
    groq = next(p for p in settings.providers if p.name == "groq")
    gemini = next(p for p in settings.providers if p.name == "gemini")
    day = "2026-05-28"
    rows = [
        RollupRow(day, "groq", groq.models[0], "A", 3, 3, 0, 1000, 500),
        RollupRow(day, "groq", groq.models[0], "B", 1, 1, 0, 1000, 500),  # summed over keys
        RollupRow(day, "gemini", gemini.models[0], "A", 2, 2, 0, 2000, 100),
        RollupRow(day, "together", "any", "A", 5, 5, 0, 9999, 9999, cost_usd=0.1),  # paid
    ]
    out = savings_by_model(settings, rows)
    saved = [m["saved_usd"] for m in out]
    assert saved == sorted(saved, reverse=True), "most first"
    by = {m["provider"]: m for m in out}
    assert set(by) == {"groq", "gemini"}
    g_in, g_out = groq.price(groq.models[0])
    assert by["groq"]["calls"] == 4
    assert by["groq"]["saved_usd"] == pytest.approx((2000 * g_in + 1000 * g_out) / 1e6)
    m_in, m_out = gemini.price(gemini.models[0])
    assert by["gemini"]["saved_usd"] == pytest.approx((2000 * m_in + 100 * m_out) / 1e6)
    assert all(m["priced"] for m in out) and g_in > 0 and m_in > 0
