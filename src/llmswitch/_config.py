"""Settings: the built-in catalog, then ``llmswitch.toml``, then the environment, validated once.

Why one loader: every later room (router, quota, wire, server) reads a frozen ``Settings`` and never
looks at files or ``os.environ`` again, so tests build settings from a dict and a temp file.

Sources, each overriding the one before:

1. ``catalog.CATALOG``: the built-in providers with their limits, models and prices.
2. ``llmswitch.toml``: the ``path`` argument, else ``$LLMSWITCH_CONFIG``, else ``./llmswitch.toml``
   if it exists, else nothing. ``[llmswitch]`` holds global settings; ``[providers.NAME]`` changes
   a built-in provider (keys it does not set keep the catalog's values; ``0`` turns a window off;
   ``prices``, ``context_windows`` and ``headers`` are merged into the catalog's) or adds a new one
   (windows it does not set are not enforced).
3. The environment: the real environment (or the ``env`` mapping) wins over ``.env``, which is read
   with ``dotenv_values`` and never written into ``os.environ``.

Keys: each provider reads its ``api_key_env`` variables (Gemini: ``GEMINI_API_KEY`` and
``GOOGLE_API_KEY``) plus numbered extras such as ``GROQ_API_KEY_2``; each distinct value is one
``ApiKey`` with its own limits, named after its variable. A provider without a key stays in
``Settings`` with ``keys == ()``: status pages list it as unavailable and the router skips it.

``LLM_PROVIDER=multi`` (the default) uses every provider in priority order. ``LLM_PROVIDER=groq``
moves Groq first (priority 0) but keeps the others as backups: naming a provider states a
preference, and dropping the fallbacks would turn one provider's bad minute into an outage.
``LLM_MODEL=auto`` (the default) lets each provider use its default model; any other value is the
requested default model, resolved per provider by the router.

Errors are ``ConfigError``s that name the file, the dotted key and what would be valid. Values are
echoed only when they are numbers or booleans, so a secret pasted in the wrong place never reaches
a log. ``api_key`` in the file is plain text: meant for local endpoints (Ollama, vLLM) that accept
any key.

Example:
    >>> settings = load_settings(env={"GROQ_API_KEY": "gsk_example_key_123456"}, dotenv=None)
    >>> settings.provider("groq").keys[0].masked
    '…3456'
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import platformdirs
from dotenv import dotenv_values
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from llmswitch._catalog import CATALOG, Api, LimitDialect, ProviderSpec
from llmswitch._config_file import (
    _DICT_FIELDS,
    Strategy,
    _fail,
    _FileAlerts,
    _FileGlobal,
    _FileModelGroup,
    _FileProvider,
    _toml_key,
    find_config,
    parse_file,
    read_toml,
)
from llmswitch._errors import ConfigError
from llmswitch._names import check_names
from llmswitch._quota import Window, make_window
from llmswitch._tokens import COMPLETION_ESTIMATE

MULTI = "multi"
AUTO = "auto"
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
_WINDOW_FIELDS = {
    "rpm": "requests_per_minute",
    "rpd": "requests_per_day",
    "tpm": "tokens_per_minute",
    "tpd": "tokens_per_day",
}


#: Seconds a rolling window holds each request past its period (``quota.make_window``): covers
#: the time between our admission and the request's arrival at the provider.
DEFAULT_WINDOW_GUARD = 0.5


class ApiKey(BaseModel):
    """One provider key. Its repr, str and errors show at most ``masked``, never the secret.

    ``alias`` is the environment variable it came from (``GROQ_API_KEY_2``); ``fingerprint`` lets
    health state remember "auth failed" until the key itself changes, without storing the key.

    Example:
        >>> key = ApiKey(alias="GROQ_API_KEY", secret=SecretStr("gsk_example_key_123456"))
        >>> key.masked, len(key.fingerprint)
        ('…3456', 16)
    """

    model_config = ConfigDict(frozen=True)

    alias: str
    secret: SecretStr

    @property
    def masked(self) -> str:
        value = self.secret.get_secret_value()
        return "****" if len(value) < 12 else "…" + value[-4:]

    @cached_property
    def fingerprint(self) -> str:
        """A short hash of the key, to tell a changed key from a refused one (asked every call)."""
        return hashlib.sha256(self.secret.get_secret_value().encode()).hexdigest()[:16]

    def secret_value(self) -> str:
        """The key itself, for the transport's headers only."""
        return self.secret.get_secret_value()

    def __repr_args__(self) -> Any:
        return [("alias", self.alias), ("masked", self.masked)]


