"""The ASGI app: every provider under its own path prefix, plus the ``/_sim/`` controls.

``create_app(sim)`` returns a plain ASGI callable (no framework: one dict lookup per request).
Routes, below the simulator's base URL::

    /groq/openai/v1/...  /openrouter/api/v1/...  /together/v1/...  /openai/v1/...
    /gemini/v1beta/openai/...          (OpenAI-compatible flavour of Gemini)
        POST chat/completions, POST embeddings (not Groq: its 404), GET models,
        GET models/{id}; OpenRouter also GET key; POST responses on OpenAI, Groq, OpenRouter
    /gemini/v1beta/models              GET (list), GET /{model}
    /gemini/v1beta/models/{model}:generateContent | :streamGenerateContent[?alt=sse] | :countTokens
        | :embedContent | :batchEmbedContents
    /_sim/faults (POST, DELETE)  /_sim/limits (POST)  /_sim/keys/revoke (POST)
    /_sim/stats (GET)  /_sim/requests (GET)  /_sim/reset (POST)  /_sim/clock/advance (POST)
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

from llmswitch.simulator import embeddings, responses
from llmswitch.simulator.asgi import ConnectionDropped, Exchange, Receive, Reply, Scope, Send
from llmswitch.simulator.catalog import OPENAI_PREFIX
from llmswitch.simulator.control import control
from llmswitch.simulator.engine import Flavour, handle
from llmswitch.simulator.gemini import GeminiCompatFlavour, GeminiNativeFlavour
from llmswitch.simulator.groq import GroqFlavour
from llmswitch.simulator.listings import model_item, model_list
from llmswitch.simulator.openai_dialect import OpenAIFlavour
from llmswitch.simulator.openrouter import OpenRouterFlavour
from llmswitch.simulator.state import Simulator
from llmswitch.simulator.together import TogetherFlavour

NATIVE = "/gemini/v1beta/models"
App = Any  # an ASGI callable; uvicorn's types are not worth importing


async def _no_embedding_model(flavour: OpenAIFlavour, ex: Exchange, key: str) -> Reply:
    body = await ex.json()
    model = body.get("model") if isinstance(body, dict) else None
    return flavour.model_error(str(model or ""), "unknown")


def _not_found(path: str) -> Reply:
    return Reply(404, {"error": {"message": f"no route for {path}", "code": 404}}, {}, "no_route")


class SimulatorApp:
    """ASGI entry point; holds one flavour object per provider surface."""

    def __init__(self, sim: Simulator) -> None:
        self.bind(sim)
        self.prefixes = sorted(OPENAI_PREFIX.items(), key=lambda kv: -len(kv[1]))

    def bind(self, sim: Simulator) -> None:
        """Serve ``sim`` from now on (a test suite reuses one server for many simulators)."""
        self.sim = sim
        self.compat: dict[str, OpenAIFlavour] = {
            "groq": GroqFlavour(sim),
            "openrouter": OpenRouterFlavour(sim),
            "together": TogetherFlavour(sim),
            "openai": OpenAIFlavour(sim),
            "gemini": GeminiCompatFlavour(sim),
        }
        self.native = GeminiNativeFlavour(sim)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return await _lifespan(receive, send)
        if scope["type"] != "http":
            return
        ex = Exchange(scope, receive, send, self.sim.closing)
        try:
            await self.dispatch(ex)
        except ConnectionDropped:
            await asyncio.sleep(0)  # let the transport report the loss before uvicorn looks

    async def dispatch(self, ex: Exchange) -> None:
        path = ex.path
        if path.startswith("/_sim/"):
            return await ex.respond(await control(self.sim, ex))
        for provider, prefix in self.prefixes:
            if path.startswith(prefix + "/"):
                return await self.compat_route(self.compat[provider], path[len(prefix) :], ex)
        if path == NATIVE or path.startswith(NATIVE + "/"):
            return await self.native_route(path[len(NATIVE) :], ex)
        await ex.respond(_not_found(path))

    async def compat_route(self, flavour: OpenAIFlavour, rest: str, ex: Exchange) -> None:
        if rest == "/chat/completions" and ex.method == "POST":
            return await handle(flavour, ex)
        if rest == "/embeddings" and ex.method == "POST" and flavour.name != "groq":
            return await handle(flavour, ex, partial(embeddings.parse_openai, flavour))
        if rest == "/embeddings" and ex.method == "POST":  # Groq lists the path, serves no model
            return await handle(flavour, ex, partial(_no_embedding_model, flavour))
        if rest == "/responses" and ex.method == "POST" and flavour.name in responses.SERVES:
            return await handle(flavour, ex, partial(responses.parse, flavour))
        if ex.method != "GET":
            return await ex.respond(_not_found(ex.path))
        if rest == "/models" and flavour.name == "openrouter":  # answers without a key
            return await ex.respond(Reply(200, model_list(self.sim, flavour.name)))
        refusal = self.check_key(flavour, ex)
        if refusal is not None:
            return await ex.respond(refusal)
        key = flavour.api_key(ex) or ""
        if rest == "/models":
            return await ex.respond(Reply(200, model_list(self.sim, flavour.name)))
        if rest == "/key" and isinstance(flavour, OpenRouterFlavour):
            return await ex.respond(Reply(200, flavour.key_info(key)))
        if rest.startswith("/models/"):
            return await ex.respond(self.one_model(flavour, rest[len("/models/") :]))
        await ex.respond(_not_found(ex.path))

    def one_model(self, flavour: OpenAIFlavour, model: str) -> Reply:
        model = flavour.normalize_model(model)
        info = self.sim.model_status(flavour.name, model)
        if isinstance(info, str):
            return flavour.model_error(model, info)
        return Reply(200, model_item(flavour.name, info))

    async def native_route(self, rest: str, ex: Exchange) -> None:
        refusal = self.check_key(self.native, ex)
        if refusal is not None:
            return await ex.respond(refusal)
        if ex.method == "GET" and rest in ("", "/"):
            return await ex.respond(Reply(200, self.native.model_list()))
        model, _, method = rest.lstrip("/").partition(":")
        if ex.method == "GET" and not method:
            info = self.sim.model_status("gemini", model.removeprefix("models/"))
            if isinstance(info, str):
                return await ex.respond(self.native.model_error(model, info))
            return await ex.respond(
                Reply(
                    200,
                    self.native.model_list()["models"][0]
                    | {
                        "name": f"models/{info.id}",
                        "displayName": info.id,
                        "inputTokenLimit": info.context_window,
                    },
                )
            )
        if ex.method == "POST" and method == "countTokens":
            return await ex.respond(self.native.count_tokens(await ex.json()))
        if ex.method == "POST" and method in ("generateContent", "streamGenerateContent"):
            ex.scope["sim.model"], ex.scope["sim.method"] = model, method
            return await handle(self.native, ex)
        if ex.method == "POST" and method in ("embedContent", "batchEmbedContents"):
            ex.scope["sim.model"], ex.scope["sim.method"] = model, method
            return await handle(self.native, ex, partial(embeddings.parse_native, self.native))
        await ex.respond(_not_found(ex.path))

    def check_key(self, flavour: Flavour, ex: Exchange) -> Reply | None:
        key = flavour.api_key(ex)
        state = self.sim.key_status(flavour.name, key)
        return None if state == "ok" else flavour.auth_error(state, key)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def create_app(sim: Simulator) -> SimulatorApp:
    """The ASGI app serving ``sim``; run it with uvicorn (see ``runner.py``)."""
    return SimulatorApp(sim)
