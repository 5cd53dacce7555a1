"""Shared fixtures: a simulator on loopback with a fake clock, and managers pointed at it."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from llmswitch._clock import FakeClock
from llmswitch._config import load_settings
from llmswitch._manager import LLMProviderManager

SIM_KEYS = {
    "GROQ_API_KEY": "gsk_test_groq_key_0001",
    "GEMINI_API_KEY": "AIzaSy_test_gemini_key_0002",
    "OPENROUTER_API_KEY": "sk-or-v1-test_openrouter_0003",
    "TOGETHER_API_KEY": "tgp_v1_test_together_key_0004",
    "OPENAI_API_KEY": "sk-proj-test_openai_key_0005",
}


@pytest.fixture(autouse=True, scope="session")
def _state_home_of_the_tests(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The default state file is the user's (XDG_STATE_HOME): no test may count into the
    developer's own, and no run may see the counts an earlier run left there."""
    old = os.environ.get("XDG_STATE_HOME")
    os.environ["XDG_STATE_HOME"] = str(tmp_path_factory.mktemp("state-home"))
    yield
    if old is None:
        os.environ.pop("XDG_STATE_HOME", None)
    else:
        os.environ["XDG_STATE_HOME"] = old


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture()
def sim(clock: FakeClock) -> Iterator[Any]:
    from llmswitch.testing import simulator

    with simulator(clock=clock) as handle:
        yield handle


def sim_toml(
    sim: Any,
    *,
    state: str = "memory://",
    extra: str = "",
    providers: dict[str, dict[str, Any]] | None = None,
) -> str:
    """An llmswitch.toml pointing every built-in provider at the simulator."""
    urls = {
        "groq": sim.provider_base_url("groq"),
        "gemini": sim.gemini_native_base_url,
        "openrouter": sim.provider_base_url("openrouter"),
        "together": sim.provider_base_url("together"),
        "openai": sim.provider_base_url("openai"),
    }
    lines = ["[llmswitch]", f'state = "{state}"', extra, ""]
    for name, url in urls.items():
        lines.append(f"[providers.{name}]")
        if "base_url" not in (providers or {}).get(name, {}):
            lines.append(f'base_url = "{url}"')
        for key, value in (providers or {}).get(name, {}).items():
            text = str(value).lower() if isinstance(value, bool) else repr(value)
            lines.append(f"{key} = {text}".replace("'", '"'))
        lines.append("")
    return "\n".join(lines)


ManagerFactory = Callable[..., LLMProviderManager]


@pytest.fixture()
def make_manager(sim: Any, clock: FakeClock, tmp_path: Path) -> Iterator[ManagerFactory]:
    made: list[LLMProviderManager] = []

    def factory(
        *,
        state: str = "memory://",
        extra: str = "",
        providers: dict[str, dict[str, Any]] | None = None,
        keys: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> LLMProviderManager:
        path = tmp_path / f"llmswitch-{len(made)}.toml"
        path.write_text(sim_toml(sim, state=state, extra=extra, providers=providers))
        env = dict(SIM_KEYS if keys is None else keys)
        settings = load_settings(path, env=env, dotenv=None)
        manager = LLMProviderManager(
            settings, clock=clock, sleep=clock.sleep, async_sleep=clock.asleep, **kwargs
        )
        made.append(manager)
        return manager

    yield factory
    for m in made:
        m.close()


@pytest.fixture()
def caplog_all(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def sent_429(sim: Any, provider: str) -> int:
    """How many 429s the simulated provider had to send: each one is a failure of ours."""
    return sum(1 for r in sim.requests(provider) if r["status"] == 429)
