"""What each simulated provider offers by default: models, limits, day rule, path prefix.

Data, not behaviour: the dialect modules read it, ``config.py`` overrides it. The numbers follow
``shared/reference/providers.md`` (free-plan figures where a provider has one) and the contract in
the simulator's issue; a TOML config or ``set_limits`` changes any of them at run time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from llmswitch.simulator.limits import Limits

PROVIDERS = ("groq", "gemini", "openrouter", "together", "openai")

# Where the OpenAI-compatible surface of each provider lives, below the simulator's base URL.
OPENAI_PREFIX = {
    "groq": "/groq/openai/v1",
    "openrouter": "/openrouter/api/v1",
    "together": "/together/v1",
    "openai": "/openai/v1",
    "gemini": "/gemini/v1beta/openai",
}
GEMINI_NATIVE_PREFIX = "/gemini"

OPENAI_CONTEXT = 131_072
GEMINI_CONTEXT = 1_048_576
DEFAULT_REPLY_TOKENS = 16


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One servable model: its id, context window and (optional) own reply length.

    ``prefill`` says whether the model continues a trailing assistant message (most do); one
    that does not answers such a request with a 400, as some real models do.
    ``max_candidates`` is the largest ``n`` / ``candidateCount`` it serves (Gemini 3.x: 1, a
    400 above; Gemini 2.5: 8).
    """

    id: str
    context_window: int
    reply_tokens: int | None = None
    prefill: bool = True
    max_candidates: int = 128


@dataclass(slots=True)
class ProviderSpec:
    """Everything the simulator knows about one provider before any config is applied.

    ``day_rule`` is ``"rolling"`` (a 24-hour sliding window) or an IANA zone name whose midnight
    ends the day (``"America/Los_Angeles"`` for Gemini, ``"UTC"`` for OpenRouter).
    ``retired`` maps a retired model id to how the provider refuses it: ``"gone"`` (404, the
    shape observed after a shutdown) or ``"decommissioned"`` (Groq's 400).
    """

    name: str
    models: dict[str, ModelInfo]
    limits: Limits
    day_rule: str = "rolling"
    reply_tokens: int = DEFAULT_REPLY_TOKENS
    retired: dict[str, str] = field(default_factory=dict)


def _models(ids: tuple[str, ...], window: int) -> dict[str, ModelInfo]:
    return {m: ModelInfo(m, window) for m in ids}


def default_specs() -> dict[str, ProviderSpec]:
    """A fresh, mutable copy of the built-in providers (config edits the copy)."""
    return {
        "groq": ProviderSpec(
            "groq",
            _models(("openai/gpt-oss-120b", "openai/gpt-oss-20b"), OPENAI_CONTEXT),
            Limits(rpm=30, rpd=1000, tpm=8000, tpd=100_000),
            retired={
                "llama-3.3-70b-versatile": "gone",
                "llama-3.1-8b-instant": "gone",
                "qwen/qwen3.6-27b": "gone",
                "mixtral-8x7b-32768": "decommissioned",
                "gemma2-9b-it": "decommissioned",
                "deepseek-r1-distill-llama-70b": "decommissioned",
            },
        ),
        "gemini": ProviderSpec(
            "gemini",
            {
                "gemini-3.6-flash": ModelInfo("gemini-3.6-flash", GEMINI_CONTEXT, max_candidates=1),
                "gemini-3.5-flash-lite": ModelInfo(
                    "gemini-3.5-flash-lite", GEMINI_CONTEXT, max_candidates=1
                ),
                "gemini-2.5-pro": ModelInfo("gemini-2.5-pro", GEMINI_CONTEXT, max_candidates=8),
            },
            Limits(rpm=60, rpd=1500, tpm=250_000, tpd=15_000_000),
            day_rule="America/Los_Angeles",
            retired={"gemini-1.5-flash": "gone", "gemini-2.0-flash": "gone"},
        ),
        "openrouter": ProviderSpec(
            "openrouter",
            _models(
                (
                    "openai/gpt-oss-120b:free",
                    "deepseek/deepseek-r1-0528",
                    "meta-llama/llama-3.3-70b-instruct:free",
                ),
                OPENAI_CONTEXT,
            ),
            Limits(rpm=20, rpd=1000),
            day_rule="UTC",
            retired={"deepseek/deepseek-r1:free": "gone"},
        ),
        "together": ProviderSpec(
            "together",
            _models(
                ("meta-llama/Llama-3.3-70B-Instruct-Turbo", "openai/gpt-oss-120b"), OPENAI_CONTEXT
            ),
            Limits(rpm=40, tpd=100_000),
            retired={"meta-llama/Llama-3.3-70B-Instruct-Turbo-Free": "gone"},
        ),
        "openai": ProviderSpec(
            "openai",
            _models(("gpt-4o-mini", "gpt-4.1-mini"), OPENAI_CONTEXT),
            Limits(rpm=60, tpm=150_000, tpd=1_000_000),
            retired={"gpt-3.5-turbo": "gone", "gpt-4": "gone"},
        ),
    }


def limit_pool(provider: str, model: str) -> str:
    """The name of the window pool a model's requests count against.

    OpenRouter's ``:free`` models share one account-wide pool; everything else is per model,
    as each provider's limits are "per organization, per model".
    """
    if provider == "openrouter" and model.endswith(":free"):
        return ":free"
    return model
