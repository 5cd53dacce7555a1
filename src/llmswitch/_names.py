"""Model names: what a request's ``model`` may be, and which targets each name reaches.

A name resolves in this order; the first rule that matches wins:

======  ===============================  =============================  =========================
order   the name is                      example                        reaches
======  ===============================  =============================  =========================
1       absent, ``""`` or ``auto``       ``auto``                       ``LLM_MODEL`` when set,
                                                                        else every provider's
                                                                        default model
2       a group (``[models.NAME]``)      ``smart``                      its targets in order,
                                                                        then each fallback
                                                                        group's, once each
3       a model id or an alias that      ``gpt-4o-mini``,               every provider that
        some provider serves             ``openai/gpt-oss-120b``        lists the id or the alias
4       ``provider/model``               ``groq/openai/gpt-oss-120b``,  that provider only
                                         ``groq/some-new-model``        (pinned); ``model`` is
                                                                        its id, alias, or passed
                                                                        through as is
======  ===============================  =============================  =========================

Ids may contain slashes (Groq's ``openai/gpt-oss-120b``), which is why rule 3 comes before rule
4: ``openai/gpt-oss-120b`` is Groq's (and Together's) model, not OpenAI's ``gpt-oss-120b``.
To reach one provider's copy, prefix it: ``groq/openai/gpt-oss-120b``. A name that rule 3 and
rule 4 would both read with different meanings, a group named like a model or an alias, a
fallback that names no group, and a cycle of fallbacks are ``ConfigError``s when the settings
load (``check_names``), each naming the fix, so resolution itself never has to guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from llmswitch._errors import ConfigError

if TYPE_CHECKING:
    from llmswitch._config import ModelGroup, ProviderSettings, Settings

AUTO = "auto"


@dataclass(frozen=True, slots=True)
class Segment:
    """One stretch of a call's chain: the targets one name reaches, ordered as one unit.

    ``strategy`` None means the listed order for a group and the global strategy otherwise;
    ``paid_last`` None means the global setting.
    """

    name: str
    targets: tuple[tuple[str, str], ...]  # (provider, the provider's own model id)
    group: bool = False
    pinned: bool = False
    strategy: str | None = None
    paid_last: bool | None = None


class Names:
    """Resolves request model names against one ``Settings`` (built once per settings)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._providers = {p.name: p for p in settings.providers}
        self._cache: dict[str, tuple[Segment, ...]] = {}

    def resolve(self, model: str | None) -> tuple[Segment, ...]:
        """The segments ``model`` reaches (one, or a group's and its fallbacks')."""
        if model in (None, "", AUTO):
            default = self._settings.llm_model
            if default in ("", AUTO):
                targets = tuple((p.name, p.models[0]) for p in self._settings.providers)
                return (Segment(AUTO, targets),)
            model = default
        assert model is not None
        found = self._cache.get(model)
        if found is None:
            found = self._resolve(model)
            if len(self._cache) < 4096:  # pinned pass-through names are unbounded
                self._cache[model] = found
        return found

    def _resolve(self, model: str) -> tuple[Segment, ...]:
        groups = self._settings.models
        if model in groups:
            segments = group_segments(model, groups)
            if any(
                m in self._providers[p].embedding_models for seg in segments for p, m in seg.targets
            ):
                raise self._embedding(f"model group {model!r} reaches embedding models")
            return segments
        served = tuple(
            (p.name, own)
            for p in self._settings.providers
            if (own := p.resolve_model(model)) is not None
        )
        if served:
            return (Segment(model, served),)
        prefix, _, rest = model.partition("/")
        if rest and prefix in self._providers:
            p = self._providers[prefix]
            if p.resolve_model(rest) is None and p.resolve_embedding(rest) is not None:
                raise self._embedding(f"{model!r} is an embedding model")
            own = p.resolve_model(rest) or rest
            return (Segment(model, ((prefix, own),), pinned=True),)
        if any(p.resolve_embedding(model) for p in self._settings.providers):
            raise self._embedding(f"{model!r} is an embedding model")
        known = sorted({m for p in self._settings.providers for m in p.models})
        hint = f"; groups: {', '.join(groups)}" if groups else ""
        raise ConfigError(
            f"no configured provider serves model {model!r}; use 'auto', a model id ("
            f"{', '.join(known) or 'none'}){hint}, or 'provider/model' to pin one provider"
        )

    def _embedding(self, what: str) -> ConfigError:
        """Chat never reaches an embedding model: say where the name belongs."""
        return ConfigError(
            f"{what}, not a chat model: send it to POST /v1/embeddings (the library's "
            "embed / aembed); chat models are listed by GET /v1/models"
        )


