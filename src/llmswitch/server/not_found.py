"""OpenAI-shaped answers for every path and method the gateway does not serve.

An app that "just changes base_url" reads errors through the OpenAI SDK, which expects
``{"error": {"message", "type", "param", "code"}}``; Starlette's ``{"detail": "Not Found"}``
gives it nothing to show. An unknown path is a 404 naming the endpoints that exist; a known path
with the wrong method is a 405 naming the method to use (and an ``Allow`` header); the legacy
``/v1/completions`` is a 400 saying how to send the same prompt to chat completions.
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from llmswitch.server import shapes

ENDPOINTS = (
    "POST /v1/chat/completions, POST /v1/responses, POST /v1/embeddings, GET /v1/models, "
    "GET /v1/models/{id}, "
    "GET /api/llm-providers, GET /api/usage, GET /healthz, GET /metrics"
)


def openai_error(
    status: int,
    message: str,
    *,
    code: str | None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    }
    return Response(
        shapes.dumps(body), status_code=status, headers=headers, media_type="application/json"
    )


async def http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's 404 / 405 (and any other HTTPException) in OpenAI's shape."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    where = f"{request.method} {request.url.path}"
    if status == 404:
        return openai_error(
            404,
            f"Invalid URL ({where}): llmswitch serves {ENDPOINTS}.",
            code="unknown_url",
        )
    if status == 405:
        allow = (exc.headers or {}).get("Allow", "") if isinstance(exc, HTTPException) else ""
        return openai_error(
            405,
            f"Method {request.method} is not allowed on {request.url.path}; "
            f"use {allow or 'another method'}.",
            code="method_not_allowed",
            headers={"allow": allow} if allow else None,
        )
    detail = exc.detail if isinstance(exc, HTTPException) else "internal error"
    return openai_error(status, str(detail), code=None)


async def legacy_completions(request: Request) -> Response:
    return openai_error(
        400,
        "llmswitch does not serve the legacy /v1/completions endpoint (no provider it routes to "
        "serves it for every model, and OpenAI's own has no models left): send the prompt to "
        'POST /v1/chat/completions as messages=[{"role": "user", "content": <prompt>}].',
        code="unsupported_endpoint",
        param="prompt",
    )


def routes() -> list[BaseRoute]:
    return [Route("/v1/completions", legacy_completions, methods=["POST"])]
