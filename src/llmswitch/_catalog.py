"""The built-in providers, as data.

Per-provider quirks (base URL, wire api, key variables, models, prices, limits, day resets,
limit-header dialect, attribution headers) live here as values, not as subclasses: one wire module
serves every OpenAI-compatible provider, and ``config.py`` merges ``llmswitch.toml`` over these
entries. Facts come from ``shared/reference/providers.md`` (written 2026-11-25); model ids and
prices are the most perishable, so the live ``/models`` endpoints may override them.

Retired model ids the seed project used are kept as **aliases** to today's ids, so old call sites
keep working instead of failing with a 404 at the provider:

- ``llama-3.3-70b-versatile`` (Groq, shut down 2026-08-16) -> ``openai/gpt-oss-120b``
- ``mixtral-8x7b-32768`` (Groq, shut down 2025-03-20) -> ``openai/gpt-oss-120b``
- ``gemini-1.5-flash`` (retired 2025-09-24) and ``gemini-2.5-flash`` (shut down 2026-10-16,
  closed to new users) -> ``gemini-3.6-flash``
- ``deepseek/deepseek-r1:free`` (OpenRouter, gone: "No endpoints found") ->
  ``deepseek/deepseek-r1-0528`` (the same model, **paid**: the free variant no longer exists)
- ``mistralai/Mixtral-8x7B-Instruct-v0.1`` (Together, out of the serverless catalog) ->
  ``meta-llama/Llama-3.3-70B-Instruct-Turbo``

Seed limits (the project's issue fixes them exactly): Groq 30 req/min, 1000 req/day, 8000
tokens/min, 100K tokens/day on a rolling day; Gemini 60/min and 15M tokens/day ending at midnight
America/Los_Angeles; OpenRouter 50/min and 50K tokens/day on the UTC day; Together 40/min and 100K
tokens/day; OpenAI (paid) 60/min and 1M tokens/day. Providers announce their real limits in headers
and 429 bodies, which ``quota.py`` learns from.

Example:
    >>> CATALOG["groq"].default_model
    'openai/gpt-oss-120b'
    >>> CATALOG["groq"].aliases["llama-3.3-70b-versatile"]
    'openai/gpt-oss-120b'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from llmswitch._capabilities import Capabilities

Api = Literal["openai", "gemini"]
LimitDialect = Literal["groq", "openai", "together", "openrouter", "none"]

APIS: tuple[str, ...] = ("openai", "gemini")
LIMIT_DIALECTS: tuple[str, ...] = ("groq", "openai", "together", "openrouter", "none")


def _frozen(mapping: Mapping[str, str] | None = None) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One model a provider serves: its context window and list price in USD per 1M tokens."""

    id: str
    context_window: int
    price_in: float
    price_out: float
    prefill: bool = False  # continues a trailing assistant message (shared/reference §6.8)
    capabilities: Capabilities | None = None  # what it accepts (§6.10); None: undeclared


# What each model accepts (shared/reference §6.10, §8.5), routed on by _capabilities: a target
# that cannot honour a request is skipped, never sent a request it would silently change.
# https images on Gemini: its native wire takes them inline only, so llmswitch fetches them
# first (_images) and skips the target as cannot_honour when a fetch fails.
_GROQ = Capabilities(image_url=False, image_data=False, multiple_choices=False)  # n must be 1
_GEMINI_3 = Capabilities(multiple_choices=False, prefill=False)
_GEMINI_2_5 = Capabilities()  # candidateCount up to 8
# OpenRouter's request schema has no `n` (ignored, one choice back); text-only upstreams.
_OPENROUTER = Capabilities(image_url=False, image_data=False, multiple_choices=False)
_TEXT = Capabilities(image_url=False, image_data=False)  # Together's text models, n 1-128


