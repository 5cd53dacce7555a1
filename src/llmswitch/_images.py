"""Fetch the https images of a request for a wire that takes images inline only (Gemini's).

Gemini's native ``generateContent`` takes an image as ``inlineData`` (or a file it hosts),
never as the https URL an OpenAI client sends. So before the call machine tries a Gemini-native
candidate, the driver fetches each https image of the request once, bounded:

- at most ``image_fetch_max_bytes`` (default 20 MiB, Gemini's limit for a whole inline request),
  refused from ``content-length`` at once, else while the body arrives;
- within ``image_fetch_seconds`` (default 10 s) for the whole image, redirects included;
- only a 200 reply whose ``content-type`` is ``image/*``.

A fetched image travels as a ``data:`` URL to Gemini-native candidates only; every other
candidate gets the URL as the client sent it. A fetch that fails is not the call's failure: the
Gemini candidate is skipped as ``cannot_honour`` with the reason (``https://x/cat.png: HTTP
404``), so failover reaches a model that takes URLs, and only when none can does the call fail
with a 400 naming the parameter.

What may be fetched: ``https://`` only (each redirect too, at most 3), and never a host that is
an address literal of a private, loopback or link-local network, so a client cannot make the
gateway fetch its neighbours (a name that resolves to one is not caught: put the gateway behind
an egress proxy if that matters). ``image_fetch_loopback_http = true`` also allows ``http://``
to 127.0.0.1, ::1 and localhost, for tests and a local image server; it opens nothing else.

The room does I/O with its own short-lived httpx clients (images are rare next to calls, so no
pool is kept); its results are values (``Fetched``), so the call machine stays pure.
"""

from __future__ import annotations

import base64
import ipaddress
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from llmswitch._types import ChatRequest, Message

MAX_REDIRECTS = 3
PARAMETER = "messages[].content[].image_url"
_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


@dataclass(frozen=True, slots=True)
class ImageLimits:
    """How much fetching an image may cost, and whether loopback http is allowed."""

    max_bytes: int = 20 * 1024 * 1024
    seconds: float = 10.0
    loopback_http: bool = False


@dataclass(frozen=True, slots=True)
class Fetched:
    """What fetching a request's images gave: each URL's ``data:`` URL, or why it has none."""

    inlined: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def https_images(request: ChatRequest) -> list[str]:
    """The image URLs of ``request`` that are not ``data:`` URLs, once each, in order."""
    urls: dict[str, None] = {}
    for part in _image_parts(request.messages):
        url = _url_of(part)
        if url is not None and not url.startswith("data:"):
            urls[url] = None
    return list(urls)


def inline(request: ChatRequest, data_urls: Mapping[str, str]) -> ChatRequest:
    """``request`` with each image URL of ``data_urls`` replaced by its ``data:`` URL."""
    if not data_urls:
        return request
    messages = tuple(_inline_message(m, data_urls) for m in request.messages)
    return replace(request, messages=messages)


def unsendable(request: ChatRequest, fetched: Fetched | None) -> str | None:
    """Why ``request`` (already inlined) cannot go to a wire that takes images inline only:
    the first image still named by URL and what became of its fetch (None: all inline)."""
    left = https_images(request)
    if not left:
        return None
    reason = (fetched.failed.get(left[0]) if fetched else None) or "not fetched"
    return (
        f"cannot honour '{PARAMETER}' (an https image, which Gemini's native API takes only "
        f"inline): fetching {left[0][:200]} failed: {reason}"
    )


