"""The replenisher on real stores (SQLite levels, SQL orders and alert state):
order at the reorder point, receive on refill, stock alerts once per episode,
agreements from the catalog, and one alert with two collectors."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from cloud.catalog import Catalog
from cloud.replenishment.decide import decide
from cloud.replenishment.effects import Effects
from cloud.timeseries.base import LevelPoint
from tests.cloud.replenishment.rig import RULES, T0, Rig, make_rig
from vmi.wire import AlertKind, ReorderAlert, StockoutAlert


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


def test_a_refill_records_the_units_it_brought(rig: Rig) -> None:
    hour = 0
    while "reorder" not in rig.kinds() and hour < 200:
        rig.level(hour, 200 - hour)
        hour += 2
    reorder = next(a for a in rig.alerts if isinstance(a, ReorderAlert))
    last = 200 - (hour - 2)  # the newest level
    rig.level(hour, last + 0.8 * reorder.order_quantity)  # a short delivery
    (order,) = rig.orders.orders()
    assert order.status == "received"
    assert order.received_quantity == pytest.approx(0.8 * reorder.order_quantity)


def test_stock_alerts_are_their_kinds_models(rig: Rig) -> None:
    for h in range(0, 48, 4):
        rig.level(h, max(40 - h, 0))
    by_kind = {a.kind: type(a) for a in rig.alerts}
    assert by_kind[AlertKind.REORDER] is ReorderAlert
    assert by_kind[AlertKind.STOCKOUT] is StockoutAlert


def test_an_order_cancelled_while_deciding_stays_cancelled(rig: Rig) -> None:
    hour = 0
    while "reorder" not in rig.kinds() and hour < 200:
        rig.level(hour, 200 - hour)
        hour += 2
    stale = rig.orders.open_order("s", "X")
    assert stale is not None
    rig.orders.cancel(stale.id, rig.clock.now(), "the customer called")
    # The round read the order before the cancel: its refill must not revive it.
    p = rig.rep.projections[("s", "X")]
    rule, supplier = rig.rep.rule_for("s", "X")
    d = decide(p, rule, stale, refilled_since_order=float(stale.quantity))
    assert d.receives_order
    effects = Effects(orders=rig.orders, alerts=rig.rep.alerts, stats=rig.rep.stats)
    effects.apply(p, d, rule, open_order=stale, supplier=supplier, active=set())
    assert rig.orders.get(stale.id).status == "cancelled"
    assert rig.rep.stats.orders_received == 0


def _deliver(rig: Rig, lead_days: list[float], *, supplier: str | None = None) -> None:
    """Orders of (s, X) placed weeks ago and received after these lead times."""
    for i, days in enumerate(lead_days):
        placed = T0 - timedelta(days=60 - 5 * i)
        order = rig.orders.create(
            site="s",
            sku="X",
            quantity=10,
            reason="past",
            on_hand=0.0,
            rate_per_day=1.0,
            at=placed,
            supplier=supplier,
        )
        assert order is not None
        rig.orders.receive_refill(order.id, placed + timedelta(days=days), 10.0)


def _reorder_point(rig: Rig) -> float:
    for h in range(0, 48, 4):
        rig.level(h, 500 - h)  # 24 a day, far above any reorder point
    return rig.rep.decisions[("s", "X")].reorder_point


def test_lead_times_learned_from_deliveries_move_the_reorder_point(tmp_path: Path) -> None:
    # The rule says 2 days; ten deliveries took 6. Pooled with the rule as ten
    # pseudo-deliveries the lead time is 4 days, so the reorder point covers
    # about twice the demand it covered on the rule alone.
    plain = make_rig(tmp_path / "plain")
    slow = make_rig(tmp_path / "slow")
    off = make_rig(tmp_path / "off", {**RULES, "learn_lead_times": False})
    try:
        _deliver(slow, [6.0] * 10)
        _deliver(off, [6.0] * 10)
        base, learned, ignored = _reorder_point(plain), _reorder_point(slow), _reorder_point(off)
        assert ignored == pytest.approx(base)
        assert learned > 1.6 * base
        assert slow.rep.decisions[("s", "X")].delivery_horizon_days == pytest.approx(4.0)
    finally:
        for r in (plain, slow, off):
            r.close()


def test_deliveries_of_another_supplier_are_not_learned(tmp_path: Path) -> None:
    plain = make_rig(tmp_path / "plain")
    other = make_rig(tmp_path / "other")
    try:
        _deliver(other, [6.0] * 10, supplier="someone-else")
        assert _reorder_point(other) == pytest.approx(_reorder_point(plain))
    finally:
        plain.close()
        other.close()
