"""The public API is ``llmswitch.__init__`` and nothing else: nothing leaks, nothing vanishes."""

from __future__ import annotations

import inspect

import llmswitch


def test_all_lists_exactly_the_public_names() -> None:
    public = {name for name in dir(llmswitch) if not name.startswith("_")}
    modules = {name for name in public if inspect.ismodule(getattr(llmswitch, name))}
    assert sorted(llmswitch.__all__) == llmswitch.__all__
    assert set(llmswitch.__all__) - {"__version__"} == public - modules


def test_seed_signatures_are_exact() -> None:
    sig = inspect.signature(llmswitch.LLMProviderManager.call_llm)
    assert str(sig) == (
        "(self, system_prompt: 'str', user_message: 'str', model: 'str | None' = None, "
        "temperature: 'float' = 0.3, max_tokens: 'int' = 2000, "
        "provider_name: 'str | None' = None) -> 'str'"
    )
    assert list(inspect.signature(llmswitch.LLMProviderManager.get_client).parameters) == [
        "self",
        "provider_name",
    ]
    assert callable(llmswitch.get_llm_manager)
    assert callable(llmswitch.LLMProviderManager.get_provider_status)


def test_core_imports_without_the_server_stack() -> None:
    import subprocess
    import sys

    code = (
        "import sys, llmswitch; bad = [m for m in ('fastapi', 'uvicorn', 'aiohttp', 'redis', "
        "'starlette', 'prometheus_client') if m in sys.modules]; print(bad); "
        "raise SystemExit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


INJECTION_TYPES = {
    # stores: RedisStore stays behind store_from_url("redis://..."), so redis is imported lazily
    "Store": "llmswitch._state.base",
    "store_from_url": "llmswitch._state",
    "MemoryStore": "llmswitch._state.memory",
    "SqliteStore": "llmswitch._state.sqlite",
    # events and the sink protocol
    "Sink": "llmswitch._events",
    "Event": None,  # a Union alias: it has no __module__ of its own
    "AttemptFinished": "llmswitch._events",
    "CallFinished": "llmswitch._events",
    "CircuitChanged": "llmswitch._events",
    "Failover": "llmswitch._events",
    "NoProviderAvailable": "llmswitch._events",
    "StoreHealthChanged": "llmswitch._events",
    # time
    "FakeClock": "llmswitch._clock",
    "Clock": None,
    "Sleep": None,
    "AsyncSleep": None,
    # transports: the protocols, what they exchange, and the two defaults
    "Transport": "llmswitch._transport",
    "AsyncTransport": "llmswitch._transport",
    "StreamResponse": "llmswitch._transport",
    "AsyncStreamResponse": "llmswitch._transport",
    "RawReply": "llmswitch._transport",
    "HttpxTransport": "llmswitch._transport",
    "AiohttpTransport": "llmswitch._transport_aiohttp",
    "HttpRequest": "llmswitch._wire.base",
    "CallContext": "llmswitch._wire.base",
    # what stream() / astream() return, and the error of a closed manager
    "ChatStream": "llmswitch._router",
    "AsyncChatStream": "llmswitch._router",
    "ManagerClosed": "llmswitch._errors",
}


def test_the_injection_types_are_exported_from_where_they_live() -> None:
    missing = set(INJECTION_TYPES) - set(llmswitch.__all__)
    assert not missing
    for name, module in INJECTION_TYPES.items():
        if module is not None:
            assert getattr(llmswitch, name).__module__ == module, name
    assert issubclass(llmswitch.ManagerClosed, RuntimeError)
    assert issubclass(llmswitch.ManagerClosed, llmswitch.LLMSwitchError)


def test_testing_helpers_import_without_the_server_extra() -> None:
    import subprocess
    import sys

    code = """
import sys
for name in ("uvicorn", "starlette", "fastapi"):
    sys.modules[name] = None  # as if the server extra were not installed: importing them fails
from llmswitch.testing import FakeClock
clock = FakeClock()
clock.advance(1.0)
import llmswitch.testing
try:
    llmswitch.testing.simulator()
except ImportError as exc:
    assert "pip install 'llmswitch[server]'" in str(exc), exc
else:
    raise SystemExit("simulator() ran without uvicorn")
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stdout + done.stderr


PUBLIC_MODULES = {"__init__", "__main__", "testing", "server", "simulator"}


def test_implementation_modules_are_private() -> None:
    """Only ``llmswitch`` itself, ``testing``, ``server`` and ``simulator`` are public: every
    other module's name starts with an underscore, so no user comes to depend on it."""
    from pathlib import Path

    package = Path(llmswitch.__file__).parent
    public = sorted(
        p.stem if p.is_file() else p.name
        for p in package.iterdir()
        if (p.suffix == ".py" or (p / "__init__.py").exists())
        and not p.name.startswith("_")
        and (p.stem if p.is_file() else p.name) not in PUBLIC_MODULES
    )
    assert public == [], f"public implementation modules: {public}; rename them with a leading _"
