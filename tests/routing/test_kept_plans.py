"""The planner keeps a name's routes when their order depends on the settings alone, and a kept
plan answers exactly as a fresh one would: keys still rotate per call, load-dependent
strategies are planned every call, and bad arguments are refused every time. Pure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from llmswitch._config import load_settings
from llmswitch._errors import ConfigError
from llmswitch._planning import Planner

KEYS = {
    "GROQ_API_KEY": "gsk_one",
    "GROQ_API_KEY_2": "gsk_two",
    "GEMINI_API_KEY": "AIza_k",
    "OPENAI_API_KEY": "sk-k",
}


def planner(tmp_path: Path, toml: str = "", **kw: Any) -> Planner:
    path = tmp_path / "llmswitch.toml"
    path.write_text(toml)
    return Planner(load_settings(path, env=KEYS, dotenv=None), **kw)


def names(cands: list[Any]) -> list[str]:
    return [f"{c.provider.name}/{c.model}#{c.key.alias}" for c in cands]


def test_a_kept_plan_still_rotates_the_keys(tmp_path: Path) -> None:
    p = planner(tmp_path)
    first, second, third = (names(p.plan(None)) for _ in range(3))
    assert first[:2] == list(reversed(second[:2])) and first == third  # two Groq keys take turns
    assert [n.split("/")[0] for n in first] == ["groq", "groq", "gemini", "openai"]


def test_a_kept_plan_equals_a_fresh_one_for_each_way_of_naming(tmp_path: Path) -> None:
    kept = planner(tmp_path)
    for model, provider_name in [(None, None), ("gemini-3.6-flash", None), (None, "gemini")]:
        fresh = planner(tmp_path)
        kept.plan(model, provider_name=provider_name)  # keeps it
        fresh.plan(model, provider_name=provider_name)  # the same turn of the keys
        assert names(kept.plan(model, provider_name=provider_name)) == names(
            fresh.plan(model, provider_name=provider_name)
        )


def test_a_load_dependent_strategy_is_planned_every_call(tmp_path: Path) -> None:
    room = {"groq": 1.0, "gemini": 0.5}
    p = planner(
        tmp_path,
        '[llmswitch]\nstrategy = "headroom"\n',
        headroom=lambda prov: room.get(prov.name, 0),
    )
    assert names(p.plan(None))[0].startswith("groq/")
    room["groq"] = 0.1  # Groq's windows filled up: Gemini has more room now
    assert names(p.plan(None))[0].startswith("gemini/")


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"provider_name": "nope"}, "unknown provider 'nope'"),
        ({"models": "smart"}, "models must be a list"),
        ({"models": [{"x": 1}]}, "models must be a list"),
    ],
)
def test_bad_arguments_are_refused_on_every_call(
    tmp_path: Path, kwargs: dict[str, Any], error: str
) -> None:
    p = planner(tmp_path)
    for _ in range(2):
        with pytest.raises(ConfigError, match=error):
            p.plan(None, **kwargs)


def test_preferences_are_planned_every_call(tmp_path: Path) -> None:
    p = planner(tmp_path)
    assert names(p.plan(None, provider={"order": ["gemini"]}))[0].startswith("gemini/")
    assert names(p.plan(None))[0].startswith("groq/")
    assert names(p.plan(None, provider={"ignore": ["groq"]}))[0].startswith("gemini/")
