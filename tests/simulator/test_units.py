"""Pure parts of the simulator: token counting, windows, durations, faults, config."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from llmswitch.simulator import SimConfigError, count_prompt_tokens, load_config
from llmswitch.simulator.faults import FaultBook, FaultError, parse_fault
from llmswitch.simulator.limits import Limits, Pool, Violation, go_duration
from llmswitch.simulator.runner import toml_snippet

LA = ZoneInfo("America/Los_Angeles")


def test_prompt_tokens_follow_the_documented_formula() -> None:
    messages = [
        {"role": "system", "content": "abcd" * 5},  # 20 chars -> 5 + 3
        {
            "role": "user",
            "content": [{"type": "text", "text": "abc"}, {"type": "text", "text": "de"}],
        },
        {"role": "assistant", "content": None},  # 0 + 3
    ]
    assert count_prompt_tokens(messages) == 3 + (5 + 3) + (2 + 3) + (0 + 3)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.94, "940ms"),
        (7.66, "7.66s"),
        (179.56, "2m59.56s"),
        (3723, "1h2m3s"),
        (1, "1s"),
        (360, "6m0s"),
        (0.012, "12ms"),
        (0, "0s"),
    ],
)
def test_go_durations(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text


def test_minute_window_slides_exactly_sixty_seconds() -> None:
    pool, limits = Pool("rolling"), Limits(rpm=2)
    assert not isinstance(pool.admit(limits, 100.0, 1), Violation)
    assert not isinstance(pool.admit(limits, 130.0, 1), Violation)
    refused = pool.admit(limits, 159.0, 1)
    assert isinstance(refused, Violation) and refused.window == "rpm"
    assert refused.retry_after == pytest.approx(1.0)
    assert not isinstance(pool.admit(limits, 160.0, 1), Violation)  # the first one left


def test_token_window_waits_for_enough_tokens_and_flags_too_large() -> None:
    pool, limits = Pool("rolling"), Limits(tpm=100)
    pool.admit(limits, 0.0, 60)
    pool.admit(limits, 10.0, 30)
    refused = pool.admit(limits, 20.0, 50)
    assert isinstance(refused, Violation) and refused.window == "tpm"
    assert refused.retry_after == pytest.approx(40.0)  # the 60 leaves at t=60
    too_big = pool.admit(limits, 20.0, 101)
    assert isinstance(too_big, Violation) and too_big.too_large


def test_zero_disables_a_window() -> None:
    pool = Pool("rolling")
    for i in range(100):
        assert not isinstance(pool.admit(Limits(rpm=0, tpd=0), float(i), 1000), Violation)


def _pacific(*parts: int) -> float:
    return datetime(*parts, tzinfo=LA).timestamp()


@pytest.mark.parametrize(
    "day",
    [(2026, 5, 28), (2026, 3, 8), (2026, 11, 1)],  # ordinary, spring forward, fall back
)
def test_pacific_day_resets_at_local_midnight_even_across_dst(day: tuple[int, int, int]) -> None:
    pool, limits = Pool("America/Los_Angeles"), Limits(rpd=1)
    late = _pacific(*day, 23, 59, 30)
    assert not isinstance(pool.admit(limits, late, 1), Violation)
    refused = pool.admit(limits, late + 10, 1)
    assert isinstance(refused, Violation) and refused.window == "rpd"
    assert datetime.fromtimestamp(refused.reset_at, LA).strftime("%H:%M:%S") == "00:00:00"
    assert not isinstance(pool.admit(limits, refused.reset_at, 1), Violation)


def test_dst_days_are_23_and_25_hours_long() -> None:
    pool, limits = Pool("America/Los_Angeles"), Limits(rpd=1)
    start = _pacific(2026, 3, 8, 0, 0, 1)
    pool.admit(limits, start, 1)
    refused = pool.admit(limits, start + 1, 1)
    assert isinstance(refused, Violation)
    assert refused.reset_at - _pacific(2026, 3, 8) == 23 * 3600
    pool = Pool("America/Los_Angeles")
    start = _pacific(2026, 11, 1, 0, 0, 1)
    pool.admit(limits, start, 1)
    refused = pool.admit(limits, start + 1, 1)
    assert isinstance(refused, Violation)
    assert refused.reset_at - _pacific(2026, 11, 1) == 25 * 3600


def test_utc_day_ends_at_utc_midnight() -> None:
    pool, limits = Pool("UTC"), Limits(rpd=1)
    t = 86_400 * 20_000 + 86_000.0
    pool.admit(limits, t, 1)
    refused = pool.admit(limits, t + 1, 1)
    assert isinstance(refused, Violation) and refused.reset_at == 86_400 * 20_001
    assert not isinstance(pool.admit(limits, 86_400 * 20_001, 1), Violation)


def test_rolling_day_counts_24_hours() -> None:
    pool, limits = Pool("rolling"), Limits(rpd=1)
    pool.admit(limits, 0.0, 1)
    assert isinstance(pool.admit(limits, 86_399.0, 1), Violation)
    assert not isinstance(pool.admit(limits, 86_400.0, 1), Violation)


def test_fault_shortcuts_and_validation() -> None:
    assert parse_fault("503", now=0).status == 503
    assert parse_fault(529, now=0).kind == "status"
    assert parse_fault("hang", now=0).kind == "hang"
    with pytest.raises(FaultError, match="unknown fault kind"):
        parse_fault("explode", now=0)
    with pytest.raises(FaultError, match="unknown fault field"):
        parse_fault({"kind": "status", "colour": 1}, now=0)


def test_fault_count_schedule_and_model_precedence() -> None:
    book = FaultBook()
    book.set("groq", parse_fault({"kind": "status", "count": 2}, now=0))
    book.set("groq", parse_fault({"kind": "hang", "for_seconds": 60}, now=0), "m2")
    assert [book.pick("groq", "m1", now=1, stream=False) is not None for _ in range(3)] == [
        True,
        True,
        False,
    ]
    fault = book.pick("groq", "m2", now=59, stream=False)
    assert fault is not None and fault.kind == "hang"
    assert book.pick("groq", "m2", now=60, stream=False) is None


def test_error_rate_is_seeded_and_stream_faults_spare_plain_requests() -> None:
    def rolls() -> list[bool]:
        book = FaultBook()
        book.set("openai", parse_fault({"kind": "error_rate", "rate": 0.3, "seed": 1}, now=0))
        return [book.pick("openai", "m", now=0, stream=False) is not None for _ in range(200)]

    first = rolls()
    assert first == rolls() and 40 <= sum(first) <= 80
    book = FaultBook()
    book.set("groq", parse_fault({"kind": "cut_stream", "count": 1}, now=0))
    assert book.pick("groq", "m", now=0, stream=False) is None
    assert book.pick("groq", "m", now=0, stream=True) is not None


def test_config_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "sim.toml"
    path.write_text(
        """
