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
