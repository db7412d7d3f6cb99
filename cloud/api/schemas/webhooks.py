"""Webhook subscriptions: where alerts are POSTed, signed with a secret (`cloud.notify`)."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cloud.api.schemas.common import CleanText
from cloud.notify.models import URL_LIMIT
from cloud.notify.subscriptions import (
    MIN_SECRET_LENGTH,
    TenantRole,
    WebhookSubscriptionCreate,
    WebhookSubscriptionPublic,
)
from vmi.wire import AlertKind, Identifier


class WebhookCreate(CleanText):
    """A new subscription. Without `secret` a strong one is made; either way the answer
    shows it this once. A supplier's or customer's subscription is always its own
    (`tenant` and `tenant_role` are its code and role); only admins choose another
    tenant or none (all alerts).

    The URL must be https:// for suppliers and customers, and its host must not
    resolve to a loopback, private, link-local (cloud metadata), multicast or
    other non-public address (422 saying which). Admins may also use the
    networks and hosts of the `webhook_allow_private` setting, over http:// too.
    Every delivery checks the address it connects to again."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://erp.example.com/vmi/hooks",
                    "description": "ERP replenishment inbox",
                    "kinds": ["reorder", "stockout_imminent"],
                }
            ]
        },
    )

    url: str = Field(min_length=8, max_length=URL_LIMIT, examples=["https://erp.example.com/hook"])
    secret: str | None = Field(
        default=None, min_length=MIN_SECRET_LENGTH, max_length=200, repr=False
    )
    description: str | None = Field(default=None, max_length=200)
    tenant: Identifier | None = Field(default=None, description="A supplier or customer code.")
    tenant_role: TenantRole | None = Field(
        default=None,
        description="Whether `tenant` is a supplier or a customer; admins may leave it out "
        "when the catalog knows the code as one of them only.",
    )
    sites: list[Identifier] = Field(default_factory=list, max_length=1000)
    kinds: list[AlertKind] = Field(default_factory=list, max_length=len(AlertKind))

    @field_validator("url")
    @classmethod
    def _url(cls, url: str) -> str:
        parts = urlsplit(url)  # ValueError for a malformed one, e.g. a bad IPv6 host
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment:
            raise ValueError("a webhook URL is http(s)://host/path, with no #fragment")
        return url

    def spec(self, tenant: str | None, role: TenantRole | None) -> WebhookSubscriptionCreate:
        """The notifier's create request, for `tenant` in `role`."""
        return WebhookSubscriptionCreate(
            url=self.url,
            secret=self.secret,
            description=self.description,
            tenant=tenant,
            tenant_role=role,
            sites=tuple(self.sites),
            kinds=tuple(self.kinds),
        )


class WebhookPublic(WebhookSubscriptionPublic):
    """A subscription: everything but its secret; its URL with credentials redacted."""


class WebhookCreated(BaseModel):
    """A new subscription and, this once, its secret."""

    subscription: WebhookPublic
    secret: str = Field(description="Shown only now: the receiver verifies signatures with it.")
