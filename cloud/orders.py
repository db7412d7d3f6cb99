"""Replenishment orders in SQL (SQLite by default, PostgreSQL in production).

At most one open order per (site, SKU) is enforced by a partial unique index,
so several collectors deciding at once still create only one.
"""

from __future__ import annotations

import time
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from sqlalchemy import DateTime, Float, Index, Integer, String, create_engine, event, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from cloud.errors import StoreUnavailable


class OrderStatus(StrEnum):
    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    SHIPPED = "shipped"
    RECEIVED = "received"
    CANCELLED = "cancelled"


OPEN_STATUSES = (OrderStatus.PROPOSED, OrderStatus.CONFIRMED, OrderStatus.SHIPPED)
_OPEN_SQL = text("status IN ('proposed', 'confirmed', 'shipped')")


class Base(DeclarativeBase):
    pass


class Order(Base):
    __tablename__ = "replenishment_order"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=OrderStatus.PROPOSED.value)
    reason: Mapped[str] = mapped_column(String(200))
    on_hand_at_trigger: Mapped[float] = mapped_column(Float)
    rate_per_day: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index(
            "one_open_order_per_site_sku",
            "site",
            "sku",
            unique=True,
            sqlite_where=_OPEN_SQL,
            postgresql_where=_OPEN_SQL,
        ),
    )


class OrderBook:
    """Creates, finds and moves replenishment orders."""

    def __init__(self, url: str) -> None:
        """`url` is an SQLAlchemy URL, e.g. `sqlite:///orders.db` or `postgresql+psycopg://...`."""
        try:
            self._engine: Engine = create_engine(url)
            if self._engine.dialect.name == "sqlite":
                _ensure_sqlite_dir(self._engine)
                event.listen(self._engine, "connect", _sqlite_pragmas)
            _create_schema(self._engine)
        except (SQLAlchemyError, OSError) as exc:
            raise StoreUnavailable(f"order database {url}: {exc}") from exc
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)

    def open_order(self, site: str, sku: str) -> Order | None:
        with self._sessions() as s:
            return s.scalars(
                select(Order).where(
                    Order.site == site, Order.sku == sku, Order.status.in_(OPEN_STATUSES)
                )
            ).first()

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
    ) -> Order | None:
        """Create a proposed order; None if (site, SKU) already has an open one."""
        order = Order(
            site=site,
            sku=sku,
            quantity=quantity,
            status=OrderStatus.PROPOSED.value,
            reason=reason[:200],
            on_hand_at_trigger=on_hand,
            rate_per_day=rate_per_day,
            created_at=at,
            updated_at=at,
        )
        try:
            with self._sessions.begin() as s:
                s.add(order)
        except IntegrityError:
            return None  # another collector's order won the race
        except SQLAlchemyError as exc:
            raise StoreUnavailable(f"order database: {exc}") from exc
        return order

    def set_status(self, order_id: int, status: OrderStatus, at: datetime) -> None:
        with self._sessions.begin() as s:
            order = s.get(Order, order_id)
            if order is None:
                raise KeyError(order_id)
            order.status = status.value
            order.updated_at = at

    def orders(self, site: str | None = None) -> list[Order]:
        """All orders, oldest first, optionally of one site."""
        stmt = select(Order).order_by(Order.id)
        if site is not None:
            stmt = stmt.where(Order.site == site)
        with Session(self._engine) as s:
            return list(s.scalars(stmt))

    def close(self) -> None:
        self._engine.dispose()


def _create_schema(engine: Engine) -> None:
    # Collectors starting together race between "does the table exist?" and
    # "create it"; the loser's second look finds the winner's table.
    for attempt in range(3):
        try:
            Base.metadata.create_all(engine)
            return
        except (OperationalError, ProgrammingError):
            if attempt == 2:
                raise
            time.sleep(0.05 * (attempt + 1))


def _ensure_sqlite_dir(engine: Engine) -> None:
    database = engine.url.database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_conn: object, _record: object) -> None:
    cur = dbapi_conn.cursor()  # type: ignore[attr-defined]
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()
