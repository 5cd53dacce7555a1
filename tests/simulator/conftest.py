"""Fixtures for the simulator suite: a fresh simulator per test, clients pointed at it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

try:  # the package may not be installed (src layout): make ``src`` importable
    import llmswitch  # noqa: F401
except ModuleNotFoundError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

import httpx
import openai

from llmswitch.testing import FakeClock, SimulatorHandle, simulator

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


@pytest.fixture
def sim(clock: FakeClock) -> Iterator[SimulatorHandle]:
    with simulator(clock=clock) as handle:
        yield handle


def sdk(handle: SimulatorHandle, provider: str, *, key: str | None = None,
        timeout: float = 5.0) -> openai.OpenAI:  # fmt: skip
    """The official SDK pointed at one simulated provider, without retries."""
    return openai.OpenAI(
        base_url=handle.provider_base_url(provider),
        api_key=key if key is not None else KEYS[provider],
        max_retries=0,
        timeout=timeout,
    )


def native(handle: SimulatorHandle, timeout: float = 5.0) -> httpx.Client:
    """Plain httpx for Gemini's native API."""
    return httpx.Client(base_url=handle.gemini_native_base_url, timeout=timeout,
                        headers={"x-goog-api-key": KEYS["gemini"]})  # fmt: skip


def gemini_body(text: str = "Hello there, simulator!", **config: object) -> dict[str, object]:
    body: dict[str, object] = {"contents": [{"role": "user", "parts": [{"text": text}]}]}
    if config:
        body["generationConfig"] = config
    return body
