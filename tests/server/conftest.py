"""Gateway fixtures: the real app under uvicorn on a free loopback port, over the simulator.

The ``openai`` SDK tests must go over a real socket, so every gateway here is a uvicorn server in
a background thread (``llmswitch.server.run.BackgroundServer``). The manager lives on the shared
``FakeClock`` of the simulator: tests move time with ``clock.advance``, never with sleep.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from llmswitch._clock import FakeClock
from llmswitch._manager import LLMProviderManager
from llmswitch.server.app import create_app
from llmswitch.server.dashboard import RequestHistory
from llmswitch.server.limits import ServerLimits
from llmswitch.server.run import BackgroundServer
from tests.conftest import ManagerFactory


@dataclass
class Gateway:
    base_url: str
    manager: LLMProviderManager
    sim: Any
    clock: FakeClock
    app: Any

    @property
    def v1(self) -> str:
        return self.base_url + "/v1"


GatewayFactory = Callable[..., Gateway]


@pytest.fixture()
def make_gateway(
    make_manager: ManagerFactory, sim: Any, clock: FakeClock
) -> Iterator[GatewayFactory]:
    servers: list[BackgroundServer] = []

    def factory(
        *, api_key: str | None = "", limits: ServerLimits | None = None, **manager_kwargs: Any
    ) -> Gateway:
        manager = make_manager(**manager_kwargs)
        history = RequestHistory(bucket_s=1.0, buckets=60, clock=clock)
        app = create_app(manager, api_key=api_key, history=history, owns_manager=True)
        server = BackgroundServer(app, limits=limits).start()
        servers.append(server)
        return Gateway(server.base_url, manager, sim, clock, app)

    yield factory
    for server in servers:
        server.stop()


@pytest.fixture()
def gateway(make_gateway: GatewayFactory) -> Gateway:
    return make_gateway()
