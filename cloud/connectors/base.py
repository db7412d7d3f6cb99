"""What every connector speaks: the order we send, the reference we get back, the
status we read, and the `Connector` protocol.

    connector.create_order(spec)          -> RemoteRef       (idempotent by spec.reference)
    connector.find_order(reference)       -> RemoteRef | None
    connector.update_order(ref, change)   -> RemoteStatus    (confirm / ship / cancel)
    connector.fetch_status(ref)           -> RemoteStatus    (for reconciling by polling)

Idempotency is the connector's job, not the caller's: `create_order` first looks
the order up by our reference (which it writes into a field of the remote
record) and returns the record it finds, so a delivery whose answer was lost can
simply be sent again. `update_order` reads the record's state first and does
nothing when it is already there, so a repeated confirm or cancel is harmless too.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from cloud.orders import OrderStatus

if TYPE_CHECKING:
    from cloud.orders import Order

REFERENCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
"""Our order references: short, printable, safe in any ERP's free-text field and filter."""

_CODE = Field(min_length=1, max_length=140)


class OrderSpec(BaseModel):
    """One order as every connector receives it.

    `reference` is our order's id as the other system stores it (e.g.
    `vmi-42`); it is what makes creating idempotent. `supplier` and `customer`
    are our catalog codes; a connector maps the one its record type needs
    (a purchase order's supplier, a sales order's customer) to its own party.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    reference: str = Field(pattern=REFERENCE_PATTERN)
    site: str = _CODE
    sku: str = _CODE
    quantity: int = Field(gt=0, le=1_000_000_000)
    planned_date: date = Field(description="When the goods should arrive at the site.")
    supplier: str | None = Field(default=None, min_length=1, max_length=140)
    customer: str | None = Field(default=None, min_length=1, max_length=140)

    @classmethod
    def from_order(
        cls,
        order: Order,
        *,
        customer: str | None = None,
        prefix: str = "vmi",
        planned_date: date | None = None,
    ) -> OrderSpec:
        """The spec of one of our orders: reference `<prefix>-<id>`, planned for its
        expected arrival (else `planned_date`, else the day it was raised)."""
        planned = planned_date or (
            order.expected_arrival.date()
            if order.expected_arrival is not None
            else order.created_at.date()
        )
        return cls(
            reference=reference_for(order.id, prefix),
            site=order.site,
            sku=order.sku,
            quantity=order.quantity,
            planned_date=planned,
            supplier=order.supplier,
            customer=customer,
        )


def reference_for(order_id: int, prefix: str = "vmi") -> str:
    """Our reference of order `order_id` in other systems: `vmi-42`."""
    return f"{prefix}-{order_id}"


class RemoteRef(BaseModel):
    """Where an order lives in another system: store it on our order.

    `id` is the system's key (Odoo's integer id as text, ERPNext's document
    name); `record_type` the model or DocType; `name` the number people see
    (`P00042`, `PUR-ORD-2026-00042`). `existed` is True when `create_order`
    found the record instead of creating it (a retried delivery).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    system: str
    record_type: str
    id: str
    name: str | None = None
    reference: str
    existed: bool = False


class OrderChange(StrEnum):
    """A step of our order lifecycle a connector can carry to the remote record."""

    CONFIRM = "confirm"
    SHIP = "ship"
    CANCEL = "cancel"


class RemoteStatus(BaseModel):
    """Where the remote record stands, in our lifecycle's words and in the system's.

    `status` is the state our order should be in to agree with the remote
    record (a draft is `proposed`); `remote_state` is the system's own word
    (`purchase`, `To Receive and Bill`), kept for logs and the portal.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    ref: RemoteRef
    status: OrderStatus
    remote_state: str


@runtime_checkable
class Connector(Protocol):
    """One configured ERP/CRM system that receives our orders.

    Every method either returns or raises a `cloud.connectors.errors.
    ConnectorError`, whose `retryable` says whether to try again. Methods are
    blocking and make a bounded number of HTTP calls; one instance is used by
    one thread at a time.
    """

    kind: str
    """The registry key: `odoo`, `erpnext`, `zoho_crm`, `fxiaoke`."""

    def create_order(self, order: OrderSpec) -> RemoteRef:
        """Create the remote record, or return the one already made for `order.reference`."""
        ...

    def find_order(self, reference: str) -> RemoteRef | None:
        """The remote record carrying our `reference`, if there is one."""
        ...

    def update_order(self, ref: RemoteRef, change: OrderChange) -> RemoteStatus:
        """Carry `change` to the remote record (nothing if it is already there)."""
        ...

    def fetch_status(self, ref: RemoteRef) -> RemoteStatus:
        """Read where the remote record stands."""
        ...

    def close(self) -> None:
        """Release the HTTP connections (a connector made with its own client only)."""
        ...
