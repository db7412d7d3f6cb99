"""The order book: one open order per (site, SKU), the lifecycle, the change
listener; on SQLite and on PostgreSQL (`sql_url`)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cloud.errors import StoreUnavailable
from cloud.orders import (
    OPEN_STATUSES,
    TRANSITIONS,
    Order,
    OrderBook,
    OrderStatus,
    OrderTransitionError,
    UnknownOrder,
)

AT = datetime(2026, 11, 1, tzinfo=UTC)
LATER = AT + timedelta(hours=3)


def create(book: OrderBook, site: str = "s", sku: str = "X", **extra: Any) -> Order | None:
    return book.create(
        site=site, sku=sku, quantity=10, reason="test", on_hand=1, rate_per_day=1, at=AT, **extra
    )


def utc(t: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes (stored as UTC), PostgreSQL aware ones.
    if t is None:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


@pytest.fixture
def book(sql_url: str) -> Iterator[OrderBook]:
    book = OrderBook(sql_url)
    yield book
    book.close()


def new_order(book: OrderBook, sku: str = "X") -> Order:
    order = create(book, sku=sku)
    assert order is not None
    return order


def run_together(n: int, work: Callable[[int], object]) -> list[object]:
    """Run `work(i)` for i in range(n) on n threads released at once; their results."""
    results: list[object] = [None] * n
    errors: list[BaseException] = []
    barrier = threading.Barrier(n)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except BaseException as exc:  # reported below, on the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    return results


# -- one open order per (site, SKU) ------------------------------------------


def test_one_open_order_per_site_and_sku(book: OrderBook) -> None:
    first = create(book)
    assert first is not None
    assert create(book) is None
    assert create(book, sku="Y") is not None
    assert create(book, site="t") is not None
    open_order = book.open_order("s", "X")
    assert open_order is not None
    book.receive_refill(open_order.id, AT, 10)
    assert book.open_order("s", "X") is None
    assert create(book) is not None, "a new order is allowed once the last one is closed"
    assert [o.status for o in book.orders("s")] == ["received", "proposed", "proposed"]


def test_every_open_status_blocks_a_second_order(book: OrderBook) -> None:
    order = new_order(book)
    book.confirm(order.id, AT)
    assert create(book) is None
    book.ship(order.id, expected_arrival=LATER, at=AT)
    assert create(book) is None
    book.cancel(order.id, AT, "wrong shelf")
    assert create(book) is not None


def test_concurrent_creators_make_exactly_one_order(sql_url: str) -> None:
    books = [OrderBook(sql_url) for _ in range(4)]
    results = run_together(len(books), lambda i: create(books[i]))
    assert sum(r is not None for r in results) == 1
    assert len(books[0].orders()) == 1
    for b in books:
        b.close()


def test_collectors_starting_together_share_one_schema(sql_url: str) -> None:
    books = run_together(6, lambda _: OrderBook(sql_url))
    first, last = books[0], books[5]
    assert isinstance(first, OrderBook)
    assert isinstance(last, OrderBook)
    assert create(first) is not None
    assert create(last) is None, "they share one table and its constraint"
    for b in books:
        assert isinstance(b, OrderBook)
        b.close()


def test_supplier_is_recorded(book: OrderBook) -> None:
    order = create(book, supplier="boltwerk")
    assert order is not None
    assert order.supplier == "boltwerk"
    assert book.get(order.id).supplier == "boltwerk"
    assert new_order(book, sku="Y").supplier is None


# -- lifecycle ----------------------------------------------------------------


def test_an_order_goes_through_its_lifecycle(book: OrderBook) -> None:
    order = new_order(book)
    assert order.status == OrderStatus.PROPOSED
    confirmed = book.confirm(order.id, AT + timedelta(minutes=5))
    assert confirmed.status == "confirmed"
    assert utc(confirmed.confirmed_at) == AT + timedelta(minutes=5)
    arrival = AT + timedelta(days=2)
    shipped = book.ship(order.id, expected_arrival=arrival, at=AT + timedelta(hours=1))
    assert shipped.status == "shipped"
    assert utc(shipped.expected_arrival) == arrival
    assert utc(shipped.shipped_at) == AT + timedelta(hours=1)
    received = book.receive(order.id, at=arrival, quantity=8)
    assert received.status == "received"
    assert (utc(received.received_at), received.received_quantity) == (arrival, 8)
    assert utc(received.updated_at) == arrival
    stored = book.get(order.id)
    assert (stored.status, stored.received_quantity) == ("received", 8)
    assert book.open_order("s", "X") is None


def test_received_without_a_count_means_as_ordered(book: OrderBook) -> None:
    order = new_order(book)
    book.confirm(order.id, AT)
    book.ship(order.id, expected_arrival=LATER, at=AT)
    assert book.receive(order.id, at=LATER).received_quantity == order.quantity


@pytest.mark.parametrize("status", list(OPEN_STATUSES))
def test_any_open_order_can_be_cancelled_with_a_reason(
    book: OrderBook, status: OrderStatus
) -> None:
    order = new_order(book)
    if status is not OrderStatus.PROPOSED:
        book.confirm(order.id, AT)
    if status is OrderStatus.SHIPPED:
        book.ship(order.id, expected_arrival=LATER, at=AT)
    cancelled = book.cancel(order.id, LATER, "customer closed the line " * 20)
    assert cancelled.status == "cancelled"
    assert utc(cancelled.cancelled_at) == LATER
    assert cancelled.cancel_reason is not None
    assert cancelled.cancel_reason.startswith("customer closed the line")
    assert len(cancelled.cancel_reason) == 200


def _move(book: OrderBook, order_id: int, to: OrderStatus) -> Order:
    moves: dict[OrderStatus, Callable[[], Order]] = {
        OrderStatus.CONFIRMED: lambda: book.confirm(order_id, LATER),
        OrderStatus.SHIPPED: lambda: book.ship(order_id, expected_arrival=LATER, at=LATER),
        OrderStatus.RECEIVED: lambda: book.receive(order_id, LATER),
        OrderStatus.CANCELLED: lambda: book.cancel(order_id, LATER, "test"),
    }
    return moves[to]()


_PATH = {
    OrderStatus.PROPOSED: [],
    OrderStatus.CONFIRMED: [OrderStatus.CONFIRMED],
    OrderStatus.SHIPPED: [OrderStatus.CONFIRMED, OrderStatus.SHIPPED],
    OrderStatus.RECEIVED: [OrderStatus.CONFIRMED, OrderStatus.SHIPPED, OrderStatus.RECEIVED],
    OrderStatus.CANCELLED: [OrderStatus.CANCELLED],
}
_ILLEGAL = [
    (src, dst)
    for src in OrderStatus
    for dst in OrderStatus
    if dst is not OrderStatus.PROPOSED and dst not in TRANSITIONS[src]
]


def test_the_transition_table_is_the_documented_lifecycle() -> None:
    s = OrderStatus
    assert {src: set(dst) for src, dst in TRANSITIONS.items()} == {
        s.PROPOSED: {s.CONFIRMED, s.CANCELLED},
        s.CONFIRMED: {s.SHIPPED, s.CANCELLED},
        s.SHIPPED: {s.RECEIVED, s.CANCELLED},
        s.RECEIVED: set(),
        s.CANCELLED: set(),
    }


@pytest.mark.parametrize(("current", "requested"), _ILLEGAL, ids=lambda s: str(s))
def test_an_illegal_move_is_refused_and_changes_nothing(
    book: OrderBook, current: OrderStatus, requested: OrderStatus
) -> None:
    order = new_order(book)
    for step in _PATH[current]:
        _move(book, order.id, step)
    before = book.get(order.id)
    with pytest.raises(OrderTransitionError) as caught:
        _move(book, order.id, requested)
    err = caught.value
    assert (err.order_id, err.current, err.requested) == (order.id, current, requested)
    assert f"is {current}; it cannot become {requested}" in str(err)
    after = book.get(order.id)
    assert (after.status, after.updated_at) == (before.status, before.updated_at)


def test_moving_an_unknown_order_is_a_key_error(book: OrderBook) -> None:
    with pytest.raises(UnknownOrder, match="no order #999"):
        book.confirm(999, AT)
    with pytest.raises(KeyError):
        book.receive_refill(999, AT, 10)
    with pytest.raises(KeyError):
        book.get(999)


@pytest.mark.parametrize("status", ["proposed", "confirmed", "shipped"])
def test_a_refill_receives_an_order_from_any_open_status(book: OrderBook, status: str) -> None:
    order = new_order(book)
    if status != "proposed":
        book.confirm(order.id, AT)
    if status == "shipped":
        book.ship(order.id, expected_arrival=LATER, at=AT)
    received = book.receive_refill(order.id, LATER, 37.5)
    stored = book.get(order.id)
    assert received.status == stored.status == "received"
    assert utc(stored.received_at) == LATER
    assert stored.received_quantity == 37.5, "the refilled units, not the quantity ordered"


@pytest.mark.parametrize("final", ["cancelled", "received"])
def test_a_refill_never_overrides_a_final_status(book: OrderBook, final: str) -> None:
    order = new_order(book)
    if final == "cancelled":
        book.cancel(order.id, AT, "not needed")
    else:
        book.receive_refill(order.id, AT, 5)
    before = book.get(order.id)
    with pytest.raises(OrderTransitionError, match=f"is {final}"):
        book.receive_refill(order.id, LATER, 40)
    after = book.get(order.id)
    assert (after.status, after.updated_at, after.received_quantity) == (
        before.status,
        before.updated_at,
        before.received_quantity,
    )


Move = Callable[[OrderBook, int, int], object]
"""One process's move: (its order book, the order id, its index)."""


