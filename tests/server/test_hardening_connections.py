"""Slow, oversized and too many clients, over real sockets: each gets a clear status, never a
held connection, and none of them hurts the calls of others (issue 16, item 1).

Timeouts are small (0.2-0.5 s) so the waits here are the real socket timeouts under test and
nothing else.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from llmswitch.server.limits import ServerLimits
from tests.server.conftest import Gateway, GatewayFactory

USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]
HEAD = b"POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\n"
SMALL = ServerLimits(
    header_timeout=0.3,
    body_timeout=0.3,
    keep_alive_timeout=0.3,
    max_connections=64,
    max_body_bytes=4096,
    max_header_bytes=2048,
)


@pytest.fixture()
def guarded(make_gateway: GatewayFactory) -> Gateway:
    return make_gateway(limits=SMALL)


@contextmanager
def raw(gw: Gateway) -> Iterator[socket.socket]:
    host, port = gw.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5.0) as sock:
        yield sock


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (the socket's 5 s bound)."""
    out = b""
    while chunk := sock.recv(65536):
        out += chunk
    return out


def parse(reply: bytes) -> tuple[int, dict[str, str], Any]:
    head, _, body = reply.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, json.loads(body)


def assert_openai_error(body: Any, code: str) -> None:
    assert set(body["error"]) >= {"message", "type", "param", "code"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]


def test_a_client_that_never_finishes_its_headers_gets_408_and_is_closed(guarded: Gateway) -> None:
    with raw(guarded) as sock:
        start = time.monotonic()
        sock.sendall(HEAD)  # the blank line that ends the headers never comes
        reply = read_all(sock)
        took = time.monotonic() - start
    status, headers, body = parse(reply)
    assert status == 408 and headers["connection"] == "close"
    assert_openai_error(body, "request_timeout")
    assert "0.3 s" in body["error"]["message"]
    assert 0.25 < took < 2.0


def test_a_connection_that_sends_nothing_is_timed_out_too(guarded: Gateway) -> None:
    with raw(guarded) as sock:
        status, _, body = parse(read_all(sock))
    assert status == 408
    assert_openai_error(body, "request_timeout")


def test_the_header_deadline_is_total_so_one_byte_at_a_time_does_not_extend_it(
    guarded: Gateway,
) -> None:
    with raw(guarded) as sock:
        start = time.monotonic()
        sock.settimeout(0.05)
        reply = b""
        for byte in HEAD * 10:  # a byte every 50 ms: each arrives well within any idle timeout
            try:
                sock.sendall(bytes([byte]))
                reply = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:  # the server closed on us while we were still sending
                break
            if reply:
                break
        took = time.monotonic() - start
    assert reply.startswith(b"HTTP/1.1 408")
    assert took < 1.5


def test_a_keep_alive_request_gets_its_own_header_deadline(guarded: Gateway) -> None:
    with raw(guarded) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nhost: gw\r\n\r\n")
        first = sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200")
        time.sleep(0.2)  # idle, under the 0.3 s keep-alive timeout: the connection stays open
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")  # ...then a request that stalls
        status, _, body = parse(read_all(sock))
    assert status == 408
    assert_openai_error(body, "request_timeout")


def test_an_idle_keep_alive_connection_is_closed(guarded: Gateway) -> None:
    with raw(guarded) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nhost: gw\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        start = time.monotonic()
        assert read_all(sock) == b""  # closed without a word: the last request was answered
        assert time.monotonic() - start < 2.0


def test_oversized_headers_get_431(guarded: Gateway) -> None:
    with raw(guarded) as sock:
        sock.sendall(HEAD + b"x-pad: " + b"a" * 4000 + b"\r\n")
        status, _, body = parse(read_all(sock))
    assert status == 431
    assert_openai_error(body, "headers_too_large")


def test_a_body_shorter_than_its_content_length_gets_408(guarded: Gateway) -> None:
    with raw(guarded) as sock:
        start = time.monotonic()
        sock.sendall(HEAD + b"content-length: 1000\r\n\r\n" + b'{"messages": [')
        status, headers, body = parse(read_all(sock))
        took = time.monotonic() - start
    assert status == 408 and headers["connection"] == "close"
    assert_openai_error(body, "request_timeout")
    assert "body" in body["error"]["message"]
    assert 0.25 < took < 2.0


def test_a_declared_body_over_the_limit_gets_413_before_it_is_read(guarded: Gateway) -> None:
    with raw(guarded) as sock:
        sock.sendall(HEAD + b"content-length: 50000000\r\n\r\n")  # and never a byte of it
        status, _, body = parse(read_all(sock))
    assert status == 413
    assert_openai_error(body, "request_too_large")
    assert "50000000 bytes" in body["error"]["message"]
    assert "4096" in body["error"]["message"]


