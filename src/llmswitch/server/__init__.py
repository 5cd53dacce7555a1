"""The gateway: OpenAI-compatible proxy, status API, metrics and dashboard over one manager.

Importing this package pulls in FastAPI; the core library never does. Start it with
``llmswitch serve`` or build the ASGI app yourself with ``create_app(manager)``.
"""

from __future__ import annotations

from llmswitch.server.app import create_app

__all__ = ["create_app"]
