"""``GET …/models`` in each provider's own shape (the cheap key check of most of them).

Groq: ``{"object": "list", "data": [...]}`` with ``active``, ``context_window``,
``max_completion_tokens``; OpenAI: the same list with ``shutdown_date``; Together: a BARE array
with ``pricing`` per 1M tokens; OpenRouter: ``{"data": [...]}`` with prices per token as strings;
Gemini's compatible endpoint: ids carrying the ``models/`` prefix.
"""

from __future__ import annotations

from typing import Any

from llmswitch.simulator.catalog import ModelInfo
from llmswitch.simulator.openrouter import PRICE_IN, PRICE_OUT
from llmswitch.simulator.state import Simulator

CREATED = 1_754_000_000
SHUTDOWN = {"gpt-4o-mini": "2027-01-14", "gpt-4.1-mini": "2027-01-14"}


def _owner(model_id: str, default: str) -> str:
    return model_id.split("/", 1)[0] if "/" in model_id else default


def model_item(provider: str, info: ModelInfo) -> dict[str, Any]:
    """One model in ``provider``'s listing shape."""
    base = {"id": info.id, "object": "model", "created": CREATED}
    if provider == "groq":
        return {
            **base,
            "owned_by": _owner(info.id, "Groq"),
            "active": True,
            "context_window": info.context_window,
            "public_apps": None,
            "max_completion_tokens": 65536,
        }
    if provider == "openai":
        return {**base, "owned_by": "system", "shutdown_date": SHUTDOWN.get(info.id)}
    if provider == "together":
        return {
            **base,
            "type": "chat",
            "display_name": info.id.split("/")[-1],
            "organization": _owner(info.id, "together"),
            "link": "",
            "license": "",
            "context_length": info.context_window,
            "pricing": {"input": 0.88, "output": 0.88, "hourly": 0, "base": 0, "finetune": 0},
        }
    if provider == "openrouter":
        return _openrouter_item(info)
    return {**base, "id": f"models/{info.id}", "owned_by": "google"}


def _openrouter_item(info: ModelInfo) -> dict[str, Any]:
    free = info.id.endswith(":free")
    price_in, price_out = ("0", "0") if free else (f"{PRICE_IN:.8f}", f"{PRICE_OUT:.8f}")
    return {
        "id": info.id,
        "canonical_slug": info.id.removesuffix(":free"),
        "name": info.id,
        "created": CREATED,
        "description": f"Simulated {info.id}",
        "context_length": info.context_window,
        "architecture": {
            "modality": "text->text",
            "input_modalities": ["text"],
            "output_modalities": ["text"],
            "tokenizer": "Other",
            "instruct_type": None,
        },
        "pricing": {
            "prompt": price_in,
            "completion": price_out,
            "request": "0",
            "image": "0",
            "internal_reasoning": "0",
            "web_search": "0",
        },
        "top_provider": {
            "context_length": info.context_window,
            "max_completion_tokens": 65536,
            "is_moderated": False,
        },
        "per_request_limits": None,
        "supported_parameters": ["max_tokens", "temperature", "stream", "stop"],
        "expiration_date": None,
    }


def model_list(sim: Simulator, provider: str) -> Any:
    items = [model_item(provider, info) for info in sim.specs[provider].models.values()]
    if provider == "together":
        return items
    if provider == "openrouter":
        return {"data": items}
    return {"object": "list", "data": items}
