"""``llmswitch setup`` writes a private, correct ``.env`` and never shows a key."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from dotenv import dotenv_values
from typer.testing import CliRunner

from llmswitch._cli import app

GROQ = "gsk_CANARY_setup_groq_11aa"
GEMINI = "AIza_CANARY_setup_gemini_22bb"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_flags_write_keys_and_defaults_keeping_other_lines(
    runner: CliRunner, cli_env: Path
) -> None:
    env = cli_env / ".env"
    env.write_text("# my settings\nOTHER=keep me\nGROQ_API_KEY=old\nLLM_PROVIDER=groq\n")
    env.chmod(0o644)
    result = runner.invoke(app, ["setup", "--groq", GROQ, "--gemini", GEMINI])
    assert result.exit_code == 0, result.output
    assert "CANARY" not in result.output
    assert "GEMINI_API_KEY" in result.output and "GROQ_API_KEY" in result.output
    assert _mode(env) == 0o600
    assert dotenv_values(env) == {
        "OTHER": "keep me",
        "GROQ_API_KEY": GROQ,
        "LLM_PROVIDER": "multi",
        "GEMINI_API_KEY": GEMINI,
        "LLM_MODEL": "auto",
    }
    assert env.read_text().startswith("# my settings\n")


def test_interactive_setup_reads_keys_without_echoing_them(tmp_path: Path) -> None:
    answers = f"{GROQ}\n\n\n\n\n"  # groq, then skip gemini, openrouter, together, openai
    environ = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    done = subprocess.run(
        [sys.executable, "-m", "llmswitch", "setup", "--env-file", "secrets/.env"],
        input=answers,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environ,
        timeout=60,
        check=False,
        start_new_session=True,
    )  # no terminal: getpass reads stdin
    assert done.returncode == 0, done.stderr
    assert "CANARY" not in done.stdout + done.stderr
    assert "groq API key (GROQ_API_KEY)" in done.stdout + done.stderr
    written = tmp_path / "secrets" / ".env"
    assert _mode(written) == 0o600
    assert dotenv_values(written) == {
        "GROQ_API_KEY": GROQ,
        "LLM_PROVIDER": "multi",
        "LLM_MODEL": "auto",
    }


def test_a_value_dotenv_would_mangle_is_refused(runner: CliRunner, cli_env: Path) -> None:
    result = runner.invoke(app, ["setup", "--groq", "gsk_${HOME}"])
    assert result.exit_code == 2
    assert not (cli_env / ".env").exists()
