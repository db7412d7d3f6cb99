"""Zoho CRM's answers, read: records, per-record results and errors, mapped onto the
connector errors.

An error is `{"code": "INVALID_DATA", "details": {"api_name": ..., "json_path": ...},
"message": "invalid data", "status": "error"}`, either as the whole body or, for a
write, as the record's entry in `{"data": [...]}` (then the HTTP status is 400 for a
single record, 207 for a mixed batch).
"""

from __future__ import annotations

import json
from typing import Any

from cloud.connectors.errors import (
    AuthFailed,
    ConnectorError,
    RateLimited,
    Rejected,
    RemoteNotFound,
    Unavailable,
)
from cloud.connectors.http import Reply, retry_after_s

SYSTEM = "zoho_crm"

AUTH_CODES = frozenset(
    {"INVALID_TOKEN", "AUTHENTICATION_FAILURE", "OAUTH_SCOPE_MISMATCH", "NO_PERMISSION"}
)
"""A token refused, or a user or client without the right (scope, profile permission)."""

STALE_TOKEN_CODES = frozenset({"INVALID_TOKEN", "AUTHENTICATION_FAILURE"})
"""401 codes after which one new access token may help (it expired or was revoked)."""

GONE_MESSAGES = ("the id given seems to be invalid", "given id is invalid", "no record found")


def loads(body: bytes) -> Any:
    """The JSON of an answer body (an empty body is `{}`); ValueError if it is not JSON."""
    return json.loads(body) if body.strip() else {}


def error_of(body: Any) -> dict[str, Any] | None:
    """The error object of a body: the body itself, or the first error among its records."""
    if not isinstance(body, dict):
        return None
    if isinstance(body.get("code"), str) and body.get("status") == "error":
        return body
    data = body.get("data")
    for item in data if isinstance(data, list) else []:
        if isinstance(item, dict) and item.get("status") == "error":
            return item
    return None


def details_of(error: dict[str, Any]) -> dict[str, Any]:
    """An error's or a result's `details` object (empty when it has none)."""
    details = error.get("details")
    return details if isinstance(details, dict) else {}


def describe(error: dict[str, Any]) -> str:
    """Zoho's message with the field it names: `required field not found (Vendor_Name)`."""
    message = str(error.get("message") or "no message")
    details = details_of(error)
    field = details.get("api_name") or details.get("param_name")
    parent = details.get("parent_api_name")
    if field:
        message += f" ({parent}.{field})" if parent else f" ({field})"
    return message


def record_error(error: dict[str, Any], what: str, status: int | None) -> ConnectorError:
    """The connector error for one record's error entry (or an error body)."""
    code = str(error.get("code") or "ERROR")
    detail = f"{what}: {describe(error)}"
    kw: dict[str, Any] = {"status_code": status, "remote_type": code}
    if code in AUTH_CODES:
        return AuthFailed(SYSTEM, detail, **kw)
    if code == "INTERNAL_ERROR":
        return Unavailable(SYSTEM, detail, **kw)
    details = details_of(error)
    message = str(error.get("message") or "").lower()
    gone = code == "INVALID_URL_PATTERN" or (
        code == "INVALID_DATA"
        and ("id" in details or details.get("api_name") == "id")
        and any(m in message for m in GONE_MESSAGES)
    )
    if gone:
        return RemoteNotFound(SYSTEM, detail, **kw)
    return Rejected(SYSTEM, detail, **kw)


def zoho_error(reply: Reply, what: str) -> ConnectorError:
    """The connector error for a non-2xx answer, with Zoho's own code and message.

    429 `RateLimited`; 401 and 403 (`INVALID_TOKEN`, `AUTHENTICATION_FAILURE`,
    `OAUTH_SCOPE_MISMATCH`, `NO_PERMISSION`) `AuthFailed`; 404 (`INVALID_URL_PATTERN`)
    and an id Zoho does not know `RemoteNotFound`; 5xx, 408 and `INTERNAL_ERROR`
    `Unavailable`; any other 4xx (`INVALID_DATA`, `MANDATORY_NOT_FOUND`, ...) and a
    redirect `Rejected`.
    """
    try:
        body = loads(reply.body)
    except ValueError:
        body = None
    error = error_of(body)
    status = reply.status
    if status == 429:
        said = describe(error) if error else "too many requests"
        return RateLimited(
            SYSTEM,
            f"{what}: {said}",
            retry_after_s=retry_after_s(reply.headers.get("Retry-After")),
            remote_type=str(error.get("code")) if error else None,
        )
    if status >= 500 or status == 408:
        said = describe(error) if error else _text(reply)
        return Unavailable(SYSTEM, f"{what}: {said}", status_code=status)
    if 300 <= status < 400:
        where = reply.headers.get("Location", "elsewhere")
        return Rejected(
            SYSTEM, f"{what}: redirected to {where}: set url to the API domain", status_code=status
        )
    if error is None:
        detail = f"{what}: {_text(reply)}"
        if status in (401, 403):
            return AuthFailed(SYSTEM, detail, status_code=status)
        if status == 404:
            return RemoteNotFound(SYSTEM, detail, status_code=status)
        return Rejected(SYSTEM, detail, status_code=status)
    found = record_error(error, what, status)
    if status in (401, 403) and not isinstance(found, AuthFailed):
        return AuthFailed(SYSTEM, found.detail, status_code=status, remote_type=found.remote_type)
    if status == 404 and not isinstance(found, RemoteNotFound):
        return RemoteNotFound(
            SYSTEM, found.detail, status_code=status, remote_type=found.remote_type
        )
    return found


def _text(reply: Reply) -> str:
    return reply.body[:200].decode("utf-8", "replace").strip() or f"HTTP {reply.status}"