@dataclass(frozen=True, slots=True)
class EmbeddingSpec:
    """One embedding model a provider serves (shared/reference §8.1): its vector size, its list
    price in USD per 1M input tokens, and what it accepts.

    Embedding models are kept apart from ``ProviderSpec.models`` so chat routing never reaches
    one and ``embed`` never reaches a chat model. ``same_as`` names the model it *is* when a
    provider resells another's under its own id (OpenRouter's ``openai/text-embedding-3-small``
    is OpenAI's ``text-embedding-3-small``): only targets of one model may fail over to each
    other, since vectors of two models do not mix. ``shortens``: ``dimensions`` may cut the
    vector (Matryoshka); ``token_input``: ``input`` may be token arrays (OpenAI's tokenizer);
    ``max_inputs``: the most inputs one request may carry (0: no documented limit).
    """

    id: str
    dimensions: int
    price_in: float
    shortens: bool = True
    same_as: str = ""
    token_input: bool = False
    max_inputs: int = 0


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    """One built-in provider. ``models[0]`` is its default model.

    Limits of ``0`` are not enforced. ``day_resets`` is ``"rolling"``, ``"utc"`` or an IANA zone.
    ``free`` is False for providers that bill every token (a daily budget then applies).
    ``budget_resets`` is the day a ``daily_budget_usd`` counts (the same values): the provider's
    billing day where its own usage reports name one, else UTC (each entry says which).
    """

    name: str
    priority: int
    api: Api
    base_url: str
    api_key_env: tuple[str, ...]
    models: tuple[ModelSpec, ...]
    aliases: Mapping[str, str] = field(default_factory=_frozen)
    requests_per_minute: int = 0
    requests_per_day: int = 0
    tokens_per_minute: int = 0
    tokens_per_day: int = 0
    day_resets: str = "rolling"
    free: bool = True
    budget_resets: str = "utc"
    limit_headers: LimitDialect = "openai"
    headers: Mapping[str, str] = field(default_factory=_frozen)
    responses_api: bool = False  # serves POST /responses: the gateway passes Responses through
    embedding_models: tuple[EmbeddingSpec, ...] = ()

    @property
    def default_model(self) -> str:
        return self.models[0].id


GROQ = ProviderSpec(
    name="groq",
    responses_api=True,
    priority=1,
    api="openai",
    base_url="https://api.groq.com/openai/v1",
    api_key_env=("GROQ_API_KEY",),
    models=(
        ModelSpec("openai/gpt-oss-120b", 131_072, 0.15, 0.60, prefill=True, capabilities=_GROQ),
        ModelSpec("openai/gpt-oss-20b", 131_072, 0.075, 0.30, prefill=True, capabilities=_GROQ),
    ),
    aliases=_frozen(
        {
            # Shut down 2026-08-16; Groq names gpt-oss-120b as the replacement.
            "llama-3.3-70b-versatile": "openai/gpt-oss-120b",
            # Shut down 2025-03-20; its replacement chain (saba -> qwen3-32b) ends at gpt-oss-120b.
            "mixtral-8x7b-32768": "openai/gpt-oss-120b",
            # Shut down 2026-08-16; Groq names gpt-oss-20b as the replacement.
            "llama-3.1-8b-instant": "openai/gpt-oss-20b",
        }
    ),
    requests_per_minute=30,
    requests_per_day=1000,
    tokens_per_minute=8000,
    tokens_per_day=100_000,
    day_resets="rolling",  # Groq's reset headers count down continuously: a refilling bucket
    budget_resets="utc",  # Groq publishes no billing day (shared/reference/providers.md §1.6)
    limit_headers="groq",
)

GEMINI = ProviderSpec(
    name="gemini",
    priority=2,
    api="gemini",
    base_url="https://generativelanguage.googleapis.com",
    # Both names are in use (AI Studio says GEMINI, google-genai reads GOOGLE); both are read.
    api_key_env=("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    models=(
        # Promo price until 2026-12-31, then $1.50 / $7.50.
        ModelSpec("gemini-3.6-flash", 1_048_576, 0.75, 3.75, capabilities=_GEMINI_3),
        ModelSpec("gemini-3.5-flash-lite", 1_048_576, 0.30, 2.50, capabilities=_GEMINI_3),
        ModelSpec("gemini-2.5-pro", 1_048_576, 1.25, 10.00, capabilities=_GEMINI_2_5),
    ),
    aliases=_frozen(
        {
            # Retired 2025-09-24: the API answers 404 NOT_FOUND.
            "gemini-1.5-flash": "gemini-3.6-flash",
            # Shut down 2026-10-16 and closed to new users; Google points to gemini-3.6-flash.
            "gemini-2.5-flash": "gemini-3.6-flash",
            # Shut down 2026-10-16; the cheap lite model we list takes its place.
            "gemini-2.5-flash-lite": "gemini-3.5-flash-lite",
        }
    ),
    requests_per_minute=60,
    tokens_per_day=15_000_000,
    day_resets="America/Los_Angeles",  # Google's day ends at Pacific midnight (DST-aware)
    budget_resets="America/Los_Angeles",  # its quota day is Pacific (reference §2, §6.4)
    limit_headers="none",  # Gemini sends no rate-limit headers; hints come in the 429 body
    # Native batchEmbedContents: at most 100 items (its 400), no token usage in the reply, free
    # of charge on the free tier ($0.15 / 1M paid). text-embedding-004 was retired 2026-01-14 and
    # is no alias: its vectors are not gemini-embedding-001's.
    embedding_models=(EmbeddingSpec("gemini-embedding-001", 3072, 0.15, max_inputs=100),),
)

