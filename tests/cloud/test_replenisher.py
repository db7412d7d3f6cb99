"""The replenisher on real stores (SQLite levels, SQL orders and alert state):
order at the reorder point, receive on refill, stock and sensor alerts once per
episode, agreements from the catalog, and one alert with two collectors."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cloud.alert_state import AlertState
from cloud.catalog import Catalog
from cloud.config import ReplenishmentConfig
from cloud.orders import OrderBook
from cloud.replenisher import Replenisher
from cloud.timeseries import SqliteStore
from cloud.timeseries.base import LevelPoint
from vmi.wire import Alert, AlertKind, Event, EventKind, EventsBatch

T0 = datetime(2026, 11, 1, tzinfo=UTC)
RULES = {
    "window_days": 28,
    "default": {"lead_time_days": 2, "service_level": 0.95, "order_cycle_days": 7},
}


class FixedClock:
    speed = 1.0

    def __init__(self) -> None:
        self.t = T0

    def now(self) -> datetime:
        return self.t


@dataclass
class Rig:
    store: SqliteStore
    orders: OrderBook
    state: AlertState
    clock: FixedClock
    rep: Replenisher
    alerts: list[Alert] = field(default_factory=list)

    def level(self, hours: float, qty: float, *, sku: str = "X", device: str = "d") -> None:
        self.clock.t = T0 + timedelta(hours=hours)
        self.store.write_levels([LevelPoint("s", device, "A-01", sku, self.clock.t, qty)])
        self.rep.evaluate([("s", sku)])

    def kinds(self) -> list[str]:
        return [a.kind.value for a in self.alerts]


def make_rig(
    tmp_path: Path,
    rules: dict[str, object] = RULES,
    clock: FixedClock | None = None,
    **kw: object,
) -> Rig:
    store = SqliteStore(tmp_path / "levels.db")
    url = f"sqlite:///{tmp_path / 'orders.db'}"
    orders, state, clock = OrderBook(url), AlertState(url), clock or FixedClock()
    alerts: list[Alert] = []
    rep = Replenisher(
        ReplenishmentConfig.model_validate(rules),
        store=store,
        orders=orders,
        alert_state=state,
        clock=clock,
        publish_alert=alerts.append,
        **kw,  # type: ignore[arg-type]
    )
    return Rig(store, orders, state, clock, rep, alerts)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    r = make_rig(tmp_path)
    yield r
    r.store.close()
    r.orders.close()
    r.state.close()


def test_one_order_at_the_reorder_point_received_by_the_refill(rig: Rig) -> None:
    # 24 a day, read every 2 hours, from 200 units.
    hour = 0
    while "reorder" not in rig.kinds() and hour < 200:
        rig.level(hour, 200 - hour)
        hour += 2
    (reorder,) = [a for a in rig.alerts if a.kind is AlertKind.REORDER]
    d = rig.rep.decisions[("s", "X")]
    assert reorder.kind is AlertKind.REORDER
    assert reorder.order_id is not None
    assert reorder.inventory_position == pytest.approx(reorder.on_hand)
    assert reorder.inventory_position <= reorder.reorder_point  # type: ignore[operator]
    # Demand over the 2-day lead time plus a small safety stock (steady demand).
    assert 48 <= d.reorder_point <= 60
    # Up to the order-up-to level: the reorder point plus about 7 days of demand.
    assert reorder.order_quantity == pytest.approx(d.order_up_to - d.inventory_position, abs=1)
    order = rig.orders.open_order("s", "X")
    assert order is not None
    assert order.quantity == reorder.order_quantity

    # While the order is open, no second order although the level keeps falling.
    for h in range(hour, hour + 24, 2):
        rig.level(h, 200 - h)
    assert rig.kinds().count("reorder") == 1
    assert rig.rep.decisions[("s", "X")].open_order_qty == order.quantity

    # The delivery: the level jumps up; the order is received.
    rig.level(hour + 25, 200 - (hour + 24) + order.quantity)
    assert rig.orders.open_order("s", "X") is None
    assert [o.status for o in rig.orders.orders()] == ["received"]
    assert rig.rep.stats.orders_received == 1


def test_every_evaluation_writes_a_projection_point(rig: Rig) -> None:
    for h in range(0, 48, 6):
        rig.level(h, 100 - h / 2)
    points = rig.store.points("projection", T0 - timedelta(days=1))
    assert len(points) == 8
    last = dict(points[-1].fields)
    assert dict(points[-1].tags) == {"site": "s", "sku": "X", "supplier": "unassigned"}
    assert last["on_hand"] == pytest.approx(100 - 42 / 2)
    assert last["rate_per_day"] == pytest.approx(12.0, rel=0.15)
    assert last["reorder_point"] > 0
    assert last["order_up_to"] > last["reorder_point"]


def test_no_order_on_too_little_history(tmp_path: Path) -> None:
    r = make_rig(tmp_path, {**RULES, "default": {**RULES["default"], "min_history_days": 3}})  # type: ignore[dict-item]
    for h in range(0, 60, 2):
        r.level(h, 60 - h)  # would cross any reorder point within the first day
    assert "reorder" not in r.kinds()
    r.level(75, 0)
    assert "reorder" in r.kinds()


def test_stockout_alerts_once_per_episode(rig: Rig) -> None:
    for h in range(0, 48, 4):
        rig.level(h, max(40 - h, 0))
    assert rig.kinds().count("stockout") == 1
    rig.level(50, 30)  # refilled: the episode ends
    rig.level(52, 0)  # and a new one begins
    assert rig.kinds().count("stockout") == 2
    stockout = next(a for a in rig.alerts if a.kind is AlertKind.STOCKOUT)
    assert stockout.on_hand == 0
    assert stockout.sku == "X"


def test_stockout_imminent_when_the_early_estimate_beats_the_lead_time(rig: Rig) -> None:
    for h in range(0, 40, 2):
        rig.level(h, 300 - 3 * h)  # 72 a day; at 300 units that is 4 days of cover
    assert "stockout_imminent" not in rig.kinds()
    for h in range(40, 80, 2):
        rig.level(h, 300 - 3 * h)
    imminent = [a for a in rig.alerts if a.kind is AlertKind.STOCKOUT_IMMINENT]
    assert len(imminent) == 1
    assert imminent[0].stockout_days_p10 is not None
    assert imminent[0].stockout_days_p10 <= 2.0  # before the 2-day lead time


def test_silent_sensor_alerts_once_and_clears_when_it_reports(tmp_path: Path) -> None:
    r = make_rig(tmp_path, {**RULES, "sensor_interval_s": 60, "silent_after_intervals": 3})
    r.level(0, 10, device="gw-1")
    r.level(0, 10, device="gw-2", sku="Y")
    r.clock.t = T0 + timedelta(minutes=2)
    r.rep.check_sensors()
    assert "sensor_silent" not in r.kinds()
    r.level(4 / 60, 10, device="gw-2", sku="Y")  # gw-2 keeps talking
    r.clock.t = T0 + timedelta(minutes=5)
    r.rep.check_sensors()
    r.rep.check_sensors()
    silent = [a for a in r.alerts if a.kind is AlertKind.SENSOR_SILENT]
    assert [(a.device, a.sku) for a in silent] == [("gw-1", None)]
    r.level(6 / 60, 9, device="gw-1")  # back
    r.rep.check_sensors()
    assert r.state.active() == []


def test_anomaly_events_alert_at_most_once_per_cooldown(rig: Rig) -> None:
    def batch(minutes: float, kind: EventKind) -> EventsBatch:
        at = T0 + timedelta(minutes=minutes)
        return EventsBatch(
            site="s",
            device="gw",
            seq=1,
            sent_at=at,
            events=[Event(time=at, kind=kind, location="A-01", detail="crept 40 g")],
        )

    rig.rep.on_events(batch(0, EventKind.DRIFT))
    rig.rep.on_events(batch(5, EventKind.DRIFT))  # within the cooldown
    rig.rep.on_events(batch(6, EventKind.MISMATCH))  # another kind
    rig.rep.on_events(batch(7, EventKind.PICK))  # not an anomaly
    rig.rep.on_events(batch(60 * 25, EventKind.DRIFT))  # a day later
    anomalies = [a for a in rig.alerts if a.kind is AlertKind.SENSOR_ANOMALY]
    assert [a.message.split(" ")[0] for a in anomalies] == ["drift", "mismatch", "drift"]
    assert anomalies[0].message == "drift on gw at A-01: crept 40 g"
    assert anomalies[0].location == "A-01"


def test_catalog_agreement_sets_lead_time_packs_and_supplier(tmp_path: Path) -> None:
    catalog_file = tmp_path / "catalog.yaml"
    catalog_file.write_text(
        """
