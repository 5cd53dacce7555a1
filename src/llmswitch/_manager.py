"""``LLMProviderManager``: the seed's API over the router, sync and async.

The first four names are the seed's, unchanged: ``get_llm_manager()``,
``call_llm(system_prompt, user_message, model=None, temperature=0.3, max_tokens=2000,
provider_name=None) -> str``, ``get_client(provider_name=None) -> (openai.OpenAI, model)`` and
``get_provider_status() -> dict``. Beyond the seed: ``chat``/``stream`` returning rich results,
their async twins, and ``get_usage``.

Example:
    >>> from llmswitch import get_llm_manager
    >>> llm = get_llm_manager()
    >>> llm.call_llm("You are terse.", "Say hi")  # doctest: +SKIP
    'Hi.'
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmswitch import _ledger as ledger
from llmswitch._alerts import AlertHandler, AlertMonitor
from llmswitch._attempts import AttemptCore
from llmswitch._clock import (
    AsyncSleep,
    Clock,
    Sleep,
    system_async_sleep,
    system_clock,
    system_sleep,
)
from llmswitch._config import Settings, load_settings
from llmswitch._embeddings import EmbeddingNames, embed_request
from llmswitch._errors import ConfigError, ManagerClosed, StorageError
from llmswitch._events import Sink, emit
from llmswitch._key_reading import headroom
from llmswitch._planning import Planner, ProviderPreferences
from llmswitch._quota import key_scope
from llmswitch._router import AsyncChatStream, AsyncRouter, ChatStream, Router
from llmswitch._secrets import log_redaction
from llmswitch._state import store_from_url
from llmswitch._state.base import Store
from llmswitch._state.guarded import guard
from llmswitch._status import build_status, provider_status, savings_usd
from llmswitch._strategies import LatencyTracker
from llmswitch._transport import AsyncTransport, HttpxTransport, Transport
from llmswitch._transport_aiohttp import AiohttpTransport
from llmswitch._types import ChatRequest, ChatResult, EmbeddingResult, Message, new_request_id

if TYPE_CHECKING:
    import openai

MessagesLike = Iterable[Message | dict[str, Any]]


class LLMProviderManager:
    """Routes every call to the best provider that can take it now, and accounts for it.

    Args:
        settings: validated configuration (see ``llmswitch._config.load_settings``).
        store: state backend; default built from ``settings.state``.
        clock / sleep / async_sleep: time as a dependency (``llmswitch.testing.FakeClock``).
        transport / async_transport: pooled HTTP clients; built on first use when not given.
        sinks: event receivers (metrics, alerts, dashboards); see ``llmswitch._events``.
        on_alert: called with each ``Alert`` (quota, cooldown, auth, budget, outage, store); see
            ``llmswitch._alerts``. It runs in the call's thread: keep it quick. Errors are logged.

    Close it when done: ``close()`` (or ``with``) for sync use, ``await aclose()`` (or
    ``async with``) once the async twins were used, so the aiohttp pool is closed in its own loop.
    Afterwards every call raises ``ManagerClosed``.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        store: Store | None = None,
        clock: Clock | None = None,
        sleep: Sleep | None = None,
        async_sleep: AsyncSleep | None = None,
        transport: Transport | None = None,
        async_transport: AsyncTransport | None = None,
        sinks: Sequence[Sink] = (),
        on_alert: AlertHandler | None = None,
    ) -> None:
        self.settings = settings
        self.clock: Clock = clock or system_clock
        self.sinks: list[Sink] = list(sinks)
        secrets = [k.secret_value() for p in settings.providers for k in p.keys]
        log_redaction(secrets)  # no llmswitch log line carries a key, whole or in part
        self.store = guard(
            store
            or store_from_url(
                settings.state,
                **self._store_options(),
                ledger_retention_days=settings.ledger_retention_days,
            ),
            fail_open=settings.fail_open,
            clock=self.clock,
            on_change=lambda event: emit(self.sinks, event),
            secrets=secrets,
        )
        self.latency = LatencyTracker()
        self.alerts = AlertMonitor(settings, self.store, handlers=[on_alert] if on_alert else ())
        self.sinks.append(self.alerts)
        self.core = AttemptCore(
            settings, self.store, clock=self.clock, sinks=self.sinks, latency=self.latency
        )
        self.planner = Planner(
            settings,
            headroom=lambda p: headroom(p, self.store, self.clock()),
            latency=self.latency.get,
        )
        self.embed_planner = Planner(  # embed's names reach embedding models only
            settings,
            headroom=lambda p: headroom(p, self.store, self.clock()),
            latency=self.latency.get,
            names=EmbeddingNames(settings),
        )
        self._transport = transport
        self._async_transport = async_transport
        self._sleep = sleep or system_sleep
        self._async_sleep = async_sleep or system_async_sleep
        self._router: Router | None = None
        self._arouter: AsyncRouter | None = None
        self._lock = threading.Lock()
        self._closed = False

    @classmethod
    def from_config(
        cls, path_or_settings: str | Path | Settings | None = None, **kwargs: Any
    ) -> LLMProviderManager:
        """Build from a ``llmswitch.toml`` path (or ready ``Settings``) plus the environment."""
        settings = (
            path_or_settings
            if isinstance(path_or_settings, Settings)
            else load_settings(path_or_settings)
        )
        return cls(settings, **kwargs)

    def _store_options(self) -> dict[str, Any]:
        """Redis reads its own clock when we run on the system's, so machines agree on time."""
        if self.clock is system_clock and self.settings.state.startswith(("redis", "rediss")):
            return {"server_time": True}
        return {}

    def add_alert_handler(self, handler: AlertHandler) -> None:
        """Also send every later ``Alert`` to ``handler`` (keep it quick; errors are logged)."""
        self.alerts.add_handler(handler)

    def add_sink(self, sink: Sink) -> None:
        self.sinks.append(sink)
        self.core.sinks = tuple(self.sinks)

    # -- routers, built on first use ---------------------------------------------------------
    @property
    def router(self) -> Router:
        self._check_open()
        if self._router is None:
            with self._lock:
                if self._router is None:
                    transport = self._transport or HttpxTransport(
                        timeout=self.settings.timeout_seconds
                    )
                    self._transport = transport
                    self._router = Router(
                        self.core,
                        self.planner,
                        transport,
                        sleep=self._sleep,
                        embed_planner=self.embed_planner,
                    )
        return self._router

    @property
    def async_router(self) -> AsyncRouter:
        self._check_open()
        if self._arouter is None:
            transport = self._async_transport or AiohttpTransport(
                timeout=self.settings.timeout_seconds
            )
            self._async_transport = transport
            self._arouter = AsyncRouter(
                self.core,
                self.planner,
                transport,
                sleep=self._async_sleep,
                offload=self.store.backend != "memory",
                embed_planner=self.embed_planner,
            )
        return self._arouter

    # -- the seed's API ------------------------------------------------------------------------
    def call_llm(
        self,
        system_prompt: str,
        user_message: str,
        model: str | None = None,
        temperature: float = 0.3,
        max_tokens: int = 2000,
        provider_name: str | None = None,
    ) -> str:
        """Ask the best available provider; return the reply's text."""
        request = _seed_request(system_prompt, user_message, model, temperature, max_tokens)
        return self.router.chat(request, provider_name=provider_name).text

    def get_client(self, provider_name: str | None = None) -> tuple[openai.OpenAI, str]:
        """An official OpenAI SDK client for a provider and its default model.

        Without a name, the provider llmswitch would pick now. Calls made through this client
        bypass llmswitch's admission and accounting: prefer ``chat`` when you can.
        """
        import openai

        self._check_open()
        name = provider_name or self.current_provider()
        usable = self.planner.usable
        if name is None or name not in usable:
            choices = ", ".join(usable) or "none has a key"
            raise ConfigError(f"no usable provider {name!r}; usable providers: {choices}")
        p = usable[name]
        client = openai.OpenAI(
            base_url=p.openai_base_url,
            api_key=p.keys[0].secret_value(),
            default_headers=dict(p.headers) or None,
            timeout=self.settings.timeout_seconds,
        )
        return client, p.models[0]

    def get_provider_status(self) -> dict[str, Any]:
        """The seed's status shape plus windows, cooldowns, errors, cost and masked keys.

        Raises ``ManagerClosed`` after ``close()``, as every call does: its store is closed.
        """
        self._check_open()
        status = build_status(self.settings, self.store, self.clock(), self.latency, None)
        status["order"] = self._order()
        current = self._first_available(status)
        status["current_provider"] = current
        status["alerts"] = self.alerts.recent()
        if current:
            status["providers"][current]["is_current"] = True
        return status

    def current_provider(self) -> str | None:
        """The provider a call without a model would go to now (None: none can take one).

        Reads providers in the plan's order with the reading the status uses and stops at the
        first that can take a call, instead of building every provider's status.
        """
        self._check_open()
        try:
            plan = self.planner.plan(None)
        except ConfigError:
            return None
        now, seen = self.clock(), set()
        for cand in plan:
            p = cand.provider
            if p.name in seen:
                continue
            seen.add(p.name)
            try:
                status = provider_status(p, self.settings, self.store, now, self.latency, {})
            except StorageError:
                continue
            if status["status"] == "available":
                return p.name
        return None

    def _order(self) -> list[str]:
        """The providers a call without a model tries, in the order it tries them now."""
        try:
            plan = self.planner.plan(None)
        except ConfigError:
            return []
        return list(dict.fromkeys(c.provider.name for c in plan))

    def _first_available(self, status: dict[str, Any]) -> str | None:
        try:
            plan = self.planner.plan(None)
        except ConfigError:
            return None
        for cand in plan:
            if status["providers"][cand.provider.name]["status"] == "available":
                return cand.provider.name
        return None

    # -- beyond the seed -------------------------------------------------------------------------
    def chat(
        self,
        messages: MessagesLike,
        *,
        model: str | None = None,
        provider_name: str | None = None,
        strict: bool = False,
        max_wait: float | None = None,
        free_wait: float | None = None,
        models: Sequence[str] | None = None,
        provider: ProviderPreferences | Mapping[str, Any] | None = None,
        **params: Any,
    ) -> ChatResult:
        """One call with failover; returns text, provider, model, usage, cost and attempts.

        Sends only what the caller passed (``temperature``, ``max_tokens``,
        ``max_completion_tokens``, tools and every other OpenAI field in ``params``); the seed's
        0.3 and 2000 belong to ``call_llm`` alone.

        Args:
            model: a group, an alias, a model id, ``provider/model`` or ``auto`` (see the README's
                routing table).
            provider_name: try this provider first, whatever its tier; ``strict=True``: only it.
            models: OpenRouter's ``models``: more names tried after ``model``, in order.
            provider: OpenRouter's ``provider`` object (``order``, ``only``, ``ignore``,
                ``allow_fallbacks``) or a ``ProviderPreferences``.
            max_wait: seconds to wait for a recovery when every candidate is out.
            free_wait: seconds to wait for a free slot that is about to open rather than pay
                a paid provider (None: ``free_wait_seconds``; 0: buy at once).
            request_id: (in ``params``) names this call in the ledger entry of every attempt,
                the log lines and the alerts it causes (``get_ledger(request_id)``); default a
                fresh ``req_<hex>``, returned as ``ChatResult.request_id``.
        """
        return self.router.chat(
            _request(messages, model, params),
            provider_name=provider_name,
            strict=strict,
            max_wait=max_wait,
            free_wait=free_wait,
            models=models,
            provider=provider,
        )

    def stream(
        self,
        messages: MessagesLike,
        *,
        model: str | None = None,
        provider_name: str | None = None,
        strict: bool = False,
        max_wait: float | None = None,
        free_wait: float | None = None,
        models: Sequence[str] | None = None,
        provider: ProviderPreferences | Mapping[str, Any] | None = None,
        continuation: bool | None = None,
        **params: Any,
    ) -> ChatStream:
        """Stream a reply; the last chunk carries the ``ChatResult`` (``chunk.result``).

        ``continuation``: when the stream is cut after content, continue it on another model
        that accepts an assistant prefill (None: the ``stream_continuation`` setting).
        """
        return self.router.stream(
            _request(messages, model, params),
            provider_name=provider_name,
            strict=strict,
            max_wait=max_wait,
            free_wait=free_wait,
            models=models,
            provider=provider,
            continuation=continuation,
        )

    async def acall_llm(
        self,
        system_prompt: str,
        user_message: str,
        model: str | None = None,
        temperature: float = 0.3,
        max_tokens: int = 2000,
        provider_name: str | None = None,
    ) -> str:
        request = _seed_request(system_prompt, user_message, model, temperature, max_tokens)
        return (await self.async_router.chat(request, provider_name=provider_name)).text

    async def achat(
        self,
        messages: MessagesLike,
        *,
        model: str | None = None,
        provider_name: str | None = None,
        strict: bool = False,
        max_wait: float | None = None,
        free_wait: float | None = None,
        models: Sequence[str] | None = None,
        provider: ProviderPreferences | Mapping[str, Any] | None = None,
        **params: Any,
    ) -> ChatResult:
        return await self.async_router.chat(
            _request(messages, model, params),
            provider_name=provider_name,
            strict=strict,
            max_wait=max_wait,
            free_wait=free_wait,
            models=models,
            provider=provider,
        )

    def astream(
        self,
        messages: MessagesLike,
        *,
        model: str | None = None,
        provider_name: str | None = None,
        strict: bool = False,
        max_wait: float | None = None,
        free_wait: float | None = None,
        models: Sequence[str] | None = None,
        provider: ProviderPreferences | Mapping[str, Any] | None = None,
        continuation: bool | None = None,
        **params: Any,
    ) -> AsyncChatStream:
        return self.async_router.stream(
            _request(messages, model, params),
            provider_name=provider_name,
            strict=strict,
            max_wait=max_wait,
            free_wait=free_wait,
            models=models,
            provider=provider,
            continuation=continuation,
        )

    def embed(
        self,
        input: str | Sequence[str] | Sequence[int] | Sequence[Sequence[int]],
        model: str | None = None,
        provider_name: str | None = None,
        *,
        strict: bool = False,
        max_wait: float | None = None,
        free_wait: float | None = None,
        provider: ProviderPreferences | Mapping[str, Any] | None = None,
        **params: Any,
    ) -> EmbeddingResult:
        """Embed ``input``; returns the vectors (in input order), who served, usage, cost and
        attempts. Admission, keys, limits, the ledger and failover work as for ``chat``, but a
        call fails over only among the targets of one embedding model (vectors of two models do
        not mix), unless ``model`` is a ``[models.NAME]`` group listing several.

        Args:
            input: a string, a list of strings, a token array or a list of token arrays (token
                arrays only where the model takes them: OpenAI's).
            model: an embedding model id (``text-embedding-3-small``), a group, ``provider/model``
                to pin, or None / ``auto``: the first embedding model of the first provider
                with a key. Name one to keep vectors comparable when keys change.
            params: ``dimensions`` (shorter vectors, where the model can), ``request_id``, and
                fields passed to OpenAI-compatible providers as they are (``user``...).

        Raises:
            ConfigError: a chat model, an unknown name or a malformed ``input`` (the message
                lists the embedding models).
        """
        return self.router.embed(
            self._embed_request(input, model, params),
            provider_name=provider_name,
            strict=strict,
            max_wait=max_wait,
            free_wait=free_wait,
            provider=provider,
        )

    async def aembed(
        self,
        input: str | Sequence[str] | Sequence[int] | Sequence[Sequence[int]],
        model: str | None = None,
        provider_name: str | None = None,
        *,
        strict: bool = False,
        max_wait: float | None = None,
        free_wait: float | None = None,
        provider: ProviderPreferences | Mapping[str, Any] | None = None,
        **params: Any,
    ) -> EmbeddingResult:
        """The async twin of ``embed``."""
        return await self.async_router.embed(
            self._embed_request(input, model, params),
            provider_name=provider_name,
            strict=strict,
            max_wait=max_wait,
            free_wait=free_wait,
            provider=provider,
        )

    def _embed_request(self, inputs: object, model: str | None, params: dict[str, Any]) -> Any:
        self._check_open()
        request_id = params.pop("request_id", None) or new_request_id()
        if not isinstance(request_id, str) or len(request_id) > 128:
            raise ConfigError(
                f"request_id must be a string of at most 128 characters; got {request_id!r:.60}"
            )
        return embed_request(inputs, model, params, request_id=request_id)

    def get_usage(self, period: str = "today") -> dict[str, Any]:
        """Tokens, calls and cost per provider over ``today|yesterday|week|month|all``, per model
        and key (``by_model_and_key``), and what the free calls saved (``savings_usd``: their
        tokens at their own model's list price)."""
        self._check_open()
        since, until = ledger.period_days(period, self.clock())
        rows = self.store.usage_rows(since_day=since, until_day=until)
        rollups = self.store.rollup_rows(since_day=since, until_day=until)
        totals = ledger.totals_by_provider(rows)
        return {
            "period": period,
            "since": since,
            "until": until,
            "providers": {name: _asdict(t) for name, t in totals.items()},
            "days": [_asdict(r) for r in rows],
            "by_model_and_key": ledger.rollup_totals(rollups),
            "total_cost_usd": round(sum(t.cost_usd for t in totals.values()), 8),
            "savings_usd": savings_usd(self.settings, rollups),
        }

    def get_ledger(
        self, request_id: str | None = None, *, limit: int = 100
    ) -> list[dict[str, Any]]:
        """The most recent ledger entries still kept (``ledger_retention_days``), newest first,
        as dicts; with ``request_id``, only that call's attempts (every one it sent, a failed
        first try included), so one id answers "what did this call cost and where did it go"."""
        self._check_open()
        scan = limit if request_id is None else max(limit, 10_000)
        entries = self.store.ledger_entries(limit=scan)
        if request_id is not None:
            entries = [e for e in entries if e.request_id == request_id]
        return [_asdict(e) for e in entries[:limit]]

    def reset_circuit(self, target: str) -> list[str]:
        """Close circuits by hand; return the scopes cleared.

        For when an operator knows better than the breaker: the provider fixed its outage, or a
        key was replaced, and waiting out the cooldown would only send traffic elsewhere.

        ``target`` is ``"PROVIDER"`` (its own circuit, every key's and every model's) or
        ``"PROVIDER/MODEL"`` (that model's circuit only). Model ids may hold ``/`` themselves
        (groq's ``openai/gpt-oss-120b``), so only the first ``/`` separates the provider. The
        last errors stay on record for the status; the windows and blocks are untouched (a
        provider's 429 still holds).

        Raises:
            ConfigError: unknown provider or model; the message lists the valid ones.
            StorageError: the state store cannot be reached, so nothing shared was cleared.
        """
        from llmswitch._quota import model_scope, provider_scope

        self._check_open()
        name, sep, model = target.strip().partition("/")
        providers = {p.name: p for p in self.settings.providers}
        p = providers.get(name)
        if p is None:
            valid = ", ".join(providers) or "none"
            raise ConfigError(
                f"reset {target!r}: no provider {name!r}; configured providers: {valid} "
                "(use PROVIDER or PROVIDER/MODEL)"
            )
        models = [*p.models, *p.embedding_models]  # an embedding model has its circuit too
        if sep:
            if model not in models:
                raise ConfigError(
                    f"reset {target!r}: {name} has no model {model!r}; its models: "
                    f"{', '.join(models)}"
                )
            scopes = [model_scope(name, model)]
        else:
            scopes = [
                provider_scope(name),
                *(key_scope(name, k.alias) for k in p.keys),
                *(model_scope(name, m) for m in models),
            ]
        for scope in scopes:
            self.store.clear_health(scope)
        return scopes

    # -- lifecycle -----------------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise ManagerClosed(
                "this LLMProviderManager is closed (close(), aclose() or the end of its `with` "
                "block), so nothing was sent: create a new manager with get_llm_manager() (a "
                "fresh one once the old one is closed) or LLMProviderManager.from_config(...)"
            )

    def close(self) -> None:
        """Release the HTTP pools, the alert workers and the store; idempotent.

        The aiohttp pool of the async twins is closed too when its event loop has ended (or is
        this thread's running loop); from inside another loop only ``await aclose()`` can.
        """
        if self._closed:
            return
        self._closed = True
        if self._transport is not None:
            self._transport.close()
        if isinstance(self._async_transport, AiohttpTransport):
            self._async_transport.close()
        if self._arouter is not None:
            self._arouter.close()
        self.alerts.close()
        self.store.close()

    async def aclose(self) -> None:
        """``close()``, awaiting the async transport's ``aclose()`` first; idempotent."""
        if self._async_transport is not None and not self._closed:
            await self._async_transport.aclose()
        self.close()

    def __enter__(self) -> LLMProviderManager:
        self._check_open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> LLMProviderManager:
        self._check_open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        names = ", ".join(p.name for p in self.planner.usable.values())
        return f"<LLMProviderManager providers=[{names}] strategy={self.settings.strategy!r}>"


