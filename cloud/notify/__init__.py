"""Webhooks to ERP/CRM systems: alerts as signed, retried, logged HTTP deliveries.

* `payload`: the event envelope and the `X-VMI-Signature` scheme (pure; receivers
  can copy `verify_signature`);
* `subscriptions`: who receives what (`WebhookSubscriptions`), tenants from the catalog;
* `delivery`: `WebhookNotifier`, the non-blocking queue and the worker that sends;
* `sender`: one signed HTTP attempt; `retry`: what is retried and when;
* `ledger`: deliveries and attempts in SQL, and reading the log back;
* `models`: the tables; `errors`: what goes wrong.
"""

from cloud.notify.delivery import NotifierStats, WebhookNotifier
from cloud.notify.errors import InvalidSubscription, NotifyError, UnknownSubscription
from cloud.notify.ledger import AttemptInfo, DeliveryInfo, DeliveryLedger
from cloud.notify.models import (
    AttemptOutcome,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from cloud.notify.payload import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    build_event,
    encode_event,
    event_id,
    signature,
    verify_signature,
)
from cloud.notify.retry import RetryPolicy
from cloud.notify.sender import shown_url
from cloud.notify.subscriptions import (
    CatalogTenants,
    WebhookSubscriptionCreate,
    WebhookSubscriptionCreated,
    WebhookSubscriptionPublic,
    WebhookSubscriptions,
    WebhookTarget,
)

__all__ = [
    "EVENT_ID_HEADER",
    "SIGNATURE_HEADER",
    "AttemptInfo",
    "AttemptOutcome",
    "CatalogTenants",
    "DeliveryInfo",
    "DeliveryLedger",
    "DeliveryStatus",
    "InvalidSubscription",
    "NotifierStats",
    "NotifyError",
    "RetryPolicy",
    "UnknownSubscription",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookNotifier",
    "WebhookSubscription",
    "WebhookSubscriptionCreate",
    "WebhookSubscriptionCreated",
    "WebhookSubscriptionPublic",
    "WebhookSubscriptions",
    "WebhookTarget",
    "build_event",
    "encode_event",
    "event_id",
    "shown_url",
    "signature",
    "verify_signature",
]
