"""https images on Gemini's native wire: fetched (bounded), sent inline, or the Gemini target
skipped as cannot_honour with the reason so failover reaches a model that takes URLs.

A real image server on 127.0.0.1 serves the images. Production fetches https:// only; the tests
serve plain http on loopback, which ``image_fetch_loopback_http = true`` allows (and nothing
else). A recording transport shows the exact body that reached Gemini.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import openai
import pytest

from llmswitch._images import ImageLimits, refusal
from llmswitch._transport import AsyncStreamResponse, RawReply
from llmswitch._transport_aiohttp import AiohttpTransport
from llmswitch._wire.base import CallContext, HttpRequest
from tests.conftest import ManagerFactory
from tests.server.conftest import Gateway, GatewayFactory

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4  # 1,032 bytes
LIMIT = 4096
LOOPBACK = f"image_fetch_loopback_http = true\nimage_fetch_max_bytes = {LIMIT}"


class Images(BaseHTTPRequestHandler):
    """/cat.png, /big.png (a content-length over the limit), /endless.png (no length, too
    long), /page.html (not an image), /gone.png (404), /moved.png (302 to /cat.png)."""

    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:
        if self.path == "/moved.png":
            self._reply(302, "text/plain", b"", location="/cat.png")
        elif self.path == "/cat.png":
            self._reply(200, "image/png", PNG)
        elif self.path == "/big.png":
            self._reply(200, "image/png", b"x" * (LIMIT + 1))
        elif self.path == "/endless.png":
            self.send_response(200)
            self.send_header("content-type", "image/png")
            self.end_headers()
            for _ in range(10):  # no content-length: the limit is met while reading
                self.wfile.write(b"y" * 1024)
        elif self.path == "/page.html":
            self._reply(200, "text/html", b"<html></html>")
        else:
            self._reply(404, "text/plain", b"no such image")

    def _reply(self, status: int, ctype: str, body: bytes, location: str = "") -> None:
        self.send_response(status)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(body)))
        if location:
            self.send_header("location", location)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def images() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Images)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class Recording(AiohttpTransport):
    """The gateway's own transport, keeping every request it sends."""

    def __init__(self) -> None:
        super().__init__(timeout=30.0)
        self.sent: list[HttpRequest] = []

    async def send(
        self, req: HttpRequest, ctx: CallContext, *, timeout: float | None = None
    ) -> RawReply:
        self.sent.append(req)
        return await super().send(req, ctx, timeout=timeout)

    def stream(
        self,
        req: HttpRequest,
        ctx: CallContext,
        *,
        timeout: float | None = None,
        stall_timeout: float | None = None,
    ) -> AbstractAsyncContextManager[AsyncStreamResponse]:
        self.sent.append(req)
        return super().stream(req, ctx, timeout=timeout, stall_timeout=stall_timeout)

    def to(self, provider_path: str) -> list[dict[str, Any]]:
        return [r.json or {} for r in self.sent if provider_path in r.url]


def ask(url: str) -> Any:
    return [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "what is this?"},
                {"type": "image_url", "image_url": {"url": url, "detail": "low"}},
            ],
        }
    ]


@pytest.fixture()
def recorder() -> Recording:
    return Recording()


@pytest.fixture()
def gw(make_gateway: GatewayFactory, recorder: Recording) -> Gateway:
    return make_gateway(extra=LOOPBACK, async_transport=recorder)


def inline_parts(recorder: Recording) -> list[dict[str, Any]]:
    return [
        part["inlineData"]
        for body in recorder.to(":generateContent") + recorder.to(":streamGenerateContent")
        for content in body.get("contents", [])
        for part in content.get("parts", [])
        if "inlineData" in part
    ]


@pytest.mark.parametrize("path", ["/cat.png", "/moved.png"])
def test_an_image_url_reaches_gemini_inline(
    gw: Gateway, recorder: Recording, images: str, path: str
) -> None:
    with openai.OpenAI(base_url=gw.v1, api_key="unused", max_retries=0) as sdk:
        raw = sdk.chat.completions.with_raw_response.create(
            model="auto", messages=ask(images + path)
        )
    assert raw.headers["x-llmswitch-provider"] == "gemini"
    assert raw.headers["x-llmswitch-attempts"].startswith("groq:cannot_honour,gemini:ok")
    assert inline_parts(recorder) == [
        {"mimeType": "image/png", "data": base64.b64encode(PNG).decode()}
    ]


