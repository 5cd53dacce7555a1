"""The gateway's two guards: a bearer token in front of ``/v1`` and ``/api``, and safe binding.

Why a raw ASGI middleware rather than a FastAPI dependency: it runs before routing and costs one
header lookup and one constant-time compare per request, which matters when benchmarks measure
the gateway's per-request overhead. The dashboard page and ``/healthz`` stay open (the page asks
for the token and sends it with its own polls); ``/metrics`` stays open for scrapers and carries
no secret.

Binding: loopback by default. Serving on another interface without ``LLMSWITCH_API_KEY`` would
hand every provider key's quota to the whole network, so it is refused unless ``--insecure``.

Example:
    >>> check_bind("127.0.0.1", api_key=None, insecure=False) is None
    True
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import os
from collections.abc import Mapping

from starlette.types import ASGIApp, Receive, Scope, Send

from llmswitch._secrets import SecretRedactor

ENV_API_KEY = "LLMSWITCH_API_KEY"
PROTECTED_PREFIXES = ("/v1/", "/api/")


def api_key_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """The gateway's own key (not a provider key), or None when unset or empty."""
    value = (os.environ if environ is None else environ).get(ENV_API_KEY, "").strip()
    return value or None


def is_protected(path: str) -> bool:
    return path.startswith(PROTECTED_PREFIXES) or path in ("/v1", "/api")


class BearerAuth:
    """ASGI middleware: ``/v1/*`` and ``/api/*`` need ``Authorization: Bearer <key>``.

    Args:
        app: the wrapped ASGI app.
        api_key: the expected token; compared in constant time so timing leaks nothing.
    """

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self.app = app
        self._expected = b"bearer " + api_key.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_protected(scope["path"]):
            await self.app(scope, receive, send)
            return
        given = b""
        for name, value in scope["headers"]:
            if name == b"authorization":
                given = value
                break
        # Lower-case the scheme only: the token itself stays case-sensitive.
        candidate = given[:7].lower() + given[7:]
        if hmac.compare_digest(candidate, self._expected):
            await self.app(scope, receive, send)
            return
        await _unauthorized(send)


async def _unauthorized(send: Send) -> None:
    body = json.dumps(
        {
            "error": {
                "message": (
                    "missing or wrong gateway key: send 'Authorization: Bearer <LLMSWITCH_API_KEY>'"
                ),
                "type": "invalid_request_error",
                "param": None,
                "code": "invalid_api_key",
            }
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"www-authenticate", b'Bearer realm="llmswitch"'),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``; anything else may be reachable from outside."""
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, *, api_key: str | None, insecure: bool) -> str | None:
    """Why binding ``host`` is refused, or None when it is allowed."""
    if is_loopback(host) or api_key or insecure:
        return None
    return (
        f"refusing to serve on {host}: it is reachable from other machines and "
        f"{ENV_API_KEY} is not set, so anyone could spend your providers' quotas. "
        f"Set {ENV_API_KEY} (clients then send 'Authorization: Bearer <key>'), bind to "
        "127.0.0.1, or pass --insecure if this network is trusted."
    )


class Redactor(SecretRedactor):
    """Replaces configured secrets in outgoing text with their masked tail.

    A last line of defence at the boundary: the core never puts a key in a message, but an
    upstream error body could echo one, whole or half masked (``gsk_cana****NARY``), and
    nothing we send should ever carry it. The rules are ``llmswitch._secrets``' (by value).
    """
