"""The delivery log in SQL: pending deliveries (the notifier's durable queue), claims,
attempts, and reading it all back.

    ledger = DeliveryLedger(engine)
    ledger.deliveries(event_id=...)     # DeliveryInfo: state, attempts, last error
    ledger.attempts(delivery_id)        # AttemptInfo: one per HTTP attempt

Reads never include a subscription's secret (it is not in these tables). The
body sent is, since it is what the receiver got.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.orm import Session, sessionmaker

from cloud.notify.models import (
    AttemptOutcome,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    utcnow,
)
from cloud.notify.sender import Answer, Outgoing


class DeliveryInfo(BaseModel):
    """One event for one subscription, as the log shows it."""

    model_config = ConfigDict(from_attributes=True, frozen=True)

    id: int
    event_id: str
    event_type: str
    subscription_id: int | None
    site: str
    body: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    duration_ms: float | None
    created_at: datetime
    delivered_at: datetime | None
    finished_at: datetime | None


class AttemptInfo(BaseModel):
    """One HTTP attempt of a delivery."""

    model_config = ConfigDict(from_attributes=True, frozen=True)

    attempt: int
    started_at: datetime
    duration_ms: float
    status_code: int | None
    error: str | None
    outcome: AttemptOutcome
    next_attempt_at: datetime | None


@dataclass(frozen=True)
class Claimed:
    """A delivery this notifier has reserved for one attempt."""

    id: int
    subscription_id: int | None
    attempts: int
    event: Outgoing


class DeliveryLedger:
    """Deliveries and attempts in SQL; every change is one short transaction."""

    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    # -- what the notifier does ----------------------------------------------------

    def add(self, event_id: str, event_type: str, site: str, body: str, targets: list[int]) -> int:
        """A pending delivery, due now, for each subscription in `targets` that has none for
        this event yet; returns how many were added. A concurrent add of the same pair
        fails on the unique constraint (`IntegrityError`): call again."""
        with self._sessions.begin() as s:
            return add_deliveries(s, event_id, event_type, site, body, targets)

    def due(self, limit: int, exclude: Collection[int] = ()) -> list[tuple[int, int, int | None]]:
        """(id, claim, subscription id) of up to `limit` pending deliveries due now, earliest
        first, leaving out those of the subscriptions in `exclude` (busy ones)."""
        stmt = (
            select(WebhookDelivery.id, WebhookDelivery.claim, WebhookDelivery.subscription_id)
            .where(
                WebhookDelivery.status == DeliveryStatus.PENDING.value,
                WebhookDelivery.next_attempt_at <= utcnow(),
            )
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(limit)
        )
        if exclude:
            stmt = stmt.where(_not_of(exclude))
        with self._sessions() as s:
            return [(row[0], row[1], row[2]) for row in s.execute(stmt)]

    def next_due(self, exclude: Collection[int] = ()) -> datetime | None:
        """When the earliest pending delivery (not of a subscription in `exclude`) is due;
        None if nothing is pending."""
        stmt = select(func.min(WebhookDelivery.next_attempt_at)).where(
            WebhookDelivery.status == DeliveryStatus.PENDING.value
        )
        if exclude:
            stmt = stmt.where(_not_of(exclude))
        with self._sessions() as s:
            first: datetime | None = s.scalar(stmt)
        return first

    def claim(self, delivery_id: int, claim: int, lease_s: float) -> Claimed | None:
        """Reserve a due delivery for one attempt, for `lease_s` seconds (after which it is
        due again, should this process die mid-attempt). None if another claimed it first."""
        lease_until = utcnow() + timedelta(seconds=lease_s)
        with self._sessions.begin() as s:
            result = s.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.id == delivery_id,
                    WebhookDelivery.claim == claim,
                    WebhookDelivery.status == DeliveryStatus.PENDING.value,
                )
                .values(claim=claim + 1, next_attempt_at=lease_until)
            )
            if cast(CursorResult[Any], result).rowcount != 1:
                return None
            row = s.get(WebhookDelivery, delivery_id)
            assert row is not None
            event = Outgoing(row.event_id, row.event_type, row.body.encode("utf-8"))
            return Claimed(row.id, row.subscription_id, row.attempts, event)

    def record(
        self,
        delivery_id: int,
        attempt: int,
        started: datetime,
        duration_ms: float,
        answer: Answer,
        outcome: AttemptOutcome,
        next_at: datetime | None,
    ) -> None:
        """Log one attempt and move the delivery to what follows it."""
        now = utcnow()
        status = {
            AttemptOutcome.DELIVERED: DeliveryStatus.DELIVERED,
            AttemptOutcome.RETRY: DeliveryStatus.PENDING,
            AttemptOutcome.FAILED: DeliveryStatus.FAILED,
            AttemptOutcome.GIVEN_UP: DeliveryStatus.GIVEN_UP,
        }[outcome]
        with self._sessions.begin() as s:
            s.add(
                WebhookAttempt(
                    delivery_id=delivery_id,
                    attempt=attempt,
                    started_at=started,
                    duration_ms=duration_ms,
                    status_code=answer.status,
                    error=answer.error,
                    outcome=outcome.value,
                    next_attempt_at=next_at,
                )
            )
            this = WebhookDelivery.id == delivery_id
            s.execute(
                update(WebhookDelivery)
                .where(this)
                .values(attempts=attempt, last_status_code=answer.status, duration_ms=duration_ms)
            )
            # A delivery cancelled during the attempt (its subscription revoked)
            # stays cancelled, unless the receiver took it all the same.
            movable = [DeliveryStatus.PENDING.value]
            if status is DeliveryStatus.DELIVERED:
                movable.append(DeliveryStatus.CANCELLED.value)
            s.execute(
                update(WebhookDelivery)
                .where(this, WebhookDelivery.status.in_(movable))
                .values(
                    status=status.value,
                    next_attempt_at=next_at,
                    last_error=answer.error,
                    delivered_at=now if status is DeliveryStatus.DELIVERED else None,
                    finished_at=None if status is DeliveryStatus.PENDING else now,
                )
            )

    def cancel(self, delivery_id: int, why: str) -> None:
        """Give up a delivery without an attempt (its subscription is gone)."""
        with self._sessions.begin() as s:
            s.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == delivery_id)
                .values(
                    status=DeliveryStatus.CANCELLED.value,
                    next_attempt_at=None,
                    last_error=why,
                    finished_at=utcnow(),
                )
            )

    # -- reading the log -------------------------------------------------------------

    def deliveries(
        self,
        *,
        event_id: str | None = None,
        subscription_id: int | None = None,
        status: DeliveryStatus | None = None,
        limit: int = 100,
    ) -> list[DeliveryInfo]:
        """Deliveries, newest first, filtered by whatever is given."""
        stmt = select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(limit)
        if event_id is not None:
            stmt = stmt.where(WebhookDelivery.event_id == event_id)
        if subscription_id is not None:
            stmt = stmt.where(WebhookDelivery.subscription_id == subscription_id)
        if status is not None:
            stmt = stmt.where(WebhookDelivery.status == status.value)
        with self._sessions() as s:
            return [DeliveryInfo.model_validate(row) for row in s.scalars(stmt)]

    def attempts(self, delivery_id: int) -> list[AttemptInfo]:
        """Every attempt of one delivery, first first."""
        stmt = (
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id == delivery_id)
            .order_by(WebhookAttempt.attempt)
        )
        with self._sessions() as s:
            return [AttemptInfo.model_validate(row) for row in s.scalars(stmt)]


def _not_of(subscriptions: Collection[int]) -> ColumnElement[bool]:
    """Deliveries of none of `subscriptions` (those of deleted ones included)."""
    column = WebhookDelivery.subscription_id
    return or_(column.is_(None), column.not_in(sorted(subscriptions)))


def add_deliveries(
    s: Session, event_id: str, event_type: str, site: str, body: str, targets: list[int]
) -> int:
    """`DeliveryLedger.add` inside the caller's transaction `s` (the outbox pattern:
    the deliveries commit, or not, with whatever else `s` writes)."""
    now = utcnow()
    stored = WebhookDelivery.subscription_id
    have = set(s.scalars(select(stored).where(WebhookDelivery.event_id == event_id)))
    new = [t for t in targets if t not in have]
    for subscription_id in new:
        s.add(
            WebhookDelivery(
                event_id=event_id,
                event_type=event_type,
                subscription_id=subscription_id,
                site=site,
                body=body,
                status=DeliveryStatus.PENDING.value,
                attempts=0,
                next_attempt_at=now,
                claim=0,
                created_at=now,
            )
        )
    s.flush()
    return len(new)
