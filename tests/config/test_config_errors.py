"""Every bad configuration is a ConfigError naming the file, the dotted key and what is valid."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmswitch._config import load_settings
from llmswitch._errors import ConfigError

LIMIT = "expected an integer >= 0 (0 turns the window off)"
GLOBAL_KEYS = (
    "strategy, cooldown_seconds, daily_soft_limit, timeout_seconds, state, fail_open, "
    "ledger_retention_days, "
    "stream_stall_seconds, max_wait_seconds, probe_after_seconds, failures_to_trip, retries, "
    "retry_backoff_seconds, retry_after_max_seconds, retry_timeouts, first_token_seconds, "
    "stream_continuation, paid_last, estimate_completion_tokens, free_wait_seconds, "
    "image_fetch_max_bytes, image_fetch_seconds, image_fetch_loopback_http"
)
PROVIDER_KEYS = (
    "priority, api, base_url, api_key_env, models, embedding_models, requests_per_minute, "
    "requests_per_day, "
    "tokens_per_minute, tokens_per_day, day_resets, free, daily_budget_usd, budget_resets, weight, "
    "window_guard_seconds, enabled, limit_headers, prices, context_windows, headers, api_key, "
    "cooldown_seconds, probe_after_seconds, failures_to_trip, retries, first_token_seconds, "
    "stream_continuation, prefill, aliases, estimate_completion_tokens"
)
PRICES = "expected a table of model = [input, output] USD per 1M tokens, each >= 0"

# (TOML text, the message after "<file>: ")
BAD_CONFIGS: list[tuple[str, str]] = [
    (
        "[providers.groq]\nwindow_guard_seconds = 90",
        "providers.groq.window_guard_seconds: got 90; expected seconds from 0 to 60 a rolling "
        "window holds a request past its period",
    ),
    (
        '[llmswitch]\nstrategy = "random"',
        "llmswitch.strategy: expected one of priority, weighted, headroom, cheapest, fastest",
    ),
    (
        "[llmswitch]\ndaily_soft_limit = 1.5",
        "llmswitch.daily_soft_limit: got 1.5; expected a number in (0, 1]",
    ),
    (
        "[llmswitch]\ndaily_soft_limit = 0",
        "llmswitch.daily_soft_limit: got 0; expected a number in (0, 1]",
    ),
    (
        "[llmswitch]\ntimeout_seconds = 0",
        "llmswitch.timeout_seconds: got 0; expected a number of seconds > 0",
    ),
    (
        "[llmswitch]\ncooldown_seconds = -1",
        "llmswitch.cooldown_seconds: got -1; expected a number of seconds >= 0",
    ),
    (
        '[llmswitch]\ncooldown_seconds = "300"',
        "llmswitch.cooldown_seconds: expected a number of seconds >= 0",
    ),
    (
        '[llmswitch]\nstate = "postgres://db/1"',
        "llmswitch.state: expected a store URL: memory://, sqlite:///path/to/state.db or "
        "redis://host:port/db",
    ),
    (
        "[llmswitch]\nfail_open = true",
        "llmswitch.fail_open: got true; expected false unless state is redis:// "
        "(fail_open only decides what to do when a shared Redis is down)",
    ),
    (
        '[llmswitch]\nstratgy = "priority"',
        f"llmswitch.stratgy: unknown key (did you mean strategy?); valid keys: {GLOBAL_KEYS}",
    ),
    (
        "[provider.groq]\npriority = 1",
        "provider: unknown key (did you mean providers?); valid keys: llmswitch, providers, "
        "alerts, models",
    ),
    (
        "[providers.groq]\nrequests_per_minute = -5",
        f"providers.groq.requests_per_minute: got -5; {LIMIT}",
    ),
    ("[providers.groq]\ntokens_per_day = 1.5", f"providers.groq.tokens_per_day: got 1.5; {LIMIT}"),
    (
        "[providers.groq]\nrequest_per_minute = 5",
        "providers.groq.request_per_minute: unknown key (did you mean requests_per_minute?); "
        f"valid keys: {PROVIDER_KEYS}",
    ),
    (
        '[providers.groq]\npriority = "1"',
        "providers.groq.priority: expected an integer >= 1 (1 is tried first)",
    ),
    (
        "[providers.groq]\npriority = 0",
        "providers.groq.priority: got 0; expected an integer >= 1 (1 is tried first)",
    ),
    (
        "[providers.groq]\npriority = true",
        "providers.groq.priority: got true; expected an integer >= 1 (1 is tried first)",
    ),
    (
        '[providers.groq]\napi = "anthropic"',
        "providers.groq.api: expected 'openai' (chat completions) or 'gemini' (native)",
    ),
    (
        '[providers.groq]\nbase_url = "ftp://example.com"',
        "providers.groq.base_url: expected an http:// or https:// URL",
    ),
    (
        '[providers.groq]\nday_resets = "Mars/Olympus_Mons"',
        "providers.groq.day_resets: expected 'utc', 'rolling' or an IANA time zone such as "
        "'America/Los_Angeles'",
    ),
    (
        '[providers.groq]\nlimit_headers = "anthropic"',
        "providers.groq.limit_headers: expected one of groq, openai, together, openrouter, none",
    ),
    (
        "[providers.groq]\nmodels = []",
        "providers.groq.models: expected a non-empty list of model ids (the first is the default)",
    ),
    (
        '[providers.groq]\nmodels = [""]',
        "providers.groq.models: expected a non-empty list of model ids (the first is the default)",
    ),
    ('[providers.groq]\nprices = { "m" = [1.0] }', f"providers.groq.prices.m: {PRICES}"),
    (
        '[providers.gemini]\nprices = { "gemini-3.6-flash" = [-1, 2] }',
        f'providers.gemini.prices."gemini-3.6-flash": {PRICES}',
    ),
    (
        '[providers.groq]\ncontext_windows = { "m" = 0 }',
        "providers.groq.context_windows.m: got 0; expected a table of model = context window in "
        "tokens (an integer > 0)",
    ),
    (
        '[providers.groq]\napi_key_env = "1BAD"',
        "providers.groq.api_key_env: expected an environment variable name or a list of them",
    ),
    (
        "[providers.groq]\napi_key_env = []",
        "providers.groq.api_key_env: expected an environment variable name or a list of them",
    ),
    ('[providers.groq]\nenabled = "yes"', "providers.groq.enabled: expected true or false"),
    (
        "[providers.groq]\nheaders = { X-Title = 5 }",
        "providers.groq.headers.X-Title: got 5; expected a table of header = string value",
    ),
    ("[providers]\ngroq = 5", "providers.groq: expected a table of provider settings"),
    (
        '[providers.local]\nmodels = ["llama3"]',
        "providers.local.base_url: required for a new provider; "
        "expected an http:// or https:// URL",
    ),
    (
        '[providers.local]\nbase_url = "http://127.0.0.1:11434/v1"',
        "providers.local.models: required for a new provider; expected a non-empty list of model "
        "ids (the first is the default)",
    ),
    (
        '[providers."My Provider"]\nbase_url = "http://x"\nmodels = ["m"]',
        "providers.\"My Provider\": expected a provider name of lowercase letters, digits, '-' and "
        "'_' (and not 'multi')",
    ),
    (
        '[providers.multi]\nbase_url = "http://x"\nmodels = ["m"]',
        "providers.multi: expected a provider name of lowercase letters, digits, '-' and '_' "
        "(and not 'multi')",
    ),
    (
        "[providers.groq]\ndaily_budget_usd = 5",
        "providers.groq.daily_budget_usd: expected 0 for a free provider; set free = false to "
        "budget a paid one",
    ),
    (
        '[providers.local]\nbase_url = "http://x"\nmodels = ["a", "b"]\nfree = false\n'
        'prices = { "a" = [1, 2] }',
        "providers.local.prices: no price for b; expected [input, output] USD per 1M tokens for "
        "every model of a paid provider",
    ),
    (
        '[providers.openai]\nmodels = ["gpt-9"]',
        "providers.openai.prices: no price for gpt-9; expected [input, output] USD per 1M tokens "
        "for every model of a paid provider",
    ),
]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "llmswitch.toml"
    path.write_text(text + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "message"), BAD_CONFIGS, ids=[m.split(":")[0] for _, m in BAD_CONFIGS]
)
def test_bad_config_names_file_key_and_valid_values(
    tmp_path: Path, text: str, message: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={}, dotenv=None)
    assert str(info.value) == f"{path}: {message}"


def test_every_bad_key_is_reported_once(tmp_path: Path) -> None:
    path = _write(tmp_path, "[providers.groq]\nrequests_per_minute = -1\ntokens_per_minute = -2")
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={}, dotenv=None)
    assert str(info.value).splitlines() == [
        f"{path}: providers.groq.requests_per_minute: got -1; {LIMIT}",
        f"{path}: providers.groq.tokens_per_minute: got -2; {LIMIT}",
    ]


def test_invalid_toml_names_the_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "[llmswitch\nstrategy = 1")
    with pytest.raises(ConfigError, match=r"not valid TOML: .*line 1") as info:
        load_settings(path, env={}, dotenv=None)
    assert str(info.value).startswith(f"{path}: not valid TOML")


@pytest.mark.parametrize(
    ("path_arg", "env", "message"),
    [
        ("missing.toml", {}, "missing.toml: config file not found (named by the path argument)"),
        (
            None,
            {"LLMSWITCH_CONFIG": "gone.toml"},
            "gone.toml: config file not found (named by LLMSWITCH_CONFIG)",
        ),
        (
            None,
            {"LLM_PROVIDER": "grok"},
            "environment: LLM_PROVIDER: names no known provider; valid values: multi, groq, "
            "gemini, openrouter, together, openai",
        ),
    ],
)
def test_bad_sources(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    path_arg: str | None,
    env: dict[str, str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        load_settings(path_arg, env=env, dotenv=None)
    assert str(info.value) == message
