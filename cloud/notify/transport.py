"""The HTTP client webhooks are sent with: it connects only where `AddressPolicy` allows,
and no attempt outlives its deadline.

    http = guarded_client(policy, timeout_s=10)
    with attempt_limits(deadline_s=30, private_ok=False):
        http.post(url, ...)

How the address is checked (DNS rebinding). httpx hands the connection to
httpcore, which asks its *network backend* to `connect_tcp(host, port)`.
`GuardedBackend` is that backend: it resolves `host` once (through the
policy's resolver), refuses the connection if *any* address is not allowed
(`BlockedAddress`), and connects a TCP socket to one of the addresses it
checked, by IP. No second lookup happens between the check and the connect,
so an answer that changes (rebinding) cannot slip through. The request
itself is untouched: its URL still names the host, so the `Host` header is
the host's, and for https httpcore starts TLS with `server_hostname` = the
host, which sends it as SNI and verifies the certificate against it (not
against the IP). Connections are not kept alive: each attempt opens (and
checks) its own, so a connection opened for one subscription never serves
another with a different allowance. Environment proxies are ignored (a
proxy would connect where we did not check).

How the deadline holds. Per-phase timeouts (connect, read, write) restart
at every read, so a receiver trickling a byte a second would keep an
attempt alive forever. `attempt_limits` sets a deadline for the attempt
(in this thread's context); the backend bounds the DNS lookup, the TCP
connect, the TLS handshake and every read and write by the time left, and
fails the next one once it has passed (`httpcore.ReadTimeout` and friends,
which httpx raises as its own timeouts).
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from cloud.notify.errors import BlockedAddress
from cloud.notify.guard import AddressPolicy, Unresolvable

_WRITE_CHUNK = 16 * 1024


@dataclass(frozen=True)
class AttemptLimits:
    """What bounds the current attempt: a deadline (`time.monotonic()`; None: none) and
    whether the allowlist applies (the subscription was made by an admin)."""

    deadline: float | None = None
    private_ok: bool = False

    def remaining(self, timeout: float | None, expired: type[Exception], what: str) -> float | None:
        """`timeout` shortened to the time left; raises `expired` once none is left."""
        if self.deadline is None:
            return timeout
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise expired(f"the attempt's deadline passed ({what})")
        return left if timeout is None else min(timeout, left)

    @contextmanager
    def bounded(self, expired: type[Exception], what: str) -> Iterator[None]:
        """Say so when a timeout inside was the deadline's, not the phase's own."""
        try:
            yield
        except expired as exc:
            if self.deadline is not None and time.monotonic() >= self.deadline - 0.01:
                raise expired(f"the attempt's deadline passed ({what})") from exc
            raise


_NO_LIMITS = AttemptLimits()
_LIMITS: ContextVar[AttemptLimits | None] = ContextVar("webhook_attempt_limits", default=None)


def current_limits() -> AttemptLimits:
    """The limits of the attempt running in this context (none set: no deadline, no
    allowlist)."""
    return _LIMITS.get() or _NO_LIMITS


@contextmanager
def attempt_limits(deadline_s: float | None, *, private_ok: bool) -> Iterator[AttemptLimits]:
    """Run one attempt within `deadline_s` seconds from now (None: no deadline)."""
    deadline = None if deadline_s is None else time.monotonic() + deadline_s
    limits = AttemptLimits(deadline, private_ok)
    token = _LIMITS.set(limits)
    try:
        yield limits
    finally:
        _LIMITS.reset(token)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every operation ends by the attempt's deadline."""

    def __init__(self, inner: httpcore.NetworkStream, limits: AttemptLimits) -> None:
        self._inner = inner
        self._limits = limits

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        what = "reading the answer"
        left = self._limits.remaining(timeout, httpcore.ReadTimeout, what)
        with self._limits.bounded(httpcore.ReadTimeout, what):
            return self._inner.read(max_bytes, left)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        # In chunks, so a receiver that reads slowly cannot stretch one write.
        for start in range(0, len(buffer), _WRITE_CHUNK):
            left = self._limits.remaining(timeout, httpcore.WriteTimeout, "sending")
            with self._limits.bounded(httpcore.WriteTimeout, "sending"):
                self._inner.write(buffer[start : start + _WRITE_CHUNK], left)

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        what = "the TLS handshake"
        left = self._limits.remaining(timeout, httpcore.ConnectTimeout, what)
        with self._limits.bounded(httpcore.ConnectTimeout, what):
            secured = self._inner.start_tls(ssl_context, server_hostname, left)
        return _DeadlineStream(secured, self._limits)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """Connects to checked addresses only (see the module's docstring)."""

    def __init__(self, policy: AddressPolicy, inner: httpcore.NetworkBackend | None = None) -> None:
        self._policy = policy
        self._inner = inner or httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        limits = current_limits()
        left = limits.remaining(timeout, httpcore.ConnectTimeout, "resolving the host")
        try:
            addresses = self._policy.resolve(host, left)
        except Unresolvable as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        for address in addresses:  # every one, before connecting to any
            blocked = self._policy.refusal(host, address, private_ok=limits.private_ok)
            if blocked is not None:
                raise BlockedAddress(blocked.host, blocked.address, blocked.reason)
        failure: Exception | None = None
        for address in addresses:
            left = limits.remaining(timeout, httpcore.ConnectTimeout, "connecting")
            try:
                with limits.bounded(httpcore.ConnectTimeout, "connecting"):
                    stream = self._inner.connect_tcp(
                        str(address), port, left, local_address, socket_options
                    )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc  # try the next address
                continue
            return _DeadlineStream(stream, limits)
        assert failure is not None
        raise failure

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("webhooks are not sent over unix sockets")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


_EXCEPTIONS: tuple[tuple[type[Exception], type[httpx.HTTPError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)
"""httpcore's errors as httpx's, most specific first (what httpx's own transport does)."""


@contextmanager
def _as_httpx_errors() -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        for theirs, ours in _EXCEPTIONS:
            if isinstance(exc, theirs):
                raise ours(str(exc)) from exc
        raise


class _ResponseStream(httpx.SyncByteStream):
    def __init__(self, stream: Iterable[bytes]) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        with _as_httpx_errors():
            yield from self._stream

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


class GuardedTransport(httpx.BaseTransport):
    """An httpx transport over `GuardedBackend`, with no keep-alive and no proxy."""

    def __init__(
        self,
        policy: AddressPolicy,
        *,
        verify: ssl.SSLContext | bool = True,
        max_connections: int = 100,
    ) -> None:
        context = verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify)
        self._pool = httpcore.ConnectionPool(
            ssl_context=context,
            max_connections=max_connections,
            max_keepalive_connections=0,
            network_backend=GuardedBackend(policy),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _as_httpx_errors():
            response = self._pool.handle_request(core_request)
        assert isinstance(response.stream, Iterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(response.stream),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._pool.close()


def guarded_client(
    policy: AddressPolicy,
    *,
    timeout_s: float,
    headers: dict[str, str] | None = None,
    verify: ssl.SSLContext | bool = True,
    max_connections: int = 100,
) -> httpx.Client:
    """An httpx client for webhooks: guarded connections, `timeout_s` per phase, redirects
    not followed (a signed event goes only to the host the subscription names)."""
    return httpx.Client(
        transport=GuardedTransport(policy, verify=verify, max_connections=max_connections),
        timeout=httpx.Timeout(timeout_s),
        follow_redirects=False,
        headers=headers,
        trust_env=False,
    )
