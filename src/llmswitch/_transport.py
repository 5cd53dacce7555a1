"""All of llmswitch's HTTP I/O, and nothing else: pooled clients, timeouts, error mapping.

``HttpxTransport`` (sync, here) keeps one pooled ``httpx.Client``; ``AiohttpTransport`` (async,
``_transport_aiohttp``) keeps one pooled ``aiohttp.ClientSession``. Both take their client as a
constructor argument and build one only when none is given.

Each library's exceptions are translated in exactly one place (``_httpx_errors``,
``_aiohttp_errors``), most specific first and always ``from exc``: timeouts and stalls become
``errors.Timeout``; refused, reset, cut or garbled connections become ``errors.ConnectionFailed``,
except when the exception chain holds a local cause (``LOCAL_ERRNOS``: out of file descriptors,
buffers or memory, no route, no local port): that becomes ``errors.LocalFault``, so the router does
not cool down a provider for a fault of this machine's.
Nothing else in llmswitch catches ``httpx`` or ``aiohttp`` exceptions. HTTP statuses are not
errors here: the wire classifies them.

What the drivers need from a transport is the ``Transport`` / ``AsyncTransport`` protocols (and
the ``StreamResponse`` / ``AsyncStreamResponse`` an open stream yields): any object with those
methods can be passed to ``LLMProviderManager(transport=..., async_transport=...)``, with no
subclassing. A transport raises only ``errors.ProviderError`` subclasses (built with
``ctx.error(...)``) for failures; an HTTP error status is a ``RawReply``, not an exception.

Example:
    >>> transport = HttpxTransport(timeout=30.0)
    >>> raw = transport.send(http_request, ctx)  # doctest: +SKIP
    >>> with transport.stream(http_request, ctx, stall_timeout=20.0) as resp:  # doctest: +SKIP
    ...     for line in resp.iter_lines():
    ...         ...
"""

from __future__ import annotations

import errno
import json
import os
import socket
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import (
    AbstractAsyncContextManager,
    AbstractContextManager,
    contextmanager,
)
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import httpx

from llmswitch import _errors as errors
from llmswitch._wire.base import CallContext, HttpRequest, redact

if TYPE_CHECKING:
    pass

SERVER_EXTRA = "pip install 'llmswitch[server]'"
DEFAULT_MAX_CONNECTIONS = 100

LOCAL_ERRNOS = frozenset(
    {
        errno.EMFILE,  # this process is out of file descriptors
        errno.ENFILE,  # the whole system is
        errno.ENOBUFS,  # no socket buffer space
        errno.ENOMEM,  # no kernel memory for the socket
        errno.ENETUNREACH,  # no route from here to that network
        errno.ENETDOWN,  # our interface is down
        errno.EADDRNOTAVAIL,  # no local port/address left to bind
    }
)
"""Socket errnos whose cause is this machine, not the provider: another provider would fail the
same way, so the call fails as ``errors.LocalFault`` and nothing is cooled down."""
_CHAIN_LIMIT = 32  # links followed at most; chains are short, this only guards against cycles


@dataclass(frozen=True, slots=True)
class RawReply:
    """A complete reply: status, lower-case header names, body bytes."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class StreamResponse(Protocol):
    """An open streamed reply, as ``Transport.stream`` yields it."""

    @property
    def status(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]:
        """Lower-case header names."""
        ...

    def iter_lines(self) -> Iterator[str]:
        """The body's lines as they arrive, line endings removed."""
        ...

    def read(self) -> bytes:
        """The whole body (an error reply's)."""
        ...


class Transport(Protocol):
    """What the sync driver needs to move bytes; ``HttpxTransport`` is the default.

    Example:
        >>> class Canned:  # a test double: no subclassing, no network
        ...     def send(self, req, ctx, *, timeout=None):
        ...         return RawReply(200, {"content-type": "application/json"}, b"{...}")
        ...     def stream(self, req, ctx, *, timeout=None, stall_timeout=None): ...
        ...     def close(self): ...
    """

    def send(self, req: HttpRequest, ctx: CallContext, *, timeout: float | None = None) -> RawReply:
        """Send ``req`` and read the whole reply, whatever its status.

        Raises:
            errors.ProviderError: a subclass (``Timeout``, ``ConnectionFailed``, ``LocalFault``,
                ...) built with ``ctx.error``; never a foreign exception.
        """
        ...

    def stream(
        self,
        req: HttpRequest,
        ctx: CallContext,
        *,
        timeout: float | None = None,
        stall_timeout: float | None = None,
    ) -> AbstractContextManager[StreamResponse]:
        """Open a streamed reply; no bytes for ``stall_timeout`` seconds raises ``Timeout``."""
        ...

    def close(self) -> None:
        """Release the pool (the manager calls it from ``close()``)."""
        ...


