"""The KPI job on real stores: a hand-made series in SQLite (and InfluxDB), its
orders in SQL, its forecasts as `projection` points; the `kpi` points it
writes carry exactly the figures of that series. A store that fails is
retried at the next run and never raises."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cloud.catalog import Catalog, parse_catalog
from cloud.config import KpiConfig
from cloud.kpis.report import GroupBy, group_rows, kpi_report
from cloud.kpis.writer import KpiWriter, kpi_points
from cloud.orders import OrderBook
from cloud.timeseries import InfluxStore, SqliteStore
from cloud.timeseries.base import LevelPoint, Point, TimeSeriesStore
from cloud.timeseries.measurements import KPI, PROJECTION
from tests.servers import InfluxServer, free_port
from tests.store_proxy import StoreProxy
from tests.waiting import wait_for

T0 = datetime(2026, 11, 2, tzinfo=UTC)
END = T0 + timedelta(days=10)
TEN_DAYS = KpiConfig(window_days=10, interval_s=3600)
CATALOG = """
version: 1
suppliers: [{code: boltwerk, name: Boltwerk}]
customers: [{code: acme, name: ACME}]
sites: [{code: s, customer: acme, locations: [{code: A-01}]}]
skus: [{code: X}, {code: Y}]
agreements:
  - {supplier: boltwerk, site: s, sku: X, lead_time_days: 7, service_level: 0.9,
     min_level: 0, max_level: 1000}
