"""Replenishment orders in SQL (SQLite by default, PostgreSQL in production).

At most one open order per (site, SKU) is enforced by a partial unique index,
so several collectors deciding at once still create only one.

An order moves through its lifecycle along `TRANSITIONS` only:

    proposed -> confirmed -> shipped -> received
        \\            \\          \\
         `-> cancelled `-> cancelled `-> cancelled

Each move is one conditional UPDATE ("... WHERE status IN <allowed
sources>"), so two processes moving the same order at once cannot both
succeed: the loser gets an `OrderTransitionError` naming the status it found.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import (
    CheckConstraint,
    Float,
    Index,
    Integer,
    String,
    select,
    text,
    update,
)
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from cloud.db import Base, UtcDateTime, create_schema, make_engine, store_errors
from cloud.errors import CloudError, StoreUnavailable

log = logging.getLogger(__name__)

_DATABASE = "order database"  # named in StoreUnavailable messages


class OrderStatus(StrEnum):
    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    SHIPPED = "shipped"
    RECEIVED = "received"
    CANCELLED = "cancelled"


OPEN_STATUSES = (OrderStatus.PROPOSED, OrderStatus.CONFIRMED, OrderStatus.SHIPPED)
FINAL_STATUSES = (OrderStatus.RECEIVED, OrderStatus.CANCELLED)
_OPEN_SQL = text("status IN ('proposed', 'confirmed', 'shipped')")

TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PROPOSED: frozenset({OrderStatus.CONFIRMED, OrderStatus.CANCELLED}),
    OrderStatus.CONFIRMED: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.RECEIVED, OrderStatus.CANCELLED}),
    OrderStatus.RECEIVED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}
"""The lifecycle: the statuses each status may move to. Final statuses move nowhere."""

_TEXT_LIMIT = 200


class OrderError(CloudError):
    """Root of the order book's errors about orders (not about the database)."""


class UnknownOrder(OrderError, KeyError):
    """No order has this id. A `KeyError` too, for callers that look orders up by id."""

    def __init__(self, order_id: int) -> None:
        super().__init__(order_id)
        self.order_id = order_id

    def __str__(self) -> str:
        return f"no order #{self.order_id}"


class OrderTransitionError(OrderError):
    """The lifecycle does not allow moving the order from `current` to `requested`."""

    def __init__(self, order_id: int, current: OrderStatus, requested: OrderStatus) -> None:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing (final)"
        super().__init__(
            f"order #{order_id} is {current}; it cannot become {requested} "
            f"(from {current}: {allowed})"
        )
        self.order_id = order_id
        self.current = current
        self.requested = requested


