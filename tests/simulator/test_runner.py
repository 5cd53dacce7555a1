"""``llmswitch.testing.simulator()``, the ``/_sim`` controls, stats and key hygiene."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import openai
import pytest

from llmswitch.testing import FakeClock, SimulatorHandle, simulator

from .conftest import HELLO, KEYS, MODELS, sdk


def _sim_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "llmswitch-sim"]


def test_context_manager_contract_and_clean_exit() -> None:
    before = len(_sim_threads())
    with simulator() as sim:
        assert sim.base_url.startswith("http://127.0.0.1:")
        assert isinstance(sim.clock, FakeClock)
        assert sim.provider_base_url("groq") == sim.base_url + "/groq/openai/v1"
        assert sim.provider_base_url("openrouter") == sim.base_url + "/openrouter/api/v1"
        assert sim.provider_base_url("together") == sim.base_url + "/together/v1"
        assert sim.provider_base_url("openai") == sim.base_url + "/openai/v1"
        assert sim.provider_base_url("gemini") == sim.base_url + "/gemini/v1beta/openai"
        assert sim.gemini_native_base_url == sim.base_url + "/gemini"
        sdk(sim, "groq").chat.completions.create(model=MODELS["groq"], messages=HELLO)
    assert len(_sim_threads()) == before


def test_shutdown_is_prompt_with_a_hanging_request_open() -> None:
    clock = FakeClock()
    with simulator(clock=clock) as sim:
        assert sim.clock is clock
        sim.set_fault("groq", "hang")
        client = httpx.Client(timeout=10)
        worker = threading.Thread(
            target=lambda: _swallow(
                lambda: client.post(
                    sim.provider_base_url("groq") + "/chat/completions",
                    json={"model": MODELS["groq"], "messages": HELLO},
                    headers={"Authorization": f"Bearer {KEYS['groq']}"},
                )
            ),
        )
        worker.start()
        deadline = time.monotonic() + 2
        while not sim.requests("groq") and time.monotonic() < deadline:
            time.sleep(0.01)
        start = time.monotonic()
    assert time.monotonic() - start < 1.5
    worker.join(2)
    client.close()
    assert not worker.is_alive()


def _swallow(fn: Callable[[], object]) -> None:
    with contextlib.suppress(httpx.HTTPError):  # the server drops the hanging request on exit
        fn()


def test_config_from_dict_and_from_toml(tmp_path: Path) -> None:
    with simulator(config={"providers": {"groq": {"reply_tokens": 3}}}) as sim:
        reply = sdk(sim, "groq").chat.completions.create(model=MODELS["groq"], messages=HELLO)
        assert reply.usage is not None and reply.usage.completion_tokens == 3
    path = tmp_path / "sim.toml"
    path.write_text('[[faults]]\nprovider = "openai"\nkind = "status"\nstatus = 529\n')
    with simulator(config=str(path)) as sim:
        with pytest.raises(openai.APIStatusError) as info:
            sdk(sim, "openai").chat.completions.create(model="gpt-4o-mini", messages=HELLO)
        assert info.value.status_code == 529


def test_http_controls(sim: SimulatorHandle) -> None:
    with httpx.Client(base_url=sim.base_url) as c:
        r = c.post("/_sim/faults", json={"provider": "groq", "fault": "503"})
        assert r.json()["ok"] is True
        with pytest.raises(openai.InternalServerError):
            sdk(sim, "groq").chat.completions.create(model=MODELS["groq"], messages=HELLO)
        assert c.request("DELETE", "/_sim/faults", json={"provider": "groq"}).json()["ok"]
        assert c.post("/_sim/limits", json={"provider": "groq", "rpm": 1}).json()["ok"]
        client = sdk(sim, "groq")
        client.chat.completions.create(model=MODELS["groq"], messages=HELLO)
        with pytest.raises(openai.RateLimitError):
            client.chat.completions.create(model=MODELS["groq"], messages=HELLO)
        now = c.post("/_sim/clock/advance", json={"seconds": 60}).json()["now"]
        assert now == sim.clock()
        client.chat.completions.create(model=MODELS["groq"], messages=HELLO)
        assert c.post("/_sim/keys/revoke", json={"provider": "groq", "key": KEYS["groq"]}).json()[
            "ok"
        ]
        with pytest.raises(openai.AuthenticationError):
            client.chat.completions.create(model=MODELS["groq"], messages=HELLO)
        stats = c.get("/_sim/stats").json()
        assert stats == sim.stats()
        assert stats["providers"]["groq"]["rate_limited"] == 1
        found = c.get("/_sim/requests", params={"provider": "groq"}).json()["requests"]
        assert len(found) == 5
        assert c.post("/_sim/faults", json={"provider": "nope", "fault": "503"}).status_code == 400
        assert c.post("/_sim/faults", json={"provider": "groq", "fault": "boom"}).status_code == 400
        assert c.post("/_sim/reset").json()["ok"]
        assert c.get("/_sim/stats").json()["providers"] == {}


def test_stats_by_provider_key_and_model_never_hold_a_full_key(sim: SimulatorHandle) -> None:
    client = sdk(sim, "groq")
    client.chat.completions.create(model=MODELS["groq"], messages=HELLO)
    sim.clock.advance(5)  # type: ignore[attr-defined]
    client.chat.completions.create(model="openai/gpt-oss-20b", messages=HELLO)
    stats = sim.stats()
    groq = stats["providers"]["groq"]
    assert groq["requests"] == 2 and groq["outcomes"] == {"ok": 2}
    key = groq["keys"][KEYS["groq"][-4:]]
    model = key["models"][MODELS["groq"]]
    assert model["requests"] == 1 and model["total_tokens"] == model["prompt_tokens"] + 16
    assert model["times"] == [FakeClock.DEFAULT_START]
    assert KEYS["groq"] not in repr(stats) and KEYS["groq"] not in repr(sim.requests("groq"))
    rows = sim.requests("groq", key=KEYS["groq"], model="openai/gpt-oss-20b")
    assert len(rows) == 1 and rows[0]["time"] == FakeClock.DEFAULT_START + 5
    assert set(rows[0]) >= {"time", "status", "outcome", "model", "key", "tokens"}


def test_reset_clears_counters_stats_and_faults(sim: SimulatorHandle) -> None:
    sim.set_limits("groq", rpm=1)
    client = sdk(sim, "groq")
    client.chat.completions.create(model=MODELS["groq"], messages=HELLO)
    sim.set_fault("groq", "503")
    sim.reset()
    client.chat.completions.create(model=MODELS["groq"], messages=HELLO)
    assert sim.stats()["providers"]["groq"]["requests"] == 1


def test_per_key_limits_and_revocation(sim: SimulatorHandle) -> None:
    sim.set_limits("openai", key="sk-small-1", rpm=1)
    small, big = sdk(sim, "openai", key="sk-small-1"), sdk(sim, "openai")
    small.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    with pytest.raises(openai.RateLimitError):
        small.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    big.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    sim.revoke_key("openai", KEYS["openai"])
    with pytest.raises(openai.AuthenticationError):
        big.chat.completions.create(model="gpt-4o-mini", messages=HELLO)


def test_clock_advance_is_refused_on_a_real_clock() -> None:
    from llmswitch.simulator import Simulator

    with pytest.raises(RuntimeError, match="FakeClock"):
        Simulator().advance(1)


def test_unknown_route_is_404(sim: SimulatorHandle) -> None:
    assert httpx.get(sim.base_url + "/nowhere").status_code == 404
