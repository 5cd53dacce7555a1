"""``check`` reads every listing shape and fails without a working key; ``ask`` prints the reply
unchanged, with ``--json`` and ``--stream``; ``llmswitch --version``; the async manager used as
documented (``async with``) leaves no unclosed-session warning."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from llmswitch._cli import _listing_detail, app
from llmswitch._config import load_settings


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.startswith("llmswitch ")


def test_check_reads_togethers_bare_array(runner: CliRunner, sim_config: Path) -> None:
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 0, result.output
    together = next(line for line in result.stdout.splitlines() if "together" in line)
    assert "valid" in together and "models" in together


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ([{"id": "a"}, {"id": "b"}], "2 models"),
        ({"object": "list", "data": [{"id": "a"}]}, "1 models"),
        ({"models": [{"name": "models/a"}]}, "1 models"),
        ("just text", "unexpected listing shape"),
    ],
)
def test_every_listing_shape(sim_config: Path, body: Any, detail: str) -> None:
    settings = load_settings(sim_config, env={"TOGETHER_API_KEY": "k"}, dotenv=None)
    together = next(p for p in settings.providers if p.name == "together")
    response = httpx.Response(200, json=body)
    assert _listing_detail(together, response).startswith(detail)


def test_check_without_any_working_key_exits_non_zero(
    runner: CliRunner, sim_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "GROQ_API_KEY",
        "GEMINI_API_KEY",
        "OPENROUTER_API_KEY",
        "TOGETHER_API_KEY",
        "OPENAI_API_KEY",
    ):
        monkeypatch.delenv(name)
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 1
    assert "no working key" in result.stderr


def test_ask_prints_a_long_reply_unwrapped(runner: CliRunner, sim_config: Path, sim: Any) -> None:
    sim.sim.specs["groq"].reply_tokens = 60  # a reply far wider than 80 columns
    result = runner.invoke(app, ["ask", "hello there"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and len(lines[0].split()) == 60


def test_ask_json_is_the_chat_completion(runner: CliRunner, sim_config: Path) -> None:
    result = runner.invoke(app, ["ask", "--json", "hello there"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["model"] == "groq/openai/gpt-oss-120b"
    assert body["choices"][0]["message"]["content"].startswith("Simulated reply from groq")
    assert body["usage"]["cost"] == 0 and body["usage"]["completion_tokens"] == 16


def test_ask_stream_prints_the_chunks_as_one_reply(runner: CliRunner, sim_config: Path) -> None:
    result = runner.invoke(app, ["ask", "--stream", "hello there"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Simulated reply from groq/openai/gpt-oss-120b to: hello")
    assert len(result.stdout.split()) == 16
    assert "served by groq" in result.stderr


async def test_the_async_manager_as_documented_leaves_no_warning(
    make_manager: Any, caplog: pytest.LogCaptureFixture
) -> None:
    import gc
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with make_manager() as llm:
            reply = await llm.achat([{"role": "user", "content": "hi"}])
            assert reply.text
        del llm
        gc.collect()
    assert not [w for w in caught if "nclosed" in str(w.message)]
    assert "Unclosed" not in caplog.text
