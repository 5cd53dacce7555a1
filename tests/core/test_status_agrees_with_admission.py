"""The status says what admission does: a key admission stops at the daily soft limit is not
shown ``active``, and ``current_provider`` names the provider the next call goes to."""

from __future__ import annotations

from typing import Any

from llmswitch._manager import LLMProviderManager


def test_a_key_at_its_daily_soft_limit_is_not_active(make_manager: Any) -> None:
    # 20 requests a day at the default soft limit of 95%: admission stops groq after 19.
    llm: LLMProviderManager = make_manager(providers={"groq": {"requests_per_day": 20}})
    served = [llm.chat([{"role": "user", "content": f"q{i}"}]).provider for i in range(20)]
    assert served[:19] == ["groq"] * 19
    assert served[19] != "groq"  # admission moved on at 19/20

    status = llm.get_provider_status()
    assert status["providers"]["groq"]["status"] == "rate_limited"
    assert status["current_provider"] == served[19]
    assert status["providers"][served[19]]["is_current"] is True
    assert llm.current_provider() == served[19]
    _client, model = llm.get_client()
    assert model == status["providers"][served[19]]["default_model"]


def test_below_the_soft_limit_the_key_stays_active(make_manager: Any) -> None:
    llm: LLMProviderManager = make_manager(providers={"groq": {"requests_per_day": 20}})
    for i in range(18):
        assert llm.chat([{"role": "user", "content": f"q{i}"}]).provider == "groq"
    status = llm.get_provider_status()
    assert status["providers"]["groq"]["status"] == "available"
    assert status["current_provider"] == "groq"
