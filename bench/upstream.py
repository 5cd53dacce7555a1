"""A minimal, fast OpenAI-compatible upstream for the overhead benchmarks.

The simulator is a faithful Python ASGI app; its own cost per request (hundreds of microseconds)
and its jitter would drown the figures we want. This server is raw asyncio: it reads one HTTP/1.1
request (keep-alive), and answers a fixed chat-completion JSON with OpenAI rate-limit headers.
The path picks the behaviour, so one server serves every provider of a benchmark:

    /ok/...        200 with the completion          /fail500/...  500 server error at once
    /fail429/...   429 with ``retry-after: 1``       /hang/...     never answers
    GET /_count    JSON of requests seen per mode    POST /_reset  zero the counters

Run: ``python -m bench.upstream --port 0`` prints ``PORT <n>`` once listening (127.0.0.1 only).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter

COMPLETION = json.dumps(
    {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 1780000000,
        "model": "bench-model",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello from the bench upstream."},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19},
    }
).encode()
LIMIT_HEADERS = (
    b"x-ratelimit-limit-requests: 1000000\r\n"
    b"x-ratelimit-remaining-requests: 999999\r\n"
    b"x-ratelimit-reset-requests: 0.06s\r\n"
    b"x-ratelimit-limit-tokens: 100000000\r\n"
    b"x-ratelimit-remaining-tokens: 99999981\r\n"
    b"x-ratelimit-reset-tokens: 0.01s\r\n"
)
ERR500 = json.dumps({"error": {"message": "upstream broke", "type": "server_error"}}).encode()
ERR429 = json.dumps(
    {"error": {"message": "Rate limit reached; try again in 1s", "type": "requests"}}
).encode()


def _response(status: bytes, body: bytes, extra: bytes = b"") -> bytes:
    return (
        b"HTTP/1.1 " + status + b"\r\ncontent-type: application/json\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n" + extra + b"\r\n" + body
    )


OK = _response(b"200 OK", COMPLETION, LIMIT_HEADERS)
FAIL500 = _response(b"500 Internal Server Error", ERR500)
FAIL429 = _response(b"429 Too Many Requests", ERR429, b"retry-after: 1\r\n" + LIMIT_HEADERS)

counts: Counter[str] = Counter()


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        import socket

        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            line, _, rest = head.partition(b"\r\n")
            method, path, _ = line.split(b" ", 2)
            length = 0
            for header in rest.split(b"\r\n"):
                name, _, value = header.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if length:
                await reader.readexactly(length)
            mode = path.split(b"/", 2)[1].decode()
            if mode == "_count":
                body = json.dumps(dict(counts)).encode()
                writer.write(_response(b"200 OK", body))
            elif mode == "_reset":
                counts.clear()
                writer.write(_response(b"200 OK", b"{}"))
            else:
                counts[mode] += 1
                if mode == "hang":
                    await reader.read()  # until the client gives up and closes
                    return
                writer.write(FAIL500 if mode == "fail500" else FAIL429 if mode == "fail429" else OK)
            del method
    except (asyncio.IncompleteReadError, ConnectionError, ValueError):
        pass
    finally:
        writer.close()


async def serve(port: int) -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    bound = server.sockets[0].getsockname()[1]
    print(f"PORT {bound}", flush=True)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        asyncio.run(serve(args.port))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
