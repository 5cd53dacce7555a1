"""Which targets an embeddings call may reach, and what each embedding model can honour.

Vectors of two models do not mix: a store of ``text-embedding-3-small`` vectors searched with a
``gemini-embedding-001`` query vector returns nonsense, silently. So an embed call fails over
only across the targets of **one embedding model**: the same model at another provider
(OpenRouter's ``openai/text-embedding-3-small`` *is* OpenAI's ``text-embedding-3-small``, which
the catalog says with ``same_as``), another key, a retry. A model group (``[models.NAME]``)
that lists several embedding targets is the caller saying otherwise, explicitly.

A name resolves like a chat name, with embedding models only:

======  =========================  ==================================================
order   the name is                reaches
======  =========================  ==================================================
1       absent, ``""``, ``auto``   the first embedding model of the first provider
                                   (by priority) that has a key, at every provider
                                   serving that model
2       a group                    its listed targets, then its fallbacks' (each an
                                   embedding group; a chat group is an error)
3       an embedding model id      every provider serving that model (its id or
                                   ``same_as``)
4       ``provider/model``         that provider only (an unknown id passes through)
======  =========================  ==================================================

A chat model's name is a ``ConfigError`` listing the embedding models, and chat's own names
(``names.Names``) refuse an embedding model the same way: neither call reaches the other kind.

``unmet`` is the embedding twin of ``capabilities.unmet``: token arrays, ``dimensions`` and the
number of inputs against the model's declaration; the call machine skips a candidate that
cannot honour them, and ``explain`` is the 400 when none can. Pure: settings in, values out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmswitch import _health as health
from llmswitch._capabilities import Need
from llmswitch._errors import ConfigError
from llmswitch._names import AUTO, Segment, group_segments

if TYPE_CHECKING:
    from llmswitch._config import EmbeddingModel, ProviderSettings, Settings
    from llmswitch._types import EmbedRequest


def identity(provider: ProviderSettings, model: str) -> str:
    """The model ``provider``'s ``model`` is: its ``same_as``, else its own id."""
    info = provider.embedding_models.get(model)
    return (info.same_as if info is not None else "") or model