async def test_an_async_stream_sends_it_inline_too(
    gw: Gateway, recorder: Recording, images: str
) -> None:
    async with openai.AsyncOpenAI(base_url=gw.v1, api_key="unused", max_retries=0) as sdk:
        stream = await sdk.chat.completions.create(
            model="gemini/gemini-2.5-flash", messages=ask(images + "/cat.png"), stream=True
        )
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text
    assert inline_parts(recorder)[0]["data"] == base64.b64encode(PNG).decode()


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/big.png", f"{LIMIT + 1} bytes, more than the {LIMIT} allowed"),
        ("/endless.png", f"more than the {LIMIT} bytes allowed"),
        ("/page.html", "content-type 'text/html' is not an image/* type"),
        ("/gone.png", "HTTP 404"),
    ],
)
def test_an_image_gemini_cannot_get_fails_over_to_a_model_that_takes_urls(
    gw: Gateway, recorder: Recording, images: str, path: str, reason: str
) -> None:
    with openai.OpenAI(base_url=gw.v1, api_key="unused", max_retries=0) as sdk:
        raw = sdk.chat.completions.with_raw_response.create(
            model="auto", messages=ask(images + path)
        )
        assert raw.headers["x-llmswitch-provider"] == "openai"
        assert "gemini:cannot_honour" in raw.headers["x-llmswitch-attempts"]
        (sent,) = recorder.to("/chat/completions")[-1:]
        assert sent["messages"][0]["content"][1]["image_url"]["url"] == images + path  # as sent
        assert recorder.to(":generateContent") == []  # Gemini was never sent a changed request
        with pytest.raises(openai.BadRequestError) as info:  # Gemini alone: the 400 says why
            sdk.chat.completions.create(
                model="gemini/gemini-2.5-flash", messages=ask(images + path)
            )
    error: Any = info.value.body
    attempts = (error.get("error", error))["attempts"]
    assert [a["outcome"] for a in attempts] == ["cannot_honour"]
    assert reason in attempts[0]["message"] and images + path in attempts[0]["message"]
    assert "image_url" in info.value.message


def test_without_the_loopback_setting_nothing_local_is_fetched(
    make_gateway: GatewayFactory, recorder: Recording, images: str
) -> None:
    gw = make_gateway(async_transport=recorder)  # production defaults: https only
    with openai.OpenAI(base_url=gw.v1, api_key="unused", max_retries=0) as sdk:
        raw = sdk.chat.completions.with_raw_response.create(
            model="auto", messages=ask(images + "/cat.png")
        )
    assert raw.headers["x-llmswitch-provider"] == "openai"
    assert inline_parts(recorder) == []


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://images.example/cat.png", True),
        ("http://images.example/cat.png", False),
        ("https://127.0.0.1/cat.png", False),
        ("https://10.1.2.3/cat.png", False),
        ("https://169.254.169.254/latest", False),
        ("https://[::1]/cat.png", False),
        ("ftp://images.example/cat.png", False),
    ],
)
def test_what_may_be_fetched(url: str, allowed: bool) -> None:
    assert (refusal(url, ImageLimits()) is None) is allowed
    loopback = ImageLimits(loopback_http=True)
    assert refusal("http://127.0.0.1:8080/x.png", loopback) is None
    assert refusal("http://10.1.2.3/x.png", loopback) is not None


def test_the_sync_library_fetches_as_well(make_manager: ManagerFactory, images: str) -> None:
    llm = make_manager(extra=LOOPBACK)
    served = llm.chat(ask(images + "/cat.png"))
    assert served.provider == "gemini"
    failed = llm.chat(ask(images + "/gone.png"))
    assert failed.provider == "openai"
    gemini = next(a for a in failed.attempts if a.provider == "gemini")
    assert gemini.outcome == "cannot_honour" and "HTTP 404" in gemini.message