class Order(Base):
    """One replenishment order: what, for whom, why, and where it is in its lifecycle."""

    __tablename__ = "replenishment_order"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    sku: Mapped[str] = mapped_column(String(64))
    # The managing supplier's code when known. A plain code, not a foreign
    # key: an order is a record and outlives changes to the catalog.
    supplier: Mapped[str | None] = mapped_column(String(64), default=None)
    quantity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=OrderStatus.PROPOSED.value)
    reason: Mapped[str] = mapped_column(String(_TEXT_LIMIT))
    on_hand_at_trigger: Mapped[float] = mapped_column(Float)
    rate_per_day: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    shipped_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    expected_arrival: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    received_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    received_quantity: Mapped[float | None] = mapped_column(Float, default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    cancel_reason: Mapped[str | None] = mapped_column(String(_TEXT_LIMIT), default=None)

    __table_args__ = (
        Index(
            "one_open_order_per_site_sku",
            "site",
            "sku",
            unique=True,
            sqlite_where=_OPEN_SQL,
            postgresql_where=_OPEN_SQL,
        ),
        CheckConstraint(
            "status IN ('proposed', 'confirmed', 'shipped', 'received', 'cancelled')",
            name="status",
        ),
    )


OrderListener = Callable[[Order], None]
"""Told of every order after a change is committed (created or moved)."""


class OrderBook:
    """Creates, finds and moves replenishment orders."""

    def __init__(self, url: str, on_change: OrderListener | None = None) -> None:
        """`url` is an SQLAlchemy URL, e.g. `sqlite:///orders.db` or `postgresql://...`.

        `on_change` is called with the order after every committed change. It
        runs in the caller's thread; an exception it raises is logged, never
        passed on, since the change it reports has already happened.
        """
        try:
            self._engine: Engine = make_engine(url)
            create_schema(self._engine)
        except (SQLAlchemyError, OSError) as exc:
            raise StoreUnavailable(f"order database {url}: {exc}") from exc
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        self._on_change = on_change

    # -- reading --------------------------------------------------------------

    def open_order(self, site: str, sku: str) -> Order | None:
        """The open (proposed, confirmed or shipped) order of (site, SKU), if any."""
        with store_errors(_DATABASE), self._sessions() as s:
            return s.scalars(
                select(Order).where(
                    Order.site == site, Order.sku == sku, Order.status.in_(OPEN_STATUSES)
                )
            ).first()

    def open_orders(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Order]:
        """The open orders of many (site, SKU)s in one query; keys without one are absent."""
        wanted = set(keys)
        if not wanted:
            return {}
        sites = sorted({site for site, _ in wanted})
        with store_errors(_DATABASE), self._sessions() as s:
            rows = s.scalars(
                select(Order).where(Order.site.in_(sites), Order.status.in_(OPEN_STATUSES))
            )
            return {(o.site, o.sku): o for o in rows if (o.site, o.sku) in wanted}

    def delivered_lead_times(
        self, keys: Iterable[tuple[str, str]], since: datetime
    ) -> dict[tuple[str, str], list[tuple[str | None, float]]]:
        """Per (site, SKU), (supplier, days from placed to received) of each order
        received since `since`, oldest first; keys without one are absent."""
        wanted = set(keys)
        if not wanted:
            return {}
        sites = sorted({site for site, _ in wanted})
        stmt = (
            select(Order.site, Order.sku, Order.supplier, Order.created_at, Order.received_at)
            .where(
                Order.site.in_(sites),
                Order.status == OrderStatus.RECEIVED.value,
                Order.received_at >= since,
            )
            .order_by(Order.received_at, Order.id)
        )
        out: dict[tuple[str, str], list[tuple[str | None, float]]] = {}
        with store_errors(_DATABASE), self._sessions() as s:
            for site, sku, supplier, created, received in s.execute(stmt):
                if (site, sku) in wanted and received is not None:
                    days = (received - created).total_seconds() / 86_400.0
                    out.setdefault((site, sku), []).append((supplier, days))
        return out

    def get(self, order_id: int) -> Order:
        """The order with this id; `UnknownOrder` if there is none."""
        with store_errors(_DATABASE), self._sessions() as s:
            order = s.get(Order, order_id)
        if order is None:
            raise UnknownOrder(order_id)
        return order

    def orders(self, site: str | None = None) -> list[Order]:
        """All orders, oldest first, optionally of one site."""
        stmt = select(Order).order_by(Order.id)
        if site is not None:
            stmt = stmt.where(Order.site == site)
        with store_errors(_DATABASE), Session(self._engine) as s:
            return list(s.scalars(stmt))

    # -- changing -------------------------------------------------------------

    def create(
        self,
        *,
        site: str,
        sku: str,
        quantity: int,
        reason: str,
        on_hand: float,
        rate_per_day: float,
        at: datetime,
        supplier: str | None = None,
        within: Callable[[Session, Order], object] | None = None,
    ) -> Order | None:
        """Create a proposed order; None if (site, SKU) already has an open one.

        `within` writes more in the same transaction once the order has its id
        (its alert's webhook deliveries: the outbox pattern).
        """
        order = Order(
            site=site,
            sku=sku,
            supplier=supplier,
            quantity=quantity,
            status=OrderStatus.PROPOSED.value,
            reason=reason[:_TEXT_LIMIT],
            on_hand_at_trigger=on_hand,
            rate_per_day=rate_per_day,
            created_at=at,
            updated_at=at,
        )
        try:
            with self._sessions.begin() as s:
                s.add(order)
                s.flush()  # the id, or IntegrityError if another order won
                if within is not None:
                    within(s, order)
        except IntegrityError:
            return None  # another collector's order won the race
        except SQLAlchemyError as exc:
            raise StoreUnavailable(f"order database: {exc}") from exc
        self._changed(order)
        return order

    def confirm(self, order_id: int, at: datetime) -> Order:
        """The supplier accepted a proposed order."""
        return self._move(order_id, OrderStatus.CONFIRMED, at, confirmed_at=at)

    def ship(self, order_id: int, expected_arrival: datetime, at: datetime) -> Order:
        """The supplier shipped a confirmed order, due at `expected_arrival`."""
        return self._move(
            order_id, OrderStatus.SHIPPED, at, shipped_at=at, expected_arrival=expected_arrival
        )

    def receive(self, order_id: int, at: datetime, quantity: float | None = None) -> Order:
        """A shipped order arrived: `quantity` units (None: the quantity ordered)."""
        received = Order.quantity if quantity is None else quantity
        return self._move(
            order_id, OrderStatus.RECEIVED, at, received_at=at, received_quantity=received
        )

    def cancel(self, order_id: int, at: datetime, reason: str) -> Order:
        """Cancel an open order, saying why."""
        return self._move(
            order_id,
            OrderStatus.CANCELLED,
            at,
            cancelled_at=at,
            cancel_reason=reason[:_TEXT_LIMIT],
        )

    def receive_refill(self, order_id: int, at: datetime, quantity: float) -> Order:
        """The goods are on the shelf: `quantity` units refilled since the order was placed.

        A refill receives an order from any open status, whether or not the
        supplier marked it confirmed or shipped. Like every move, one
        conditional UPDATE: a concurrent cancel wins or loses cleanly, and the
        loser gets an `OrderTransitionError`.
        """
        return self._move(
            order_id,
            OrderStatus.RECEIVED,
            at,
            sources=OPEN_STATUSES,
            received_at=at,
            received_quantity=quantity,
        )

    def close(self) -> None:
        """Release the database connections."""
        self._engine.dispose()

    # -- internals ------------------------------------------------------------

    def _move(
        self,
        order_id: int,
        to: OrderStatus,
        at: datetime,
        *,
        sources: Iterable[OrderStatus] | None = None,
        **values: Any,
    ) -> Order:
        """Move to `to` from `sources` (default: the lifecycle's) in one conditional UPDATE."""
        if sources is None:
            sources = [src for src, targets in TRANSITIONS.items() if to in targets]
        allowed = [src.value for src in sources]
        with store_errors(_DATABASE), self._sessions.begin() as s:
            # Update first, read after: the conditional UPDATE is the check,
            # and on SQLite a write lock taken before any read cannot fail
            # on a snapshot another writer made stale.
            result = cast(
                "CursorResult[Any]",
                s.execute(
                    update(Order)
                    .where(Order.id == order_id, Order.status.in_(allowed))
                    .values(status=to.value, updated_at=at, **values)
                    .execution_options(synchronize_session=False)
                ),
            )
            order = s.get(Order, order_id)
            if order is None:
                raise UnknownOrder(order_id)
            if result.rowcount != 1:
                raise OrderTransitionError(order_id, OrderStatus(order.status), to)
        self._changed(order)
        return order

    def _changed(self, order: Order) -> None:
        if self._on_change is None:
            return
        try:
            self._on_change(order)
        except Exception:
            log.exception("order listener failed on order %s (%s)", order.id, order.status)
