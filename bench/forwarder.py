"""The floor of a Python gateway on this machine: a bare ASGI forwarder.

uvicorn with httptools and uvloop (the parser and loop ``llmswitch serve`` uses), one pooled
aiohttp session, and nothing else: no routing, no state, no parsing of the body, no headers but
the content type. ``POST /v1/<path>`` is sent to ``<upstream>/<path>`` and its reply bytes come
back unchanged. Whatever a real gateway adds above this is the cost of what it does; issue 17
sets llmswitch's target at half this forwarder's throughput.

Run: ``python -m bench.forwarder --upstream http://127.0.0.1:PORT/ok --port 8899``
"""

from __future__ import annotations

import argparse
from typing import Any

UPSTREAM = ""
_session: Any = None


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Forward one HTTP request's body to the upstream and its reply back."""
    global _session
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if _session is not None:
                    await _session.close()
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    if _session is None:
        import aiohttp

        _session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256))
    path = scope["path"].removeprefix("/v1")
    headers = {"content-type": "application/json", "authorization": "Bearer sk-bench"}
    async with _session.post(UPSTREAM + path, data=body, headers=headers) as resp:
        data = await resp.read()
        status = resp.status
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": data})


def main() -> None:
    global UPSTREAM
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    UPSTREAM = args.upstream.rstrip("/")
    import uvicorn

    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