def race(sql_url: str, odd: Move, even: Move) -> tuple[list[object], Order]:
    """Four processes move one order at once, odd and even ones differently.

    Returns each one's result ("moved" or "refused") and the order afterwards.
    """
    books = [OrderBook(sql_url) for _ in range(4)]
    order = new_order(books[0])

    def move(i: int) -> str:
        try:
            (odd if i % 2 else even)(books[i], order.id, i)
        except OrderTransitionError:
            return "refused"
        return "moved"

    results = run_together(len(books), move)
    final = books[0].get(order.id)
    for b in books:
        b.close()
    return results, final


def test_two_processes_moving_one_order_cannot_both_win(sql_url: str) -> None:
    results, final = race(
        sql_url,
        odd=lambda book, order_id, _i: book.confirm(order_id, LATER),
        even=lambda book, order_id, i: book.cancel(order_id, LATER, f"by {i}"),
    )
    # Confirm then cancel is a legal sequence; anything else leaves one winner.
    moved = results.count("moved")
    assert (moved, final.status) in {(1, "confirmed"), (1, "cancelled"), (2, "cancelled")}


def test_a_refill_and_a_cancel_at_once_leave_one_winner(sql_url: str) -> None:
    results, final = race(
        sql_url,
        odd=lambda book, order_id, _i: book.receive_refill(order_id, LATER, 12),
        even=lambda book, order_id, i: book.cancel(order_id, LATER, f"by {i}"),
    )
    assert results.count("moved") == 1, results
    assert final.status in {"received", "cancelled"}
    assert (final.received_quantity == 12) == (final.status == "received")