class EmbeddingModel(BaseModel):
    """What llmswitch knows of one embedding model of a provider (``catalog.EmbeddingSpec``).

    A model added in llmswitch.toml (``embedding_models = [...]``) declares nothing, so nothing
    is refused here: ``dimensions`` and token arrays go through and the provider's own 400 says
    what it refused.
    """

    model_config = ConfigDict(frozen=True)

    dimensions: int = 0  # the default vector size; 0: unknown
    shortens: bool = True  # `dimensions` may cut the vector
    same_as: str = ""  # the model this one is, under another provider's id ("" : itself)
    token_input: bool = True  # `input` may be token arrays
    max_inputs: int = 0  # most inputs per request; 0: no known limit


class ProviderSettings(BaseModel):
    """One provider after merging: where it is, how to call it, its keys, limits and prices.

    Example:
        >>> groq = load_settings(env={}, dotenv=None).provider("groq")
        >>> groq.resolve_model("llama-3.3-70b-versatile"), groq.available
        ('openai/gpt-oss-120b', False)
    """

    model_config = ConfigDict(frozen=True)

    name: str
    priority: int
    api: Api
    base_url: str
    api_key_env: tuple[str, ...]
    keys: tuple[ApiKey, ...] = ()
    models: tuple[str, ...]
    aliases: dict[str, str] = Field(default_factory=dict)
    requests_per_minute: int = 0
    requests_per_day: int = 0
    tokens_per_minute: int = 0
    tokens_per_day: int = 0
    day_resets: str = "rolling"
    free: bool = True
    daily_budget_usd: float = 0.0  # 0 = no budget cap
    budget_resets: str = "utc"  # when the budget's day ends: "utc", an IANA zone or "rolling"
    weight: float = 1.0
    window_guard_seconds: float = DEFAULT_WINDOW_GUARD  # see quota.make_window
    enabled: bool = True
    limit_headers: LimitDialect = "openai"
    prices: dict[str, tuple[float, float]] = Field(default_factory=dict)
    context_windows: dict[str, int] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=dict)
    prefill: dict[str, bool] = Field(default_factory=dict)  # model -> continues an assistant turn
    # Embedding models by id, the first the default; never in `models` (chat never reaches them)
    embedding_models: dict[str, EmbeddingModel] = Field(default_factory=dict)
    # Per-provider overrides of the global call settings (None: the global value).
    cooldown_seconds: float | None = None
    probe_after_seconds: float | None = None
    failures_to_trip: int | None = None
    retries: int | None = None
    first_token_seconds: float | None = None
    stream_continuation: bool | None = None
    estimate_completion_tokens: int | None = None  # None: the global estimate

    @property
    def default_model(self) -> str:
        return self.models[0]

    @property
    def available(self) -> bool:
        """Enabled and holding at least one key: the router may call it."""
        return self.enabled and bool(self.keys)

    @property
    def openai_base_url(self) -> str:
        """Base URL for OpenAI-compatible clients (Gemini's compat surface for api="gemini")."""
        if self.api == "gemini":
            return self.base_url.rstrip("/") + "/v1beta/openai/"
        return self.base_url

    def windows(self) -> tuple[Window, ...]:
        """The enforced windows (limit > 0); day windows reset per ``day_resets``."""
        return self._windows

    @cached_property
    def _windows(self) -> tuple[Window, ...]:  # settings are frozen: built once, read per call
        out = []
        for name, field_name in _WINDOW_FIELDS.items():
            limit: int = getattr(self, field_name)
            if limit > 0:
                out.append(
                    make_window(name, limit, reset=self.day_resets, guard=self.window_guard_seconds)
                )
        return tuple(out)

    def resolve_model(self, name: str) -> str | None:
        """This provider's id for ``name`` (own id or alias); None if it does not serve it."""
        if self.api == "gemini":
            name = name.removeprefix("models/")
        target = self.aliases.get(name, name)
        return target if target in self.models else None

    def resolve_embedding(self, name: str) -> str | None:
        """This provider's embedding model id for ``name``; None if it serves no such one."""
        if self.api == "gemini":
            name = name.removeprefix("models/")
        return name if name in self.embedding_models else None

    def price(self, model: str) -> tuple[float, float]:
        """USD per 1M tokens (input, output); (0, 0) when unknown (free or local models)."""
        resolved = self.resolve_model(model) or model
        return self.prices.get(resolved, (0.0, 0.0))

    def context_window(self, model: str) -> int | None:
        resolved = self.resolve_model(model) or model
        return self.context_windows.get(resolved)


