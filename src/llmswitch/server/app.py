"""The gateway's FastAPI app: the same manager as the library, behind OpenAI's HTTP API.

``create_app`` wires five small route sets (``/v1`` proxy, ``/api`` status, ``/metrics``, the
dashboard, ``/openapi.json``) and subscribes the metrics and the dashboard's history to the
manager as event sinks. Interactive API docs are off: they would load assets from a CDN, and the
gateway serves every byte it shows; the OpenAPI document itself is published.

Example:
    >>> from llmswitch import LLMProviderManager
    >>> app = create_app(LLMProviderManager.from_config())   # doctest: +SKIP
    >>> # uvicorn.run(app, host="127.0.0.1", port=8888)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from llmswitch.server import not_found
from llmswitch.server.dashboard import DashboardRoutes, RequestHistory
from llmswitch.server.embeddings_api import EmbeddingsRoutes
from llmswitch.server.metrics import GatewayMetrics
from llmswitch.server.openai_api import OpenAIRoutes, largest_context_window
from llmswitch.server.openapi import OpenAPIRoute, openapi_document
from llmswitch.server.raw_asgi import Endpoint
from llmswitch.server.request_id import RequestId
from llmswitch.server.responses_api import ResponsesRoutes
from llmswitch.server.security import BearerAuth, Redactor, api_key_from_env
from llmswitch.server.status_api import StatusRoutes

if TYPE_CHECKING:
    from llmswitch._manager import LLMProviderManager


class GatewayApp(FastAPI):
    """FastAPI, with ``POST /v1/chat/completions`` answered before the framework's stack.

    That request is the gateway's hot path: it goes through the same ``RequestId`` and
    ``BearerAuth`` middleware as every other request and into the same endpoint the route
    mounts, but skips Starlette's and FastAPI's own layers (error, exception, body-limit and
    exit-stack middleware, routing), about a fifth of the gateway's own time per request.
    The endpoint answers its own errors, a bug included, in OpenAI's shape, so nothing those
    layers did is lost. Every request takes the full stack instead once the app has middleware
    ``create_app`` did not add (``app.add_middleware(CORSMiddleware, ...)`` applies to the hot
    path too), or when FastAPI's OpenTelemetry instrumentation is on (so it is traced as before).
    """

    #: The middleware-wrapped endpoints taken directly, by (method, path); set by create_app.
    fast_routes: dict[tuple[str, str], ASGIApp] = {}  # noqa: RUF012 - replaced, never mutated
    #: How many middleware entries create_app added; more means the caller added their own.
    own_middleware = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            fast = self.fast_routes.get((scope["method"], scope["path"]))
            if fast is not None and self._fast_allowed():
                await fast(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    def _fast_allowed(self) -> bool:
        if len(self.user_middleware) != self.own_middleware:
            return False
        telemetry = getattr(self, "_native_telemetry", None)  # FastAPI >= 0.165
        return telemetry is None or not telemetry.enabled()


def create_app(
    manager: LLMProviderManager,
    *,
    api_key: str | None = None,
    history: RequestHistory | None = None,
    owns_manager: bool = False,
) -> GatewayApp:
    """Build the gateway over ``manager``.

    Args:
        manager: serves every call through its async API (``achat``/``astream``).
        api_key: the gateway's own bearer token; ``None`` reads ``LLMSWITCH_API_KEY``, and an
            empty string turns authentication off explicitly.
        history: the dashboard chart's buckets (the demo passes 1-second ones).
        owns_manager: close the manager when the app shuts down (``llmswitch serve`` does).

    Returns:
        A ``GatewayApp`` (FastAPI); ``app.state.metrics`` and ``app.state.history`` expose
        the sinks.
    """
    key = api_key_from_env() if api_key is None else (api_key.strip() or None)
    secrets = [k.secret_value() for p in manager.settings.providers for k in p.keys]
    redact = Redactor([*secrets, *([key] if key else [])])
    history = history or RequestHistory()
    metrics = GatewayMetrics(manager)
    for sink in (metrics, history):
        if sink not in manager.sinks:  # two apps over one manager share the stream sink
            manager.add_sink(sink)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        manager.async_router  # noqa: B018 - built now (aiohttp's import), not on the first call
        yield
        if owns_manager:
            await manager.aclose()

    app = GatewayApp(
        title="llmswitch gateway",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
        exception_handlers={HTTPException: not_found.http_exception},
    )
    chat = OpenAIRoutes(manager, redact)
    for group in (
        chat,
        EmbeddingsRoutes(manager, redact),
        ResponsesRoutes(manager, redact),
        StatusRoutes(manager, redact),
        metrics,
        DashboardRoutes(manager, history, redact),
        OpenAPIRoute(
            openapi_document(max_tokens=largest_context_window(manager), auth=key is not None)
        ),
    ):
        app.router.routes.extend(group.routes())
    app.router.routes.extend(not_found.routes())
    if key:
        app.add_middleware(BearerAuth, api_key=key)
    app.add_middleware(RequestId)  # outermost: a refused request gets its id too
    fast: ASGIApp = Endpoint(chat.chat_completions)
    app.fast_routes = {
        ("POST", "/v1/chat/completions"): RequestId(BearerAuth(fast, key) if key else fast)
    }
    app.own_middleware = len(app.user_middleware)
    app.state.manager = manager
    app.state.metrics = metrics
    app.state.history = history
    return app
