"""``.env`` writing: mode 0600, other lines kept, values updated, and the script agrees."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from dotenv import dotenv_values

from llmswitch._envfile import prompt_for_keys, quote, update_env_file

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "update_env_multi_provider.py"
EXISTING = """\
# my project
DATABASE_URL=postgres://localhost/app
export GROQ_API_KEY=gsk_old_key
LLM_PROVIDER=groq

OTHER='keep me'  # comment
"""


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_file_is_0600_even_with_a_lax_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        path = update_env_file(tmp_path / ".env", {"GROQ_API_KEY": "gsk_new"})
    finally:
        os.umask(old)
    assert _mode(path) == 0o600
    assert path.read_text() == "GROQ_API_KEY=gsk_new\nLLM_PROVIDER=multi\nLLM_MODEL=auto\n"
    assert [p.name for p in tmp_path.iterdir()] == [".env"]  # no temp file left behind


def test_existing_lines_kept_values_updated_new_appended(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text(EXISTING)
    path.chmod(0o644)
    update_env_file(path, {"GROQ_API_KEY": "gsk_new", "OPENAI_API_KEY": "sk-new"})
    assert path.read_text() == (
        "# my project\n"
        "DATABASE_URL=postgres://localhost/app\n"
        "GROQ_API_KEY=gsk_new\n"
        "LLM_PROVIDER=multi\n"
        "\n"
        "OTHER='keep me'  # comment\n"
        "OPENAI_API_KEY=sk-new\n"
        "LLM_MODEL=auto\n"
    )
    assert _mode(path) == 0o600


def test_given_mode_and_model_win_over_defaults(tmp_path: Path) -> None:
    path = update_env_file(
        tmp_path / ".env", {"LLM_PROVIDER": "gemini", "LLM_MODEL": "gemini-2.5-pro"}
    )
    assert dotenv_values(path) == {"LLM_PROVIDER": "gemini", "LLM_MODEL": "gemini-2.5-pro"}


@pytest.mark.parametrize(
    "value",
    [
        "plain_key-123",
        "with space",
        "has#hash",
        "dollar $HOME $X",
        "it's",
        'say "hi"',
        "back\\slash",
        "both ' and \"",
        "",
    ],
)
def test_values_read_back_unchanged(tmp_path: Path, value: str) -> None:
    path = update_env_file(tmp_path / ".env", {"SOME_KEY": value})
    assert dotenv_values(path)["SOME_KEY"] == value


@pytest.mark.parametrize(
    ("name", "value"), [("BAD NAME", "x"), ("1X", "x"), ("OK", "two\nlines"), ("OK", "a${HOME}")]
)
def test_invalid_names_and_values_rejected(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ValueError):
        update_env_file(tmp_path / ".env", {name: value})
    assert not (tmp_path / ".env").exists()


def test_quote_is_bare_only_when_safe() -> None:
    assert quote("gsk_abc-123") == "gsk_abc-123"
    assert quote("a b") == "'a b'"


def test_prompt_for_keys_asks_each_provider_and_skips_blanks() -> None:
    prompts: list[str] = []
    answers = iter(["gsk_typed", "", "  ", "tgp_typed ", ""])

    def ask(prompt: str) -> str:
        prompts.append(prompt)
        return next(answers)

    assert prompt_for_keys(ask) == {"GROQ_API_KEY": "gsk_typed", "TOGETHER_API_KEY": "tgp_typed"}
    assert prompts[0] == "groq API key (GROQ_API_KEY), blank to skip: "
    assert [p.split()[0] for p in prompts] == ["groq", "gemini", "openrouter", "together", "openai"]


def test_script_writes_the_same_file_as_the_function(tmp_path: Path) -> None:
    by_script, by_function = tmp_path / "script.env", tmp_path / "function.env"
    by_script.write_text(EXISTING)
    by_function.write_text(EXISTING)
    update_env_file(by_function, {"GROQ_API_KEY": "gsk_new", "GEMINI_API_KEY": "AIza new"})
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), str(ROOT / "src")) if p)
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--groq", "gsk_new", "--gemini", "AIza new",
         "--env-file", str(by_script), "--non-interactive"],
        capture_output=True, text=True, env=env, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert by_script.read_text() == by_function.read_text()
    assert _mode(by_script) == 0o600
    assert "gsk_new" not in result.stdout


def test_script_with_no_keys_non_interactive_only_sets_mode(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), str(ROOT / "src")) if p)
    subprocess.run(
        [sys.executable, str(SCRIPT), "--env-file", str(path), "--non-interactive"],
        capture_output=True, text=True, env=env, check=True, timeout=60,
    )  # fmt: skip
    assert path.read_text() == "LLM_PROVIDER=multi\nLLM_MODEL=auto\n"


KEY_SETS = {
    "two keys": {"groq": "gsk_new", "gemini": "AIza new"},
    "every key": {"groq": "gsk_new", "gemini": "AIza'q", "openrouter": "sk-or-v1-x",
                  "together": "tgp_v1_y", "openai": "sk-proj-$z"},
    "no key": {},
}  # fmt: skip


@pytest.mark.parametrize("existing", [EXISTING, None], ids=["existing file", "new file"])
@pytest.mark.parametrize("keys", list(KEY_SETS.values()), ids=list(KEY_SETS))
def test_script_and_cli_setup_write_the_same_env_file(
    tmp_path: Path, existing: str | None, keys: dict[str, str]
) -> None:
    """The seed's script and ``llmswitch setup`` produce byte-identical ``.env`` files."""
    from typer.testing import CliRunner

    from llmswitch._cli import app

    by_script, by_cli = tmp_path / "script.env", tmp_path / "cli.env"
    if existing is not None:
        by_script.write_text(existing)
        by_cli.write_text(existing)
    flags = [arg for name, value in keys.items() for arg in (f"--{name}", value)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), str(ROOT / "src")) if p)
    script = subprocess.run(
        [sys.executable, str(SCRIPT), *flags, "--env-file", str(by_script), "--non-interactive"],
        capture_output=True, text=True, env=env, check=False, timeout=60,
    )  # fmt: skip
    assert script.returncode == 0, script.stderr
    cli = CliRunner().invoke(app, ["setup", *flags, "--env-file", str(by_cli), "--no-input"])
    assert cli.exit_code == 0, cli.output
    assert by_script.read_bytes() == by_cli.read_bytes()
    assert dotenv_values(by_cli) == {
        **(dotenv_values(stream=io.StringIO(existing)) if existing else {}),
        **{f"{name.upper()}_API_KEY": value for name, value in keys.items()},
        "LLM_PROVIDER": "multi", "LLM_MODEL": "auto",
    }  # fmt: skip
    assert _mode(by_script) == _mode(by_cli) == 0o600
    for value in keys.values():
        assert value not in script.stdout + cli.output
