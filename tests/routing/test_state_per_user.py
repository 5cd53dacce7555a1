"""Limits belong to a key, not to a directory: the default state file is the user's, shared by
every process of that user wherever it starts; ``LLMSWITCH_STATE`` overrides; an old
``./.llmswitch/state.db`` keeps being used (and named) so an upgrade loses no counts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from llmswitch import LLMProviderManager
from llmswitch._clock import FakeClock
from llmswitch._config import default_state_url, load_settings
from tests.conftest import SIM_KEYS, sim_toml


def test_the_default_is_the_users_state_directory(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    state = tmp_path / "xdg"
    assert default_state_url({"XDG_STATE_HOME": str(state)}) == (
        f"sqlite:///{state}/llmswitch/state.db"
    )
    assert default_state_url({}).endswith("/llmswitch/state.db")  # platformdirs' own


def test_an_existing_project_state_file_is_still_used(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".llmswitch").mkdir()
    (tmp_path / ".llmswitch" / "state.db").touch()
    assert default_state_url({"XDG_STATE_HOME": str(tmp_path)}) == "sqlite:///.llmswitch/state.db"


@pytest.mark.parametrize(
    ("file_state", "env", "expected"),
    [
        ("", {}, "sqlite:///{xdg}/llmswitch/state.db"),
        ('state = "memory://"', {}, "memory://"),
        (
            'state = "memory://"',
            {"LLMSWITCH_STATE": "sqlite:///elsewhere.db"},
            "sqlite:///elsewhere.db",
        ),
        ("", {"LLMSWITCH_STATE": "redis://127.0.0.1:6379/3"}, "redis://127.0.0.1:6379/3"),
    ],
)
def test_llmswitch_state_overrides_the_file_which_overrides_the_default(
    tmp_path: Path, monkeypatch: Any, file_state: str, env: dict[str, str], expected: str
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "llmswitch.toml"
    path.write_text(f"[llmswitch]\n{file_state}\n")
    xdg = tmp_path / "xdg"
    settings = load_settings(path, env={"XDG_STATE_HOME": str(xdg), **env}, dotenv=None)
    assert settings.state == expected.format(xdg=xdg)


def test_two_working_directories_share_one_users_counts(
    sim: Any, clock: FakeClock, tmp_path: Path, monkeypatch: Any
) -> None:
    toml = sim_toml(sim).replace('state = "memory://"', "")
    env = {**SIM_KEYS, "XDG_STATE_HOME": str(tmp_path / "xdg")}
    managers = []
    for folder in ("bot", "batch"):
        here = tmp_path / folder
        here.mkdir()
        monkeypatch.chdir(here)
        (here / "llmswitch.toml").write_text(toml)
        settings = load_settings(here / "llmswitch.toml", env=env, dotenv=None)
        managers.append(LLMProviderManager(settings, clock=clock, sleep=clock.sleep))
    bot, batch = managers
    try:
        for _ in range(3):
            assert bot.chat([{"role": "user", "content": "hi"}]).provider == "groq"
        seen = batch.get_provider_status()
        assert seen["providers"]["groq"]["requests_this_minute"] == 3
        assert seen["state"]["path"] == str(tmp_path / "xdg" / "llmswitch" / "state.db")
        assert bot.get_provider_status()["state"]["path"] == seen["state"]["path"]
    finally:
        bot.close()
        batch.close()