def _asdict(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__slots__}


def _seed_request(
    system_prompt: str, user_message: str, model: str | None, temperature: float, max_tokens: int
) -> ChatRequest:
    messages = (Message("system", system_prompt), Message("user", user_message))
    return ChatRequest(
        messages=messages,
        model=model,
        temperature=temperature,
        max_tokens=max_tokens,
        request_id=new_request_id(),
    )


def _request(messages: MessagesLike, model: str | None, params: dict[str, Any]) -> ChatRequest:
    """The request exactly as the caller gave it: no default is added for what they left out
    (but a ``request_id``: the caller's, else a fresh one, which names the call everywhere)."""
    request_id = params.pop("request_id", None) or new_request_id()
    if not isinstance(request_id, str) or len(request_id) > 128:
        raise ConfigError(
            f"request_id must be a string of at most 128 characters; got {request_id!r:.60}"
        )
    msgs = tuple(m if isinstance(m, Message) else Message.from_openai(m) for m in messages)
    if not msgs:
        raise ConfigError("messages is empty; pass at least one {'role': 'user', 'content': ...}")
    responses_body = params.pop("responses_body", None)  # the gateway's Responses request
    temperature = params.pop("temperature", None)
    max_tokens = params.pop("max_tokens", None)
    for name, value in (
        ("max_tokens", max_tokens),
        ("max_completion_tokens", params.get("max_completion_tokens")),
    ):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            raise ConfigError(f"{name} must be an integer >= 1 or None; got {value!r}")
    return ChatRequest(
        messages=msgs,
        model=model,
        temperature=temperature,
        max_tokens=max_tokens,
        extra=params,
        request_id=request_id,
        responses_body=responses_body,
    )


_manager: LLMProviderManager | None = None
_manager_lock = threading.Lock()


def get_llm_manager() -> LLMProviderManager:
    """The process's manager, built from the environment, ``.env`` and ``llmswitch.toml`` on first
    use, and again after it was closed (a closed manager is never handed out)."""
    global _manager
    if _manager is None or _manager.closed:
        with _manager_lock:
            if _manager is None or _manager.closed:
                _manager = LLMProviderManager.from_config(None)
    return _manager
