"""`/webhooks`: subscriptions to alerts, delivered by the notifier (`cloud.notify`).

A subscription belongs to a tenant (a supplier or customer code): a supplier
or customer key creates, sees, revokes and deletes only its own tenant's, and
its subscriptions may filter only on sites it sees. Admin keys manage all,
including subscriptions without a tenant (every alert).

The signing secret is in the answer to `POST /webhooks` and to
`POST /webhooks/{id}/rotate-secret` only: it is never listed, never read back
and never logged. A lost secret is replaced, not recovered.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Response, status

from cloud.api.deps import ContextDep, IdPath, PagingDep, ViewDep
from cloud.api.errors import (
    AUTH_RESPONSES,
    NOT_FOUND_RESPONSE,
    forbidden,
    not_found,
    unprocessable,
)
from cloud.api.schemas.common import Page
from cloud.api.schemas.webhooks import WebhookCreate, WebhookCreated, WebhookPublic
from cloud.api.tenancy import View
from cloud.notify.errors import UnknownSubscription
from cloud.notify.subscriptions import WebhookSubscriptionPublic, WebhookSubscriptions

log = logging.getLogger(__name__)

router = APIRouter(prefix="/webhooks", tags=["webhooks"], responses=AUTH_RESPONSES)


def _sees(view: View, sub: WebhookSubscriptionPublic) -> bool:
    return view.everything or (sub.tenant is not None and sub.tenant == view.principal.tenant)


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
    found = [_public(s) for s in context.webhooks.entries(tenant=tenant) if _sees(view, s)]
    return Page.of(found, paging.offset, paging.limit)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_webhook(body: WebhookCreate, view: ViewDep, context: ContextDep) -> WebhookCreated:
    """Subscribe a URL to alerts; the answer holds the signing secret, this once."""
    tenant = body.tenant
    if not view.everything:
        if tenant not in (None, view.principal.tenant):
            forbidden("a subscription can only be for this key's own tenant")
        tenant = view.principal.tenant
        if not all(view.sees_site(site) for site in body.sites):
            unprocessable("unknown site", "body", "sites")
    created = context.webhooks.create(body.spec(tenant))
    sub = created.subscription
    # The id and host only: the secret and the URL's path or query (which may
    # carry a token of the receiver's) stay out of the log.
    log.info("webhook subscription #%d created for tenant %s", sub.id, sub.tenant or "-")
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
