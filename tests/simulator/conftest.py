"""Fixtures for the simulator suite: a fresh simulator per test, clients pointed at it."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

try:  # the package may not be installed (src layout): make ``src`` importable
    import llmswitch  # noqa: F401
except ModuleNotFoundError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

import httpx
import openai

from llmswitch.simulator import Simulator
from llmswitch.simulator.runner import SimulatorServer
from llmswitch.testing import FakeClock, SimulatorHandle

# Keys every test may use; only the last four characters ever show up in stats.
KEYS = {
    "groq": "gsk_test_1",
    "gemini": "AIza-test-1",
    "openrouter": "sk-or-v1-test",
    "together": "tg-test-1",
    "openai": "sk-test-1",
}
MODELS = {
    "groq": "openai/gpt-oss-120b",
    "gemini": "gemini-3.6-flash",
    "openrouter": "openai/gpt-oss-120b:free",
    "together": "meta-llama/Llama-3.3-70B-Instruct-Turbo",
    "openai": "gpt-4o-mini",
}
HELLO = [{"role": "user", "content": "Hello there, simulator!"}]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def server() -> Iterator[SimulatorServer]:
    """One uvicorn for the whole suite; each test gets its own fresh ``Simulator`` on it."""
    srv = SimulatorServer(Simulator(clock=FakeClock()))
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def sim(server: SimulatorServer, clock: FakeClock) -> SimulatorHandle:
    """A fresh simulator with default config on a FakeClock (the ``testing.simulator()`` contract
    itself, start and stop included, is covered by ``test_runner.py``)."""
    fresh = Simulator(clock=clock)
    server.use(fresh)
    handle = SimulatorHandle(fresh, server.base_url)
    handle.clock = clock
    return handle


_OPEN: list[httpx.Client | openai.OpenAI] = []


def sdk(
    handle: SimulatorHandle, provider: str, *, key: str | None = None, timeout: float = 5.0
) -> openai.OpenAI:
    """The official SDK pointed at one simulated provider, without retries (closed after the
    test, so no socket outlives it)."""
    client = openai.OpenAI(
        base_url=handle.provider_base_url(provider),
        api_key=key if key is not None else KEYS[provider],
        max_retries=0,
        timeout=timeout,
    )
    _OPEN.append(client)
    return client


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def native(handle: SimulatorHandle, timeout: float = 5.0) -> httpx.Client:
    """Plain httpx for Gemini's native API (closed after the test)."""
    client = httpx.Client(
        base_url=handle.gemini_native_base_url,
        timeout=timeout,
        headers={"x-goog-api-key": KEYS["gemini"]},
    )
    _OPEN.append(client)
    return client


def gemini_body(text: str = "Hello there, simulator!", **config: object) -> dict[str, object]:
    body: dict[str, object] = {"contents": [{"role": "user", "parts": [{"text": text}]}]}
    if config:
        body["generationConfig"] = config
    return body


@pytest.fixture
def sim_with(server: SimulatorServer, clock: FakeClock) -> Callable[[object], SimulatorHandle]:
    """Like ``sim``, built from a config (a dict or a TOML path)."""

    def make(config: object) -> SimulatorHandle:
        fresh = Simulator(clock=clock, config=config)  # type: ignore[arg-type]
        server.use(fresh)
        handle = SimulatorHandle(fresh, server.base_url)
        handle.clock = clock
        return handle

    return make
