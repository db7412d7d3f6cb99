"""Webhooks to ERP/CRM systems: alerts as signed, retried, logged HTTP deliveries.

* `payload`: the event envelope and the `X-VMI-Signature` scheme (pure; receivers
  can copy `verify_signature`);
* `subscriptions`: who receives what (`WebhookSubscriptions`), tenants from the catalog;
* `delivery`: `WebhookNotifier`, the non-blocking queue, the dispatcher and its
  bounded pool of senders;
* `sender`: one signed HTTP attempt; `retry`: what is retried and when;
* `guard`: where webhooks may go (no loopback, private or metadata addresses:
  `AddressPolicy`); `transport`: the HTTP client that enforces it at every
  connection and holds each attempt's deadline;
* `urls`: URLs as they may be shown (credentials redacted);
* `ledger`: deliveries and attempts in SQL, and reading the log back;
* `models`: the tables; `errors`: what goes wrong.
"""

from cloud.notify.delivery import NotifierStats, WebhookNotifier
from cloud.notify.errors import (
    BlockedAddress,
    InvalidSubscription,
    NotifyError,
    TooManySubscriptions,
    UnknownSubscription,
)
from cloud.notify.guard import AddressPolicy
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
from cloud.notify.subscriptions import (
    CatalogTenants,
    Tenant,
    TenantRole,
    WebhookSubscriptionCreate,
    WebhookSubscriptionCreated,
    WebhookSubscriptionPublic,
    WebhookSubscriptions,
    WebhookTarget,
)
from cloud.notify.urls import redacted_url, shown_url

__all__ = [
    "EVENT_ID_HEADER",
    "SIGNATURE_HEADER",
    "AddressPolicy",
    "AttemptInfo",
    "AttemptOutcome",
    "BlockedAddress",
    "CatalogTenants",
    "DeliveryInfo",
    "DeliveryLedger",
    "DeliveryStatus",
    "InvalidSubscription",
    "NotifierStats",
    "NotifyError",
    "RetryPolicy",
    "Tenant",
    "TenantRole",
    "TooManySubscriptions",
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
    "redacted_url",
    "shown_url",
    "signature",
    "verify_signature",
]