# -- the change listener ---------------------------------------------------


def test_the_listener_hears_every_change(sql_url: str) -> None:
    heard: list[tuple[int, str]] = []
    book = OrderBook(sql_url, on_change=lambda o: heard.append((o.id, o.status)))
    order = new_order(book)
    assert create(book) is None, "a lost race is no change"
    book.confirm(order.id, AT)
    book.ship(order.id, expected_arrival=LATER, at=AT)
    with pytest.raises(OrderTransitionError):
        book.confirm(order.id, AT)
    book.receive(order.id, LATER)
    other = new_order(book, sku="Y")
    book.cancel(other.id, AT, "not needed")
    assert heard == [
        (order.id, "proposed"),
        (order.id, "confirmed"),
        (order.id, "shipped"),
        (order.id, "received"),
        (other.id, "proposed"),
        (other.id, "cancelled"),
    ]
    book.close()


def test_a_failing_listener_does_not_undo_the_change(
    sql_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(_order: Order) -> None:
        raise RuntimeError("influx is down")

    book = OrderBook(sql_url, on_change=broken)
    order = new_order(book)
    assert book.confirm(order.id, AT).status == "confirmed"
    assert book.get(order.id).status == "confirmed"
    assert "order listener failed" in caplog.text
    book.close()


# -- databases ------------------------------------------------------------------


def test_plain_postgresql_urls_use_psycopg_3(postgres_url: str) -> None:
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    book = OrderBook(plain)
    assert create(book) is not None
    book.close()


def test_sqlite_directory_is_created(tmp_path: Path) -> None:
    book = OrderBook(f"sqlite:///{tmp_path / 'new' / 'dir' / 'o.db'}")
    assert create(book) is not None


def test_unusable_database_is_a_clear_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreUnavailable, match="order database"):
        OrderBook(f"sqlite:///{blocker / 'o.db'}")


def test_unreachable_postgresql_is_a_clear_store_error() -> None:
    with pytest.raises(StoreUnavailable, match="order database"):
        OrderBook("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_delivered_lead_times_are_placed_to_received_per_key(book: OrderBook) -> None:
    first = create(book, sku="X", supplier="acme")
    assert first is not None
    book.receive_refill(first.id, AT + timedelta(days=3), 10)
    again = book.create(
        site="s",
        sku="X",
        quantity=10,
        reason="t",
        on_hand=1,
        rate_per_day=1,
        at=AT + timedelta(days=4),
        supplier="acme",
    )
    assert again is not None
    book.receive_refill(again.id, AT + timedelta(days=9, hours=12), 10)
    other = create(book, sku="Y")
    assert other is not None
    book.cancel(other.id, LATER, "not needed")  # never delivered: no lead time
    open_one = create(book, sku="Z")
    assert open_one is not None

    got = book.delivered_lead_times([("s", "X"), ("s", "Y"), ("s", "Z"), ("t", "X")], AT)
    assert got == {("s", "X"): [("acme", pytest.approx(3.0)), ("acme", pytest.approx(5.5))]}
    later = book.delivered_lead_times([("s", "X")], AT + timedelta(days=5))
    assert later == {("s", "X"): [("acme", pytest.approx(5.5))]}, "only received since then"
    assert book.delivered_lead_times([], AT) == {}
