"""Which provider keys, with which models, a call may try, in which order.

Pure apart from reading window usage for the ``headroom`` strategy. The plan lists candidates
(provider x key x model); keys of one provider come before the next provider, rotated per call so
several keys share the load; free providers come before paid ones.

Model names resolve in this order: ``None``/``"auto"`` (each provider's default, or
``LLM_MODEL`` when set), a name some provider serves or aliases (retired ids map to today's),
then ``"provider/model"`` to pin one provider with a model id passed through as is. Model ids may
themselves contain a slash (``openai/gpt-oss-120b``), which is why pinning is tried last.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass

from llmswitch._config import ApiKey, ProviderSettings, Settings
from llmswitch._errors import ConfigError
from llmswitch._quota import key_scope
from llmswitch._strategies import ProviderView, WeightedRotation, order

#: Strategies whose order depends on settings alone (priority, price), not on live state.
_STATIC_STRATEGIES = frozenset({"priority", "cheapest"})


@dataclass(frozen=True, slots=True)
class Candidate:
    provider: ProviderSettings
    key: ApiKey
    model: str

    @property
    def scope(self) -> str:
        return key_scope(self.provider.name, self.key.alias)

    @property
    def context_window(self) -> int:
        return int(self.provider.context_windows.get(self.model, 0))


@dataclass(frozen=True, slots=True)
class ModelChoice:
    """Per provider, the model to use; ``pinned`` restricts the call to those providers."""

    models: dict[str, str]
    pinned: bool = False


class Planner:
    """Orders candidates for a call according to the configured strategy."""

    def __init__(
        self,
        settings: Settings,
        *,
        headroom: Callable[[ProviderSettings], float] | None = None,
        latency: Callable[[str], float | None] | None = None,
    ) -> None:
        self._settings = settings
        self._providers = {p.name: p for p in settings.providers if p.enabled and p.keys}
        self._headroom = headroom
        self._latency = latency
        self._rotation = WeightedRotation()
        self._key_turn: dict[str, itertools.count[int]] = {}
        self._lock = threading.Lock()
        # Orders that depend only on settings, computed once per set of providers.
        self._static_orders: dict[tuple[str, ...], list[str]] = {}

    @property
    def usable(self) -> dict[str, ProviderSettings]:
        return self._providers

    def resolve(self, model: str | None) -> ModelChoice:
        default = self._settings.llm_model
        if model in (None, "", "auto") and default not in (None, "", "auto"):
            model = default
        if model in (None, "", "auto"):
            return ModelChoice({name: p.models[0] for name, p in self._providers.items()})
        assert model is not None
        served = {
            name: resolved
            for name, p in self._providers.items()
            if (resolved := p.resolve_model(model)) is not None
        }
        if served:
            return ModelChoice(served)
        prefix, _, rest = model.partition("/")
        if rest and prefix in self._providers:
            return ModelChoice(
                {prefix: self._providers[prefix].resolve_model(rest) or rest}, pinned=True
            )
        known = sorted({m for p in self._providers.values() for m in p.models})
        raise ConfigError(
            f"no configured provider serves model {model!r}; use 'auto', one of "
            f"{', '.join(known) or '(no provider has a key)'}, or 'provider/model' to pin one"
        )

    def plan(
        self,
        model: str | None,
        *,
        provider_name: str | None = None,
        strict: bool = False,
    ) -> list[Candidate]:
        choice = self.resolve(model)
        names = self._ordered(list(choice.models))
        if provider_name is not None:
            if provider_name not in self._settings.provider_names:
                raise ConfigError(
                    f"unknown provider {provider_name!r}; configured providers: "
                    f"{', '.join(self._settings.provider_names)}"
                )
            rest = [] if strict or choice.pinned else [n for n in names if n != provider_name]
            names = ([provider_name] if provider_name in choice.models else []) + rest
        out: list[Candidate] = []
        for name in names:
            provider = self._providers[name]
            for key in self._rotated_keys(provider):
                out.append(Candidate(provider, key, choice.models[name]))
        return out

    def _ordered(self, names: list[str]) -> list[str]:
        if self._settings.strategy not in _STATIC_STRATEGIES:
            views = [self._view(self._providers[n]) for n in names]
            return order(self._settings.strategy, views, rotation=self._rotation)
        key = tuple(names)
        cached = self._static_orders.get(key)
        if cached is None:
            views = [self._view(self._providers[n]) for n in names]
            cached = self._static_orders[key] = order(self._settings.strategy, views)
        return list(cached)

    def _view(self, p: ProviderSettings) -> ProviderView:
        strategy = self._settings.strategy
        price_in, price_out = p.price(p.models[0])
        return ProviderView(
            name=p.name,
            priority=p.priority,
            free=p.free,
            weight=p.weight,
            price_per_mtok=price_in + price_out,
            latency_s=self._latency(p.name) if self._latency and strategy == "fastest" else None,
            headroom=self._headroom(p) if self._headroom and strategy == "headroom" else 1.0,
        )

    def _rotated_keys(self, provider: ProviderSettings) -> list[ApiKey]:
        keys = list(provider.keys)
        if len(keys) < 2:
            return keys
        with self._lock:
            turn = next(self._key_turn.setdefault(provider.name, itertools.count()))
        start = turn % len(keys)
        return keys[start:] + keys[:start]
