"""A provider on loopback that answers every call with an error echoing the key it was sent.

Real providers do this (OpenAI: ``Incorrect API key provided: sk-proj-****...21sA``; a proxy may
quote the header whole); the simulator models their documented bodies, which echo nothing but
OpenAI's last four, so the echoes of every shape live here. One server stands in for all five
providers: the path's first segment names the provider, the key is read where each sends it
(``Authorization: Bearer``, Gemini's ``x-goog-api-key`` or ``?key=``), and the body carries both
envelopes (OpenAI's ``type``/``code`` and Google's ``status``), so both wires parse the message.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

#: how a provider may quote the key it was sent: the whole value, or parts beside a mask
ECHOES: dict[str, Callable[[str], str]] = {
    "whole": lambda k: f"Invalid API key: {k}",
    "openai": lambda k: (
        f"Incorrect API key provided: {k[:8]}{'*' * (len(k) - 12)}{k[-4:]}. You can find your "
        "API key at https://platform.openai.com/account/api-keys."
    ),
    "short_mask": lambda k: f"The key {k[:8]}****{k[-4:]} was refused",
    "head": lambda k: f"key {k[:12]}... is revoked",
    "tail": lambda k: f"API key …{k[-8:]} is not valid",
    "bullets": lambda k: f"key={k[:4]}••••{k[8:14]}•••• not found",
}
#: the statuses an echo comes with, and what llmswitch keeps of each (the stored texts differ)
STATUSES = {401: "auth failure", 429: "rate limit and block", 500: "cooldown"}


class EchoProvider:
    """``ThreadingHTTPServer`` on a free port; ``answer(status, echo)`` sets the next replies."""

    def __init__(self) -> None:
        self.status = 500
        self.echo = "whole"
        self.seen: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                key = outer.key_of(self.path, dict(self.headers.items()))
                outer.seen.append(key)
                message = ECHOES[outer.echo](key)
                body = json.dumps(
                    {
                        "error": {
                            "message": message,
                            "type": "invalid_request_error",
                            "code": outer.status,
                            "status": "UNAUTHENTICATED",
                        }
                    }
                ).encode()
                self.send_response(outer.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                if outer.status == 429:
                    self.send_header("retry-after", "2")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @staticmethod
    def key_of(path: str, headers: dict[str, str]) -> str:
        lower = {k.lower(): v for k, v in headers.items()}
        if "x-goog-api-key" in lower:
            return lower["x-goog-api-key"]
        if lower.get("authorization", "").lower().startswith("bearer "):
            return lower["authorization"][7:]
        return parse_qs(urlsplit(path).query).get("key", [""])[0]

    def url(self, provider: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{provider}"

    def answer(self, status: int, echo: str) -> None:
        self.status, self.echo = status, echo

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