class EmbeddingNames:
    """Resolves an embed call's ``model`` to segments of embedding targets (see the module)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._providers = {p.name: p for p in settings.providers}

    def resolve(self, model: str | None) -> tuple[Segment, ...]:
        if model in (None, "", AUTO):
            default = self.default_model()
            if default is None:
                raise ConfigError(
                    "no provider with an API key serves an embedding model: set OPENAI_API_KEY, "
                    "GEMINI_API_KEY, OPENROUTER_API_KEY or TOGETHER_API_KEY, or list "
                    "embedding_models for a provider in llmswitch.toml"
                )
            return (Segment(default, self.targets_of(default)),)
        assert model is not None
        groups = self._settings.models
        if model in groups:
            segments = group_segments(model, groups)
            chat = [
                f"{p}/{m}"
                for seg in segments
                for p, m in seg.targets
                if m not in self._providers[p].embedding_models
            ]
            if chat:
                raise ConfigError(
                    f"model group {model!r} reaches chat models ({', '.join(chat)}), not "
                    f"embedding models; {self._choices()}"
                )
            return segments
        ident = self.identity_of(model)
        if ident is not None:
            return (Segment(model, self.targets_of(ident)),)
        prefix, _, rest = model.partition("/")
        p = self._providers.get(prefix)
        if rest and p is not None:
            own = p.resolve_embedding(rest)
            if own is None and p.resolve_model(rest) is not None:
                raise self._chat_model(model)
            return (Segment(model, ((prefix, own or rest),), pinned=True),)
        if any(q.resolve_model(model) is not None for q in self._settings.providers):
            raise self._chat_model(model)
        raise ConfigError(
            f"no configured provider serves embedding model {model!r}; {self._choices()}"
        )

    def default_model(self) -> str | None:
        """The model an embed call without one gets: the first embedding model of the first
        provider that can be called (priority order), so it stays put while keys do."""
        for p in self._settings.providers:
            if p.available and p.embedding_models:
                return identity(p, next(iter(p.embedding_models)))
        return None

    def identity_of(self, name: str) -> str | None:
        """The model ``name`` names (an id some provider serves, or a ``same_as``)."""
        for p in self._settings.providers:
            own = p.resolve_embedding(name)
            if own is not None:
                return identity(p, own)
        if any(name == info.same_as for p in self._settings.providers for info in _infos(p)):
            return name
        return None

    def targets_of(self, ident: str) -> tuple[tuple[str, str], ...]:
        """Every (provider, own id) serving the model ``ident``, in priority order."""
        return tuple(
            (p.name, own)
            for p in self._settings.providers
            for own in p.embedding_models
            if identity(p, own) == ident
        )

    def _chat_model(self, model: str) -> ConfigError:
        return ConfigError(f"{model!r} is a chat model, not an embedding model; {self._choices()}")

    def _choices(self) -> str:
        return f"embedding models: {', '.join(embedding_models(self._settings)) or 'none'}"


def narrowed(verdict: health.Verdict) -> health.Verdict:
    """What an embed call's failure may put out of service.

    OpenAI, Gemini (``embed_content_free_tier_requests``, quotas "PerModel") and Together count
    embeddings per model, apart from chat. A 429 or a spent quota on an embed call is that
    embedding model's, so the model cools down and the key keeps serving chat; for the same
    reason an embed reply's rate-limit headers are not learned as the key's windows. Every
    other target stays as the verdict says.
    """
    if verdict.target in (health.Target.KEY_BLOCK, health.Target.KEY_DAY):
        return health.Verdict(verdict.act, health.Target.MODEL, verdict.wait)
    return verdict


def embedding_models(settings: Settings) -> list[str]:
    """Every embedding model id of every enabled provider, once each, in priority order."""
    out: dict[str, None] = {}
    for p in settings.providers:
        if p.enabled:
            out.update(dict.fromkeys(p.embedding_models))
    return list(out)


def _infos(p: ProviderSettings) -> list[EmbeddingModel]:
    return list(p.embedding_models.values())


def unmet(info: EmbeddingModel | None, request: EmbedRequest) -> Need | None:
    """The first thing ``request`` needs that the model declared by ``info`` cannot do (None:
    all fine; ``info`` None: an id passed through, nothing declared, nothing refused here)."""
    if info is None:
        return None
    if request.token_arrays and not info.token_input:
        return Need("token_arrays", "input")
    if info.max_inputs and len(request.inputs) > info.max_inputs:
        return Need(f"at_most_{info.max_inputs}_inputs", "input")
    dims = request.dimensions
    if dims is not None and not info.shortens:
        return Need("shorter_vectors", "dimensions")
    if dims is not None and info.dimensions and dims > info.dimensions:
        return Need(f"at_most_{info.dimensions}_dimensions", "dimensions")
    return None


def explain(need: Need, request: EmbedRequest, settings: Settings) -> str:
    """The 400's message when every candidate was skipped for ``need``: the targets that
    could honour the request, or how to change it."""
    able = [
        f"{p.name}/{m}"
        for p in settings.providers
        if p.available
        for m, info in p.embedding_models.items()
        if unmet(info, request) is None
    ]
    fix = {
        "input": "send strings, or fewer inputs per call",
        "dimensions": "drop dimensions or ask for fewer",
    }[need.parameter]
    where = f"models that can: {', '.join(able)}" if able else f"no configured model can; {fix}"
    what = need.capability.replace("_", " ")
    return (
        f"'{need.parameter}' needs {what}, which no candidate for this request supports "
        f"({where}); llmswitch never drops a parameter silently, and an embed call fails over "
        "only within one embedding model"
    )


def embed_request(
    inputs: object, model: str | None, params: dict[str, object], *, request_id: str
) -> EmbedRequest:
    """The caller's ``input`` as an ``EmbedRequest``, or a ``ConfigError`` naming what is wrong:
    a string, a list of strings, a token array (list of ints) or a list of token arrays."""
    from llmswitch._types import EmbedRequest

    items: tuple[str | tuple[int, ...], ...]
    if isinstance(inputs, str):
        items = (inputs,)
    elif isinstance(inputs, list | tuple) and inputs and all(_is_tokens(i) for i in inputs):
        items = (tuple(inputs),) if all(isinstance(i, int) for i in inputs) else ()
        if not items:
            items = tuple(tuple(i) for i in inputs if isinstance(i, list | tuple))
            if len(items) != len(inputs):
                raise _bad_input()
    elif isinstance(inputs, list | tuple) and inputs and all(isinstance(i, str) for i in inputs):
        items = tuple(str(i) for i in inputs)
    else:
        raise _bad_input()
    if any(isinstance(i, str) and not i for i in items) or any(not i for i in items):
        raise ConfigError("input holds an empty string or token array; every input needs text")
    dims = params.pop("dimensions", None)
    if dims is not None and (isinstance(dims, bool) or not isinstance(dims, int) or dims < 1):
        raise ConfigError(f"dimensions must be an integer >= 1 or None; got {dims!r:.40}")
    if model is not None and not isinstance(model, str):
        raise ConfigError("model must be a string: an embedding model id, a group or 'auto'")
    return EmbedRequest(items, model, dims, dict(params), request_id=request_id)


def _is_tokens(item: object) -> bool:
    if isinstance(item, bool):
        return False
    if isinstance(item, int):
        return True
    return (
        isinstance(item, list | tuple)
        and bool(item)
        and all(isinstance(t, int) and not isinstance(t, bool) for t in item)
    )


def _bad_input() -> ConfigError:
    return ConfigError(
        "input must be a non-empty string, a list of strings, a token array (list of integers) "
        "or a list of token arrays"
    )