"""


class FixedClock:
    speed = 1.0

    def __init__(self, t: datetime) -> None:
        self.t = t

    def now(self) -> datetime:
        return self.t


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def write_history(store: TimeSeriesStore, orders: OrderBook) -> None:
    """Site s, SKU X: a reading each midnight, 45, 30, 20, 10, 0 (empty two days),
    refilled to 60, then 50, 40, 30; two forecasts; five orders. SKU Y: one
    reading, nothing consumed."""
    levels = [(0, 45), (1, 30), (2, 20), (3, 10), (4, 0), (6, 60), (7, 50), (8, 40), (9, 30)]
    store.write_levels([LevelPoint("s", "d", "A-01", "X", at(d), q) for d, q in levels])
    store.write_levels([LevelPoint("s", "d", "A-02", "Y", at(0.5), 12.0)])
    store.write_points(
        [
            PROJECTION.point(tags={"site": "s", "sku": "X"}, fields={"rate_per_day": r}, time=t)
            for t, r in ((at(-1 / 24), 12.0), (at(5), 8.0))
        ]
    )

    def order(quantity: int, created: float) -> int:
        made = orders.create(
            site="s",
            sku="X",
            quantity=quantity,
            reason="test",
            on_hand=0.0,
            rate_per_day=10.0,
            at=at(created),
        )
        assert made is not None
        return made.id

    # Placed before the window, received on day 1: 6 days; due on day 2 by the agreement.
    first = order(50, -5)
    orders.receive_refill(first, at(1), 50)
    # Placed day 3, due day 5 once shipped, received day 6: late, 3 days.
    second = order(60, 3)
    orders.confirm(second, at(3.1))
    orders.ship(second, at(5), at(3.2))
    orders.receive(second, at(6))
    orders.cancel(order(99, 7), at(7.5), "not needed")
    order(40, 8)  # still open


@pytest.fixture
def orders(tmp_path: Path) -> Iterator[OrderBook]:
    book = OrderBook(f"sqlite:///{tmp_path / 'orders.db'}")
    yield book
    book.close()


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    c = Catalog(f"sqlite:///{tmp_path / 'catalog.db'}")
    c.load(parse_catalog(CATALOG))
    yield c
    c.close()


@pytest.fixture
def store(tmp_path: Path, orders: OrderBook) -> Iterator[SqliteStore]:
    s = SqliteStore(tmp_path / "levels.db")
    write_history(s, orders)
    yield s
    s.close()


def kpi_fields(store: TimeSeriesStore) -> dict[tuple[str, datetime], dict[str, object]]:
    """(sku, time) -> tags and fields of every stored `kpi` point."""
    return {
        (p.tag("sku") or "", p.time): dict(p.tags) | dict(p.fields)
        for p in store.points(KPI.name, T0 - timedelta(days=30))
    }


def test_one_run_writes_the_exact_kpis_of_every_stored_key(
    store: SqliteStore, orders: OrderBook, catalog: Catalog
) -> None:
    writer = KpiWriter(TEN_DAYS, store=store, orders=orders, clock=FixedClock(END), catalog=catalog)
    assert writer.write_once()
    assert (writer.stats.runs, writer.stats.failures, writer.stats.points_written) == (1, 0, 2)
    found = kpi_fields(store)
    assert set(found) == {("X", END), ("Y", END)}
    x = found[("X", END)]
    assert x == pytest.approx(
        {
            "site": "s",
            "sku": "X",
            "supplier": "boltwerk",
            "customer": "acme",
            "window_days": 10.0,
            # 15 + 10 + 10 + 10 before the stockout, 10 + 10 + 10 after; not the refill.
            "consumed": 75.0,
            # (45 + 30 + 20 + 10 + 0 + 0 + 60 + 50 + 40 + 30) unit-days over 10 days.
            "avg_on_hand": 28.5,
            "turns_per_year": 75 * 365 / 10 / 28.5,
            "days_of_supply": 28.5 / 7.5,
            "stockout_events": 1,
            "stockout_hours": 48.0,
            # Two empty days at the forecast made before they began (12 a day).
            "lost_units": 24.0,
            "fill_rate": 75 / 99,
            "orders_placed": 2,  # 60 and 40; the cancelled one and the one before do not count
            "avg_order_qty": 50.0,
            "deliveries": 2,
            "on_time_rate": 0.5,  # the first by the agreement's 7 days, the second late
            "avg_lead_time_days": 4.5,
            # Days 0-3 (forecast 12; actual 15, 10, 10, 10) and 6-8 (forecast 8, actual 10).
            "forecast_bias": (-3 + 2 + 2 + 2 - 2 - 2 - 2) / 7,
            "forecast_mae": 15 / 7,
            "forecast_mase": 15 / 7,  # the naive error: |10 - 15| and four zeros, over 5
        }
    )
    assert isinstance(x["stockout_events"], int)
    assert isinstance(x["consumed"], float)
    # Y: one reading of 12, nothing consumed, no agreement; unknown KPIs are left out.
    assert found[("Y", END)] == {
        "site": "s",
        "sku": "Y",
        "supplier": "unassigned",
        "customer": "acme",
        "window_days": 10.0,
        "consumed": 0.0,
        "avg_on_hand": 12.0,
        "turns_per_year": 0.0,
        "stockout_events": 0,
        "stockout_hours": 0.0,
        "lost_units": 0.0,
        "orders_placed": 0,
        "deliveries": 0,
    }


def test_without_a_catalog_keys_are_unassigned_and_unrated(
    store: SqliteStore, orders: OrderBook
) -> None:
    assert KpiWriter(TEN_DAYS, store=store, orders=orders, clock=FixedClock(END)).write_once()
    x = kpi_fields(store)[("X", END)]
    assert (x["supplier"], x["customer"]) == ("unassigned", "unassigned")
    assert x["on_time_rate"] == 0.0  # only the shipped order has a due day, and it was late


def test_each_run_is_a_snapshot_at_its_time(store: SqliteStore, orders: OrderBook) -> None:
    clock = FixedClock(END - timedelta(days=1))
    writer = KpiWriter(TEN_DAYS, store=store, orders=orders, clock=clock)
    assert writer.write_once()
    clock.t = END
    assert writer.write_once()
    assert writer.write_once()  # the same time again: the same points, overwritten
    found = kpi_fields(store)
    day_before = END - timedelta(days=1)
    assert sorted(found) == [("X", day_before), ("X", END), ("Y", day_before), ("Y", END)]
    assert found[("X", END)]["consumed"] == pytest.approx(75)
    assert writer.stats.points_written == 6


def test_a_key_with_nothing_in_the_window_gets_no_point(
    store: SqliteStore, orders: OrderBook
) -> None:
    # Z was read once, before the window: a shelf taken out of service.
    store.write_levels([LevelPoint("s", "d", "A-03", "Z", at(-1), 5.0)])
    # W's only reading is old too, but an order of it was received in the window.
    store.write_levels([LevelPoint("s", "d", "A-04", "W", at(-3), 1.0)])
    w = orders.create(
        site="s", sku="W", quantity=5, reason="t", on_hand=1.0, rate_per_day=1.0, at=at(-2)
    )
    assert w is not None
    orders.receive_refill(w.id, at(2), 5)
    writer = KpiWriter(TEN_DAYS, store=store, orders=orders, clock=FixedClock(END))
    assert writer.write_once()
    assert sorted(sku for sku, _ in kpi_fields(store)) == ["W", "X", "Y"]
    assert kpi_fields(store)[("W", END)]["deliveries"] == 1


def test_points_leave_out_unknown_kpis_and_refuse_groups(
    store: SqliteStore, orders: OrderBook
) -> None:
    rows = kpi_report(store, orders, [("s", "X"), ("s", "Y")], at(0), END)
    points = kpi_points(rows, END)
    assert [p.tag("sku") for p in points] == ["X", "Y"]
    assert all(isinstance(p, Point) and p.measurement == "kpi" for p in points)
    assert points[1].field("fill_rate") is None
    assert "fill_rate" not in dict(points[1].fields)
    empty = replace(rows[1], supplier=None, customer=None)
    assert dict(kpi_points([empty], END)[0].tags) == {"site": "s", "sku": "Y"}
    with pytest.raises(ValueError, match="per \\(site, SKU\\)"):
        kpi_points(group_rows(rows, GroupBy.SITE), END)
    assert kpi_points([], END) == []


def test_an_unreachable_store_is_logged_and_retried_never_raised(
    orders: OrderBook, caplog: pytest.LogCaptureFixture
) -> None:
    store = InfluxStore(f"http://127.0.0.1:{free_port()}/vmi", timeout_s=2.0)
    writer = KpiWriter(TEN_DAYS, store=store, orders=orders, clock=FixedClock(END))
    try:
        assert not writer.write_once()
        assert not writer.write_once()
    finally:
        store.close()
    assert (writer.stats.runs, writer.stats.failures, writer.stats.points_written) == (0, 2, 0)
    assert caplog.text.count("KPIs: store unavailable") == 2


@pytest.fixture
def proxy(influxdb: InfluxServer) -> Iterator[StoreProxy]:
    with StoreProxy(influxdb.url) as p:
        yield p


@pytest.fixture
def influx(proxy: StoreProxy, unique_id: str, orders: OrderBook) -> Iterator[InfluxStore]:
    """A fresh InfluxDB database holding the history, reached through the proxy."""
    s = InfluxStore(f"{proxy.url}/{unique_id}", timeout_s=5.0)
    s.ensure_database()
    write_history(s, orders)
    yield s
    s.close()


def test_a_failed_write_is_written_at_the_next_run(
    influx: InfluxStore, proxy: StoreProxy, orders: OrderBook, catalog: Catalog
) -> None:
    clock = FixedClock(END - timedelta(hours=1))
    writer = KpiWriter(TEN_DAYS, store=influx, orders=orders, clock=clock, catalog=catalog)
    proxy.script([503])  # the next write fails; reads still work
    assert not writer.write_once()
    assert kpi_fields(influx) == {}
    clock.t = END  # the next interval
    assert writer.write_once()
    found = kpi_fields(influx)
    assert sorted(found) == [("X", END), ("Y", END)]
    x = found[("X", END)]
    assert (x["supplier"], x["customer"]) == ("boltwerk", "acme")
    assert x["consumed"] == pytest.approx(75)
    assert x["avg_on_hand"] == pytest.approx(28.5)
    assert x["stockout_events"] == 1
    assert x["fill_rate"] == pytest.approx(75 / 99)
    assert x["on_time_rate"] == pytest.approx(0.5)
    assert (writer.stats.runs, writer.stats.failures) == (1, 1)


def test_the_job_thread_retries_every_interval_until_stopped(
    influx: InfluxStore, proxy: StoreProxy, orders: OrderBook
) -> None:
    writer = KpiWriter(
        KpiConfig(window_days=10, interval_s=0.05),
        store=influx,
        orders=orders,
        clock=FixedClock(END),
    )
    stop = threading.Event()
    proxy.script([503, 503])
    thread = threading.Thread(target=writer.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_for(lambda: writer.stats.runs >= 1, 20, lambda: f"a run ({writer.stats})")
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert writer.stats.failures == 2
    assert sorted(kpi_fields(influx)) == [("X", END), ("Y", END)]
