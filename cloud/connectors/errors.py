"""Errors of the ERP/CRM connectors: one root, four outcomes a delivery can act on.

    ConnectorError            root; `retryable` says whether sending again may help
    ├── AuthFailed            credentials or permissions refused (retry once fixed)
    ├── RateLimited           the system asks us to slow down (`retry_after_s`)
    ├── Unavailable           network, timeout, a lost answer, 5xx (retry)
    ├── Rejected              the system refused the data itself (do not retry)
    │   └── RemoteNotFound    the remote record is gone (deleted, wrong id)
    ├── AddressRefused        the URL leads to a non-public address nobody allowlisted
    └── UnsupportedChange     the system has no such step for this record type

Messages name the system and carry its own words (Odoo's `data.name` and
`data.message`, ERPNext's `exc_type` and `_server_messages`), never a secret
and never a request body (an Odoo call carries the password in its arguments).
"""

from __future__ import annotations

from typing import ClassVar

from cloud.errors import CloudError


class ConnectorError(CloudError):
    """Root of the connectors' errors.

    `system` is the connector kind (`odoo`, `erpnext`); `remote_type` the
    system's own name for the error when it gave one (`odoo.exceptions.
    ValidationError`, `LinkValidationError`); `status_code` the HTTP status
    when there was an answer; `detail` the system's message.
    """

    retryable: ClassVar[bool] = False

    def __init__(
        self,
        system: str,
        detail: str,
        *,
        status_code: int | None = None,
        remote_type: str | None = None,
    ) -> None:
        kind = f" {remote_type}" if remote_type else ""
        status = f" (HTTP {status_code})" if status_code is not None else ""
        super().__init__(f"{system}{status}:{kind}{':' if kind else ''} {detail}")
        self.system = system
        self.detail = detail
        self.status_code = status_code
        self.remote_type = remote_type


class AuthFailed(ConnectorError):
    """The system refused our credentials (bad key, revoked user) or this user may not
    do this (missing rights). Nothing is wrong with the order: keep it and retry after
    someone fixed the credentials."""

    retryable = True


class RateLimited(ConnectorError):
    """The system answered 429: wait `retry_after_s` (None: it did not say) and retry."""

    retryable = True

    def __init__(
        self,
        system: str,
        detail: str,
        *,
        retry_after_s: float | None,
        status_code: int | None = 429,
        remote_type: str | None = None,
    ) -> None:
        super().__init__(system, detail, status_code=status_code, remote_type=remote_type)
        self.retry_after_s = retry_after_s


class Unavailable(ConnectorError):
    """No usable answer: unreachable, timed out, the connection dropped before the
    answer (the call may or may not have happened), 5xx, an answer that is not the
    protocol's. Retry; a create is safe to retry because it looks up first."""

    retryable = True


class Rejected(ConnectorError):
    """The system refused the data itself (a mandatory field, an unknown product or
    partner, a state that does not allow the step). Sending it again will not help."""


class RemoteNotFound(Rejected):
    """The remote record named by a reference does not exist (any more)."""


class UnsupportedChange(ConnectorError):
    """This connector cannot make this change on this record type (e.g. `ship` on an
    ERPNext order, which ships through a Delivery Note)."""


class AddressRefused(ConnectorError):
    """The system's host resolves to a loopback, private, link-local or metadata address
    that the allowlist does not name: nothing was sent (server-side request forgery
    guard). Allowlist it (`[connectors] allow_private`, or `--allow-private` for
    `vmi connector check`) if the ERP really is on the company network."""