class AsyncStreamResponse(Protocol):
    """An open streamed reply, as ``AsyncTransport.stream`` yields it."""

    @property
    def status(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]:
        """Lower-case header names."""
        ...

    def aiter_lines(self) -> AsyncIterator[str]:
        """The body's lines as they arrive, line endings removed."""
        ...

    async def read(self) -> bytes:
        """The whole body (an error reply's)."""
        ...


class AsyncTransport(Protocol):
    """The async twin of ``Transport``; ``AiohttpTransport`` is the default."""

    async def send(
        self, req: HttpRequest, ctx: CallContext, *, timeout: float | None = None
    ) -> RawReply:
        """Send ``req`` and read the whole reply (raises as ``Transport.send``)."""
        ...

    def stream(
        self,
        req: HttpRequest,
        ctx: CallContext,
        *,
        timeout: float | None = None,
        stall_timeout: float | None = None,
    ) -> AbstractAsyncContextManager[AsyncStreamResponse]:
        """Open a streamed reply; no bytes for ``stall_timeout`` seconds raises ``Timeout``."""
        ...

    async def aclose(self) -> None:
        """Release the pool (the manager awaits it from ``aclose()``)."""
        ...


def _encode(req: HttpRequest) -> bytes | None:
    if req.json is None:
        return None
    return json.dumps(req.json, ensure_ascii=False, separators=(",", ":")).encode()


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it wraps: ``__cause__``, ``__context__`` and aiohttp's ``os_error``."""
    links: list[BaseException] = []
    todo: list[BaseException] = [exc]
    while todo and len(links) < _CHAIN_LIMIT:
        link = todo.pop(0)
        if any(link is seen for seen in links):
            continue
        links.append(link)
        wrapped = (link.__cause__, link.__context__, getattr(link, "os_error", None))
        todo.extend(w for w in wrapped if isinstance(w, BaseException))
    return links


def _local_cause(exc: BaseException, *, dns: tuple[type[BaseException], ...] = ()) -> str | None:
    """The local cause in ``exc``'s chain, as ``"EMFILE: Too many open files"``, or ``None``.

    A DNS failure anywhere in the chain (``socket.gaierror`` or a library's ``dns`` types) means
    "not local": a resolver error's number is an ``EAI_*`` code that can equal an errno in
    ``LOCAL_ERRNOS`` (``EAI_BADHINTS`` is 12, as ``ENOMEM`` is, on macOS), and whether every host
    failing to resolve is our fault is for the router to judge, not one call.
    """
    links = _chain(exc)
    if any(isinstance(link, (socket.gaierror, *dns)) for link in links):
        return None
    for link in links:
        if isinstance(link, OSError) and link.errno in LOCAL_ERRNOS:
            name = errno.errorcode.get(link.errno, str(link.errno))
            return f"{name}: {link.strerror or os.strerror(link.errno)}"
    return None


def _local_fault(ctx: CallContext, exc: BaseException, cause: str) -> errors.LocalFault:
    """A ``LocalFault`` carrying ``ctx``'s attributes and a redacted message, as ``ctx.error``."""
    return errors.LocalFault(
        redact(f"could not leave this machine: {cause} ({_describe(exc)})"),
        cause=cause,
        provider=ctx.provider,
        model=ctx.model,
        key_alias=ctx.key_alias,
    )


# --- httpx (sync) ------------------------------------------------------------------------------