class ModelGroup(BaseModel):
    """One ``[models.NAME]`` group: targets tried in order, then the fallback groups.

    Example:
        >>> group = ModelGroup(name="smart", targets=(("groq", "openai/gpt-oss-120b"),))
        >>> group.targets[0], group.strategy, group.fallbacks
        (('groq', 'openai/gpt-oss-120b'), None, ())
    """

    model_config = ConfigDict(frozen=True)

    name: str
    targets: tuple[tuple[str, str], ...]  # (provider, the provider's own model id)
    strategy: Strategy | None = None  # None: the listed order
    fallbacks: tuple[str, ...] = ()
    paid_last: bool | None = None  # None: the global setting


class AlertSettings(BaseModel):
    """The ``[alerts]`` table: when llmswitch warns about quota, health and the state store.

    ``webhook_url`` is a ``SecretStr``: a webhook URL often is a credential itself (Slack's path
    is its token), so reprs and logs show at most its scheme and host.

    Example:
        >>> AlertSettings().thresholds, AlertSettings().minute_sustain_seconds
        ((0.8, 0.95), 60.0)
    """

    model_config = ConfigDict(frozen=True)

    thresholds: tuple[float, ...] = (0.8, 0.95)  # fractions of a window's limit, ascending
    minute_sustain_seconds: float = 60.0  # a per-minute window must stay past a threshold so long
    check_interval_seconds: float = 5.0  # read a key's windows at most this often
    budget_threshold: float = 0.8  # fraction of a paid provider's daily_budget_usd
    webhook_url: SecretStr | None = None
    webhook_timeout_seconds: float = 2.0
    webhook_retries: int = 3
    recent_limit: int = 50  # alerts kept for the status API and the dashboard


class Settings(BaseModel):
    """Everything llmswitch needs to run, frozen. ``providers`` is ordered by priority.

    Example:
        >>> settings = load_settings(env={"LLM_PROVIDER": "gemini"}, dotenv=None)
        >>> [p.name for p in settings.providers][:2]
        ['gemini', 'groq']
    """

    model_config = ConfigDict(frozen=True)

    strategy: Strategy = "priority"
    cooldown_seconds: float = 300.0
    daily_soft_limit: float = 0.95
    timeout_seconds: float = 30.0
    state: str = Field(default_factory=lambda: default_state_url(os.environ))
    fail_open: bool = False
    ledger_retention_days: float = 7.0  # raw ledger rows; daily roll-ups are kept for good
    stream_stall_seconds: float = 30.0
    max_wait_seconds: float = 0.0
    probe_after_seconds: float = 0.0  # 0: first probe after cooldown_seconds (the seed)
    failures_to_trip: int = 1
    retries: int = 0  # same-target retries before failing over (the seed: none)
    retry_backoff_seconds: float = 0.25
    retry_after_max_seconds: float = 5.0
    retry_timeouts: bool = False
    first_token_seconds: float = 15.0  # 0 turns it off
    stream_continuation: bool = False
    paid_last: bool = True  # paid providers only when no free one can serve (the seed)
    free_wait_seconds: float = 5.0  # wait this long for a free slot rather than pay (0: the seed)
    # https images fetched for Gemini's native wire (_images): size, time, loopback http (tests)
    image_fetch_max_bytes: int = 20 * 1024 * 1024
    image_fetch_seconds: float = 10.0
    image_fetch_loopback_http: bool = False
    estimate_completion_tokens: int = COMPLETION_ESTIMATE  # a reply without max_tokens
    models: dict[str, ModelGroup] = Field(default_factory=dict)  # [models.NAME] groups
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    providers: tuple[ProviderSettings, ...] = ()
    llm_provider: str = MULTI  # LLM_PROVIDER: "multi", or the provider moved first
    llm_model: str = AUTO  # LLM_MODEL: "auto" (each provider's default) or a requested model
    config_path: Path | None = None

    @property
    def available(self) -> tuple[ProviderSettings, ...]:
        return tuple(p for p in self.providers if p.available)

    @property
    def provider_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.providers)

    def provider(self, name: str) -> ProviderSettings:
        for p in self.providers:
            if p.name == name:
                return p
        raise KeyError(f"no provider {name!r}; known: {', '.join(self.provider_names)}")

    def with_base_urls(self, urls: Mapping[str, str]) -> Settings:
        """A copy with some providers repointed (e.g. at the loopback simulator)."""
        unknown = sorted(set(urls) - set(self.provider_names))
        if unknown:
            raise ConfigError(
                f"with_base_urls: unknown provider(s) {', '.join(unknown)}; "
                f"valid: {', '.join(self.provider_names)}"
            )
        providers = tuple(
            p.model_copy(update={"base_url": urls[p.name]}) if p.name in urls else p
            for p in self.providers
        )
        return self.model_copy(update={"providers": providers})