[simulator]
reply_tokens = 5
[providers.groq]
limits = { rpm = 3 }
[providers.groq.models."tiny"]
context_window = 100
reply_tokens = 2
[[faults]]
provider = "groq"
model = "tiny"
kind = "status"
status = 502
"""
    )
    cfg = load_config(path)
    groq = cfg.specs["groq"]
    assert groq.limits.rpm == 3 and groq.limits.rpd == 1000
    assert groq.reply_tokens == 5 and groq.models["tiny"].context_window == 100
    assert cfg.faults == [("groq", "tiny", {"kind": "status", "status": 502})]


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"providers": {"nope": {}}}, "unknown provider"),
        ({"providers": {"groq": {"limits": {"rps": 1}}}}, "unknown window"),
        ({"faults": [{"kind": "hang"}]}, "faults\\[0\\].provider"),
    ],
)
def test_config_errors_name_the_field(data: dict[str, object], match: str) -> None:
    with pytest.raises(SimConfigError, match=match):
        load_config(data)


def test_example_config_loads() -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "simulator.toml"
    cfg = load_config(example)
    assert cfg.faults


def test_toml_snippet_points_every_provider_at_the_simulator() -> None:
    text = toml_snippet("http://127.0.0.1:9999")
    assert 'base_url = "http://127.0.0.1:9999/groq/openai/v1"' in text
    assert 'base_url = "http://127.0.0.1:9999/gemini"' in text
    for name in ("openrouter", "together", "openai"):
        assert f"[providers.{name}]" in text
