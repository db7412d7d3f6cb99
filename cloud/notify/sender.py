"""One webhook attempt over HTTP: sign, POST, read the answer. No SQL, no retries here.

The answer says what happened and whether it is worth another try
(`cloud.notify.retry`). Errors are turned into short text for the delivery
log, with the secret and the URL's user info and query removed. User info in
a subscription's URL (`https://user:password@host/...`) is sent as basic
auth, never as part of the URL. A token in the query string is part of the
URL, which httpx logs at INFO: the `vmi` command keeps httpx at WARNING, and
receivers should rely on the signature rather than on URL tokens anyway.

Each attempt runs within `deadline_s` in all (DNS, connect, TLS, sending,
the answer's status line, headers and excerpt; `cloud.notify.transport`), and
only to addresses the client's `AddressPolicy` allows for the subscription
(`WebhookTarget.allow_private`). A refused address is not retried: the
subscription names a place webhooks do not go.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import httpx

from cloud.notify.errors import BlockedAddress
from cloud.notify.models import ERROR_LIMIT, utcnow
from cloud.notify.payload import delivery_headers
from cloud.notify.retry import is_retryable, is_success, retry_after_seconds
from cloud.notify.subscriptions import WebhookTarget
from cloud.notify.transport import attempt_limits
from cloud.notify.urls import REDACTED, shown_url

__all__ = ["Answer", "Outgoing", "post_event", "shown_url"]

_EXCERPT_BYTES = 200


@dataclass(frozen=True)
class Answer:
    """What one attempt got: a status (None for a network error), an error text, whether
    to retry, and how long the receiver asked to wait (`Retry-After`)."""

    status: int | None
    error: str | None
    retryable: bool
    retry_after_s: float | None = None

    @property
    def delivered(self) -> bool:
        return self.status is not None and is_success(self.status)


@dataclass(frozen=True)
class Outgoing:
    """One event to send: its id, type and the exact body."""

    event_id: str
    event_type: str
    body: bytes


def post_event(
    http: httpx.Client,
    target: WebhookTarget,
    event: Outgoing,
    attempt: int,
    *,
    deadline_s: float | None = None,
) -> Answer:
    """POST `event` to `target`, signed now; never raises for what the network or receiver does.

    `http` should come from `cloud.notify.transport.guarded_client`: it checks
    the addresses and holds `deadline_s` (the whole attempt, from now). Redirects
    are not followed (`http` should be made with follow_redirects off): a signed
    event goes only to the host the subscription names.
    """
    headers = delivery_headers(
        target.secret,
        event.body,
        event_id=event.event_id,
        event_type=event.event_type,
        attempt=attempt,
        timestamp=int(time.time()),
    )
    try:
        url, auth = _split_credentials(target.url)
        with (
            attempt_limits(deadline_s, private_ok=target.allow_private),
            http.stream("POST", url, content=event.body, headers=headers, auth=auth) as response,
        ):
            status = response.status_code
            retry_after = retry_after_seconds(response.headers.get("Retry-After"), utcnow())
            # The status is the answer; the body only explains a refusal.
            excerpt = "" if is_success(status) else _excerpt(response)
    except BlockedAddress as exc:  # not where webhooks go: the same next time
        return Answer(None, _scrub(exc, target), retryable=False)
    except httpx.TransportError as exc:  # connect, timeouts, protocol: try again later
        return Answer(None, _scrub(exc, target), retryable=True)
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:  # this URL cannot work
        return Answer(None, _scrub(exc, target), retryable=False)
    if is_success(status):
        return Answer(status, None, retryable=False)
    error = f"HTTP {status}" + (f": {excerpt}" if excerpt else "")
    if 300 <= status < 400:
        error += " (redirects are not followed: subscribe the final URL)"
    return Answer(status, error[:ERROR_LIMIT], is_retryable(status), retry_after)


def _split_credentials(url: str) -> tuple[httpx.URL, httpx.BasicAuth | None]:
    """The URL without user info, and that user info as basic auth: httpx logs the
    request URL (at INFO), and a password must not be in it."""
    parsed = httpx.URL(url)
    if not parsed.userinfo:
        return parsed, None
    return parsed.copy_with(userinfo=b""), httpx.BasicAuth(parsed.username, parsed.password)


def _excerpt(response: httpx.Response) -> str:
    """The start of the answer's body, on one line (never the whole body)."""
    chunk = b""
    try:
        for part in response.iter_raw():
            chunk += part
            if len(chunk) >= _EXCERPT_BYTES:
                break
    except httpx.HTTPError:  # a body cut short: the status still stands
        pass
    text = chunk[:_EXCERPT_BYTES].decode("utf-8", errors="replace")
    return " ".join(text.split())


def _scrub(exc: Exception, target: WebhookTarget) -> str:
    """The error as text, without the secret, the URL's credentials or its query."""
    text = f"{type(exc).__name__}: {exc}".replace(target.secret, REDACTED)
    shown = shown_url(target.url)
    forms, pieces = _url_parts(target.url)
    for form in forms:  # the URL as an error might quote it: shown without its secrets
        text = text.replace(form, shown)
    for piece in pieces:
        text = text.replace(piece, REDACTED)
    return text[:ERROR_LIMIT]


def _url_parts(url: str) -> tuple[list[str], list[str]]:
    """The forms an error might quote `url` in, and the pieces of it that may be
    credentials (user info, the query and its values); each list longest first."""
    forms, pieces = {url}, set()
    try:
        parts = urlsplit(url)
        forms.add(str(_split_credentials(url)[0]))
        pieces.add(parts.query)
        pieces |= {pair.partition("=")[2] for pair in parts.query.split("&")}
        for value in (parts.username, parts.password):
            if value:
                pieces |= {value, unquote(value)}
    except (ValueError, httpx.InvalidURL):
        pass

    def longest_first(found: set[str]) -> list[str]:
        return sorted((f for f in found if len(f) >= 3), key=len, reverse=True)

    return longest_first(forms), longest_first(pieces)
