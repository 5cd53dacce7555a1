"""CLI fixtures: a config file pointing at the simulator, keys in the environment, a clean cwd.

Commands read ``.env`` and ``./llmswitch.toml`` from the working directory, so every test runs in
its own empty directory with the simulator's keys set in the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import SIM_KEYS, sim_toml
from tests.server.conftest import gateway, make_gateway

__all__ = ["gateway", "make_gateway"]  # re-exported fixtures for `status` against a live gateway


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture()
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in (
        "LLMSWITCH_CONFIG",
        "LLMSWITCH_API_KEY",
        "LLM_PROVIDER",
        "LLM_MODEL",
        "GOOGLE_API_KEY",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in SIM_KEYS.items():
        monkeypatch.setenv(name, value)
    return tmp_path


@pytest.fixture()
def sim_config(cli_env: Path, sim: Any) -> Path:
    path = cli_env / "llmswitch.toml"
    state = (cli_env / "state.db").as_posix()
    path.write_text(sim_toml(sim, state=f"sqlite:///{state}"))
    return path
