"""Faults on this machine's side (``LocalFault``) are told apart from the provider's.

EMFILE and friends cannot be caused on cue at the socket layer, so most tests raise them one layer
down, as the real stack would: under httpx a ``BaseTransport`` raises ``httpx.ConnectError`` from
the ``OSError`` (what httpcore does); under aiohttp a real ``TCPConnector`` gets a
``socket_factory`` that raises, so aiohttp's own code wraps it in ``ClientConnectorError``. One
test exhausts file descriptors for real, in a subprocess with a lowered ``RLIMIT_NOFILE``.
"""

from __future__ import annotations

import errno
import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import aiohttp
import httpx
import pytest

from llmswitch import _errors as errors
from llmswitch._transport import LOCAL_ERRNOS, HttpxTransport
from llmswitch._transport_aiohttp import AiohttpTransport
from llmswitch._types import FailureKind
from llmswitch._wire import CallContext, HttpRequest

CTX = CallContext(provider="local", model="m", key_alias="main")
CANARY = "sk-CANARY0123456789abcdef"
URL = "http://127.0.0.1:9/v1/chat/completions"

LOCAL = [
    errno.EMFILE,
    errno.ENFILE,
    errno.ENOBUFS,
    errno.ENOMEM,
    errno.ENETUNREACH,
    errno.ENETDOWN,
    errno.EADDRNOTAVAIL,
]
PROVIDERS = [errno.ECONNREFUSED, errno.ECONNRESET, errno.EHOSTUNREACH, errno.ETIMEDOUT]


def req(url: str = URL) -> HttpRequest:
    return HttpRequest(
        method="POST",
        url=url,
        headers={"authorization": f"Bearer {CANARY}", "content-type": "application/json"},
        json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
    )


def os_error(code: int) -> OSError:
    return OSError(code, os.strerror(code))


def assert_local(err: errors.ProviderError, code: int) -> None:
    assert isinstance(err, errors.LocalFault)
    assert err.kind is errors.ConnectionFailed.kind
    assert err.cause == f"{errno.errorcode[code]}: {os.strerror(code)}"
    assert err.cause in str(err)
    assert (err.provider, err.model, err.key_alias) == ("local", "m", "main")
    assert CANARY not in str(err)


def test_the_errno_set_is_exactly_the_local_causes() -> None:
    assert set(LOCAL) == LOCAL_ERRNOS
    assert not LOCAL_ERRNOS & set(PROVIDERS)


def test_local_fault_is_a_connection_failure_and_exported() -> None:
    import llmswitch

    err = errors.LocalFault("x", cause="EMFILE: Too many open files", provider="p")
    assert isinstance(err, errors.ConnectionFailed)
    assert (err.kind, err.cause, err.provider) == (FailureKind.CONNECTION, err.cause, "p")
    assert llmswitch.LocalFault is errors.LocalFault


# --- httpx (sync): a transport double raising what httpcore raises --------------------------------


class RaisingTransport(httpx.BaseTransport):
    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(str(self.exc), request=request) from self.exc


def sync_with(exc: Exception) -> HttpxTransport:
    return HttpxTransport(client=httpx.Client(transport=RaisingTransport(exc)))


@pytest.mark.parametrize("code", LOCAL, ids=errno.errorcode.get)
def test_sync_local_errno_is_local_fault(code: int) -> None:
    with pytest.raises(errors.LocalFault) as info:
        sync_with(os_error(code)).send(req(), CTX)
    assert_local(info.value, code)
    assert isinstance(info.value.__cause__, httpx.ConnectError)


@pytest.mark.parametrize("code", PROVIDERS, ids=errno.errorcode.get)
def test_sync_provider_errno_stays_connection_failed(code: int) -> None:
    with pytest.raises(errors.ConnectionFailed) as info:
        sync_with(os_error(code)).send(req(), CTX)
    assert not isinstance(info.value, errors.LocalFault)


def test_sync_local_errno_deep_in_the_chain() -> None:
    try:
        try:
            raise os_error(errno.ENETUNREACH)
        except OSError:
            raise RuntimeError("wrapped by some layer") from None  # only __context__ links it
    except RuntimeError as exc:
        wrapped = exc
    with pytest.raises(errors.LocalFault) as info:
        sync_with(wrapped).send(req(), CTX)
    assert_local(info.value, errno.ENETUNREACH)


def test_sync_dns_failure_stays_connection_failed() -> None:
    # EAI_* codes are not errnos; one can equal ENOMEM's number on some platforms.
    gai = socket.gaierror(errno.ENOMEM, "Name or service not known")
    with pytest.raises(errors.ConnectionFailed) as info:
        sync_with(gai).send(req(), CTX)
    assert not isinstance(info.value, errors.LocalFault)


