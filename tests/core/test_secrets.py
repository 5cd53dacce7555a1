"""A canary key never appears in a log line, repr, error, status, ledger or reply."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from llmswitch import AllProvidersFailed
from tests.conftest import SIM_KEYS, ManagerFactory

CANARY = "gsk_CANARY_5f3a9c1e7b2d4680"


def test_the_canary_key_never_leaks(
    make_manager: ManagerFactory, sim: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    state = f"sqlite:///{tmp_path}/state.db"
    llm = make_manager(state=state, keys={**SIM_KEYS, "GROQ_API_KEY": CANARY})
    seen: list[str] = [repr(llm), repr(llm.settings)]
    seen.append(repr(llm.chat([{"role": "user", "content": "hi"}])))
    sim.set_fault("groq", {"kind": "status", "status": 500})
    seen.append(repr(llm.chat([{"role": "user", "content": "hi"}])))
    sim.revoke_key("groq", CANARY)
    sim.clear_faults("groq")
    seen.append(repr(llm.chat([{"role": "user", "content": "hi"}], provider_name="groq")))
    for name in ("gemini", "openrouter", "together", "openai"):
        sim.set_fault(name, {"kind": "status", "status": 503})
    with pytest.raises(AllProvidersFailed) as info:
        llm.chat([{"role": "user", "content": "hi"}])
    seen += [str(info.value), repr(info.value.attempts)]
    seen.append(json.dumps(llm.get_provider_status()))
    seen.append(json.dumps(llm.get_usage("all")))
    seen.append(caplog.text)
    seen.append((tmp_path / "state.db").read_bytes().decode("latin-1"))
    blob = "\n".join(seen)
    assert CANARY not in blob
    assert CANARY[4:-4] not in blob
    assert "…4680" in json.dumps(llm.get_provider_status(), ensure_ascii=False)
