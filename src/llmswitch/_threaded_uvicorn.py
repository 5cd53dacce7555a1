"""Serving an ASGI app from a background thread: shared by the gateway's and the simulator's
in-process servers (``llmswitch demo``, tests, benchmarks).

The socket is bound before the thread starts, so the port is known (and taken) at once, with no
race between picking a free port and using it.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any


def tcp_listener(host: str, port: int) -> socket.socket:
    """A bound TCP socket; ``port=0`` picks a free one. A taken port raises ``OSError``.

    ``proto=IPPROTO_TCP`` matters: asyncio sets TCP_NODELAY on accepted connections only when
    the listener says it is TCP; without it every reply waits ~40 ms on Nagle plus delayed ACK.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def wait_started(server: Any, thread: threading.Thread, what: str, timeout: float) -> None:
    """Start ``thread`` (running uvicorn ``server``) and wait until it accepts connections."""
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.005)
