from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cloud.errors import StoreUnavailable
from cloud.orders import OrderBook, OrderStatus

AT = datetime(2026, 11, 1, tzinfo=UTC)


def create(book: OrderBook, site: str = "s", sku: str = "X") -> object:
    return book.create(
        site=site, sku=sku, quantity=10, reason="test", on_hand=1, rate_per_day=1, at=AT
    )


def test_one_open_order_per_site_and_sku(tmp_path: Path) -> None:
    book = OrderBook(f"sqlite:///{tmp_path / 'o.db'}")
    first = create(book)
    assert first is not None
    assert create(book) is None
    assert create(book, sku="Y") is not None
    assert create(book, site="t") is not None
    open_order = book.open_order("s", "X")
    assert open_order is not None
    book.set_status(open_order.id, OrderStatus.RECEIVED, AT)
    assert book.open_order("s", "X") is None
    assert create(book) is not None, "a new order is allowed once the last one is closed"
    assert [o.status for o in book.orders("s")] == ["received", "proposed", "proposed"]


def test_concurrent_creators_make_exactly_one_order(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'o.db'}"
    books = [OrderBook(url) for _ in range(4)]
    results: list[object] = []
    barrier = threading.Barrier(len(books))

    def race(book: OrderBook) -> None:
        barrier.wait()
        results.append(create(book))

    threads = [threading.Thread(target=race, args=(b,)) for b in books]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sum(r is not None for r in results) == 1
    assert len(books[0].orders()) == 1


def test_sqlite_directory_is_created(tmp_path: Path) -> None:
    book = OrderBook(f"sqlite:///{tmp_path / 'new' / 'dir' / 'o.db'}")
    assert create(book) is not None


def test_unusable_database_is_a_clear_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreUnavailable, match="order database"):
        OrderBook(f"sqlite:///{blocker / 'o.db'}")


def test_collectors_starting_together_share_one_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    books: list[OrderBook] = []
    errors: list[Exception] = []
    barrier = threading.Barrier(6)

    def start() -> None:
        barrier.wait()
        try:
            books.append(OrderBook(url))
        except Exception as exc:  # the test reports any failure below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert len(books) == 6
    assert create(books[0]) is not None
    assert create(books[5]) is None, "they share one table and its constraint"
