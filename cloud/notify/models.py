"""Webhook tables: who wants alerts (subscriptions), and every delivery and attempt.

* `WebhookSubscription`: a receiver's URL, the secret its deliveries are
  signed with, and optional filters (tenant as a (role, code) pair, sites,
  alert kinds); `allow_private` if an admin made it (only then may it reach
  the notifier's allowlisted private addresses, see `cloud.notify.guard`).
* `WebhookDelivery`: one event for one subscription: the exact body sent,
  where it stands (pending, delivered, failed, given up, cancelled), how many
  attempts it took and when the next is due. Pending rows are the notifier's
  durable queue: a restarted notifier resumes them.
* `WebhookAttempt`: one row per HTTP attempt: when, how long, the status code
  or the network error, and what followed (delivered, retry, ...).

The secret is stored as given, because signing needs it (an HMAC cannot be
computed from a hash of the key): protect the database accordingly. No API
returns it after creation (see `cloud.notify.subscriptions`), and nothing logs it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from cloud.db import Base, UtcDateTime, create_schema, make_engine
from cloud.errors import StoreUnavailable

URL_LIMIT = 2048
ERROR_LIMIT = 500


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its next attempt
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # the receiver refused it (4xx other than 408/425/429); not retried
    GIVEN_UP = "given_up"  # retryable failures until the last allowed attempt
    CANCELLED = "cancelled"  # the subscription was revoked or deleted before delivery


class AttemptOutcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    FAILED = "failed"
    GIVEN_UP = "given_up"


class WebhookSubscription(Base):
    """A receiver of alerts: URL, signing secret, filters. Empty filters match everything."""

    __tablename__ = "webhook_subscription"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(URL_LIMIT))
    # Needed in clear to sign (HMAC); never returned after creation, never logged.
    secret: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(200), default=None)
    tenant: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    # "supplier" or "customer" (a supplier and a customer may share a code); None
    # without a tenant, and on rows from before roles whose code was ambiguous.
    tenant_role: Mapped[str | None] = mapped_column(String(16), default=None)
    # Made by an admin: the notifier's allowlist of private addresses serves it.
    allow_private: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    sites: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    kinds: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)


class WebhookDelivery(Base):
    """One event for one subscription, with its state and the exact body it sends."""

    __tablename__ = "webhook_delivery"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36))
    event_type: Mapped[str] = mapped_column(String(64))
    # A delivery log outlives its subscription: deleting one keeps the rows.
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_subscription.id", ondelete="SET NULL"), index=True
    )
    site: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Bumped by each claim: a notifier sends only what it claimed, so several
    # notifier processes on one database never send the same attempt twice.
    claim: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    last_error: Mapped[str | None] = mapped_column(String(ERROR_LIMIT), default=None)
    duration_ms: Mapped[float | None] = mapped_column(Float, default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)

    __table_args__ = (
        UniqueConstraint("event_id", "subscription_id", name="uq_webhook_delivery_event_sub"),
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
        Index("ix_webhook_delivery_event", "event_id"),
        CheckConstraint(
            "status IN ('pending', 'delivered', 'failed', 'given_up', 'cancelled')",
            name="status",
        ),
    )


class WebhookAttempt(Base):
    """One HTTP attempt of a delivery."""

    __tablename__ = "webhook_attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_delivery.id", ondelete="CASCADE"), index=True
    )
    attempt: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    duration_ms: Mapped[float] = mapped_column(Float)
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    error: Mapped[str | None] = mapped_column(String(ERROR_LIMIT), default=None)
    outcome: Mapped[str] = mapped_column(String(16))
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)

    __table_args__ = (
        UniqueConstraint("delivery_id", "attempt", name="uq_webhook_attempt_delivery_attempt"),
        CheckConstraint("outcome IN ('delivered', 'retry', 'failed', 'given_up')", name="outcome"),
    )


def utcnow() -> datetime:
    """Now, in UTC (webhook timing runs on wall time, whatever clock stamps the alerts)."""
    return datetime.now(UTC)


def open_engine(url: str | Engine) -> Engine:
    """An engine on `url` (or `url` itself) whose database has every table, these included."""
    try:
        engine = make_engine(url) if isinstance(url, str) else url
        create_schema(engine)
    except (SQLAlchemyError, OSError, ValueError) as exc:
        raise StoreUnavailable(f"webhook database {_shown(url)}: {exc}") from exc
    return engine


def _shown(url: str | Engine) -> str:
    """The database URL without its password, for messages."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url.url
    except (ArgumentError, ValueError):
        return "(unparsable URL)"
    return parsed.render_as_string(hide_password=True)