# --- Loading ----------------------------------------------------------------------------------


def load_settings(
    path: str | Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    dotenv: str | Path | None = ".env",
) -> Settings:
    """Build ``Settings`` from the catalog, ``llmswitch.toml`` and the environment.

    Args:
        path: The TOML file; else ``$LLMSWITCH_CONFIG``; else ``./llmswitch.toml`` if present.
        env: The environment to read instead of ``os.environ`` (tests pass a dict).
        dotenv: A ``.env`` file read under the environment; ``None`` reads none.

    Returns:
        Frozen settings with providers ordered by priority.

    Raises:
        ConfigError: naming the file, the dotted key and what would be valid.
    """
    environ = _environment(env, dotenv)
    config_path = find_config(path, environ)
    source = config_path or "llmswitch.toml"
    parsed = parse_file(source, read_toml(config_path) if config_path else {})
    providers = [
        _provider(source, name, CATALOG.get(name), parsed.providers.get(name), environ)
        for name in [*CATALOG, *(n for n in parsed.providers if n not in CATALOG)]
    ]
    chosen = _llm_provider(environ, [p.name for p in providers])
    if chosen != MULTI:  # first, yet the others stay as backups
        providers = [
            p.model_copy(update={"priority": 0}) if p.name == chosen else p for p in providers
        ]
    model = environ.get("LLM_MODEL", "").strip()
    values = _global_values(source, parsed.llmswitch)
    values["state"] = (
        environ.get("LLMSWITCH_STATE") or values.get("state") or default_state_url(environ)
    )
    settings = Settings(
        **values,
        alerts=_alert_settings(parsed.alerts),
        providers=tuple(sorted(providers, key=lambda p: p.priority)),
        models=_model_groups(source, parsed.models, providers),
        llm_provider=chosen,
        llm_model=AUTO if model.lower() in ("", AUTO) else model,
        config_path=config_path,
    )
    check_names(settings, source)
    return settings


def _global_values(source: Path | str, section: _FileGlobal) -> dict[str, Any]:
    values = section.model_dump(exclude_unset=True)
    if values.get("fail_open") and not str(values.get("state", "")).startswith("redis://"):
        raise _fail(
            source,
            "llmswitch.fail_open",
            "got true; expected false unless state is redis:// "
            "(fail_open only decides what to do when a shared Redis is down)",
        )
    return values


