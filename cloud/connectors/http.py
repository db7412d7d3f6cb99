"""One HTTP exchange with a remote system, its transport failures as `Unavailable`.

`HttpChannel` sends a request to the system's base URL and returns the whole
answer (status, headers, body up to `max_answer_bytes`); what a status means
is the connector's business, except that no answer at all (refused, timed out,
the connection dropped before the answer) is always `Unavailable`. Bodies are
never logged: an Odoo call carries the password in its arguments.

The client is injectable so the service can pass one that enforces where
outbound requests may go; a channel that made its own client closes it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from cloud.connectors.errors import AddressRefused, Unavailable
from cloud.notify.errors import BlockedAddress
from cloud.notify.retry import retry_after_seconds

log = logging.getLogger(__name__)

MAX_ANSWER_BYTES = 8 * 1024 * 1024
"""An order answer is a few kilobytes; anything past this is not one."""


@dataclass(frozen=True)
class Reply:
    """A complete HTTP answer."""

    status: int
    headers: httpx.Headers
    body: bytes


def retry_after_s(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a `Retry-After` header asks to wait, as the webhook sender reads it
    (`cloud.notify.retry.retry_after_seconds`), as of `now` (default: the clock now)."""
    return retry_after_seconds(value, now or datetime.now(UTC))


class HttpChannel:
    """Requests to one system's base URL."""

    def __init__(
        self,
        system: str,
        base_url: str,
        *,
        timeout_s: float,
        client: httpx.Client | None = None,
        proxy: str | None = None,
        max_answer_bytes: int = MAX_ANSWER_BYTES,
    ) -> None:
        """`client`: use this one (not closed here); else one is made with `timeout_s`,
        no redirects followed and no proxy from the environment (only `proxy`)."""
        self.system = system
        self.base_url = base_url.rstrip("/")
        self._timeout_s = timeout_s
        self._max = max_answer_bytes
        self._owned = client is None
        self._client = client or httpx.Client(
            timeout=timeout_s, follow_redirects=False, trust_env=False, proxy=proxy
        )

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """Send one request to `base_url + path` and read the whole answer.

        Raises `AddressRefused` when the client is guarded (the service's) and the
        host is not a public address the allowlist lets through, and `Unavailable`
        when no complete answer came: the system could not
        be reached, did not answer in time, dropped the connection (the call
        may have been carried out), or sent more than `max_answer_bytes`.
        """
        url = self.base_url + path
        started = time.monotonic()
        try:
            with self._client.stream(
                method,
                url,
                params=params,
                json=json,
                content=content,
                headers=headers,
                timeout=self._timeout_s,
            ) as answer:
                body = bytearray()
                for chunk in answer.iter_bytes():
                    body += chunk
                    if len(body) > self._max:
                        raise Unavailable(
                            self.system,
                            f"{method} {url}: the answer is larger than {self._max} bytes",
                            status_code=answer.status_code,
                        )
                reply = Reply(answer.status_code, answer.headers, bytes(body))
        except BlockedAddress as exc:
            raise AddressRefused(
                self.system,
                f"{method} {url}: {exc.host} is {exc.address}, a {exc.reason} address: not sent "
                "(allowlist it in [connectors] allow_private, or with --allow-private)",
            ) from None
        except httpx.TimeoutException:
            raise Unavailable(
                self.system, f"{method} {url}: no answer within {self._timeout_s:g} s"
            ) from None
        except httpx.RemoteProtocolError:
            raise Unavailable(
                self.system,
                f"{method} {url}: the connection closed before a complete answer "
                "(the call may have been carried out)",
            ) from None
        except httpx.ConnectError as exc:
            raise Unavailable(self.system, f"{method} {url}: cannot connect ({exc})") from None
        except httpx.HTTPError as exc:
            raise Unavailable(self.system, f"{method} {url}: {type(exc).__name__}: {exc}") from None
        log.debug(
            "%s: %s %s -> %d (%.0f ms, %d bytes)",
            self.system,
            method,
            url,
            reply.status,
            (time.monotonic() - started) * 1000,
            len(reply.body),
        )
        return reply

    def close(self) -> None:
        """Close the client if this channel made it."""
        if self._owned:
            self._client.close()