def group_segments(name: str, groups: Mapping[str, ModelGroup]) -> tuple[Segment, ...]:
    """The group ``name``'s segment, then each fallback group's, once each."""
    return tuple(_group_segment(groups[g]) for g in _with_fallbacks(name, groups))


def _group_segment(group: ModelGroup) -> Segment:
    return Segment(
        group.name,
        group.targets,
        group=True,
        strategy=group.strategy,
        paid_last=group.paid_last,
    )


def _with_fallbacks(name: str, groups: Mapping[str, ModelGroup]) -> list[str]:
    """``name`` and every group its fallbacks reach, depth first, each once."""
    out: list[str] = []

    def visit(g: str) -> None:
        if g in out:
            return
        out.append(g)
        for f in groups[g].fallbacks:
            visit(f)

    visit(name)
    return out


def check_names(settings: Settings, source: Path | str = "llmswitch.toml") -> None:
    """Refuse every ambiguous name at load, each error naming the key and the fix."""
    providers = settings.providers
    by_name = {p.name: p for p in providers}
    served: dict[str, list[str]] = {}  # model id or alias -> providers that serve it
    for p in providers:
        for name in (*p.models, *p.aliases, *p.embedding_models):
            served.setdefault(name, []).append(p.name)
    for p in providers:
        _check_aliases(source, p)
    for name, group in settings.models.items():
        key = f"models.{name}"
        if name == AUTO:
            raise ConfigError(f"{source}: {key}: 'auto' means every provider's default; rename it")
        if name in served:
            raise ConfigError(
                f"{source}: {key}: a group named like a model ({', '.join(served[name])} "
                f"serve{'s' if len(served[name]) == 1 else ''} {name!r}); rename the group, "
                "for example to the job it does ('smart', 'fast')"
            )
        for f in group.fallbacks:
            if f not in settings.models:
                raise ConfigError(
                    f"{source}: {key}.fallbacks: {f!r} is no [models.NAME] group; groups: "
                    f"{', '.join(settings.models)}"
                )
            if f == name:
                raise ConfigError(f"{source}: {key}.fallbacks: the group falls back to itself")
    _check_cycles(source, settings)
    for model, names in served.items():
        prefix, _, rest = model.partition("/")
        owner = by_name.get(prefix)
        if rest and owner and prefix not in names and owner.resolve_model(rest) is not None:
            raise ConfigError(
                f"{source}: model {model!r} of {', '.join(names)} reads as {prefix}'s "
                f"{rest!r} too; rename one (an alias), or pin with "
                f"'{names[0]}/{model}' and '{prefix}/{rest}'"
            )


def _check_aliases(source: Path | str, p: ProviderSettings) -> None:
    for alias, target in p.aliases.items():
        key = f"providers.{p.name}.aliases.{alias}"
        if target not in p.models:
            raise ConfigError(
                f"{source}: {key}: {target!r} is not one of {p.name}'s models "
                f"({', '.join(p.models)}); add it to providers.{p.name}.models or fix the alias"
            )
        if alias in p.models and alias != target:
            raise ConfigError(
                f"{source}: {key}: {alias!r} is already one of {p.name}'s model ids; an alias "
                "may not hide a model"
            )


def _check_cycles(source: Path | str, settings: Settings) -> None:
    groups = settings.models
    done: set[str] = set()

    def visit(g: str, path: list[str]) -> None:
        if g in path:
            cycle = " -> ".join([*path[path.index(g) :], g])
            raise ConfigError(
                f"{source}: models.{g}.fallbacks: a cycle of fallbacks ({cycle}); remove one "
                "of them"
            )
        if g in done:
            return
        for f in groups[g].fallbacks:
            visit(f, [*path, g])
        done.add(g)

    for g in groups:
        visit(g, [])
