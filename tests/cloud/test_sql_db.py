"""cloud/db.py: one schema for catalog and orders, engines set up alike."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from cloud.db import Base, create_schema, make_engine, normalise_url
from cloud.orders import OrderBook

TABLES = {
    "supplier",
    "customer",
    "site",
    "location",
    "sku",
    "vmi_agreement",
    "device",
    "device_binding",
    "replenishment_order",
    "active_alert",
}


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://u@h:5432/db", "postgresql+psycopg://u@h:5432/db"),
        ("postgres://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///vmi.db", "sqlite:///vmi.db"),
    ],
)
def test_postgresql_urls_select_psycopg_3(given: str, used: str) -> None:
    assert normalise_url(given) == used


def test_one_metadata_holds_every_table(sql_url: str) -> None:
    # Opening the order book alone creates the whole schema: whichever store
    # opens a database first, it is complete.
    OrderBook(sql_url).close()
    engine = make_engine(sql_url)
    # Other tests may have imported more table modules (API keys, webhooks):
    # whatever the metadata holds is created, and it holds at least these.
    assert set(inspect(engine).get_table_names()) == set(Base.metadata.tables)
    assert set(Base.metadata.tables) >= TABLES
    create_schema(engine)  # again: a no-op
    engine.dispose()


def test_sqlite_connections_enforce_foreign_keys_in_wal_mode(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 5000
    engine.dispose()


def test_times_come_back_aware_in_utc_whatever_zone_they_were_given_in(sql_url: str) -> None:
    # SQLite kept an offset-less wall time (a +02:00 time came back two hours
    # off, and naive); PostgreSQL answers in its session zone. UtcDateTime
    # stores UTC and hands back aware UTC on both.
    from datetime import UTC, datetime, timedelta, timezone

    book = OrderBook(sql_url)
    at = datetime(2026, 11, 1, 14, 30, tzinfo=timezone(timedelta(hours=2)))
    order = book.create(
        site="s", sku="X", quantity=5, reason="r", on_hand=1.0, rate_per_day=1.0, at=at
    )
    assert order is not None
    stored = book.get(order.id)
    book.close()
    assert stored.created_at == at
    assert stored.created_at.tzinfo is UTC
    assert stored.created_at.hour == 12