def test_sync_stream_open_local_fault() -> None:
    with (
        pytest.raises(errors.LocalFault) as info,
        sync_with(os_error(errno.EMFILE)).stream(req(), CTX),
    ):
        pass
    assert_local(info.value, errno.EMFILE)


@pytest.fixture
def refused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_sync_real_refused_is_not_local(refused_port: int) -> None:
    transport = HttpxTransport(timeout=2.0, connect_timeout=1.0)
    try:
        with pytest.raises(errors.ConnectionFailed) as info:
            transport.send(req(f"http://127.0.0.1:{refused_port}/"), CTX)
    finally:
        transport.close()
    assert not isinstance(info.value, errors.LocalFault)


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        yield sock


def test_sync_real_emfile_in_a_subprocess(listener: socket.socket) -> None:
    """Exhaust this process's file descriptors for real: connecting then fails with EMFILE."""
    port = listener.getsockname()[1]
    code = textwrap.dedent(
        f"""
        import os, resource
        from llmswitch import LocalFault
        from llmswitch._transport import HttpxTransport
        from llmswitch._wire import CallContext, HttpRequest

        transport = HttpxTransport(timeout=2.0, connect_timeout=1.0)  # loads TLS certs first
        ctx = CallContext(provider="local", model="m", key_alias="main")
        request = HttpRequest(method="GET", url="http://127.0.0.1:{port}/", headers={{}}, json=None)
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(256, soft), hard))
        held = []
        try:
            while True:
                held.append(os.open(os.devnull, os.O_RDONLY))
        except OSError:
            pass
        try:
            transport.send(request, ctx)
        except LocalFault as err:
            print("LOCAL", err.cause, err.provider)
        except Exception as err:
            print("OTHER", type(err).__name__, err)
        else:
            print("SENT")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split(" ", 1)[0] == "LOCAL", done.stdout + done.stderr
    assert done.stdout.strip() == f"LOCAL EMFILE: {os.strerror(errno.EMFILE)} local"


# --- aiohttp (async): a real TCPConnector whose socket factory fails ----------------------------


@asynccontextmanager
async def session_with(connector: aiohttp.BaseConnector) -> AsyncIterator[AiohttpTransport]:
    async with aiohttp.ClientSession(connector=connector) as session:
        yield AiohttpTransport(session=session)


def async_with(exc: BaseException) -> AbstractAsyncContextManager[AiohttpTransport]:
    """A transport over a real ``TCPConnector`` whose every ``socket()`` raises ``exc``."""

    def socket_factory(addr_info: object) -> socket.socket:
        raise exc

    return session_with(aiohttp.TCPConnector(socket_factory=socket_factory))


@pytest.mark.parametrize("code", LOCAL, ids=errno.errorcode.get)
async def test_async_local_errno_is_local_fault(code: int) -> None:
    async with async_with(os_error(code)) as transport:
        with pytest.raises(errors.LocalFault) as info:
            await transport.send(req(), CTX)
    assert_local(info.value, code)
    assert isinstance(info.value.__cause__, aiohttp.ClientConnectorError)


@pytest.mark.parametrize("code", PROVIDERS, ids=errno.errorcode.get)
async def test_async_provider_errno_stays_connection_failed(code: int) -> None:
    async with async_with(os_error(code)) as transport:
        with pytest.raises(errors.ConnectionFailed) as info:
            await transport.send(req(), CTX)
    assert not isinstance(info.value, errors.LocalFault)


async def test_async_stream_open_local_fault() -> None:
    async with async_with(os_error(errno.ENETUNREACH)) as transport:
        with pytest.raises(errors.LocalFault) as info:
            async with transport.stream(req(), CTX, stall_timeout=1.0):
                pass
    assert_local(info.value, errno.ENETUNREACH)


async def test_async_dns_failure_stays_connection_failed() -> None:
    class FailingResolver(aiohttp.abc.AbstractResolver):
        async def resolve(self, host: str, port: int = 0, family: int = 0) -> list[object]:  # type: ignore[override]
            raise socket.gaierror(errno.ENOMEM, "Name or service not known")

        async def close(self) -> None:
            pass

    async with session_with(aiohttp.TCPConnector(resolver=FailingResolver())) as transport:
        with pytest.raises(errors.ConnectionFailed) as info:
            await transport.send(req("http://provider.invalid/"), CTX)
    assert not isinstance(info.value, errors.LocalFault)
    assert isinstance(info.value.__cause__, aiohttp.ClientConnectorDNSError)


async def test_async_real_refused_is_not_local(refused_port: int) -> None:
    transport = AiohttpTransport(timeout=2.0, connect_timeout=1.0)
    try:
        with pytest.raises(errors.ConnectionFailed) as info:
            await transport.send(req(f"http://127.0.0.1:{refused_port}/"), CTX)
    finally:
        await transport.aclose()
    assert not isinstance(info.value, errors.LocalFault)