def test_a_streamed_body_over_the_limit_gets_413(guarded: Gateway) -> None:
    def chunks() -> Iterator[bytes]:  # chunked transfer: no Content-Length to refuse up front
        for _ in range(8):
            yield b" " * 1024

    r = httpx.post(guarded.v1 + "/chat/completions", content=chunks(), timeout=5.0)
    assert r.status_code == 413
    assert_openai_error(r.json(), "request_too_large")


def test_a_body_within_the_limit_is_served(guarded: Gateway) -> None:
    with openai.OpenAI(base_url=guarded.v1, api_key="unused", max_retries=0) as client:
        reply = client.chat.completions.create(model="auto", messages=USER)
    assert reply.choices[0].message.content


def test_the_openai_sdk_sees_a_413_as_a_clear_error(guarded: Gateway) -> None:
    big: list[ChatCompletionMessageParam] = [{"role": "user", "content": "x" * 10_000}]
    with (
        openai.OpenAI(base_url=guarded.v1, api_key="unused", max_retries=0) as client,
        pytest.raises(openai.APIStatusError) as caught,
    ):
        client.chat.completions.create(model="auto", messages=big)
    assert caught.value.status_code == 413
    assert guarded.sim.requests("groq") == []


def test_at_the_cap_a_new_connection_evicts_the_longest_waiting_slow_one(
    make_gateway: GatewayFactory,
) -> None:
    gw = make_gateway(limits=ServerLimits(header_timeout=5.0, max_connections=3))
    with ExitStack() as stack:
        holders = []
        for _ in range(3):  # each holds a slot, never finishing its request line
            holders.append(stack.enter_context(raw(gw)))
            holders[-1].sendall(b"GET /healthz HTTP/1.1\r\n")
            time.sleep(0.05)  # a known order: the first is the longest waiting
        with raw(gw) as newcomer:
            newcomer.sendall(b"GET /healthz HTTP/1.1\r\nhost: gw\r\nconnection: close\r\n\r\n")
            assert read_all(newcomer).startswith(b"HTTP/1.1 200")  # served, well before 5 s
        status, _, body = parse(read_all(holders[0]))
        assert status == 408 and "make room" in body["error"]["message"]
        assert_openai_error(body, "request_timeout")


def test_a_connection_over_the_cap_of_busy_ones_gets_503_until_a_slot_frees(
    make_gateway: GatewayFactory,
) -> None:
    limits = ServerLimits(body_timeout=0.4, max_connections=3)
    gw = make_gateway(limits=limits)
    with ExitStack() as stack:
        holders = [stack.enter_context(raw(gw)) for _ in range(3)]
        for sock in holders:  # each has a request in progress: its body never completes
            sock.sendall(HEAD + b"content-length: 100\r\n\r\n{")
        time.sleep(0.1)  # the three requests' headers are in
        with raw(gw) as extra:
            status, headers, body = parse(read_all(extra))
        assert status == 503 and headers["retry-after"] == "1"
        assert body["error"]["type"] == "api_error"
        assert_openai_error(body, "too_many_connections")
        for sock in holders:  # the body timeout frees every slot...
            assert read_all(sock).startswith(b"HTTP/1.1 408")
    assert httpx.get(gw.base_url + "/healthz", timeout=5.0).status_code == 200  # ...for others


def test_a_flood_of_slow_clients_never_hurts_the_calls_during_and_after_it(
    make_gateway: GatewayFactory,
) -> None:
    gw = make_gateway(limits=ServerLimits(header_timeout=5.0, max_connections=16))
    with ExitStack() as stack, openai.OpenAI(base_url=gw.v1, api_key="x", max_retries=0) as client:
        for _ in range(40):  # more than the cap, each sending half a request line and no more
            sock = stack.enter_context(raw(gw))
            sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\n")
        for _ in range(5):  # during the flood: each call's connection evicts a slow one
            assert client.chat.completions.create(model="auto", messages=USER).choices
    with openai.OpenAI(base_url=gw.v1, api_key="unused", max_retries=0) as client:
        for _ in range(5):
            assert client.chat.completions.create(model="auto", messages=USER).choices
    assert [r["status"] for r in gw.sim.requests("groq")] == [200] * 10
    status = gw.manager.get_provider_status()
    assert all(p["status"] == "available" for p in status["providers"].values())


def test_llmswitch_serve_takes_the_limits_as_options(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    exe = Path(sys.executable).parent / "llmswitch"
    cmd = [str(exe), "serve", "--port", str(port), "--header-timeout", "0.2"]
    cmd += ["--max-body-mb", "0.001", "--max-connections", "5"]
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 20.0
        while True:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=5.0)
                break
            except ConnectionRefusedError:
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "llmswitch serve did not start"
                time.sleep(0.05)
        with sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\n")
            assert read_all(sock).startswith(b"HTTP/1.1 408")
        r = httpx.post(f"http://127.0.0.1:{port}/v1/chat/completions", content=b" " * 2000)
        assert r.status_code == 413
        assert "1048 bytes" in r.json()["error"]["message"]  # 0.001 MiB
    finally:
        proc.terminate()
        proc.wait(10)
