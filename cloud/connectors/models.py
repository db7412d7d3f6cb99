"""Connector tables: what each order owes each system, every attempt, and where the order
landed.

* `ConnectorDelivery`: one step (create, confirm, ship, cancel) of one order
  for one connector link, unique per (link, order, action): planning the same
  step twice (two service processes, a restart) stores it once. Pending rows
  are the durable queue; a restarted service resumes them.
* `ConnectorAttempt`: one row per try, with the error and what followed.
* `OrderRemote`: the remote record an order became in one link's system (its
  id, the number people see, the last state read back), so updates and
  reconciling never search again.

They live in the orders database, beside the orders and the webhook ledger.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from cloud.db import Base, UtcDateTime

ERROR_LIMIT = 500


class StepStatus(StrEnum):
    PENDING = "pending"  # waiting for its next attempt (or for the step before it)
    DONE = "done"  # the remote record is in the state this step asks for
    FAILED = "failed"  # the system refused it; not retried (`vmi connector retry` re-queues)
    GIVEN_UP = "given_up"  # retryable failures until the last allowed attempt
    SKIPPED = "skipped"  # not needed any more (a create for an order cancelled first)
    UNSUPPORTED = "unsupported"  # the system has no such step for this record type


class StepOutcome(StrEnum):
    DONE = "done"
    RETRY = "retry"
    FAILED = "failed"
    GIVEN_UP = "given_up"
    UNSUPPORTED = "unsupported"


FINISHED = (
    StepStatus.DONE,
    StepStatus.FAILED,
    StepStatus.GIVEN_UP,
    StepStatus.SKIPPED,
    StepStatus.UNSUPPORTED,
)


class ConnectorDelivery(Base):
    """One step of one order for one connector link."""

    __tablename__ = "connector_delivery"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    link: Mapped[str] = mapped_column(String(40))
    order_id: Mapped[int] = mapped_column(
        ForeignKey("replenishment_order.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=StepStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # `attempts` when it was last re-queued (`vmi connector retry`): the retry
    # policy counts the attempts after it, the log numbers them all.
    attempts_before: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Bumped by each claim: two service processes never make the same attempt.
    claim: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(ERROR_LIMIT), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)

    __table_args__ = (
        UniqueConstraint("link", "order_id", "action", name="uq_connector_delivery_step"),
        Index("ix_connector_delivery_due", "link", "status", "next_attempt_at"),
        CheckConstraint(
            "status IN ('pending', 'done', 'failed', 'given_up', 'skipped', 'unsupported')",
            name="status",
        ),
        CheckConstraint("action IN ('create', 'confirm', 'ship', 'cancel')", name="action"),
    )


class ConnectorAttempt(Base):
    """One try of a delivery."""

    __tablename__ = "connector_attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("connector_delivery.id", ondelete="CASCADE"), index=True
    )
    attempt: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    duration_ms: Mapped[float] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(String(ERROR_LIMIT), default=None)
    outcome: Mapped[str] = mapped_column(String(16))
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)

    __table_args__ = (
        UniqueConstraint("delivery_id", "attempt", name="uq_connector_attempt_delivery_attempt"),
        CheckConstraint(
            "outcome IN ('done', 'retry', 'failed', 'given_up', 'unsupported')", name="outcome"
        ),
    )


class OrderRemote(Base):
    """The remote record one of our orders became in one link's system."""

    __tablename__ = "order_remote"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("replenishment_order.id", ondelete="CASCADE"), index=True
    )
    link: Mapped[str] = mapped_column(String(40))
    system: Mapped[str] = mapped_column(String(32))
    record_type: Mapped[str] = mapped_column(String(64))
    remote_id: Mapped[str] = mapped_column(String(140))
    remote_name: Mapped[str | None] = mapped_column(String(140), default=None)
    reference: Mapped[str] = mapped_column(String(64))
    # The remote record as last read: its own word, and what it means for our order.
    remote_state: Mapped[str | None] = mapped_column(String(64), default=None)
    remote_status: Mapped[str | None] = mapped_column(String(16), default=None)
    checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    # When to read it back next (None: when the poll interval says).
    check_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (UniqueConstraint("order_id", "link", name="uq_order_remote_order_link"),)