OPENROUTER = ProviderSpec(
    name="openrouter",
    responses_api=True,
    priority=3,
    api="openai",
    base_url="https://openrouter.ai/api/v1",
    api_key_env=("OPENROUTER_API_KEY",),
    models=(
        ModelSpec(
            "meta-llama/llama-3.3-70b-instruct:free",
            131_072,
            0.0,
            0.0,
            prefill=True,
            capabilities=_OPENROUTER,
        ),
        ModelSpec(
            "deepseek/deepseek-r1-0528", 163_840, 0.50, 2.15, prefill=True, capabilities=_OPENROUTER
        ),
    ),
    aliases=_frozen(
        {
            # The free variant is gone (404 "No endpoints found"); the paid one is the same model.
            "deepseek/deepseek-r1:free": "deepseek/deepseek-r1-0528",
        }
    ),
    # :free models: 20 a minute and 50 a day (1,000 once 10 credits were ever bought; set
    # requests_per_day = 1000 then), account-wide across every :free model
    requests_per_minute=20,
    requests_per_day=50,
    tokens_per_day=50_000,
    day_resets="utc",  # the free daily cap resets at 00:00 UTC
    budget_resets="utc",  # GET /api/v1/key reports usage_daily by UTC day (reference §3)
    limit_headers="openrouter",
    headers=_frozen({"X-Title": "llmswitch"}),  # attribution; X-OpenRouter-Title is the new name
    # POST /api/v1/embeddings, billed from credits; OpenAI's model under OpenRouter's id.
    embedding_models=(
        EmbeddingSpec(
            "openai/text-embedding-3-small", 1536, 0.02, same_as="text-embedding-3-small"
        ),
        EmbeddingSpec("qwen/qwen3-embedding-0.6b", 1024, 0.01),
    ),
)

TOGETHER = ProviderSpec(
    name="together",
    priority=4,
    api="openai",
    base_url="https://api.together.xyz/v1",
    api_key_env=("TOGETHER_API_KEY",),
    models=(
        ModelSpec(
            "meta-llama/Llama-3.3-70B-Instruct-Turbo", 131_072, 0.88, 0.88, capabilities=_TEXT
        ),
        ModelSpec("openai/gpt-oss-120b", 131_072, 0.15, 0.60, capabilities=_TEXT),
    ),
    aliases=_frozen(
        {
            # Not in the 2026 serverless catalog (dedicated endpoints only).
            "mistralai/Mixtral-8x7B-Instruct-v0.1": "meta-llama/Llama-3.3-70B-Instruct-Turbo",
            # The -Free serverless models were removed in 2025.
            "meta-llama/Llama-3.3-70B-Instruct-Turbo-Free": (
                "meta-llama/Llama-3.3-70B-Instruct-Turbo"
            ),
        }
    ),
    requests_per_minute=40,
    tokens_per_day=100_000,
    free=False,  # Together ended its free tier in August 2025: every token is billed
    budget_resets="utc",  # no billing day published (reference §4); UTC, the ledger's day
    limit_headers="together",
    # One serverless embedding model: 514-token inputs (longer ones truncated silently), no
    # `usage` in its reply, only {model, input} documented; price unconfirmed ($0.02 / 1M).
    embedding_models=(
        EmbeddingSpec("intfloat/multilingual-e5-large-instruct", 1024, 0.02, shortens=False),
    ),
)

OPENAI = ProviderSpec(
    name="openai",
    responses_api=True,
    priority=5,
    api="openai",
    base_url="https://api.openai.com/v1",
    api_key_env=("OPENAI_API_KEY",),
    models=(
        ModelSpec("gpt-4o-mini", 128_000, 0.15, 0.60, capabilities=Capabilities()),
        ModelSpec("gpt-4.1-mini", 1_047_576, 0.40, 1.60, capabilities=Capabilities()),
    ),
    requests_per_minute=60,
    tokens_per_day=1_000_000,
    free=False,
    budget_resets="utc",  # no billing day published (reference §5: limits roll); UTC
    limit_headers="openai",
    # Inputs: strings or token arrays, at most 2048 per request; dimensions on the 3-series only.
    embedding_models=(
        EmbeddingSpec("text-embedding-3-small", 1536, 0.02, token_input=True, max_inputs=2048),
        EmbeddingSpec("text-embedding-3-large", 3072, 0.13, token_input=True, max_inputs=2048),
        EmbeddingSpec(
            "text-embedding-ada-002", 1536, 0.10, shortens=False, token_input=True, max_inputs=2048
        ),
    ),
)

CATALOG: Mapping[str, ProviderSpec] = MappingProxyType(
    {spec.name: spec for spec in (GROQ, GEMINI, OPENROUTER, TOGETHER, OPENAI)}
)
"""Built-in providers by name, in priority order."""