def _model_groups(
    source: Path | str, groups: Mapping[str, _FileModelGroup], providers: list[ProviderSettings]
) -> dict[str, ModelGroup]:
    """``[models.NAME]`` tables as groups, each target resolved to its provider's own id.

    A target is ``provider/model``; the provider must be configured and serve the model (an id
    or an alias). Whether a provider has a key does not matter here: keys come and go, and a
    target without one is skipped at call time like any provider without a key.
    """
    by_name = {p.name: p for p in providers}
    out: dict[str, ModelGroup] = {}
    for name, group in groups.items():
        targets = []
        for i, target in enumerate(group.targets):
            key = f"models.{_toml_key(name)}.targets[{i}]"
            provider, sep, model = target.partition("/")
            p = by_name.get(provider)
            if not sep or not model or p is None:
                raise _fail(
                    source,
                    key,
                    f"expected 'provider/model' naming a configured provider; got {target!r}; "
                    f"providers: {', '.join(by_name)}",
                )
            own = p.resolve_model(model) or p.resolve_embedding(model)
            if own is None:
                raise _fail(
                    source,
                    key,
                    f"{provider} serves no model {model!r} (a target no provider serves); its "
                    f"models: {', '.join([*p.models, *p.embedding_models])}. Add it to "
                    f"providers.{provider}.models or name one of those",
                )
            targets.append((provider, own))
        kinds = {own in by_name[p].embedding_models for p, own in targets}
        if len(kinds) > 1:  # a chat call must never reach an embedding model, nor the reverse
            raise _fail(
                source,
                f"models.{_toml_key(name)}.targets",
                "mixes chat and embedding models; a group lists one kind (make two groups)",
            )
        out[name] = ModelGroup(
            name=name,
            targets=tuple(targets),
            strategy=group.strategy,
            fallbacks=tuple(group.fallbacks or ()),
            paid_last=group.paid_last,
        )
    return out


#: Where state lived before it moved to the user's state directory: still used when it exists.
LEGACY_STATE = Path(".llmswitch") / "state.db"


def default_state_url(environ: Mapping[str, str]) -> str:
    """The state store when nothing names one: one SQLite file per user, shared by every
    process of that user wherever it starts (limits belong to a key, not to a directory).

    ``$XDG_STATE_HOME/llmswitch/state.db`` (platformdirs' user state directory otherwise:
    ``~/.local/state/llmswitch`` on Linux). A ``./.llmswitch/state.db`` left by an earlier
    version is still used, so nobody loses counts on upgrade; the status names the file.
    """
    if LEGACY_STATE.is_file():
        return f"sqlite:///{LEGACY_STATE}"
    xdg = environ.get("XDG_STATE_HOME", "").strip()
    folder = Path(xdg) / "llmswitch" if xdg else platformdirs.user_state_path("llmswitch")
    return f"sqlite:///{folder / 'state.db'}"


def _alert_settings(section: _FileAlerts) -> AlertSettings:
    values = section.model_dump(exclude_unset=True)
    if "thresholds" in values:
        values["thresholds"] = tuple(sorted(set(values["thresholds"])))
    return AlertSettings(**values)


def _environment(env: Mapping[str, str] | None, dotenv: str | Path | None) -> dict[str, str]:
    """``.env`` under the real environment. An empty variable counts as unset, so a container's
    ``GROQ_API_KEY=`` passthrough does not hide the key in ``.env``."""
    real = {k: v for k, v in (os.environ if env is None else env).items() if v != ""}
    from_file: dict[str, str] = {}
    if dotenv is not None and Path(dotenv).is_file():
        from_file = {k: v for k, v in dotenv_values(dotenv).items() if v is not None}
    return {**from_file, **real}


def _llm_provider(environ: Mapping[str, str], names: list[str]) -> str:
    raw = environ.get("LLM_PROVIDER", "").strip().lower()
    if raw in ("", MULTI):
        return MULTI
    if raw not in names:
        raise ConfigError(
            "environment: LLM_PROVIDER: names no known provider; valid values: "
            f"{', '.join([MULTI, *names])}"
        )
    return raw


_SPEC_FIELDS = (
    "name", "priority", "api", "base_url", "requests_per_minute", "requests_per_day",
    "tokens_per_minute", "tokens_per_day", "day_resets", "free", "limit_headers",
    "budget_resets",
)  # fmt: skip


def _spec_values(spec: ProviderSpec) -> dict[str, Any]:
    values: dict[str, Any] = {f: getattr(spec, f) for f in _SPEC_FIELDS}
    values.update(
        api_key_env=list(spec.api_key_env),
        models=[m.id for m in spec.models],
        aliases=dict(spec.aliases),
        prices={m.id: (m.price_in, m.price_out) for m in spec.models},
        context_windows={m.id: m.context_window for m in spec.models},
        prefill={m.id: m.prefill for m in spec.models},
        headers=dict(spec.headers),
        embedding_models={
            e.id: EmbeddingModel(
                dimensions=e.dimensions,
                shortens=e.shortens,
                same_as=e.same_as,
                token_input=e.token_input,
                max_inputs=e.max_inputs,
            )
            for e in spec.embedding_models
        },
    )
    values["prices"].update({e.id: (e.price_in, 0.0) for e in spec.embedding_models})
    return values


