"""One test per row of the failure/action table (README), over loopback HTTP, simulated time."""

from __future__ import annotations

from typing import Any

import pytest

from llmswitch import AllProvidersFailed, BadRequest, ContentFiltered, ContextTooLong
from llmswitch._clock import FakeClock
from llmswitch._quota import next_day_start
from tests.conftest import ManagerFactory

HELLO = [{"role": "user", "content": "hello"}]


def calls_to(sim: Any, provider: str) -> int:
    return len(sim.requests(provider))


def test_rate_limited_skips_the_key_until_the_provider_said(
    make_manager: ManagerFactory, sim: Any, clock: FakeClock
) -> None:
    llm = make_manager()
    sim.set_fault("groq", {"kind": "rate_limit", "retry_after": 7, "count": 1})
    result = llm.chat(HELLO)
    assert result.provider == "gemini"
    assert result.attempts[0].outcome == "rate_limited"
    assert result.attempts[0].retry_after == pytest.approx(7, abs=1)
    before = calls_to(sim, "groq")
    clock.advance(5)
    assert llm.chat(HELLO).provider == "gemini"
    assert calls_to(sim, "groq") == before, "blocked key must not be called"
    clock.advance(3)
    assert llm.chat(HELLO).provider == "groq"


def test_rate_limited_without_retry_after_waits_a_minute(
    make_manager: ManagerFactory, sim: Any, clock: FakeClock
) -> None:
    llm = make_manager()
    sim.set_fault("groq", {"kind": "rate_limit", "count": 1})
    assert llm.chat(HELLO).provider == "gemini"
    clock.advance(30)
    assert llm.chat(HELLO).provider == "gemini"
    clock.advance(31)
    assert llm.chat(HELLO).provider == "groq"


def test_quota_exhausted_parks_gemini_until_pacific_midnight(
    make_manager: ManagerFactory, sim: Any, clock: FakeClock
) -> None:
    llm = make_manager()
    sim.set_fault("gemini", {"kind": "quota_exhausted"})
    result = llm.chat(HELLO, provider_name="gemini")
    assert result.provider == "groq"
    assert result.attempts[0].outcome == "quota_exhausted"
    status = llm.get_provider_status()["providers"]["gemini"]
    assert status["status"] == "rate_limited"
    midnight = next_day_start(clock(), "America/Los_Angeles")
    assert status["keys"][0]["blocked_until"] == pytest.approx(midnight)
    sim.clear_faults("gemini")
    clock.set(midnight - 10)
    assert llm.chat(HELLO, provider_name="gemini").provider == "groq"
    clock.advance(11)
    assert llm.chat(HELLO, provider_name="gemini").provider == "gemini"


def test_auth_failed_disables_the_key_until_its_value_changes(
    make_manager: ManagerFactory, sim: Any, clock: FakeClock, tmp_path: Any
) -> None:
    state = f"sqlite:///{tmp_path}/state.db"
    llm = make_manager(state=state)
    sim.revoke_key("groq", "gsk_test_groq_key_0001")
    result = llm.chat(HELLO)
    assert (result.provider, result.attempts[0].outcome) == ("gemini", "auth_failed")
    assert llm.get_provider_status()["providers"]["groq"]["status"] == "auth_failed"
    before = calls_to(sim, "groq")
    clock.advance(3600)
    assert llm.chat(HELLO).provider == "gemini"
    assert calls_to(sim, "groq") == before, "a refused key is never retried by itself"
    from tests.conftest import SIM_KEYS

    fixed = make_manager(state=state, keys={**SIM_KEYS, "GROQ_API_KEY": "gsk_new_valid_key_9999"})
    assert fixed.chat(HELLO).provider == "groq"


def test_bad_request_fails_at_once_without_burning_other_quotas(
    make_manager: ManagerFactory, sim: Any
) -> None:
    llm = make_manager()
    with pytest.raises(BadRequest) as info:
        llm.chat([{"role": "wizard", "content": "hello"}])
    assert info.value.provider == "groq"
    assert calls_to(sim, "gemini") == 0
    assert [a.outcome for a in info.value.attempts] == ["bad_request"]


