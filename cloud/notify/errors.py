"""Errors of the webhook notifier: one root, each carrying its context as attributes."""

from __future__ import annotations

from cloud.errors import CloudError


class NotifyError(CloudError):
    """Root of the webhook notifier's errors."""


class InvalidSubscription(NotifyError):
    """A subscription's settings are not acceptable (bad URL, weak secret, unknown kind)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid webhook subscription: " + "; ".join(problems))
        self.problems = problems


class UnknownSubscription(NotifyError, KeyError):
    """No webhook subscription has this id."""

    def __init__(self, subscription_id: int) -> None:
        super().__init__(subscription_id)
        self.subscription_id = subscription_id

    def __str__(self) -> str:
        return f"no webhook subscription #{self.subscription_id}"


class BlockedAddress(NotifyError):
    """A webhook host resolves to an address deliveries may not reach (loopback, private,
    link-local, ...), and no allowlist entry lets this subscription reach it."""

    def __init__(self, host: str, address: str, reason: str) -> None:
        where = f"{address} is" if host.strip("[]") == address else f"{host} resolves to {address},"
        super().__init__(
            f"{where} a {reason} address: not sent there "
            "(an admin may allowlist it: [notify] allow_private)"
        )
        self.host = host
        self.address = address
        self.reason = reason


class TooManySubscriptions(NotifyError):
    """A tenant already has as many active subscriptions as it may."""

    def __init__(self, role: str, tenant: str, limit: int) -> None:
        super().__init__(
            f"{role} {tenant} already has {limit} active webhook subscriptions, the most "
            "allowed: revoke or delete one first"
        )
        self.role = role
        self.tenant = tenant
        self.limit = limit
