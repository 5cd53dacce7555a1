"""``GET /openapi.json``: the gateway's API as an OpenAPI 3.1 document.

Why by hand rather than FastAPI's generator: the handlers are plain Starlette endpoints (no
per-request dependency solving), so FastAPI has nothing to generate from. The request body's
schema is the very one the gateway validates with (``request_schema``), so the document cannot
drift from what is enforced; the replies are described as loosely as the providers' own
(extra fields allowed). Schema-driven clients and fuzzers (the suite runs schemathesis over it)
read this document.

Example:
    >>> doc = openapi_document(max_tokens=131072, auth=False)
    >>> doc["paths"]["/v1/chat/completions"]["post"]["operationId"]
    'createChatCompletion'
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from llmswitch._ledger import PERIODS
from llmswitch.server import request_schema, shapes

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "type"],
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string"},
                "param": {"type": ["string", "null"]},
                "code": {"type": ["string", "null"]},
            },
            "additionalProperties": True,
        }
    },
}
_OBJECT = {"type": "object", "additionalProperties": True}
_COMPLETION = {
    "type": "object",
    "required": ["id", "object", "created", "model", "choices"],
    "properties": {
        "id": {"type": "string"},
        "object": {"const": "chat.completion"},
        "created": {"type": "integer"},
        "model": {"type": "string"},
        "choices": {"type": "array", "items": _OBJECT},
        "usage": _OBJECT,
    },
    "additionalProperties": True,
}
# The embeddings and Responses bodies are validated by their handlers, which name the field at
# fault in a 400; the document states the required fields and leaves the rest open, as OpenAI's.
#: as the handlers read it: omitted or null means the default (``auto``; the first embedding model)
_MODEL_OR_NULL = {"anyOf": [{"type": "string"}, {"type": "null"}]}
_EMBEDDINGS_REQUEST = {
    "type": "object",
    "required": ["input"],
    "properties": {
        "input": {
            "anyOf": [
                {"type": "string"},
                {"type": "array", "items": {"type": "string"}},
                {"type": "array", "items": {"type": "integer"}},
                {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
            ]
        },
        "model": _MODEL_OR_NULL,
        "encoding_format": {"enum": ["float", "base64"]},
        "dimensions": {"type": "integer", "minimum": 1},
        "user": {"type": "string"},
    },
    "additionalProperties": True,
}
_EMBEDDINGS = {
    "type": "object",
    "required": ["object", "data", "model"],
    "properties": {
        "object": {"const": "list"},
        "data": {"type": "array", "items": _OBJECT},
        "model": {"type": "string"},
        "usage": _OBJECT,
    },
    "additionalProperties": True,
}
_RESPONSES_REQUEST = {
    "type": "object",
    "required": ["input"],
    "properties": {
        "input": {"anyOf": [{"type": "string"}, {"type": "array", "items": _OBJECT}]},
        "model": _MODEL_OR_NULL,
        "instructions": {"type": "string"},
        "stream": {"type": "boolean"},
        "max_output_tokens": {"type": "integer", "minimum": 1},
        "tools": {"type": "array", "items": _OBJECT},
    },
    "additionalProperties": True,
}
_MODELS = {
    "type": "object",
    "required": ["object", "data"],
    "properties": {
        "object": {"const": "list"},
        "data": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "object", "owned_by"],
                "properties": {
                    "id": {"type": "string"},
                    "object": {"const": "model"},
                    "created": {"type": "integer"},
                    "owned_by": {"type": "string"},
                },
            },
        },
    },
}
#: One server-sent event (OpenAPI 3.2's ``itemSchema``): ``data`` is a chunk's JSON, an error's
#: JSON, or the closing ``[DONE]``.
_SSE_EVENT = {
    "type": "object",
    "required": ["data"],
    "properties": {"data": {"type": "string"}, "event": {"type": "string"}},
}
_STATUS_TEXT = {
    400: "The request is malformed; the error names the field.",
    401: "Missing or wrong gateway key (when LLMSWITCH_API_KEY is set).",
    408: "The request's headers or body did not arrive in time.",
    413: "The request body is over the gateway's limit.",
    429: "Every provider is at its limit; Retry-After says when one recovers.",
    502: "Every provider failed and at least one failed upstream.",
    503: "Nothing could be tried now (cooling down, no key, state store down, connection cap).",
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    ref = {"$ref": "#/components/schemas/Error"}
    return {str(s): _json(ref, _STATUS_TEXT[s]) for s in statuses}


def _get(op_id: str, summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"get": {"operationId": op_id, "summary": summary, "responses": responses, **extra}}


def _post(
    op_id: str,
    summary: str,
    body: dict[str, Any],
    ok: dict[str, Any],
    errors: dict[str, Any],
    guarded: dict[str, Any],
) -> dict[str, Any]:
    request = {"required": True, "content": {"application/json": {"schema": body}}}
    return {
        "post": {
            "operationId": op_id,
            "summary": summary,
            "requestBody": request,
            "responses": {"200": ok, **errors},
            **guarded,
        }
    }


def openapi_document(*, max_tokens: int | None, auth: bool) -> dict[str, Any]:
    """The document for a gateway whose largest context window is ``max_tokens``.

    Args:
        max_tokens: the largest ``max_tokens`` any configured model takes; None when unknown.
        auth: the gateway wants a bearer key on ``/v1`` and ``/api``.

    Returns:
        An OpenAPI 3.1 document as a dict.
    """
    schema = request_schema.json_schema(max_tokens=max_tokens)
    components: dict[str, Any] = {
        "schemas": {
            **schema.pop("$defs"),
            "ChatCompletionRequest": schema,
            "ChatCompletion": _COMPLETION,
            "ModelList": _MODELS,
            "Error": _ERROR,
        }
    }
    guarded: dict[str, Any] = {}
    if auth:
        components["securitySchemes"] = {"gatewayKey": {"type": "http", "scheme": "bearer"}}
        guarded = {"security": [{"gatewayKey": []}]}
    auth_errors = (401,) if auth else ()
    chat = {
        "post": {
            "operationId": "createChatCompletion",
            "summary": "A chat completion, served by the first provider that can (OpenAI's API).",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/ChatCompletionRequest"}
                    }
                },
            },
            "responses": {
                "200": {
                    "description": "The completion; with stream=true, server-sent events.",
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/ChatCompletion"}
                        },
                        "text/event-stream": {"itemSchema": _SSE_EVENT},
                    },
                },
                **_errors(400, *auth_errors, 408, 413, 429, 502, 503),
            },
            **guarded,
        }
    }
    period = {
        "name": "period",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "enum": list(PERIODS), "default": "today"},
    }
    paths = {
        "/v1/chat/completions": chat,
        "/v1/embeddings": _post(
            "createEmbedding",
            "Vectors of the input, from one embedding model (failover only to the same model).",
            _EMBEDDINGS_REQUEST,
            _json(_EMBEDDINGS, "The vectors, in input order."),
            _errors(400, *auth_errors, 408, 413, 429, 502, 503),
            guarded,
        ),
        "/v1/responses": _post(
            "createResponse",
            "OpenAI's Responses API: passed through where a provider serves it, else translated"
            " to chat completions.",
            _RESPONSES_REQUEST,
            {
                "description": "The response; with stream=true, server-sent events.",
                "content": {
                    "application/json": {"schema": _OBJECT},
                    "text/event-stream": {"itemSchema": _SSE_EVENT},
                },
            },
            _errors(400, *auth_errors, 408, 413, 429, 502, 503),
            guarded,
        ),
        "/v1/models": _get(
            "listModels",
            "auto, every provider/model pin, and each model id.",
            {"200": _json({"$ref": "#/components/schemas/ModelList"}, "The models.")},
            **guarded,
        ),
        "/api/llm-providers": _get(
            "getProviderStatus",
            "Every provider's status, windows and keys (masked).",
            {"200": _json(_OBJECT, "The status."), **_errors(*auth_errors)},
            **guarded,
        ),
        "/api/usage": _get(
            "getUsage",
            "Calls, tokens and cost per provider for a period.",
            {"200": _json(_OBJECT, "The usage."), **_errors(400, *auth_errors, 503)},
            parameters=[period],
            **guarded,
        ),
        "/api/dashboard": _get(
            "getDashboard",
            "The dashboard's data: status, history and savings.",
            {"200": _json(_OBJECT, "The dashboard data."), **_errors(*auth_errors)},
            **guarded,
        ),
        "/healthz": _get(
            "getHealth",
            "Whether the process and its state store answer.",
            {"200": _json(_OBJECT, "Healthy."), "503": _json(_OBJECT, "The store is down.")},
        ),
        "/metrics": _get(
            "getMetrics",
            "Prometheus metrics.",
            {"200": {"description": "Metrics.", "content": {"text/plain": {"schema": {}}}}},
        ),
        "/openapi.json": _get(
            "getOpenAPI", "This document.", {"200": _json(_OBJECT, "The OpenAPI document.")}
        ),
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "llmswitch gateway",
            "version": "1",
            "description": (
                "OpenAI-compatible chat completions, embeddings and responses with failover "
                "across providers, their status, usage and metrics. Errors are OpenAI-shaped."
            ),
        },
        "paths": paths,
        "components": components,
    }


class OpenAPIRoute:
    """Serves one document, built once (the configuration does not change while serving)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self._body = shapes.dumps(document)

    def routes(self) -> list[BaseRoute]:
        return [Route("/openapi.json", self.endpoint, methods=["GET"])]

    async def endpoint(self, request: Request) -> Response:
        return Response(self._body, media_type="application/json")