def refusal(url: str, limits: ImageLimits) -> str | None:
    """Why ``url`` may not be fetched at all (None: it may)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if limits.loopback_http and host in _LOOPBACK_NAMES and parts.scheme in ("http", "https"):
        return None
    if parts.scheme != "https":
        return f"only https:// image URLs are fetched, not {parts.scheme or 'a relative'} URL"
    if not host:
        return "the URL names no host"
    if host in _LOOPBACK_NAMES or _local_address(host):
        return "the URL names an address of a loopback, private or link-local network"
    return None


class ImageFetcher:
    """Fetches images within ``ImageLimits``; ``fetch`` for the sync driver, ``afetch`` async."""

    def __init__(self, limits: ImageLimits) -> None:
        self.limits = limits

    def fetch(self, urls: Iterable[str]) -> Fetched:
        out = Fetched()
        with httpx.Client(timeout=self.limits.seconds, follow_redirects=False) as client:
            for url in urls:
                self._keep(out, url, self._one(client, url))
        return out

    async def afetch(self, urls: Iterable[str]) -> Fetched:
        out = Fetched()
        async with httpx.AsyncClient(timeout=self.limits.seconds, follow_redirects=False) as c:
            for url in urls:
                self._keep(out, url, await self._aone(c, url))
        return out

    @staticmethod
    def _keep(out: Fetched, url: str, got: tuple[str, str] | str) -> None:
        if isinstance(got, tuple):
            mime, data = got
            out.inlined[url] = f"data:{mime};base64,{data}"
        else:
            out.failed[url] = got

    def _one(self, client: httpx.Client, url: str) -> tuple[str, str] | str:
        deadline = time.monotonic() + self.limits.seconds
        try:
            for _ in range(MAX_REDIRECTS + 1):
                if (why := refusal(url, self.limits)) is not None:
                    return why
                with client.stream("GET", url) as reply:
                    if reply.is_redirect and "location" in reply.headers:
                        url = urljoin(url, reply.headers["location"])
                        continue
                    body = _Body(self.limits, deadline)
                    if (why := body.head(reply.status_code, reply.headers)) is not None:
                        return why
                    for chunk in reply.iter_bytes():
                        if (why := body.add(chunk)) is not None:
                            return why
                    return body.done()
            return f"more than {MAX_REDIRECTS} redirects"
        except httpx.HTTPError as exc:
            return _http_error(exc)

    async def _aone(self, client: httpx.AsyncClient, url: str) -> tuple[str, str] | str:
        deadline = time.monotonic() + self.limits.seconds
        try:
            for _ in range(MAX_REDIRECTS + 1):
                if (why := refusal(url, self.limits)) is not None:
                    return why
                async with client.stream("GET", url) as reply:
                    if reply.is_redirect and "location" in reply.headers:
                        url = urljoin(url, reply.headers["location"])
                        continue
                    body = _Body(self.limits, deadline)
                    if (why := body.head(reply.status_code, reply.headers)) is not None:
                        return why
                    async for chunk in reply.aiter_bytes():
                        if (why := body.add(chunk)) is not None:
                            return why
                    return body.done()
            return f"more than {MAX_REDIRECTS} redirects"
        except httpx.HTTPError as exc:
            return _http_error(exc)


class _Body:
    """The checks of one reply, shared by both drivers: status, type, size and time."""

    def __init__(self, limits: ImageLimits, deadline: float) -> None:
        self.limits = limits
        self.deadline = deadline
        self.mime = ""
        self.chunks: list[bytes] = []
        self.size = 0

    def head(self, status: int, headers: Mapping[str, str]) -> str | None:
        if status != 200:
            return f"HTTP {status}"
        self.mime = headers.get("content-type", "").split(";")[0].strip().lower()
        if not self.mime.startswith("image/"):
            return f"content-type {self.mime or 'missing'!r} is not an image/* type"
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.limits.max_bytes:
            return f"{int(length)} bytes, more than the {self.limits.max_bytes} allowed"
        return None

    def add(self, chunk: bytes) -> str | None:
        self.size += len(chunk)
        if self.size > self.limits.max_bytes:
            return f"more than the {self.limits.max_bytes} bytes allowed"
        if time.monotonic() > self.deadline:
            return f"took longer than {self.limits.seconds:g} s"
        self.chunks.append(chunk)
        return None

    def done(self) -> tuple[str, str]:
        return self.mime, base64.b64encode(b"".join(self.chunks)).decode("ascii")


def _http_error(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    return f"{type(exc).__name__}: {str(exc)[:200] or 'no detail'}"


def _local_address(host: str) -> bool:
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_unspecified


def _image_parts(messages: tuple[Message, ...]) -> Iterable[dict[str, Any]]:
    for message in messages:
        content: Any = message.content
        for part in content if isinstance(content, list) else []:
            if isinstance(part, dict) and part.get("type") == "image_url":
                yield part


def _url_of(part: dict[str, Any]) -> str | None:
    image = part.get("image_url")
    url = image.get("url") if isinstance(image, dict) else image
    return url if isinstance(url, str) else None


def _inline_message(message: Message, data_urls: Mapping[str, str]) -> Message:
    content: Any = message.content
    if not isinstance(content, list):
        return message
    parts = []
    for part in content:
        url = _url_of(part) if isinstance(part, dict) and part.get("type") == "image_url" else None
        if url is not None and url in data_urls:
            image = part["image_url"]
            new = {**image, "url": data_urls[url]} if isinstance(image, dict) else data_urls[url]
            part = {**part, "image_url": new}
        parts.append(part)
    return replace(message, content=parts)
