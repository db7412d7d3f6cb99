"""Webhook subscriptions as a service: create, list, get, revoke, delete, match.

    subs = WebhookSubscriptions("sqlite:///vmi.db")
    created = subs.create(WebhookSubscriptionCreate(
        url="https://erp.example.com/vmi/hooks", tenant="fastenal", tenant_role="supplier",
        kinds=("reorder",)))
    created.secret        # shown once: hand it to the receiver, it verifies signatures with it
    subs.entries()        # WebhookSubscriptionPublic: never the secret
    subs.revoke(created.subscription.id)

The secret is returned by `create` and `rotate_secret` only. `entries`
and `get` (and so any API built on them) never include it: a lost secret is
replaced with `rotate_secret`, not read back. The URL they show is redacted
(`cloud.notify.urls.redacted_url`: user info and credential-like query values
become `***`); only the notifier's `WebhookTarget` holds it whole.

Filters: `tenant` (a supplier or customer code, with its `tenant_role`),
`sites` and `kinds`. An empty filter matches everything; the filters that are
set must all match. A tenant is a (role, code) pair: a supplier and a
customer with the same code are two tenants, and neither sees or receives
the other's. Which tenants an alert concerns comes from the catalog
(`CatalogTenants`): the customer owning the site, the supplier managing the
SKU there, and for a sensor alert the suppliers of what the device reports.

`create` can also check the URL against an `AddressPolicy` (the API does:
no loopback, private or metadata addresses, https for non-admins; see
`cloud.notify.guard`) and cap a tenant's active subscriptions
(`TooManySubscriptions`). Callers of this class are trusted code, so by
default a subscription is an admin's (`admin=True`): it may reach the
notifier's allowlisted private addresses (`allow_private`).
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Annotated, NamedTuple
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from cloud.catalog import Catalog, SiteSpec
from cloud.catalog.models import Customer, Supplier
from cloud.db import store_errors
from cloud.notify.errors import InvalidSubscription, TooManySubscriptions, UnknownSubscription
from cloud.notify.guard import AddressPolicy, subscription_problems
from cloud.notify.models import (
    URL_LIMIT,
    DeliveryStatus,
    WebhookDelivery,
    WebhookSubscription,
    open_engine,
    utcnow,
)
from cloud.notify.urls import redacted_url
from vmi.wire import Alert, AlertKind, Identifier

_DATABASE = "webhook database"  # named in StoreUnavailable messages

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
MIN_SECRET_LENGTH = 24
DEFAULT_MAX_PER_TENANT = 20
"""Active subscriptions one tenant may have, unless the caller says otherwise."""


class TenantRole(StrEnum):
    """Which kind of tenant a code names (the API key roles of the same names)."""

    SUPPLIER = "supplier"
    CUSTOMER = "customer"


class Tenant(NamedTuple):
    """A tenant: its role and its code. ("supplier", "acme") is not ("customer", "acme")."""

    role: TenantRole
    code: str


def new_secret() -> str:
    """A strong random signing secret: `whsec_` and 256 random bits, URL-safe base64."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError("a webhook URL starts with https:// (or http://)")
    if not parts.hostname:
        raise ValueError("a webhook URL names a host")
    if parts.fragment:
        raise ValueError("a webhook URL has no #fragment")
    return url


WebhookUrl = Annotated[str, Field(min_length=8, max_length=URL_LIMIT)]


