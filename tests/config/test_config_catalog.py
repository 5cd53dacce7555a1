"""The built-in catalog: seed priorities and limits, prices, context windows, retired aliases."""

from __future__ import annotations

import pytest

from llmswitch._catalog import CATALOG
from llmswitch._config import ProviderSettings, load_settings

SETTINGS = load_settings(env={}, dotenv=None)
PROVIDERS = {p.name: p for p in SETTINGS.providers}

# name, priority, api, free, rpm, rpd, tpm, tpd, day_resets, limit header dialect
SEED = [
    ("groq", 1, "openai", True, 30, 1000, 8000, 100_000, "rolling", "groq"),
    ("gemini", 2, "gemini", True, 60, 0, 0, 15_000_000, "America/Los_Angeles", "none"),
    # the seed said 50 a minute; OpenRouter's :free models allow 20, and 50 a day without credits
    ("openrouter", 3, "openai", True, 20, 50, 0, 50_000, "utc", "openrouter"),
    ("together", 4, "openai", False, 40, 0, 0, 100_000, "rolling", "together"),
    ("openai", 5, "openai", False, 60, 0, 0, 1_000_000, "rolling", "openai"),
]

DEFAULTS = [
    ("groq", ["openai/gpt-oss-120b", "openai/gpt-oss-20b"]),
    ("gemini", ["gemini-3.6-flash", "gemini-3.5-flash-lite", "gemini-2.5-pro"]),
    ("openrouter", ["meta-llama/llama-3.3-70b-instruct:free", "deepseek/deepseek-r1-0528"]),
    ("together", ["meta-llama/Llama-3.3-70B-Instruct-Turbo", "openai/gpt-oss-120b"]),
    ("openai", ["gpt-4o-mini", "gpt-4.1-mini"]),
]

RETIRED = [
    ("groq", "llama-3.3-70b-versatile", "openai/gpt-oss-120b"),
    ("groq", "mixtral-8x7b-32768", "openai/gpt-oss-120b"),
    ("gemini", "gemini-1.5-flash", "gemini-3.6-flash"),
    ("gemini", "gemini-2.5-flash", "gemini-3.6-flash"),
    ("openrouter", "deepseek/deepseek-r1:free", "deepseek/deepseek-r1-0528"),
    ("together", "mistralai/Mixtral-8x7B-Instruct-v0.1", "meta-llama/Llama-3.3-70B-Instruct-Turbo"),
]


@pytest.mark.parametrize("row", SEED, ids=[r[0] for r in SEED])
def test_seed_priorities_and_limits(row: tuple[object, ...]) -> None:
    name, priority, api, free, rpm, rpd, tpm, tpd, resets, dialect = row
    p = PROVIDERS[str(name)]
    got = (p.priority, p.api, p.free, p.requests_per_minute, p.requests_per_day,
           p.tokens_per_minute, p.tokens_per_day, p.day_resets, p.limit_headers)  # fmt: skip
    assert got == (priority, api, free, rpm, rpd, tpm, tpd, resets, dialect)


def test_providers_in_priority_order() -> None:
    assert list(SETTINGS.provider_names) == list(CATALOG) == [r[0] for r in SEED]


@pytest.mark.parametrize(("name", "models"), DEFAULTS)
def test_models_first_is_default(name: str, models: list[str]) -> None:
    assert list(PROVIDERS[name].models) == models
    assert PROVIDERS[name].default_model == models[0]


@pytest.mark.parametrize("provider", SETTINGS.providers, ids=SETTINGS.provider_names)
def test_every_model_has_a_price_and_context_window(provider: ProviderSettings) -> None:
    for model in provider.models:
        assert model in provider.prices
        price_in, price_out = provider.price(model)
        assert price_in >= 0 and price_out >= 0
        window = provider.context_window(model)
        assert window is not None and window >= 100_000


@pytest.mark.parametrize("provider", SETTINGS.providers, ids=SETTINGS.provider_names)
def test_every_alias_points_at_a_listed_model(provider: ProviderSettings) -> None:
    for alias, target in provider.aliases.items():
        assert target in provider.models, alias
        assert alias not in provider.models


@pytest.mark.parametrize(("name", "old", "new"), RETIRED)
def test_retired_ids_resolve_to_todays(name: str, old: str, new: str) -> None:
    provider = PROVIDERS[name]
    assert provider.resolve_model(old) == new
    assert provider.price(old) == provider.price(new)
    others = [p for p in SETTINGS.providers if p.name != name]
    assert all(p.resolve_model(old) is None for p in others)


@pytest.mark.parametrize(
    ("name", "model", "expected"),
    [
        ("groq", "openai/gpt-oss-20b", "openai/gpt-oss-20b"),
        ("together", "openai/gpt-oss-120b", "openai/gpt-oss-120b"),
        ("gemini", "models/gemini-2.5-pro", "gemini-2.5-pro"),
        ("groq", "models/openai/gpt-oss-20b", None),
        ("openai", "gemini-3.6-flash", None),
    ],
)
def test_resolve_model(name: str, model: str, expected: str | None) -> None:
    assert PROVIDERS[name].resolve_model(model) == expected


def test_windows_follow_day_resets() -> None:
    windows = {p.name: {w.name: w for w in p.windows()} for p in SETTINGS.providers}
    assert set(windows["groq"]) == {"rpm", "rpd", "tpm", "tpd"}
    assert windows["groq"]["rpd"].rolling and windows["groq"]["rpm"].rolling
    assert windows["gemini"]["tpd"].reset == "America/Los_Angeles"
    assert windows["gemini"]["rpm"].reset == "rolling"
    assert windows["openrouter"]["tpd"].reset == "utc"
    assert set(windows["openai"]) == {"rpm", "tpd"}


def test_endpoints_and_headers() -> None:
    gemini = PROVIDERS["gemini"]
    assert gemini.base_url == "https://generativelanguage.googleapis.com"
    assert gemini.openai_base_url == "https://generativelanguage.googleapis.com/v1beta/openai/"
    assert PROVIDERS["groq"].openai_base_url == "https://api.groq.com/openai/v1"
    assert PROVIDERS["openrouter"].headers == {"X-Title": "llmswitch"}
    assert gemini.api_key_env == ("GEMINI_API_KEY", "GOOGLE_API_KEY")
