"""`/webhooks`: subscriptions to alerts, delivered by the notifier (`cloud.notify`).

A subscription belongs to a tenant, a (role, code) pair: a supplier or
customer key creates, sees, revokes and deletes only its own tenant's (a
supplier and a customer with the same code see none of each other's), and its
subscriptions may filter only on sites it sees. Admin keys manage all,
including subscriptions without a tenant (every alert).

No server-side request forgery: a URL whose host resolves to a loopback,
private, link-local (cloud metadata), multicast or other non-public address
is refused (422), and suppliers and customers must use https://. Admins may
also reach the `webhook_allow_private` networks and hosts (over http:// too).
A tenant has at most `webhook_max_per_tenant` active subscriptions (409
beyond). URLs are shown with their credentials redacted.

The signing secret is in the answer to `POST /webhooks` and to
`POST /webhooks/{id}/rotate-secret` only: it is never listed, never read back
and never logged. A lost secret is replaced, not recovered.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from fastapi import APIRouter, HTTPException, Response, status

from cloud.api.deps import ContextDep, IdPath, PagingDep, ViewDep
from cloud.api.errors import (
    AUTH_RESPONSES,
    CONFLICT_RESPONSE,
    NOT_FOUND_RESPONSE,
    forbidden,
    not_found,
    unprocessable,
)
from cloud.api.schemas.common import Page
from cloud.api.schemas.webhooks import WebhookCreate, WebhookCreated, WebhookPublic
from cloud.api.tenancy import View
from cloud.notify.errors import TooManySubscriptions, UnknownSubscription
from cloud.notify.guard import AddressPolicy
from cloud.notify.subscriptions import (
    TenantRole,
    WebhookSubscriptionPublic,
    WebhookSubscriptions,
)

log = logging.getLogger(__name__)

router = APIRouter(prefix="/webhooks", tags=["webhooks"], responses=AUTH_RESPONSES)


def _role(view: View) -> TenantRole:
    """The tenant role of a supplier's or customer's key."""
    return TenantRole(view.principal.role.value)


def _sees(view: View, sub: WebhookSubscriptionPublic) -> bool:
    if view.everything:
        return True
    return (
        sub.tenant is not None
        and sub.tenant == view.principal.tenant
        and sub.tenant_role is _role(view)
    )


@lru_cache(maxsize=8)
def _policy(allowlist: tuple[str, ...]) -> AddressPolicy:
    return AddressPolicy.from_allowlist(allowlist)


def _visible(subs: WebhookSubscriptions, view: View, sub_id: int) -> WebhookSubscriptionPublic:
    try:
        sub = subs.get(sub_id)
    except UnknownSubscription:
        not_found()
    if not _sees(view, sub):
        not_found()
    return sub


def _public(sub: WebhookSubscriptionPublic) -> WebhookPublic:
    return WebhookPublic.model_validate(sub.model_dump())


@router.get("")
def list_webhooks(view: ViewDep, context: ContextDep, paging: PagingDep) -> Page[WebhookPublic]:
    """The subscriptions this key may see, oldest first."""
    tenant = None if view.everything else view.principal.tenant
    role = None if view.everything else _role(view)
    found = [
        _public(s) for s in context.webhooks.entries(tenant=tenant, role=role) if _sees(view, s)
    ]
    return Page.of(found, paging.offset, paging.limit)


@router.post("", status_code=status.HTTP_201_CREATED, responses=CONFLICT_RESPONSE)
def create_webhook(body: WebhookCreate, view: ViewDep, context: ContextDep) -> WebhookCreated:
    """Subscribe a URL to alerts; the answer holds the signing secret, this once.

    422 for a URL that is not https:// (suppliers, customers) or whose host
    resolves to a non-public address; 409 when the tenant already has as many
    active subscriptions as it may."""
    tenant, role = body.tenant, body.tenant_role
    if not view.everything:
        if tenant not in (None, view.principal.tenant) or role not in (None, _role(view)):
            forbidden("a subscription can only be for this key's own tenant")
        tenant, role = view.principal.tenant, _role(view)
        if not all(view.sees_site(site) for site in body.sites):
            unprocessable("unknown site", "body", "sites")
    settings = context.settings
    try:
        created = context.webhooks.create(
            body.spec(tenant, role),
            admin=view.everything,
            policy=_policy(tuple(settings.webhook_allow_private)),
            max_per_tenant=settings.webhook_max_per_tenant,
        )
    except TooManySubscriptions as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    sub = created.subscription
    # The id and host only: the secret and the URL's path or query (which may
    # carry a token of the receiver's) stay out of the log.
    log.info(
        "webhook subscription #%d created for %s %s",
        sub.id,
        sub.tenant_role or "tenant",
        sub.tenant or "-",
    )
    return WebhookCreated(subscription=_public(sub), secret=created.secret)


@router.get("/{subscription_id}", responses=NOT_FOUND_RESPONSE)
def read_webhook(subscription_id: IdPath, view: ViewDep, context: ContextDep) -> WebhookPublic:
    """One subscription (never its secret)."""
    return _public(_visible(context.webhooks, view, subscription_id))


@router.post("/{subscription_id}/revoke", responses=NOT_FOUND_RESPONSE)
def revoke_webhook(subscription_id: IdPath, view: ViewDep, context: ContextDep) -> WebhookPublic:
    """Stop deliveries to it; it stays listed, with its delivery log."""
    _visible(context.webhooks, view, subscription_id)
    sub = context.webhooks.revoke(subscription_id)
    log.info("webhook subscription #%d revoked", sub.id)
    return _public(sub)


@router.post("/{subscription_id}/rotate-secret", responses=NOT_FOUND_RESPONSE)
def rotate_webhook_secret(
    subscription_id: IdPath, view: ViewDep, context: ContextDep
) -> WebhookCreated:
    """Give it a new random secret, shown this once; the old one stops signing."""
    _visible(context.webhooks, view, subscription_id)
    secret = context.webhooks.rotate_secret(subscription_id)
    log.info("webhook subscription #%d has a new secret", subscription_id)
    sub = context.webhooks.get(subscription_id)
    return WebhookCreated(subscription=_public(sub), secret=secret)


@router.delete(
    "/{subscription_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=NOT_FOUND_RESPONSE,
)
def delete_webhook(subscription_id: IdPath, view: ViewDep, context: ContextDep) -> None:
    """Remove it (its delivery log stays)."""
    _visible(context.webhooks, view, subscription_id)
    context.webhooks.delete(subscription_id)
    log.info("webhook subscription #%d deleted", subscription_id)
