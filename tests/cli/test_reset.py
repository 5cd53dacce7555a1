"""``llmswitch reset``: close circuits by hand in the state file every process shares."""

from __future__ import annotations

import time
from pathlib import Path

from typer.testing import CliRunner

from llmswitch._cli import app
from llmswitch._state.sqlite import SqliteStore

GROQ_MODELS = ("openai/gpt-oss-120b", "openai/gpt-oss-20b")


def trip_all(state: Path) -> None:
    """Open every groq circuit, as a gateway that saw an outage would have left them."""
    now = time.time()
    store = SqliteStore(state)
    for scope in ("provider:groq", "groq:GROQ_API_KEY", *(f"model:groq/{m}" for m in GROQ_MODELS)):
        store.trip(scope, until=now + 300, kind="server_error", message="503", now=now)
    store.trip("provider:gemini", until=now + 300, kind="connection_failed", message="x", now=now)
    store.close()


def open_scopes(state: Path) -> set[str]:
    store = SqliteStore(state)
    try:
        scopes = ("provider:groq", "groq:GROQ_API_KEY", "provider:gemini")
        scopes += tuple(f"model:groq/{m}" for m in GROQ_MODELS)
        records = {s: store.get_health(s) for s in scopes}
    finally:
        store.close()
    return {s for s, r in records.items() if r is not None and r.consecutive_failures > 0}


def test_reset_a_model_closes_only_that_models_circuit(runner: CliRunner, sim_config: Path) -> None:
    state = sim_config.parent / "state.db"
    trip_all(state)
    result = runner.invoke(app, ["reset", "groq/openai/gpt-oss-120b"])
    assert result.exit_code == 0, result.output
    assert "model:groq/openai/gpt-oss-120b" in result.stdout
    assert open_scopes(state) == {
        "provider:groq",
        "groq:GROQ_API_KEY",
        "model:groq/openai/gpt-oss-20b",
        "provider:gemini",
    }


def test_reset_a_provider_closes_its_own_its_keys_and_its_models_circuits(
    runner: CliRunner, sim_config: Path
) -> None:
    state = sim_config.parent / "state.db"
    trip_all(state)
    result = runner.invoke(app, ["reset", "groq"])
    assert result.exit_code == 0, result.output
    assert "closed 4 circuit(s) of groq" in result.stdout
    assert open_scopes(state) == {"provider:gemini"}  # another provider's stays open
    store = SqliteStore(state)
    rec = store.get_health("provider:groq")
    store.close()
    assert rec is not None and (rec.open_until, rec.opened_at) == (0.0, 0.0)
    assert rec.last_error_kind == "server_error"  # still shown by status


def test_reset_names_the_valid_providers_and_models_on_a_typo(
    runner: CliRunner, sim_config: Path
) -> None:
    unknown = runner.invoke(app, ["reset", "grok"])
    assert unknown.exit_code == 2
    assert "no provider 'grok'" in unknown.stderr and "groq, gemini" in unknown.stderr
    no_model = runner.invoke(app, ["reset", "groq/gpt-oss-120b"])
    assert no_model.exit_code == 2
    assert "openai/gpt-oss-120b, openai/gpt-oss-20b" in no_model.stderr
