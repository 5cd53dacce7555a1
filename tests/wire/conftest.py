"""A tiny raw HTTP/1.1 server on 127.0.0.1 for transport tests: real sockets, no patching.

Paths: ``/json`` echoes the request; ``/slow`` answers after ``hold`` seconds; ``/stream`` sends
chunked SSE lines, waiting on ``gate`` between the first and the rest; ``/stall`` sends one line
and goes quiet; ``/cut`` sends one chunk and closes mid-body; ``/reset`` aborts the connection
with an RST; ``/status/<n>`` answers status n with a JSON error.
"""

from __future__ import annotations

import json
import socket
import socketserver
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest


@dataclass
class ServerState:
    hold: float = 2.0  # how long /slow and /stall keep quiet
    gate: threading.Event = field(default_factory=threading.Event)
    gate_opened_in_time: bool | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    last_request: dict[str, object] = field(default_factory=dict)


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        sock: socket.socket = self.request
        reader = sock.makefile("rb")
        while True:
            request_line = reader.readline()
            if not request_line:
                return
            method, path, _ = request_line.decode().split(" ", 2)
            headers: dict[str, str] = {}
            while (line := reader.readline().decode().strip()) != "":
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            body = reader.read(int(headers.get("content-length", "0")))
            state = self.server.state
            state.last_request = {
                "method": method,
                "path": path,
                "headers": headers,
                "body": body.decode(),
            }
            if not self._route(sock, path, state):
                return

    def _route(self, sock: socket.socket, path: str, state: ServerState) -> bool:
        if path == "/json":
            _send(sock, 200, json.dumps(state.last_request).encode(), {"x-ratelimit-limit": "7"})
        elif path == "/slow":
            state.stop.wait(state.hold)
            _send(sock, 200, b"{}")
        elif path.startswith("/status/"):
            _send(sock, int(path.rsplit("/", 1)[1]), b'{"error":{"message":"nope"}}')
        elif path == "/reset":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
            return False
        else:
            return self._stream(sock, path, state)
        return True

    def _stream(self, sock: socket.socket, path: str, state: ServerState) -> bool:
        head = (
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            "transfer-encoding: chunked\r\n\r\n"
        )
        sock.sendall(head.encode())
        _chunk(sock, b'data: {"n": 1}\n\n')
        if path == "/stream":
            state.gate_opened_in_time = state.gate.wait(5.0)
            _chunk(sock, b'data: {"n": 2}\r\n\r\ndata: [DONE]\n\n')
            sock.sendall(b"0\r\n\r\n")
            return True
        if path == "/stall":
            state.stop.wait(state.hold)
        sock.close()  # /cut and /stall end without the terminating chunk
        return False


def _send(
    sock: socket.socket, status: int, body: bytes, headers: dict[str, str] | None = None
) -> None:
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    head = (
        f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\n{extra}\r\n"
    )
    sock.sendall(head.encode() + body)


def _chunk(sock: socket.socket, data: bytes) -> None:
    sock.sendall(f"{len(data):x}\r\n".encode() + data + b"\r\n")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, state: ServerState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients hang up on /stall and friends on purpose


@dataclass
class LocalServer:
    url: str
    state: ServerState


@pytest.fixture
def server() -> Iterator[LocalServer]:
    state = ServerState()
    srv = _Server(state)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    port = srv.server_address[1]
    try:
        yield LocalServer(f"http://127.0.0.1:{port}", state)
    finally:
        state.stop.set()
        state.gate.set()
        srv.shutdown()
        srv.server_close()
        thread.join()


@pytest.fixture
def refused_url() -> str:
    """A loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
