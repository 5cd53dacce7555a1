"""How long and how much the gateway waits for a client: the defaults and why they are safe.

A client that sends its headers one byte a second, a body shorter than its ``Content-Length``,
or a 50 MB body would otherwise hold a connection (a file descriptor) or memory for as long as it
likes. With enough of them the process runs out of file descriptors, its own outbound connects
fail, and healthy calls fail with them. Every limit here bounds one of those resources; each is an
option of ``llmswitch serve`` and an argument of ``BackgroundServer``, so tests use small values.

Defaults, and why:

- ``header_timeout`` 10 s: a real client sends its request line and headers in one write; ten
  seconds covers a slow network many times over (Go's servers commonly use 10 s too).
- ``body_timeout`` 30 s: the whole body, from the end of the headers; a maximal 20 MiB body at
  30 s needs 0.7 MB/s, slower than any loopback or LAN link.
- ``keep_alive_timeout`` 5 s: uvicorn's default for an idle connection between requests.
- ``max_connections``: half of this process's open-file limit, at most 1,024 (512 under the
  common limit of 1,024). The other half stays free for the outbound connections to providers,
  the state store and the logs, so a flood of clients can never starve a call of a socket.
- ``max_body_bytes`` 20 MiB: Gemini's limit for a whole request with inline data, the largest
  of the free tiers this gateway fronts; a chat request without images is a few kilobytes.
- ``max_header_bytes`` 64 KiB: four times nginx's default header buffers; a bearer token and
  the usual headers take under 1 KiB.

Example:
    >>> ServerLimits(header_timeout=0.2).header_timeout
    0.2
"""

from __future__ import annotations

from dataclasses import dataclass, field

try:
    import resource
except ImportError:  # Windows has no rlimits; its own handle limit is far higher
    resource = None  # type: ignore[assignment]

MiB = 1024 * 1024
CONNECTIONS_CEILING = 1024


def default_max_connections() -> int:
    """Half of the soft open-file limit (at least 16), at most ``CONNECTIONS_CEILING``."""
    if resource is None:
        return CONNECTIONS_CEILING // 2
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return CONNECTIONS_CEILING
    return max(16, min(CONNECTIONS_CEILING, soft // 2))


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """The gateway's limits per connection and request (see the module docstring for why).

    Args:
        header_timeout: seconds from a connection's open (or a keep-alive request's first byte)
            to the end of its headers; then 408 and the connection closes.
        body_timeout: seconds from the end of the headers to the end of the body; then 408.
        keep_alive_timeout: seconds an idle keep-alive connection stays open.
        max_connections: open client connections; one more is answered 503 and closed.
        max_body_bytes: a larger body (declared or sent) is answered 413 unread.
        max_header_bytes: larger request headers are answered 431.
    """

    header_timeout: float = 10.0
    body_timeout: float = 30.0
    keep_alive_timeout: float = 5.0
    max_connections: int = field(default_factory=default_max_connections)
    max_body_bytes: int = 20 * MiB
    max_header_bytes: int = 64 * 1024

    def __post_init__(self) -> None:
        for name in ("header_timeout", "body_timeout", "keep_alive_timeout"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be a positive number of seconds")
        for name in ("max_connections", "max_body_bytes", "max_header_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