@contextmanager
def _httpx_errors(
    ctx: CallContext, *, stall: float | None = None, in_stream: bool = False
) -> Iterator[None]:
    """The one place httpx exceptions become ours.

    ``in_stream``: we are reading a stream's body, so a broken connection is a cut stream
    (``MalformedReply``, as the error tree files it), not a failure to connect. A connect failure
    whose chain holds a local cause (httpcore raises ``ConnectError`` from the ``OSError``) is a
    ``LocalFault``.
    """
    try:
        yield
    except httpx.ReadTimeout as exc:
        what = f"stream stalled: no bytes for {stall:g}s" if stall is not None else "read timed out"
        raise ctx.error(errors.Timeout, f"{what} ({_describe(exc)})") from exc
    except httpx.TimeoutException as exc:
        raise ctx.error(errors.Timeout, f"timed out ({_describe(exc)})") from exc
    except httpx.DecodingError as exc:
        raise ctx.error(errors.MalformedReply, f"undecodable body ({_describe(exc)})") from exc
    except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
        if in_stream:
            raise ctx.error(errors.MalformedReply, f"stream cut ({_describe(exc)})") from exc
        if (cause := _local_cause(exc)) is not None:
            raise _local_fault(ctx, exc, cause) from exc
        raise ctx.error(errors.ConnectionFailed, _describe(exc)) from exc
    except httpx.RequestError as exc:  # connect, protocol, proxy, unsupported URL
        if (cause := _local_cause(exc)) is not None:
            raise _local_fault(ctx, exc, cause) from exc
        raise ctx.error(errors.ConnectionFailed, _describe(exc)) from exc


class HttpxStreamResponse:
    """An open streamed reply; iterate ``iter_lines()`` or ``read()`` an error body."""

    __slots__ = ("_ctx", "_resp", "_stall", "headers", "status")

    def __init__(self, resp: httpx.Response, ctx: CallContext, stall: float | None) -> None:
        self._resp = resp
        self._ctx = ctx
        self._stall = stall
        self.status = resp.status_code
        self.headers: Mapping[str, str] = _lower(resp.headers)

    def iter_lines(self) -> Iterator[str]:
        with _httpx_errors(self._ctx, stall=self._stall, in_stream=True):
            yield from self._resp.iter_lines()

    def read(self) -> bytes:
        with _httpx_errors(self._ctx):
            return self._resp.read()


class HttpxTransport:
    """Sync transport over one pooled ``httpx.Client``.

    Timeouts are per network operation, as in httpx: ``timeout`` bounds each read and write,
    ``connect_timeout`` the TCP/TLS connect. A stream's reads are bounded by ``stall_timeout``.

    Args:
        client: an ``httpx.Client`` to use (and not close); built when ``None``.
        timeout: default seconds per operation.
        connect_timeout: seconds to establish a connection.
    """

    def __init__(
        self,
        *,
        client: httpx.Client | None = None,
        timeout: float = 30.0,
        connect_timeout: float = 5.0,
    ) -> None:
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._owns_client = client is None
        if client is None:
            limits = httpx.Limits(
                max_connections=DEFAULT_MAX_CONNECTIONS,
                max_keepalive_connections=DEFAULT_MAX_CONNECTIONS,
            )
            client = httpx.Client(timeout=self._timeouts(None), limits=limits)
        self._client = client

    def _timeouts(self, timeout: float | None, *, read: float | None = None) -> httpx.Timeout:
        total = self._timeout if timeout is None else timeout
        return httpx.Timeout(
            total, connect=min(self._connect_timeout, total), read=total if read is None else read
        )

    def send(self, req: HttpRequest, ctx: CallContext, *, timeout: float | None = None) -> RawReply:
        """Send ``req`` and read the whole reply, whatever its status."""
        with _httpx_errors(ctx):
            resp = self._client.request(
                req.method,
                req.url,
                headers=req.headers,
                content=_encode(req),
                timeout=self._timeouts(timeout),
            )
        return RawReply(resp.status_code, _lower(resp.headers), resp.content)

    @contextmanager
    def stream(
        self,
        req: HttpRequest,
        ctx: CallContext,
        *,
        timeout: float | None = None,
        stall_timeout: float | None = None,
    ) -> Iterator[HttpxStreamResponse]:
        """Open a streamed reply; no bytes for ``stall_timeout`` seconds raises ``Timeout``."""
        timeouts = self._timeouts(timeout, read=stall_timeout)
        with _httpx_errors(ctx):
            request = self._client.build_request(
                req.method, req.url, headers=req.headers, content=_encode(req), timeout=timeouts
            )
            resp = self._client.send(request, stream=True)
        try:
            yield HttpxStreamResponse(resp, ctx, stall_timeout)
        finally:
            with _httpx_errors(ctx):
                resp.close()

    def close(self) -> None:
        """Close the pool, if this transport built it."""
        if self._owns_client:
            self._client.close()
