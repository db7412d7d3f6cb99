"""Replenishment orders and the bodies of their lifecycle actions."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from cloud.api.schemas.common import CleanText
from cloud.orders import Order, OrderStatus


class OrderPublic(BaseModel):
    """An order and where it is in its lifecycle:
    proposed -> confirmed -> shipped -> received, or cancelled while open."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 17,
                    "site": "acme-north",
                    "sku": "BOLT-M8",
                    "supplier": "fastenal",
                    "quantity": 150,
                    "status": "shipped",
                    "reason": "2.8 days of cover <= 3 (lead 2 + safety 1)",
                    "on_hand_at_trigger": 88.0,
                    "rate_per_day": 31.1,
                    "created_at": "2026-11-20T08:15:00Z",
                    "updated_at": "2026-11-20T11:00:00Z",
                    "confirmed_at": "2026-11-20T09:00:00Z",
                    "shipped_at": "2026-11-20T11:00:00Z",
                    "expected_arrival": "2026-11-22T08:00:00Z",
                }
            ]
        }
    )

    id: int
    site: str
    sku: str
    supplier: str | None
    quantity: int
    status: OrderStatus
    reason: str
    on_hand_at_trigger: float
    rate_per_day: float
    created_at: datetime
    updated_at: datetime
    confirmed_at: datetime | None = None
    shipped_at: datetime | None = None
    expected_arrival: datetime | None = None
    received_at: datetime | None = None
    received_quantity: float | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None

    @classmethod
    def of(cls, order: Order) -> OrderPublic:
        return cls(
            id=order.id,
            site=order.site,
            sku=order.sku,
            supplier=order.supplier,
            quantity=order.quantity,
            status=OrderStatus(order.status),
            reason=order.reason,
            on_hand_at_trigger=order.on_hand_at_trigger,
            rate_per_day=order.rate_per_day,
            created_at=order.created_at,
            updated_at=order.updated_at,
            confirmed_at=order.confirmed_at,
            shipped_at=order.shipped_at,
            expected_arrival=order.expected_arrival,
            received_at=order.received_at,
            received_quantity=order.received_quantity,
            cancelled_at=order.cancelled_at,
            cancel_reason=order.cancel_reason,
        )


class ShipOrder(BaseModel):
    """The supplier shipped the order; it should arrive at `expected_arrival`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"expected_arrival": "2026-11-22T08:00:00Z"}]},
    )

    expected_arrival: AwareDatetime

    @field_validator("expected_arrival")
    @classmethod
    def _in_utc(cls, at: datetime) -> datetime:
        # Stored as UTC: SQLite keeps no offset, so 08:00+02:00 would read back as 08:00Z.
        try:
            return at.astimezone(UTC)
        except OverflowError as exc:
            raise ValueError("out of range") from exc


class ReceiveOrder(BaseModel):
    """The order arrived at the site: `quantity` units (default: the quantity ordered)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"quantity": 150}]})

    quantity: float | None = Field(default=None, ge=0, le=1e12, allow_inf_nan=False)


class CancelOrder(CleanText):
    """Why the order is cancelled."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "customer stopped using it"}]}
    )

    reason: str = Field(min_length=1, max_length=200)
