"""Running the gateway under uvicorn: one process, or ``--workers N`` processes.

One worker builds its manager with the caller's factory. Several workers cannot share a Python
object, so uvicorn starts each from an import string in factory mode (``worker_app``), and each
builds its own manager from the same configuration (``LLMSWITCH_CONFIG``, ``.env``, the
environment). They then share limits through the state store: SQLite on one machine (the
default) or Redis; ``memory://`` would give each worker its own counters, so it is refused.

Binding is checked before anything starts (see ``security.check_bind``). Every server runs with
the gateway's limits (``limits.ServerLimits``: header and body timeouts, keep-alive, connection
cap, body and header size) through ``GatewayConfig``, the uvicorn configuration that carries them
into each worker process.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import uvicorn

from llmswitch._errors import ConfigError
from llmswitch._threaded_uvicorn import tcp_listener, wait_started
from llmswitch.server.body_guard import BodyGuard
from llmswitch.server.connection_guard import GuardedHttpProtocol
from llmswitch.server.limits import ServerLimits
from llmswitch.server.security import api_key_from_env, check_bind

if TYPE_CHECKING:
    from fastapi import FastAPI

    from llmswitch._manager import LLMProviderManager

log = logging.getLogger("llmswitch.server")
WORKER_APP = "llmswitch.server.run:worker_app"


class BindRefused(ConfigError):
    """Serving on a non-loopback address without ``LLMSWITCH_API_KEY`` (and no --insecure)."""


class GatewayConfig(uvicorn.Config):
    """uvicorn's configuration with the gateway's limits.

    The connection guard reads ``limits`` from here, and ``load`` wraps the app in the body
    guard; being an attribute of the config, the limits reach the worker processes too (uvicorn
    pickles its config into each).

    Args:
        app: the ASGI app or, with ``factory=True``, an import string of its factory.
        limits: the gateway's limits; the defaults of ``ServerLimits`` when None.
        **kwargs: passed to ``uvicorn.Config``.
    """

    def __init__(self, app: Any, *, limits: ServerLimits | None = None, **kwargs: Any) -> None:
        self.limits = limits or ServerLimits()
        super().__init__(
            app,
            http=GuardedHttpProtocol,
            # uvicorn annotates an int but only hands it to loop.call_later: a float works.
            timeout_keep_alive=self.limits.keep_alive_timeout,  # type: ignore[arg-type]
            **kwargs,
        )

    def load(self) -> None:
        super().load()
        self.loaded_app = BodyGuard(self.loaded_app, self.limits)


def worker_app() -> FastAPI:
    """uvicorn factory for ``--workers N``: a manager per worker from the shared config."""
    from llmswitch._manager import LLMProviderManager
    from llmswitch.server.app import create_app

    return create_app(LLMProviderManager.from_config(None), owns_manager=True)


def serve(
    manager_factory: Callable[[], LLMProviderManager],
    *,
    host: str = "127.0.0.1",
    port: int = 8888,
    workers: int = 1,
    insecure: bool = False,
    config: str | None = None,
    access_log: bool = False,
    limits: ServerLimits | None = None,
) -> None:
    """Serve the gateway until interrupted.

    Args:
        manager_factory: builds the manager (used as is with one worker).
        host: interface to bind; loopback by default.
        port: TCP port.
        workers: processes; above 1 each worker loads the manager from ``config``.
        insecure: allow a non-loopback host without ``LLMSWITCH_API_KEY``.
        config: the ``llmswitch.toml`` path the workers should read.
        access_log: one log line per request (off by default: it costs throughput).
        limits: timeouts, connection cap and sizes; ``ServerLimits()``'s defaults when None.

    Raises:
        BindRefused: for a non-loopback host without a gateway key (unless ``insecure``).
        ConfigError: for ``memory://`` state with several workers.
    """
    refusal = check_bind(host, api_key=api_key_from_env(), insecure=insecure)
    if refusal:
        raise BindRefused(refusal)
    if workers > 1:
        if config:
            os.environ["LLMSWITCH_CONFIG"] = str(config)  # inherited by the worker processes
        manager = manager_factory()
        state = manager.settings.state
        manager.close()
        if state.startswith("memory"):
            raise ConfigError(
                f"--workers {workers} with state = {state!r}: each worker would count limits on "
                "its own and overshoot them together; use sqlite:// (default) or redis://"
            )
        from uvicorn.supervisors import Multiprocess

        workers_config = GatewayConfig(
            WORKER_APP,
            limits=limits,
            factory=True,
            host=host,
            port=port,
            workers=workers,
            access_log=access_log,
            log_level="info",
        )
        Multiprocess(workers_config, sockets=[workers_config.bind_socket()]).run()
        return
    from llmswitch.server.app import create_app

    app = create_app(manager_factory(), owns_manager=True)
    server = uvicorn.Server(
        GatewayConfig(
            app, limits=limits, host=host, port=port, access_log=access_log, log_level="info"
        )
    )
    server.run()
    if not server.started:  # the port was taken, or the app failed to start: say so by code
        raise SystemExit(3)  # uvicorn's STARTUP_FAILURE, as uvicorn.run exits


class BackgroundServer:
    """The gateway app under uvicorn in a daemon thread, on a socket bound up front.

    Used by ``llmswitch demo`` and by tests: binding the socket before the thread starts means
    the port is known (and taken) at once, with no race between picking a port and using it.

    Args:
        app: the ASGI app.
        host: loopback by default.
        port: 0 picks a free port; a taken port raises ``OSError`` at construction.
        limits: the gateway's limits (tests pass small timeouts); the defaults when None.
    """

    def __init__(
        self,
        app: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        limits: ServerLimits | None = None,
    ) -> None:
        self.sock = tcp_listener(host, port)
        self.host, self.port = self.sock.getsockname()[:2]
        config = GatewayConfig(
            app,
            limits=limits,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=2,
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run,
            kwargs={"sockets": [self.sock]},
            name="llmswitch-gateway",
            daemon=True,
        )

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> BackgroundServer:
        wait_started(self.server, self.thread, f"the gateway on {self.base_url}", timeout)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(5.0)
        if self.thread.is_alive():
            self.server.force_exit = True
            self.thread.join(5.0)
        self.sock.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
