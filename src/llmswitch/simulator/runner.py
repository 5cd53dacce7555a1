"""Running the simulator: in a background thread for tests, or in the foreground for the CLI.

``SimulatorServer`` binds 127.0.0.1 on a free port itself (no race between picking a port and
binding it), runs uvicorn in a daemon thread and stops it promptly: on stop it first tells every
hanging or stalled request to give up (``Simulator.closing``), so uvicorn's graceful shutdown never
waits on a request that was designed never to finish.
"""

from __future__ import annotations

import threading
from typing import Any

import uvicorn

from llmswitch._clock import Clock
from llmswitch._threaded_uvicorn import tcp_listener, wait_started
from llmswitch.simulator.app import create_app
from llmswitch.simulator.catalog import GEMINI_NATIVE_PREFIX, OPENAI_PREFIX, PROVIDERS
from llmswitch.simulator.state import Simulator

SAMPLE_KEYS = {
    "groq": ("GROQ_API_KEY", "gsk_sim_1"),
    "gemini": ("GEMINI_API_KEY", "sim-gemini-1"),
    "openrouter": ("OPENROUTER_API_KEY", "sk-or-v1-sim-1"),
    "together": ("TOGETHER_API_KEY", "sim-together-1"),
    "openai": ("OPENAI_API_KEY", "sk-sim-1"),
}


def _uvicorn_config(app: Any) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        lifespan="off",
        log_level="warning",
        access_log=False,
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=2,
        timeout_keep_alive=5,
    )


class SimulatorHandle:
    """A running simulator: where it is and every control over it (see ``llmswitch.testing``).

    Example:
        >>> with simulator() as sim:                                    # doctest: +SKIP
        ...     client = openai.OpenAI(base_url=sim.provider_base_url("groq"), api_key="gsk_t")
        ...     sim.set_fault("groq", {"kind": "status", "status": 503, "count": 1})
    """

    def __init__(self, sim: Simulator, base_url: str) -> None:
        self.sim = sim
        self.base_url = base_url
        self.clock: Clock = sim.clock

    def provider_base_url(self, name: str) -> str:
        """The OpenAI-compatible base URL of ``name`` (Gemini: its ``/v1beta/openai`` flavour)."""
        return self.base_url + OPENAI_PREFIX[name]

    @property
    def gemini_native_base_url(self) -> str:
        return self.base_url + GEMINI_NATIVE_PREFIX

    def set_fault(
        self, provider: str, fault: dict[str, Any] | str, *, model: str | None = None
    ) -> None:
        self.sim.set_fault(provider, fault, model=model)

    def clear_faults(self, provider: str | None = None) -> None:
        self.sim.clear_faults(provider)

    def set_limits(
        self,
        provider: str,
        *,
        key: str | None = None,
        rpm: int | None = None,
        rpd: int | None = None,
        tpm: int | None = None,
        tpd: int | None = None,
    ) -> None:
        self.sim.set_limits(provider, key=key, rpm=rpm, rpd=rpd, tpm=tpm, tpd=tpd)

    def revoke_key(self, provider: str, key: str) -> None:
        self.sim.revoke_key(provider, key)

    def stats(self) -> dict[str, Any]:
        return self.sim.stats()

    def reset(self) -> None:
        self.sim.reset()

    def requests(
        self, provider: str, key: str | None = None, model: str | None = None
    ) -> list[dict[str, Any]]:
        return self.sim.requests(provider, key, model)

    def __repr__(self) -> str:
        return f"SimulatorHandle(base_url={self.base_url!r})"


class SimulatorServer:
    """uvicorn serving one ``Simulator`` on a loopback port, in a background thread."""

    def __init__(self, sim: Simulator, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sim = sim
        self.sock = tcp_listener(host, port)
        self.host, self.port = self.sock.getsockname()[:2]
        self.app = create_app(sim)
        self.server = uvicorn.Server(_uvicorn_config(self.app))
        self.thread = threading.Thread(
            target=self.server.run,
            kwargs={"sockets": [self.sock]},
            name="llmswitch-sim",
            daemon=True,
        )

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        wait_started(self.server, self.thread, f"the simulator on {self.base_url}", timeout)

    def use(self, sim: Simulator) -> None:
        """Serve a fresh ``sim`` on the running server; the old one's hanging requests give up.

        Starting uvicorn costs a fraction of a second; a suite of hundreds of tests can start one
        server and give each test its own ``Simulator`` instead.
        """
        old, self.sim = self.sim, sim
        self.app.bind(sim)
        old.closing.set()

    def stop(self) -> None:
        self.sim.closing.set()
        self.server.should_exit = True
        self.thread.join(5.0)
        if self.thread.is_alive():
            self.server.force_exit = True
            self.thread.join(5.0)
        self.sock.close()


def toml_snippet(base_url: str) -> str:
    """The ``llmswitch.toml`` lines that point every provider at a simulator at ``base_url``."""
    base = base_url.rstrip("/")
    env = " ".join(f"{var}={value}" for var, value in SAMPLE_KEYS.values())
    lines = [
        f"# llmswitch.toml: every provider served by the simulator at {base}",
        "# Any non-empty key works, except one containing 'invalid'. For example:",
        f"#   {env}",
    ]
    for name in PROVIDERS:
        url = base + (GEMINI_NATIVE_PREFIX if name == "gemini" else OPENAI_PREFIX[name])
        lines += ["", f"[providers.{name}]", f'base_url = "{url}"']
    return "\n".join(lines) + "\n"


def serve_forever(*, host: str = "127.0.0.1", port: int = 9999, config: str | None = None) -> None:
    """Print the ``llmswitch.toml`` snippet, then serve until interrupted (the CLI command)."""
    sim = Simulator(config=config)
    app = create_app(sim)
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    print(toml_snippet(f"http://{shown}:{port}"), flush=True)
    cfg = _uvicorn_config(app)
    cfg.host, cfg.port, cfg.log_level = host, port, "info"
    try:
        uvicorn.Server(cfg).run()
    finally:
        sim.closing.set()
