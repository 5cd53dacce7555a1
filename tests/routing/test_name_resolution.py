"""The resolution table of ``_names`` (README "Routing"), row by row, and every ambiguity that
loading refuses. Pure: settings are loaded from a TOML text, nothing is called."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmswitch._config import load_settings
from llmswitch._errors import ConfigError
from llmswitch._names import Names

GROUPS = """
[models.smart]
targets = ["groq/llama-3.3-70b-versatile", "gemini/gemini-2.5-pro", "openai/gpt-4o-mini"]
fallbacks = ["cheap"]

[models.cheap]
targets = ["openrouter/meta-llama/llama-3.3-70b-instruct:free", "together/openai/gpt-oss-120b"]

[providers.groq]
aliases = { fast = "openai/gpt-oss-20b" }
"""


def names(tmp_path: Path, toml: str = GROUPS, **env: str) -> Names:
    path = tmp_path / "llmswitch.toml"
    path.write_text(toml)
    return Names(load_settings(path, env=env, dotenv=None))


@pytest.mark.parametrize(
    ("name", "targets", "pinned"),
    [
        # 1. auto: every provider's default model, by priority
        (
            None,
            [
                ("groq", "openai/gpt-oss-120b"),
                ("gemini", "gemini-3.6-flash"),
                ("openrouter", "meta-llama/llama-3.3-70b-instruct:free"),
                ("together", "meta-llama/Llama-3.3-70B-Instruct-Turbo"),
                ("openai", "gpt-4o-mini"),
            ],
            False,
        ),
        # 2. a group: its targets (aliases resolved), then its fallback's
        (
            "smart",
            [
                ("groq", "openai/gpt-oss-120b"),
                ("gemini", "gemini-2.5-pro"),
                ("openai", "gpt-4o-mini"),
                ("openrouter", "meta-llama/llama-3.3-70b-instruct:free"),
                ("together", "openai/gpt-oss-120b"),
            ],
            False,
        ),
        # 3. a model id: every provider that lists it, slashes and all
        (
            "openai/gpt-oss-120b",
            [("groq", "openai/gpt-oss-120b"), ("together", "openai/gpt-oss-120b")],
            False,
        ),
        ("gpt-4o-mini", [("openai", "gpt-4o-mini")], False),
        # 3. an alias: the provider's own (file) or built-in alias
        ("fast", [("groq", "openai/gpt-oss-20b")], False),
        ("gemini-2.5-flash", [("gemini", "gemini-3.6-flash")], False),
        # 4. provider/model pins one provider: an id, an alias, or passed through as is
        ("groq/openai/gpt-oss-120b", [("groq", "openai/gpt-oss-120b")], True),
        ("groq/fast", [("groq", "openai/gpt-oss-20b")], True),
        ("groq/a-model-from-tomorrow", [("groq", "a-model-from-tomorrow")], True),
    ],
)
def test_each_kind_of_name_reaches_its_targets(
    tmp_path: Path, name: str | None, targets: list[tuple[str, str]], pinned: bool
) -> None:
    segments = names(tmp_path).resolve(name)
    assert [t for s in segments for t in s.targets] == targets
    assert all(s.pinned for s in segments) is pinned


def test_llm_model_is_what_auto_means_when_set(tmp_path: Path) -> None:
    segments = names(tmp_path, LLM_MODEL="smart").resolve("auto")
    assert [s.name for s in segments] == ["smart", "cheap"]


def test_an_unknown_name_says_what_would_work(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        names(tmp_path).resolve("gpt-9")
    message = str(info.value)
    assert "'gpt-9'" in message and "smart" in message and "provider/model" in message


AMBIGUOUS = [
    (
        '[models.gpt-4o-mini]\ntargets = ["openai/gpt-4o-mini"]\n',
        "models.gpt-4o-mini: a group named like a model (openai serves 'gpt-4o-mini'); rename",
    ),
    (
        '[models.auto]\ntargets = ["openai/gpt-4o-mini"]\n',
        "models.auto: 'auto' means every provider's default; rename it",
    ),
    (
        '[models.a]\ntargets = ["openai/gpt-4o-mini"]\nfallbacks = ["b"]\n'
        '[models.b]\ntargets = ["groq/openai/gpt-oss-120b"]\nfallbacks = ["a"]\n',
        "a cycle of fallbacks (a -> b -> a); remove one of them",
    ),
    (
        '[models.a]\ntargets = ["openai/gpt-4o-mini"]\nfallbacks = ["nope"]\n',
        "models.a.fallbacks: 'nope' is no [models.NAME] group; groups: a",
    ),
    (
        '[models.a]\ntargets = ["groq/gpt-4o-mini"]\n',
        "models.a.targets[0]: groq serves no model 'gpt-4o-mini' (a target no provider serves)",
    ),
    (
        '[models.a]\ntargets = ["gpt-4o-mini"]\n',
        "models.a.targets[0]: expected 'provider/model' naming a configured provider",
    ),
    (
        '[providers.groq]\naliases = { fast = "llama-9" }\n',
        "providers.groq.aliases.fast: 'llama-9' is not one of groq's models",
    ),
    (
        '[providers.groq]\naliases = { "openai/gpt-oss-20b" = "openai/gpt-oss-120b" }\n',
        "is already one of groq's model ids; an alias may not hide a model",
    ),
    (
        # gemini serves "groq/x" as an id while "groq/x" also pins groq's "x"
        '[providers.gemini]\nmodels = ["gemini-3.6-flash", "groq/openai/gpt-oss-20b"]\n',
        "model 'groq/openai/gpt-oss-20b' of gemini reads as groq's 'openai/gpt-oss-20b' too",
    ),
    (
        '[models."bad/name"]\ntargets = ["openai/gpt-4o-mini"]\n',
        'models."bad/name": expected a group name of letters, digits',
    ),
]


@pytest.mark.parametrize(("toml", "message"), AMBIGUOUS)
def test_every_ambiguity_is_refused_at_load_naming_the_fix(
    tmp_path: Path, toml: str, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        names(tmp_path, toml)
    assert message in str(info.value)
    assert str(tmp_path / "llmswitch.toml") in str(info.value), "names the file"


SLASHED = """
[providers.local]
base_url = "http://127.0.0.1:9/v1"
models = ["org/model-a", "groq-like/openai/x"]
api_key = "local-key-123456"
"""


def test_every_served_target_round_trips_through_its_reply_name(tmp_path: Path) -> None:
    """A reply's ``model`` is ``provider/model``; sent back, it pins that very target, whatever
    slashes the model id holds (the load-time check refuses the names where it could not)."""
    table = names(tmp_path, GROUPS + SLASHED)
    settings = table._settings
    targets = [(p.name, m) for p in settings.providers for m in p.models]
    assert ("groq", "openai/gpt-oss-120b") in targets and ("local", "groq-like/openai/x") in targets
    for provider, model in targets:
        [segment] = table.resolve(f"{provider}/{model}")
        assert (segment.targets, segment.pinned) == (((provider, model),), True), (provider, model)
