"""Order candidates: which provider keys, with which models, a call tries, in which order.

A call's chain is built in four steps, each said out loud in the docs:

1. **Names to segments** (``_names.Names``): the request's ``model`` (and, OpenRouter style,
   ``models=[...]`` after it) become segments of (provider, model) targets: a group's listed
   targets and then its fallbacks, every provider serving a model id, or one pinned provider.
2. **Order within a segment**: by the segment's strategy (a group without one keeps its listed
   order; other names use the global ``strategy``), free targets first while ``paid_last`` holds
   (the seed's rule; ``paid_last = false`` lets priority alone decide). Segments keep their order:
   a fallback group is tried after every target of the group before it.
3. **The caller's preferences**: ``provider={"order", "only", "ignore", "allow_fallbacks"}``
   (OpenRouter's vocabulary) filters and reorders providers; ``provider_name=`` (or
   ``LLM_PROVIDER``) moves that provider first whatever its tier, and ``strict=True`` keeps it
   alone, failing with the real reason when it cannot serve.
4. **Keys**: each target expands into one candidate per key of its provider, rotated per call.

Candidates are compiled once per (provider, model) from the settings alone; a call only picks,
orders and rotates them. Pure apart from the live inputs of the ``headroom`` and ``fastest``
strategies.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from llmswitch._config import MULTI, ApiKey, ProviderSettings, Settings
from llmswitch._errors import ConfigError
from llmswitch._names import AUTO, Names, Segment
from llmswitch._quota import key_scope
from llmswitch._strategies import ProviderView, WeightedRotation, order

#: Strategies whose order depends on settings alone (priority, price), not on live state.
_STATIC_STRATEGIES = frozenset({"priority", "cheapest"})
MAX_PLANS = 256  # names whose routes a planner keeps (pass-through model ids are unbounded)


@dataclass(frozen=True, slots=True)
class Candidate:
    """One provider key with one model: what admission admits and the call sends to."""

    provider: ProviderSettings
    key: ApiKey
    model: str
    scope: str = field(init=False)
    context_window: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "scope", key_scope(self.provider.name, self.key.alias))
        window = self.provider.context_windows.get(self.model, 0)
        object.__setattr__(self, "context_window", int(window))

    @property
    def target(self) -> str:
        """``provider/model``: the name that reaches this very target again."""
        return f"{self.provider.name}/{self.model}"


@dataclass(frozen=True, slots=True)
class ProviderPreferences:
    """OpenRouter's ``provider`` object: which providers a call may use, and which first.

    ``order``: these providers first, in this order; ``only``: no others; ``ignore``: never
    these; ``allow_fallbacks=False``: only the providers in ``order`` (without ``order``, only
    the first provider of the chain).
    """

    order: tuple[str, ...] = ()
    only: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    allow_fallbacks: bool = True

    @classmethod
    def parse(cls, value: ProviderPreferences | Mapping[str, Any] | None) -> ProviderPreferences:
        """From the gateway's JSON or a caller's dict; unknown fields are a ``ConfigError``."""
        if value is None or isinstance(value, ProviderPreferences):
            return value or cls()
        if not isinstance(value, Mapping):
            raise ConfigError(
                "provider must be an object such as {'order': ['groq', 'gemini']}; "
                f"got {type(value).__name__}"
            )
        unknown = sorted(set(value) - _PREFERENCE_FIELDS)
        if unknown:
            raise ConfigError(
                f"provider.{unknown[0]}: unknown field; valid fields: "
                f"{', '.join(sorted(_PREFERENCE_FIELDS))}"
            )
        lists = {}
        for name in ("order", "only", "ignore"):
            raw = value.get(name) or ()
            if not isinstance(raw, list | tuple) or not all(isinstance(x, str) for x in raw):
                raise ConfigError(f"provider.{name} must be a list of provider names")
            lists[name] = tuple(raw)
        fallbacks = value.get("allow_fallbacks", True)
        if not isinstance(fallbacks, bool):
            raise ConfigError("provider.allow_fallbacks must be true or false")
        return cls(lists["order"], lists["only"], lists["ignore"], fallbacks)

    def names(self) -> set[str]:
        return {*self.order, *self.only, *self.ignore}


_PREFERENCE_FIELDS = frozenset({"order", "only", "ignore", "allow_fallbacks"})


@dataclass(frozen=True, slots=True)
class ModelChoice:
    """Per usable provider, the model a name reaches there (the first one, for groups)."""

    models: dict[str, str]
    pinned: bool = False


class NameResolver(Protocol):
    """What a name reaches: ``names.Names`` for chat, ``embeddings.EmbeddingNames`` for embed."""

    def resolve(self, model: str | None) -> tuple[Segment, ...]: ...


class Planner:
    """Builds each call's ordered candidates from the settings (one per manager, and one per
    operation: an embeddings planner resolves names with ``embeddings.EmbeddingNames``)."""

    def __init__(
        self,
        settings: Settings,
        *,
        headroom: Callable[[ProviderSettings], float] | None = None,
        latency: Callable[[str], float | None] | None = None,
        names: NameResolver | None = None,
    ) -> None:
        self._settings = settings
        self._providers = {p.name: p for p in settings.providers if p.enabled and p.keys}
        self._names: NameResolver = names or Names(settings)
        self._headroom = headroom
        self._latency = latency
        self._rotations: dict[str, WeightedRotation] = {}
        self._key_turn: dict[str, itertools.count[int]] = {}
        self._lock = threading.Lock()
        self._routes: dict[tuple[str, str], tuple[Candidate, ...]] = {}
        self._static_orders: dict[tuple[object, ...], list[tuple[str, str]]] = {}
        self._plans: dict[tuple[object, ...], tuple[tuple[Candidate, ...], ...]] = {}
        preferred = settings.llm_provider
        self._preferred = preferred if preferred != MULTI else None

    @property
    def usable(self) -> dict[str, ProviderSettings]:
        """Providers a call may use: enabled, with at least one key."""
        return self._providers

    def resolve(self, model: str | None) -> ModelChoice:
        """Per usable provider, the (first) model ``model`` reaches there."""
        out: dict[str, str] = {}
        segments = self._names.resolve(model)
        for seg in segments:
            for provider, own in seg.targets:
                if provider in self._providers:
                    out.setdefault(provider, own)
        return ModelChoice(out, pinned=all(s.pinned for s in segments))

    def plan(
        self,
        model: str | None,
        *,
        provider_name: str | None = None,
        strict: bool = False,
        models: Sequence[str] | None = None,
        provider: ProviderPreferences | Mapping[str, Any] | None = None,
    ) -> list[Candidate]:
        """The call's candidates in the order to try them (see the module docstring).

        A call without provider preferences whose segments all order statically (``priority``,
        ``cheapest``) gets the same routes every time: they are kept per name (at most
        ``MAX_PLANS`` names), and only the key rotation is applied per call.
        """
        key = _plan_key(model, provider_name, strict, models) if not provider else None
        routes = self._plans.get(key) if key is not None else None
        if routes is None:
            prefs = ProviderPreferences.parse(provider)
            self._check_providers(prefs.names() | ({provider_name} if provider_name else set()))
            segments = self._segments(model, models)
            targets = self._ordered_targets(segments)
            targets = _apply_preferences(targets, prefs)
            wanted = provider_name or self._preferred
            if wanted is not None:
                targets = self._prefer(targets, wanted, segments, strict=strict)
            if not targets and any(s.name != AUTO for s in segments):
                self._explain_empty(segments)
            routes = tuple(self._route(provider_id, own) for provider_id, own in targets)
            if key is not None and self._static(segments) and len(self._plans) < MAX_PLANS:
                self._plans[key] = routes
        out: list[Candidate] = []
        for route in routes:
            out.extend(self._rotated(route))
        return out

    def _static(self, segments: list[Segment]) -> bool:
        """Whether every segment's order depends on the settings alone (not on load)."""
        return all(
            (seg.strategy or ("priority" if seg.group else self._settings.strategy))
            in _STATIC_STRATEGIES
            for seg in segments
        )

    # -- step 1 and 2: segments, each ordered ---------------------------------------------------
    def _segments(self, model: str | None, models: Sequence[str] | None) -> list[Segment]:
        names: list[str | None] = []
        if models is not None and (
            isinstance(models, str) or not all(isinstance(m, str) and m for m in models)
        ):
            raise ConfigError("models must be a list of model names, such as ['smart', 'auto']")
        if models:
            if model not in (None, "", AUTO):
                names.append(model)
            names.extend(m for m in models if m not in names)
        else:
            names.append(model)
        return [seg for name in names for seg in self._names.resolve(name)]

    def _ordered_targets(self, segments: list[Segment]) -> list[tuple[str, str]]:
        seen: set[tuple[str, str]] = set()
        out: list[tuple[str, str]] = []
        for seg in segments:
            for target in self._order_segment(seg):
                if target not in seen:
                    seen.add(target)
                    out.append(target)
        return out

    def _order_segment(self, seg: Segment) -> list[tuple[str, str]]:
        usable = [t for t in seg.targets if t[0] in self._providers]
        strategy = seg.strategy or ("priority" if seg.group else self._settings.strategy)
        paid_last = self._settings.paid_last if seg.paid_last is None else seg.paid_last
        listed = seg.group and seg.strategy in (None, "priority")
        if strategy in _STATIC_STRATEGIES:
            key = (seg.name, tuple(usable), strategy, paid_last, listed)
            cached = self._static_orders.get(key)
            if cached is None:
                cached = self._static_orders[key] = self._order(
                    usable, strategy, paid_last, listed, seg.name
                )
            return list(cached)
        return self._order(usable, strategy, paid_last, listed, seg.name)

    def _order(
        self,
        targets: list[tuple[str, str]],
        strategy: str,
        paid_last: bool,
        listed: bool,
        segment: str,
    ) -> list[tuple[str, str]]:
        by_name = {f"{p}/{m}": (p, m) for p, m in targets}
        views = [
            self._view(self._providers[p], m, f"{p}/{m}", i if listed else None)
            for i, (p, m) in enumerate(targets)
        ]
        rotation = None
        if strategy == "weighted":
            with self._lock:
                rotation = self._rotations.setdefault(segment, WeightedRotation())
        names = order(strategy, views, rotation=rotation, paid_last=paid_last)
        return [by_name[n] for n in names]

    def _view(self, p: ProviderSettings, model: str, name: str, rank: int | None) -> ProviderView:
        strategy = self._settings.strategy
        price_in, price_out = p.price(model)
        return ProviderView(
            name=name,
            priority=p.priority if rank is None else rank,
            free=p.free,
            weight=p.weight,
            price_per_mtok=price_in + price_out,
            latency_s=self._latency(p.name) if self._latency and strategy == "fastest" else None,
            headroom=self._headroom(p) if self._headroom and strategy == "headroom" else 1.0,
        )

    # -- step 3: the caller's preferences -------------------------------------------------------
    def _check_providers(self, names: set[str]) -> None:
        unknown = sorted(names - set(self._settings.provider_names))
        if unknown:
            raise ConfigError(
                f"unknown provider {unknown[0]!r}; configured providers: "
                f"{', '.join(self._settings.provider_names)}"
            )

    def _prefer(
        self,
        targets: list[tuple[str, str]],
        wanted: str,
        segments: list[Segment],
        *,
        strict: bool,
    ) -> list[tuple[str, str]]:
        mine = [t for t in targets if t[0] == wanted]
        if strict:
            if not mine:
                self._explain_strict(wanted, segments)
            return mine
        return mine + [t for t in targets if t[0] != wanted]

    def _explain_strict(self, name: str, segments: list[Segment]) -> None:
        p = self._settings.provider(name)
        if not p.enabled:
            raise ConfigError(f"strict: provider {name!r} is disabled (enabled = false)")
        if not p.keys:
            raise ConfigError(
                f"strict: provider {name!r} has no API key; set {' or '.join(p.api_key_env)}"
            )
        asked = ", ".join(s.name for s in segments)
        raise ConfigError(
            f"strict: provider {name!r} does not serve {asked!r}; its models: "
            f"{', '.join(p.models)} (or pin one: '{name}/<model>')"
        )

    def _explain_empty(self, segments: list[Segment]) -> None:
        """An explicit name whose every target lacks a key: say which keys would serve it."""
        servers = sorted({p for s in segments for p, _ in s.targets})
        if not servers or any(p in self._providers for p in servers):
            return  # the preferences filtered every target out: the call says so itself
        needs = "; ".join(
            f"{p} (set {' or '.join(self._settings.provider(p).api_key_env)})"
            if self._settings.provider(p).enabled
            else f"{p} (disabled)"
            for p in servers
        )
        asked = ", ".join(s.name for s in segments)
        raise ConfigError(f"no provider that serves {asked!r} can be called: {needs}")

    # -- step 4: keys -----------------------------------------------------------------------------
    def _route(self, provider: str, model: str) -> tuple[Candidate, ...]:
        route = self._routes.get((provider, model))
        if route is None:
            p = self._providers[provider]
            route = tuple(Candidate(p, key, model) for key in p.keys)
            if model in p.models:  # pinned pass-through ids are unbounded: not kept
                self._routes[(provider, model)] = route
        return route

    def _rotated(self, route: tuple[Candidate, ...]) -> tuple[Candidate, ...]:
        if len(route) < 2:
            return route
        name = route[0].provider.name
        with self._lock:
            turn = next(self._key_turn.setdefault(name, itertools.count()))
        start = turn % len(route)
        return route[start:] + route[:start]


def _plan_key(
    model: str | None, provider_name: str | None, strict: bool, models: Sequence[str] | None
) -> tuple[object, ...] | None:
    """What a kept plan is found by; None when the arguments are not plain names (they are
    then checked, and refused, on every call)."""
    names = (model, provider_name, *(models or ()))
    if isinstance(models, str) or not all(n is None or isinstance(n, str) for n in names):
        return None
    return (model, provider_name, strict, tuple(models or ()))


def _apply_preferences(
    targets: list[tuple[str, str]], prefs: ProviderPreferences
) -> list[tuple[str, str]]:
    if prefs.only:
        targets = [t for t in targets if t[0] in prefs.only]
    if prefs.ignore:
        targets = [t for t in targets if t[0] not in prefs.ignore]
    if prefs.order:
        rank = {name: i for i, name in enumerate(prefs.order)}
        first = sorted((t for t in targets if t[0] in rank), key=lambda t: rank[t[0]])
        rest = [t for t in targets if t[0] not in rank]
        targets = first + (rest if prefs.allow_fallbacks else [])
    elif not prefs.allow_fallbacks and targets:
        targets = [t for t in targets if t[0] == targets[0][0]]
    return targets
