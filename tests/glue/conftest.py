"""Glue tests: a real manager, loaded from a real ``llmswitch.toml``, calling the simulator over
loopback HTTP on a shared ``FakeClock``. Each row names settings and a sequence of calls; the
assertion is who served each call, as a user reading ``ChatResult`` would see it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from llmswitch import ChatResult, LLMProviderManager
from llmswitch._clock import FakeClock
from llmswitch._config import load_settings
from tests.conftest import SIM_KEYS, sim_toml

#: The simulator's name for a key: its last four characters.
GROQ_KEYS = {
    "GROQ_API_KEY": "gsk_test_groq_key_0001",
    "GROQ_API_KEY_2": "gsk_test_groq_key_0002",
    "GROQ_API_KEY_3": "gsk_test_groq_key_0003",
}

GlueFactory = Callable[..., LLMProviderManager]


def keys_for(*providers: str, **extra: str) -> dict[str, str]:
    """The simulator keys of ``providers`` only (the others have none, so they are skipped)."""
    picked = {k: v for k, v in SIM_KEYS.items() if k.split("_")[0].lower() in providers}
    return {**picked, **extra}


@pytest.fixture()
def glue(sim: Any, clock: FakeClock, tmp_path: Path) -> Iterator[GlueFactory]:
    """Build a manager from ``sim_toml`` plus raw TOML appended after it (``tail``: tables such
    as ``[providers.openai.prices]`` that ``sim_toml``'s one-line values cannot express)."""
    made: list[LLMProviderManager] = []

    def factory(
        *,
        keys: dict[str, str],
        extra: str = "",
        providers: dict[str, dict[str, Any]] | None = None,
        tail: str = "",
    ) -> LLMProviderManager:
        path = tmp_path / f"llmswitch-{len(made)}.toml"
        path.write_text(sim_toml(sim, extra=extra, providers=providers) + "\n" + tail)
        settings = load_settings(path, env=keys, dotenv=None)
        manager = LLMProviderManager(
            settings, clock=clock, sleep=clock.sleep, async_sleep=clock.asleep
        )
        made.append(manager)
        return manager

    yield factory
    for m in made:
        m.close()


def ask(llm: LLMProviderManager, text: str = "hi", *, max_tokens: int = 16) -> ChatResult:
    return llm.chat([{"role": "user", "content": text}], max_tokens=max_tokens)


def served_by(llm: LLMProviderManager, calls: int, **kwargs: Any) -> list[str]:
    """The provider that served each of ``calls`` calls in a row (no time passes)."""
    return [ask(llm, f"call {n}", **kwargs).provider for n in range(calls)]
