"""Can this candidate honour this request? One pure answer per (model, request).

Failing over must not silently change what the app gets: a request with ``tools`` must not land
on a model that ignores them, a ``json_schema`` on one that only does JSON mode, ``n = 2`` on
one that returns a single choice. Each catalog model declares what it accepts
(``Capabilities``, data beside its prices); ``unmet`` names the first request parameter a model
cannot honour, so the call machine can skip that candidate with a reason the attempt shows and,
when no candidate can, fail with a 400 naming the parameter and the models that could
(``describe``). Unknown is treated as accepted (a provider added in llmswitch.toml declares
nothing): the provider's own 400 then says what it refused, which is never silent.

Example:
    >>> req = ChatRequest(messages=(Message("user", "hi"),), extra={"n": 2})
    >>> unmet(Capabilities(multiple_choices=False), req, stream=False)
    Need(capability='multiple_choices', parameter='n')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llmswitch._types import ChatRequest, Message

if TYPE_CHECKING:
    from collections.abc import Mapping

    from llmswitch._catalog import ProviderSpec


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What one model accepts (reference §6.10 and §8.5); True where unconfirmed."""

    tools: bool = True
    tool_choice: bool = True  # required / named, beyond auto
    image_url: bool = True  # an https image_url
    image_data: bool = True  # a data: image_url
    json_object: bool = True
    json_schema: bool = True
    multiple_choices: bool = True  # n > 1
    stream_usage: bool = True  # stream_options.include_usage
    prefill: bool = True  # a trailing assistant message is continued


TEXT_ONLY = Capabilities(image_url=False, image_data=False)


@dataclass(frozen=True, slots=True)
class Need:
    """A request parameter and the capability it takes."""

    capability: str
    parameter: str


def needs(request: ChatRequest, *, stream: bool) -> list[Need]:
    """Every capability ``request`` relies on, in the order a 400 should name them."""
    extra = request.extra
    out: list[Need] = []
    if extra.get("tools"):
        out.append(Need("tools", "tools"))
        if extra.get("tool_choice") not in (None, "auto", "none"):
            out.append(Need("tool_choice", "tool_choice"))
    images = _image_urls(request.messages)
    if any(not url.startswith("data:") for url in images):
        out.append(Need("image_url", "messages[].content[].image_url"))
    if any(url.startswith("data:") for url in images):
        out.append(Need("image_data", "messages[].content[].image_url"))
    fmt = extra.get("response_format")
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind == "json_object":
        out.append(Need("json_object", "response_format"))
    elif kind == "json_schema":
        out.append(Need("json_schema", "response_format"))
    n = extra.get("n")
    if isinstance(n, int) and not isinstance(n, bool) and n > 1:
        out.append(Need("multiple_choices", "n"))
    options = extra.get("stream_options")
    if stream and isinstance(options, dict) and options.get("include_usage"):
        out.append(Need("stream_usage", "stream_options.include_usage"))
    return out  # prefill is declared but routed by the stream continuation (call.py) alone


def unmet(caps: Capabilities | None, request: ChatRequest, *, stream: bool) -> Need | None:
    """The first thing ``request`` needs that a model with ``caps`` cannot do (None: all fine;
    ``caps`` None: nothing declared, so nothing refused here)."""
    if caps is None:
        return None
    return next((n for n in needs(request, stream=stream) if not getattr(caps, n.capability)), None)


def capabilities_of(
    provider: str, model: str, catalog: Mapping[str, ProviderSpec] | None = None
) -> Capabilities | None:
    """What the catalog declares for ``provider``'s ``model``; None when it declares nothing
    (a provider or model added in llmswitch.toml)."""
    if catalog is None:
        from llmswitch._catalog import CATALOG

        catalog = CATALOG
    spec = catalog.get(provider)
    found = next((m for m in spec.models if m.id == model), None) if spec else None
    return found.capabilities if found is not None else None


def serves_responses(provider: str, catalog: Mapping[str, ProviderSpec] | None = None) -> bool:
    """Whether the built-in ``provider`` serves the Responses API itself (a provider added in
    llmswitch.toml declares nothing, so its Responses calls are translated to chat)."""
    if catalog is None:
        from llmswitch._catalog import CATALOG

        catalog = CATALOG
    spec = catalog.get(provider)
    return spec is not None and spec.responses_api


def able(need: Need, targets: list[tuple[str, str]]) -> list[str]:
    """The ``provider/model`` targets among ``targets`` whose declarations honour ``need``."""
    return [
        f"{p}/{m}"
        for p, m in targets
        if getattr(capabilities_of(p, m) or Capabilities(), need.capability)
    ]


def describe(need: Need, able: list[str]) -> str:
    """The 400's message when every candidate was skipped for ``need``."""
    where = (
        f"models that can: {', '.join(able)}"
        if able
        else "no configured model can; drop the parameter"
    )
    return (
        f"'{need.parameter}' needs {need.capability.replace('_', ' ')}, which no candidate for "
        f"this request supports ({where}); llmswitch never drops a parameter silently"
    )


def _image_urls(messages: tuple[Message, ...]) -> list[str]:
    urls: list[str] = []
    for message in messages:
        content: Any = message.content
        for part in content if isinstance(content, list) else []:
            if isinstance(part, dict) and part.get("type") == "image_url":
                image = part.get("image_url")
                url = image.get("url") if isinstance(image, dict) else image
                if isinstance(url, str):
                    urls.append(url)
    return urls