def test_content_filter_fails_at_once(make_manager: ManagerFactory, sim: Any) -> None:
    llm = make_manager()
    sim.set_fault("groq", "content_filter")
    with pytest.raises(ContentFiltered):
        llm.chat(HELLO)
    assert calls_to(sim, "gemini") == 0
    assert llm.get_provider_status()["providers"]["groq"]["status"] == "available"


def test_context_too_long_moves_to_a_model_with_a_larger_context(
    make_manager: ManagerFactory, sim: Any
) -> None:
    llm = make_manager()
    sim.set_fault("groq", "context_length")
    result = llm.chat(HELLO)
    assert result.provider == "gemini"  # 1M tokens of context against Groq's 131K
    assert [a.outcome for a in result.attempts] == ["context_too_long", "ok"]


def test_context_too_long_fails_when_no_larger_context_exists(
    make_manager: ManagerFactory, sim: Any
) -> None:
    llm = make_manager()
    sim.set_fault("gemini", "context_length")
    with pytest.raises(ContextTooLong):
        llm.chat(HELLO, provider_name="gemini")
    assert calls_to(sim, "groq") == 0, "Groq's context is smaller: no point sending it"


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ({"kind": "status", "status": 500}, "server_error"),
        ({"kind": "status", "status": 529}, "server_error"),
        ("error_in_200", "server_error"),
        ("reset", "connection"),
    ],
)
def test_server_side_failures_cool_the_provider_down_and_fail_over(
    make_manager: ManagerFactory, sim: Any, clock: FakeClock, fault: Any, kind: str
) -> None:
    llm = make_manager()
    sim.set_fault("groq", fault)
    result = llm.chat(HELLO)
    assert result.provider == "gemini"
    assert result.attempts[0].outcome == kind
    status = llm.get_provider_status()["providers"]["groq"]
    assert status["status"] == "cooling_down"
    assert status["cooldown_until"] == pytest.approx(clock() + 300, abs=1)
    assert status["last_error"]["kind"] == kind
    before = calls_to(sim, "groq")
    assert llm.chat(HELLO).provider == "gemini"
    assert calls_to(sim, "groq") == before


def test_a_silent_provider_costs_at_most_one_timeout(
    make_manager: ManagerFactory, sim: Any
) -> None:
    llm = make_manager(extra="timeout_seconds = 0.3")
    sim.set_fault("groq", "hang")
    first = llm.chat(HELLO)
    assert (first.provider, first.attempts[0].outcome) == ("gemini", "timeout")
    second = llm.chat(HELLO)
    assert [a.outcome for a in second.attempts] == ["cooling_down", "ok"]


def test_all_providers_at_their_limit_fail_at_once_with_the_earliest_recovery(
    make_manager: ManagerFactory, sim: Any, clock: FakeClock
) -> None:
    llm = make_manager(
        providers={
            name: {"requests_per_minute": 1}
            for name in ("groq", "gemini", "openrouter", "together", "openai")
        }
    )
    for _ in range(5):
        llm.chat(HELLO)
        clock.advance(1)
    with pytest.raises(AllProvidersFailed) as info:
        llm.chat(HELLO)
    err = info.value
    assert err.all_rate_limited
    # the first call slides out first: 60 s after it, plus the window guard (0.5 s by default)
    assert err.retry_after == pytest.approx(55.5, abs=0.01)
    assert {a.outcome for a in err.attempts} == {"not_admitted"}


def test_max_wait_waits_for_the_earliest_recovery(
    make_manager: ManagerFactory, sim: Any, clock: FakeClock
) -> None:
    llm = make_manager(
        providers={"groq": {"requests_per_minute": 1}},
        keys={"GROQ_API_KEY": "gsk_test_groq_key_0001"},
    )
    llm.chat(HELLO)
    result = llm.chat(HELLO, max_wait=120)
    assert result.provider == "groq"
    assert clock.sleeps == [pytest.approx(60.5)]  # the minute, plus the window guard
    with pytest.raises(AllProvidersFailed):
        llm.chat(HELLO, max_wait=10)