class WebhookSubscriptionCreate(BaseModel):
    """What a new subscription asks for. Without `secret`, a strong one is made."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: WebhookUrl
    secret: str | None = Field(default=None, min_length=MIN_SECRET_LENGTH, max_length=200)
    description: str | None = Field(default=None, max_length=200)
    tenant: Identifier | None = Field(default=None, description="A supplier or customer code.")
    tenant_role: TenantRole | None = Field(
        default=None,
        description="Whether `tenant` is a supplier or a customer code; without it, the "
        "catalog's (refused if the code is both or neither).",
    )
    sites: tuple[Identifier, ...] = Field(default=(), description="Only these sites; empty: all.")
    kinds: tuple[AlertKind, ...] = Field(default=(), description="Only these kinds; empty: all.")

    @field_validator("url")
    @classmethod
    def _url(cls, url: str) -> str:
        return _check_url(url)


class WebhookSubscriptionPublic(BaseModel):
    """A subscription as every reader sees it: everything but the secret."""

    model_config = ConfigDict(frozen=True)

    id: int
    url: str = Field(description="Redacted: user info and credential-like query values are ***.")
    description: str | None
    tenant: str | None
    tenant_role: TenantRole | None
    allow_private: bool = Field(
        description="Made by an admin: may reach the notifier's allowlisted private addresses."
    )
    sites: tuple[str, ...]
    kinds: tuple[AlertKind, ...]
    active: bool
    created_at: datetime
    revoked_at: datetime | None


class WebhookSubscriptionCreated(BaseModel):
    """What `create` returns: the subscription and, this once, its secret."""

    model_config = ConfigDict(frozen=True)

    subscription: WebhookSubscriptionPublic
    secret: str = Field(repr=False)


@dataclass(frozen=True)
class WebhookTarget:
    """Where and how to send: for the notifier only (it holds the secret)."""

    id: int
    url: str = field(repr=False)  # may carry credentials
    secret: str = field(repr=False)
    allow_private: bool = False


def _target(row: WebhookSubscription) -> WebhookTarget:
    return WebhookTarget(row.id, row.url, row.secret, bool(row.allow_private))


def _public(row: WebhookSubscription) -> WebhookSubscriptionPublic:
    return WebhookSubscriptionPublic(
        id=row.id,
        url=redacted_url(row.url),
        description=row.description,
        tenant=row.tenant,
        tenant_role=None if row.tenant_role is None else TenantRole(row.tenant_role),
        allow_private=bool(row.allow_private),
        sites=tuple(row.sites or ()),
        kinds=tuple(AlertKind(k) for k in row.kinds or ()),
        active=row.active,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def matches(row: WebhookSubscription, alert: Alert, tenants: Collection[Tenant]) -> bool:
    """True if an active subscription's filters all let `alert` through.

    A subscription with a tenant matches when that (role, code) pair is one of
    `tenants`; one with a tenant but no role (made before roles were recorded,
    and ambiguous in the catalog) matches nothing.
    """
    if not row.active:
        return False
    if row.sites and alert.site not in row.sites:
        return False
    if row.kinds and alert.kind.value not in row.kinds:
        return False
    if row.tenant is None:
        return True
    if row.tenant_role is None:
        return False
    return Tenant(TenantRole(row.tenant_role), row.tenant) in tenants


def _cancel_pending(s: Session, subscription_id: int, why: str) -> None:
    s.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.subscription_id == subscription_id,
            WebhookDelivery.status == DeliveryStatus.PENDING.value,
        )
        .values(
            status=DeliveryStatus.CANCELLED.value,
            next_attempt_at=None,
            last_error=why,
            finished_at=utcnow(),
        )
    )


class WebhookSubscriptions:
    """Webhook subscriptions in SQL (the cloud's database; SQLite or PostgreSQL)."""

    def __init__(self, url: str | Engine) -> None:
        """`url`: an SQLAlchemy URL, or an engine to share."""
        self._owns_engine = isinstance(url, str)
        self.engine = open_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def close(self) -> None:
        """Release the database connections (of an engine this object opened)."""
        if self._owns_engine:
            self.engine.dispose()

    def create(
        self,
        spec: WebhookSubscriptionCreate,
        *,
        admin: bool = True,
        policy: AddressPolicy | None = None,
        max_per_tenant: int | None = DEFAULT_MAX_PER_TENANT,
    ) -> WebhookSubscriptionCreated:
        """Add a subscription; the result carries its secret, which nothing returns again.

        `admin`: made by an admin (the allowlist serves it, and it may use
        http:// for an allowlisted internal receiver). `policy`: check the URL's
        scheme and the addresses its host resolves to now (`InvalidSubscription`
        saying why; None: no check, for trusted callers). `max_per_tenant`: refuse
        (`TooManySubscriptions`) a tenant's subscription beyond this many active
        ones (None: no cap). A `tenant` without `tenant_role` gets the catalog's
        role for that code (`InvalidSubscription` if it is both or neither).
        """
        if policy is not None:
            problems = subscription_problems(spec.url, policy, admin=admin)
            if problems:
                raise InvalidSubscription(problems)
        secret = spec.secret or new_secret()
        with self._transaction() as s:
            role = self._role_of(s, spec)
            if spec.tenant is not None and role is not None and max_per_tenant is not None:
                active = s.scalar(
                    select(func.count())
                    .select_from(WebhookSubscription)
                    .where(
                        WebhookSubscription.tenant == spec.tenant,
                        WebhookSubscription.tenant_role == role.value,
                        WebhookSubscription.active.is_(True),
                    )
                )
                if (active or 0) >= max_per_tenant:
                    raise TooManySubscriptions(role.value, spec.tenant, max_per_tenant)
            row = WebhookSubscription(
                url=spec.url,
                secret=secret,
                description=spec.description,
                tenant=spec.tenant,
                tenant_role=None if role is None else role.value,
                allow_private=admin,
                sites=sorted(set(spec.sites)) or None,
                kinds=sorted({k.value for k in spec.kinds}) or None,
                active=True,
                created_at=utcnow(),
            )
            s.add(row)
            s.flush()
            public = _public(row)
        return WebhookSubscriptionCreated(subscription=public, secret=secret)

    def entries(
        self,
        *,
        tenant: str | None = None,
        role: TenantRole | None = None,
        include_revoked: bool = True,
    ) -> list[WebhookSubscriptionPublic]:
        """Every subscription, oldest first; with `tenant` (and `role`), that tenant's only."""
        stmt = select(WebhookSubscription).order_by(WebhookSubscription.id)
        if tenant is not None:
            stmt = stmt.where(WebhookSubscription.tenant == tenant)
        if role is not None:
            stmt = stmt.where(WebhookSubscription.tenant_role == role.value)
        if not include_revoked:
            stmt = stmt.where(WebhookSubscription.active.is_(True))
        with store_errors(_DATABASE), self._sessions() as s:
            return [_public(row) for row in s.scalars(stmt)]

    def get(self, subscription_id: int) -> WebhookSubscriptionPublic:
        """One subscription; `UnknownSubscription` if there is none."""
        with store_errors(_DATABASE), self._sessions() as s:
            return _public(self._row(s, subscription_id))

    def revoke(self, subscription_id: int) -> WebhookSubscriptionPublic:
        """Stop sending to it (its pending deliveries are cancelled); keeps it and its log."""
        with self._transaction() as s:
            row = self._row(s, subscription_id)
            if row.active:
                row.active, row.revoked_at = False, utcnow()
            _cancel_pending(s, subscription_id, "subscription revoked")
            s.flush()
            return _public(row)

    def delete(self, subscription_id: int) -> None:
        """Remove it; its delivery log stays (with no subscription)."""
        with self._transaction() as s:
            row = self._row(s, subscription_id)
            _cancel_pending(s, subscription_id, "subscription deleted")
            s.delete(row)

    def rotate_secret(self, subscription_id: int, secret: str | None = None) -> str:
        """Give it a new secret (a strong random one if None) and return it, this once."""
        if secret is not None and len(secret) < MIN_SECRET_LENGTH:
            raise InvalidSubscription([f"a secret has at least {MIN_SECRET_LENGTH} characters"])
        new = secret or new_secret()
        with self._transaction() as s:
            self._row(s, subscription_id).secret = new
        return new

    def match(self, alert: Alert, tenants: Collection[Tenant] = ()) -> list[WebhookTarget]:
        """The active subscriptions that want `alert`, given the tenants it concerns."""
        stmt = select(WebhookSubscription).where(WebhookSubscription.active.is_(True))
        with store_errors(_DATABASE), self._sessions() as s:
            rows = s.scalars(stmt.order_by(WebhookSubscription.id))
            return [_target(row) for row in rows if matches(row, alert, tenants)]

    def target(self, subscription_id: int) -> WebhookTarget | None:
        """Where to send for this subscription now; None if revoked or deleted."""
        with store_errors(_DATABASE), self._sessions() as s:
            row = s.get(WebhookSubscription, subscription_id)
            if row is None or not row.active:
                return None
            return _target(row)

    # -- internals ----------------------------------------------------------

    @staticmethod
    def _role_of(s: Session, spec: WebhookSubscriptionCreate) -> TenantRole | None:
        """The tenant's role: as given, else the catalog's for the code."""
        if spec.tenant is None:
            if spec.tenant_role is not None:
                raise InvalidSubscription(["tenant_role needs a tenant"])
            return None
        if spec.tenant_role is not None:
            return spec.tenant_role
        found = []
        if s.scalar(select(Supplier.id).where(Supplier.code == spec.tenant)) is not None:
            found.append(TenantRole.SUPPLIER)
        if s.scalar(select(Customer.id).where(Customer.code == spec.tenant)) is not None:
            found.append(TenantRole.CUSTOMER)
        if len(found) != 1:
            what = "both a supplier and a customer" if found else "no supplier or customer"
            raise InvalidSubscription(
                [f"{spec.tenant} is {what} in the catalog: say which (tenant_role)"]
            )
        return found[0]

    @staticmethod
    def _row(s: Session, subscription_id: int) -> WebhookSubscription:
        row = s.get(WebhookSubscription, subscription_id)
        if row is None:
            raise UnknownSubscription(subscription_id)
        return row

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        with store_errors(_DATABASE), self._sessions.begin() as s:
            yield s


class CatalogTenants:
    """Which tenants (customer and supplier codes) an alert concerns, from the catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def __call__(self, alert: Alert) -> set[Tenant]:
        """The site's customer; the supplier of the SKU (stock alerts) or of every
        SKU the device reports (sensor alerts). Empty for a site not in the catalog."""
        found: set[Tenant] = set()
        site = self._catalog.find(SiteSpec, alert.site)
        if site is not None:
            found.add(Tenant(TenantRole.CUSTOMER, site.customer))
        skus = {alert.sku} if alert.sku is not None else set()
        if alert.sku is None and alert.device is not None:
            skus = {
                b.sku
                for b in self._catalog.bindings_of(alert.device)
                if alert.location is None or b.location == alert.location
            }
        for sku in sorted(skus):
            supplier = self._catalog.supplier_for(alert.site, sku)
            if supplier is not None:
                found.add(Tenant(TenantRole.SUPPLIER, supplier.code))
        return found