def _new_values(source: Path | str, name: str, entry: _FileProvider) -> dict[str, Any]:
    """Defaults for a provider the catalog does not know: after every built-in (priority 100),
    OpenAI-compatible, key in ``NAME_API_KEY``, no windows, no limit headers trusted."""
    for required in ("base_url", "models"):
        if getattr(entry, required) is None:
            description = _FileProvider.model_fields[required].description
            raise _fail(
                source,
                f"providers.{name}.{required}",
                f"required for a new provider; expected {description}",
            )
    env_name = re.sub(r"[^A-Z0-9_]", "_", name.upper()) + "_API_KEY"
    return {
        "name": name,
        "priority": 100,
        "api": "openai",
        "api_key_env": [env_name],
        "limit_headers": "none",
    }


def _provider(
    source: Path | str,
    name: str,
    spec: ProviderSpec | None,
    entry: _FileProvider | None,
    environ: Mapping[str, str],
) -> ProviderSettings:
    if not _NAME.fullmatch(name) or name == MULTI:
        raise _fail(
            source,
            f"providers.{_toml_key(name)}",
            "expected a provider name of lowercase letters, digits, '-' and '_' (and not 'multi')",
        )
    values = (
        _spec_values(spec)
        if spec
        else _new_values(source, name, entry or _FileProvider.model_validate({}))
    )
    overrides = entry.model_dump(exclude_unset=True) if entry else {}
    file_key = overrides.pop("api_key", None)
    if isinstance(overrides.get("api_key_env"), str):
        overrides["api_key_env"] = [overrides["api_key_env"]]
    own_aliases = set(overrides.get("aliases") or ())
    if "embedding_models" in overrides:  # a list of ids: the catalog's facts for those it knows
        known = values.get("embedding_models", {})
        overrides["embedding_models"] = {
            m: known.get(m, EmbeddingModel()) for m in overrides["embedding_models"]
        }
    for merged in _DICT_FIELDS & overrides.keys():
        overrides[merged] = {**values.get(merged, {}), **overrides[merged]}
    values.update(overrides)
    # a built-in alias of a model the file dropped from models goes with it; the file's own
    # aliases are checked (check_names) and must name one of the models
    values["aliases"] = {
        alias: target
        for alias, target in values.get("aliases", {}).items()
        if alias in own_aliases or target in values["models"]
    }
    _check_provider(source, name, values)
    keys = _keys(values["api_key_env"], environ, file_key)
    return ProviderSettings(**values, keys=keys)


def _check_provider(source: Path | str, name: str, values: Mapping[str, Any]) -> None:
    """Rules across keys: a budget needs a paid provider, and a paid one needs its prices."""
    free = values.get("free", True)
    if free and values.get("daily_budget_usd", 0) > 0:
        raise _fail(
            source,
            f"providers.{name}.daily_budget_usd",
            "expected 0 for a free provider; set free = false to budget a paid one",
        )
    every = [*values["models"], *values.get("embedding_models", {})]
    missing = [m for m in every if m not in values.get("prices", {})]
    if not free and missing:
        raise _fail(
            source,
            f"providers.{name}.prices",
            f"no price for {', '.join(missing)}; "
            "expected [input, output] USD per 1M tokens for every model of a paid provider",
        )


def _keys(
    env_names: list[str], environ: Mapping[str, str], file_key: str | None
) -> tuple[ApiKey, ...]:
    """Every distinct key: each variable, then its numbered extras (``_2``, ``_3``, ...), then
    the file's ``api_key``. The same value under two names (GEMINI and GOOGLE) counts once."""
    found: list[tuple[str, str]] = []
    for var in env_names:
        extra = re.compile(re.escape(var) + r"_(\d+)")
        numbered = sorted((int(m[1]), k) for k in environ if (m := extra.fullmatch(k)))
        found += [(k, environ[k]) for k in [var, *(k for _, k in numbered)] if k in environ]
    if file_key is not None:
        found.append(("api_key", file_key))
    keys: list[ApiKey] = []
    seen: set[str] = set()
    for alias, raw in found:
        value = raw.strip()
        if value and value not in seen:
            seen.add(value)
            keys.append(ApiKey(alias=alias, secret=SecretStr(value)))
    return tuple(keys)
