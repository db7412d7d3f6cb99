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
