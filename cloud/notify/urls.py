"""Webhook URLs as they may be shown: never with the credentials they may carry.

* `redacted_url`: for API answers and anything a person reads about a
  subscription: user info becomes `***`, and so does the value of every
  query parameter whose name looks like a credential (`token`, `key`,
  `secret`, `password`, `sig`, ...). The rest stays, so the URL is still
  recognisable.
* `shown_url`: for log lines: scheme, host, port and path only (no user
  info, query or fragment at all).
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit, urlunsplit

REDACTED = "***"

_CREDENTIAL_WORDS = (
    "token",
    "key",
    "secret",
    "pass",
    "pwd",
    "auth",
    "sig",
    "credential",
    "session",
    "jwt",
    "bearer",
)
"""A query parameter whose name contains one of these (case-insensitive) is redacted."""


def _netloc(host: str, port: int | None) -> str:
    netloc = f"[{host}]" if ":" in host else host
    return netloc if port is None else f"{netloc}:{port}"


def _host_port(url: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(url)
        return parts.scheme, parts.hostname or "", parts.port
    except ValueError:
        return None


def shown_url(url: str) -> str:
    """`url` fit for a log line: no user info, query string or fragment (they may hold tokens)."""
    found = _host_port(url)
    if found is None:
        return "(unparsable URL)"
    scheme, host, port = found
    return urlunsplit((scheme, _netloc(host, port), urlsplit(url).path, "", ""))


def _sensitive(name: str) -> bool:
    folded = unquote(name).lower()
    return any(word in folded for word in _CREDENTIAL_WORDS)


def redacted_url(url: str) -> str:
    """`url` with its user info and credential-like query values replaced by `***`."""
    found = _host_port(url)
    if found is None:
        return "(unparsable URL)"
    scheme, host, port = found
    parts = urlsplit(url)
    netloc = _netloc(host, port)
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        netloc = f"{REDACTED}@{netloc}"
    query = "&".join(_redact_pair(pair) for pair in parts.query.split("&")) if parts.query else ""
    return urlunsplit((scheme, netloc, parts.path, query, ""))


def _redact_pair(pair: str) -> str:
    name, sep, value = pair.partition("=")
    if sep and value and _sensitive(name):
        return f"{name}={REDACTED}"
    return pair