version: 1
suppliers: [{code: boltwerk, name: Boltwerk}]
customers: [{code: acme, name: ACME}]
sites: [{code: s, customer: acme, locations: [{code: A-01}]}]
skus: [{code: X, pack_size: 50, min_order_qty: 100}]
agreements:
  - {supplier: boltwerk, site: s, sku: X, lead_time_days: 5, service_level: 0.9,
     min_level: 0, max_level: 1000}
"""
    )
    catalog = Catalog(f"sqlite:///{tmp_path / 'catalog.db'}")
    catalog.load_file(catalog_file)
    r = make_rig(tmp_path, catalog=catalog)
    hour = 0
    while "reorder" not in r.kinds() and hour < 300:
        r.level(hour, 400 - hour)
        hour += 2
    reorder = next(a for a in r.alerts if a.kind is AlertKind.REORDER)
    assert reorder.reorder_days == 5  # the agreement's lead time, not the config's 2
    assert reorder.order_quantity is not None
    assert reorder.order_quantity % 50 == 0
    assert reorder.order_quantity >= 100
    order = r.orders.open_order("s", "X")
    assert order is not None
    assert order.supplier == "boltwerk"
    (tags,) = {p.tags for p in r.store.points("projection", T0 - timedelta(days=1))}
    assert dict(tags)["supplier"] == "boltwerk"
    catalog.close()


def test_two_collectors_raise_one_alert(tmp_path: Path) -> None:
    a = make_rig(tmp_path)
    b = make_rig(tmp_path, clock=a.clock)  # the same stores: a second collector
    for h in range(0, 30, 3):
        a.level(h, max(20 - h, 0))
        b.rep.evaluate([("s", "X")])
    assert (a.kinds() + b.kinds()).count("stockout") == 1
    assert (a.kinds() + b.kinds()).count("reorder") == 1


def test_touched_keys_are_evaluated_in_the_background_and_coalesced(rig: Rig) -> None:
    for h in range(0, 24 * 8, 4):
        rig.store.write_levels([LevelPoint("s", "d", "A", "X", T0 + timedelta(hours=h), 400 - h)])
    rig.clock.t = T0 + timedelta(days=8)
    for _ in range(50):  # a burst of batches touching the same key
        rig.rep.touch([("s", "X")])
    stop = threading.Event()
    runner = threading.Thread(target=rig.rep.run, args=(stop,))
    runner.start()
    try:
        deadline = time.monotonic() + 10
        while rig.rep.stats.projections == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)
    finally:
        stop.set()
        runner.join(10)
    assert rig.rep.stats.projections == 1, "fifty touches, one evaluation"
