"""Where settings come from: catalog, file, environment and .env, and how keys are collected."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from llmswitch._config import load_settings
from llmswitch._errors import ConfigError

GROQ = "gsk_groq_first_key_000001"


def _write(tmp_path: Path, text: str, name: str = "llmswitch.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- environment and .env -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("real", "dotenv_line", "expected"),
    [
        ({"GROQ_API_KEY": GROQ}, "GROQ_API_KEY=gsk_from_dotenv_000002", GROQ),  # real env wins
        ({}, "GROQ_API_KEY=gsk_from_dotenv_000002", "gsk_from_dotenv_000002"),  # .env fills in
        ({"GROQ_API_KEY": ""}, "GROQ_API_KEY=gsk_from_dotenv_000002", "gsk_from_dotenv_000002"),
        ({"GROQ_API_KEY": GROQ}, "# nothing", GROQ),
    ],
    ids=["env-wins", "dotenv-fills", "empty-env-is-unset", "no-dotenv-value"],
)
def test_env_and_dotenv_precedence(
    tmp_path: Path, real: dict[str, str], dotenv_line: str, expected: str
) -> None:
    dotenv = _write(tmp_path, dotenv_line + "\n", ".env")
    settings = load_settings(env=real, dotenv=dotenv)
    assert [k.secret_value() for k in settings.provider("groq").keys] == [expected]


def test_dotenv_none_reads_no_file_and_missing_file_is_fine(tmp_path: Path) -> None:
    _write(tmp_path, "GROQ_API_KEY=gsk_from_dotenv_000002\n", ".env")
    assert load_settings(env={}, dotenv=None).provider("groq").keys == ()
    assert load_settings(env={}, dotenv=tmp_path / "absent.env").provider("groq").keys == ()


def test_dotenv_never_touches_os_environ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLMSWITCH_TEST_ONLY_VAR", raising=False)
    dotenv = _write(
        tmp_path, "LLMSWITCH_TEST_ONLY_VAR=1\nGROQ_API_KEY=gsk_from_dotenv_000002\n", ".env"
    )
    before = dict(os.environ)
    load_settings(dotenv=dotenv)
    assert dict(os.environ) == before


def test_default_env_is_os_environ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-proj-from-os-environ-1")
    monkeypatch.chdir(tmp_path)
    keys = load_settings(dotenv=None).provider("openai").keys
    assert [k.alias for k in keys] == ["OPENAI_API_KEY"]


# --- keys ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "provider", "aliases"),
    [
        ({"GROQ_API_KEY": GROQ}, "groq", ["GROQ_API_KEY"]),
        (
            {
                "GROQ_API_KEY_10": "k10_xxxxxxxxxx",
                "GROQ_API_KEY_2": "k2_xxxxxxxxxx",
                "GROQ_API_KEY": GROQ,
                "GROQ_API_KEY_3": "k3_xxxxxxxxxx",
            },
            "groq",
            ["GROQ_API_KEY", "GROQ_API_KEY_2", "GROQ_API_KEY_3", "GROQ_API_KEY_10"],
        ),
        ({"GROQ_API_KEY_2": "k2_xxxxxxxxxx"}, "groq", ["GROQ_API_KEY_2"]),
        ({"GROQ_API_KEY": GROQ, "GROQ_API_KEY_2": GROQ}, "groq", ["GROQ_API_KEY"]),  # same value
        ({"GROQ_API_KEY": "  "}, "groq", []),
        ({"GROQ_API_KEY_X": GROQ, "GROQ_API_KEYS": GROQ}, "groq", []),
        ({"GOOGLE_API_KEY": "AIza_google_key_1"}, "gemini", ["GOOGLE_API_KEY"]),
        ({"GEMINI_API_KEY": "AIza_gemini_key_1"}, "gemini", ["GEMINI_API_KEY"]),
        (
            {"GEMINI_API_KEY": "AIza_gemini_key_1", "GOOGLE_API_KEY": "AIza_google_key_1"},
            "gemini",
            ["GEMINI_API_KEY", "GOOGLE_API_KEY"],
        ),
        (
            {"GEMINI_API_KEY": "AIza_same_key_1", "GOOGLE_API_KEY": "AIza_same_key_1"},
            "gemini",
            ["GEMINI_API_KEY"],
        ),
        ({"OPENROUTER_API_KEY": "sk-or-v1-abc"}, "openrouter", ["OPENROUTER_API_KEY"]),
        ({"TOGETHER_API_KEY": "tgp_v1_abc"}, "together", ["TOGETHER_API_KEY"]),
        ({"OPENAI_API_KEY": "sk-proj-abc"}, "openai", ["OPENAI_API_KEY"]),
    ],
)
def test_keys_per_provider(env: dict[str, str], provider: str, aliases: list[str]) -> None:
    keys = load_settings(env=env, dotenv=None).provider(provider).keys
    assert [k.alias for k in keys] == aliases
    assert len({k.fingerprint for k in keys}) == len(keys)


def test_provider_without_key_is_kept_but_unavailable() -> None:
    settings = load_settings(env={"GROQ_API_KEY": GROQ}, dotenv=None)
    assert settings.provider_names == ("groq", "gemini", "openrouter", "together", "openai")
    assert [p.name for p in settings.available] == ["groq"]
    assert settings.provider("openai").keys == ()
    assert not settings.provider("openai").available


@pytest.mark.parametrize(
    ("value", "masked"), [("gsk_CANARY_0123456789abcdef", "…cdef"), ("short_key12", "****")]
)
def test_masked_and_fingerprint(value: str, masked: str) -> None:
    key = load_settings(env={"GROQ_API_KEY": value}, dotenv=None).provider("groq").keys[0]
    assert key.masked == masked
    assert len(key.fingerprint) == 16 and value not in key.fingerprint


def test_api_key_in_file_and_custom_env_names(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        '[providers.ollama]\nbase_url = "http://127.0.0.1:11434/v1"\nmodels = ["llama3.2"]\n'
        'api_key = "ollama"\n'
        '[providers.groq]\napi_key_env = ["MY_GROQ", "TEAM_GROQ"]\n',
    )
    env = {
        "MY_GROQ": "gsk_mine_0000000001",
        "TEAM_GROQ_2": "gsk_team_0000000002",
        "OLLAMA_API_KEY": "x",
    }
    settings = load_settings(path, env=env, dotenv=None)
    assert [k.alias for k in settings.provider("groq").keys] == ["MY_GROQ", "TEAM_GROQ_2"]
    assert [k.alias for k in settings.provider("ollama").keys] == ["OLLAMA_API_KEY", "api_key"]


# --- LLM_PROVIDER and LLM_MODEL -------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "order", "llm_provider"),
    [
        ({}, ["groq", "gemini", "openrouter", "together", "openai"], "multi"),
        (
            {"LLM_PROVIDER": "multi"},
            ["groq", "gemini", "openrouter", "together", "openai"],
            "multi",
        ),
        (
            {"LLM_PROVIDER": "gemini"},
            ["gemini", "groq", "openrouter", "together", "openai"],
            "gemini",
        ),
        (
            {"LLM_PROVIDER": " OpenAI "},
            ["openai", "groq", "gemini", "openrouter", "together"],
            "openai",
        ),
    ],
)
def test_llm_provider_moves_one_first_and_keeps_the_rest(
    env: dict[str, str], order: list[str], llm_provider: str
) -> None:
    settings = load_settings(env=env, dotenv=None)
    assert list(settings.provider_names) == order
    assert settings.llm_provider == llm_provider
    if llm_provider != "multi":
        assert settings.providers[0].priority == 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "auto"),
        ("auto", "auto"),
        ("AUTO", "auto"),
        ("", "auto"),
        (" gemini-2.5-pro ", "gemini-2.5-pro"),
    ],
)
def test_llm_model(value: str | None, expected: str) -> None:
    env = {} if value is None else {"LLM_MODEL": value}
    assert load_settings(env=env, dotenv=None).llm_model == expected


# --- the file -------------------------------------------------------------------------------


def test_file_overrides_builtin_and_keeps_the_rest(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        '[llmswitch]\nstrategy = "cheapest"\ndaily_soft_limit = 1\nstate = "memory://"\n'
        "[providers.groq]\nrequests_per_day = 0\ntokens_per_minute = 6000\npriority = 9\n"
        '[providers.gemini]\nprices = { "gemini-9-flash" = [0.1, 0.2] }\n'
        'models = ["gemini-9-flash", "gemini-3.6-flash"]\n',
    )
    settings = load_settings(path, env={}, dotenv=None)
    assert (settings.strategy, settings.daily_soft_limit, settings.state) == (
        "cheapest",
        1.0,
        "memory://",
    )
    assert settings.cooldown_seconds == 300.0 and settings.config_path == path
    groq = settings.provider("groq")
    assert [(w.name, w.limit) for w in groq.windows()] == [
        ("rpm", 30),
        ("tpm", 6000),
        ("tpd", 100_000),
    ]
    assert settings.provider_names[-1] == "groq"
    gemini = settings.provider("gemini")
    assert gemini.default_model == "gemini-9-flash"
    assert gemini.price("gemini-9-flash") == (0.1, 0.2)
    assert gemini.price("gemini-3.6-flash") == (0.75, 3.75)  # merged, not replaced


def test_new_provider_enforces_only_what_it_sets(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        '[providers.local-vllm]\nbase_url = "http://127.0.0.1:8000/v1"\nmodels = ["qwen"]\n'
        "requests_per_minute = 100\n",
    )
    local = load_settings(path, env={}, dotenv=None).provider("local-vllm")
    assert [(w.name, w.limit) for w in local.windows()] == [("rpm", 100)]
    assert (local.api, local.priority, local.limit_headers) == ("openai", 100, "none")
    assert local.api_key_env == ("LOCAL_VLLM_API_KEY",)
    assert local.price("qwen") == (0.0, 0.0)


def test_config_discovery(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_settings(env={}, dotenv=None).config_path is None
    _write(tmp_path, '[llmswitch]\nstrategy = "fastest"\n')
    assert load_settings(env={}, dotenv=None).strategy == "fastest"
    other = _write(tmp_path, '[llmswitch]\nstrategy = "headroom"\n', "other.toml")
    assert load_settings(env={"LLMSWITCH_CONFIG": str(other)}, dotenv=None).strategy == "headroom"
    dotenv = _write(tmp_path, f"LLMSWITCH_CONFIG={other}\n", ".env")
    assert load_settings(env={}, dotenv=dotenv).strategy == "headroom"
    weighted = _write(tmp_path, '[llmswitch]\nstrategy = "weighted"\n', "w.toml")
    assert (
        load_settings(weighted, env={"LLMSWITCH_CONFIG": str(other)}, dotenv=None).strategy
        == "weighted"
    )


def test_redis_fail_open_is_allowed(tmp_path: Path) -> None:
    path = _write(tmp_path, '[llmswitch]\nstate = "redis://127.0.0.1:6379/0"\nfail_open = true\n')
    assert load_settings(path, env={}, dotenv=None).fail_open is True


def test_with_base_urls_repoints_providers() -> None:
    settings = load_settings(env={}, dotenv=None)
    moved = settings.with_base_urls({"groq": "http://127.0.0.1:9999/openai/v1"})
    assert moved.provider("groq").base_url == "http://127.0.0.1:9999/openai/v1"
    assert moved.provider("gemini") == settings.provider("gemini")
    assert settings.provider("groq").base_url == "https://api.groq.com/openai/v1"
    with pytest.raises(ConfigError, match="unknown provider"):
        settings.with_base_urls({"nope": "http://x"})


def test_settings_are_frozen() -> None:
    settings = load_settings(env={}, dotenv=None)
    with pytest.raises(ValueError):
        settings.strategy = "weighted"  # type: ignore[misc]
