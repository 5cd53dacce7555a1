"""The ``llmswitch`` commands as a user runs them, against the simulator."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from llmswitch._cli import app
from tests.server.conftest import Gateway


def test_help_lists_every_command_without_importing_the_server_stack() -> None:
    code = (
        "import sys, llmswitch._cli; "
        "print(sorted(m for m in ('fastapi', 'uvicorn', 'aiohttp', 'prometheus_client') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    help_text = CliRunner().invoke(app, ["--help"]).output
    for command in ("serve", "status", "ask", "usage", "check", "setup", "simulate", "demo"):
        assert command in help_text


def test_serve_refuses_a_public_host_without_a_gateway_key(
    runner: CliRunner, cli_env: Path
) -> None:
    result = runner.invoke(app, ["serve", "--host", "0.0.0.0", "--port", "1"])
    assert result.exit_code == 2
    assert "LLMSWITCH_API_KEY" in result.output and "--insecure" in result.output


def test_ask_prints_the_reply_and_the_provider_then_usage_counts_it(
    runner: CliRunner, sim_config: Path
) -> None:
    asked = runner.invoke(app, ["ask", "hello there"])
    assert asked.exit_code == 0, asked.output
    assert "Simulated reply from groq/openai/gpt-oss-120b to: hello there" in asked.stdout
    assert "served by groq/openai/gpt-oss-120b" in asked.stderr
    used = runner.invoke(app, ["usage", "--period", "week"])
    assert used.exit_code == 0, used.output
    assert "groq" in used.stdout and "total cost" in used.stdout
    assert "saved by free tiers: $0.000000" not in used.stdout, "a free groq call saved something"
    assert "saved by free tiers: $" in used.stdout
    assert runner.invoke(app, ["usage", "--period", "decade"]).exit_code == 2


def test_status_reads_a_running_gateway(runner: CliRunner, cli_env: Path, gateway: Gateway) -> None:
    result = runner.invoke(app, ["status", "--url", gateway.base_url])
    assert result.exit_code == 0, result.output
    assert f"gateway {gateway.base_url}" in result.stdout.replace("\n", "")
    assert "* groq" in result.stdout and "available" in result.stdout


def test_status_falls_back_to_the_state_store(runner: CliRunner, sim_config: Path) -> None:
    assert runner.invoke(app, ["ask", "one"]).exit_code == 0
    result = runner.invoke(app, ["status", "--url", "http://127.0.0.1:9"])
    assert result.exit_code == 0, result.output
    assert "state store" in result.stdout
    assert "1/30" in result.stdout  # the ask above, read back from SQLite
    assert "state: sqlite" in result.stdout and "· ok" in result.stdout


def test_check_validates_keys_with_listings_only(
    runner: CliRunner, sim_config: Path, sim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOGETHER_API_KEY", "tgp_invalid_key_for_test")
    monkeypatch.delenv("OPENAI_API_KEY")
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 1  # one key is refused
    rows = {
        line.split("│")[1].strip(): line
        for line in result.stdout.splitlines()
        if line.count("│") > 3
    }
    assert "valid" in rows["groq"] and "default model listed" in rows["groq"]
    assert "valid" in rows["gemini"] and "valid" in rows["openrouter"]
    assert "invalid key" in rows["together"]
    assert "no key" in rows["openai"]
    assert "tgp_invalid" not in result.stdout
    for name in ("groq", "gemini", "openrouter", "together"):
        assert sim.requests(name) == [], "a key check never sends a completion"
