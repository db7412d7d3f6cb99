"""Replenisher on the embedded stores: order once, receive on refill, order again."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cloud.config import ReplenishmentConfig
from cloud.orders import OrderBook
from cloud.replenisher import Replenisher
from cloud.timeseries import SqliteStore
from cloud.timeseries.base import LevelPoint
from vmi.wire import Alert

T0 = datetime(2026, 11, 1, tzinfo=UTC)


class FixedClock:
    speed = 1.0

    def __init__(self) -> None:
        self.t = T0

    def now(self) -> datetime:
        return self.t


def test_one_order_per_crossing_received_by_the_refill(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "levels.db")
    orders = OrderBook(f"sqlite:///{tmp_path / 'orders.db'}")
    clock = FixedClock()
    alerts: list[Alert] = []
    rules = ReplenishmentConfig.model_validate(
        {
            "window_days": 30,
            "default": {
                "lead_time_days": 2,
                "safety_days": 1,
                "target_days": 7,
                "min_history_days": 1,
            },
        }
    )
    rep = Replenisher(rules, store=store, orders=orders, clock=clock, publish_alert=alerts.append)

    def level(day: float, qty: float) -> None:
        clock.t = T0 + timedelta(days=day)
        store.write_levels([LevelPoint("s", "d", "A-01", "X", clock.t, qty)])
        rep.evaluate([("s", "X")])

    # 10 a day from 100: 4 days of cover at day 6 (40 left), 3 days at day 7 (30 left).
    for day in range(8):
        level(day, 100 - 10 * day)
    assert len(alerts) == 1, "one order when cover first reaches 3 days"
    first = alerts[0]
    assert first.on_hand == 30
    assert first.days_of_cover == 3.0
    assert first.order_quantity == 40  # up to 7 days: 70 - 30
    level(8, 20)
    level(9, 10)
    assert len(alerts) == 1, "still one while the order is open"
    assert orders.open_order("s", "X") is not None

    level(9.5, 50)  # the delivery: +40
    assert orders.open_order("s", "X") is None
    assert [o.status for o in orders.orders()] == ["received"]
    assert rep.stats.orders_received == 1

    level(10, 45)
    level(12, 20)  # falls again below the reorder point
    assert len(alerts) == 2
    assert [o.status for o in orders.orders()] == ["received", "proposed"]
    store.close()
    orders.close()


def test_touched_keys_are_evaluated_in_the_background_and_coalesced(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "levels.db")
    orders = OrderBook(f"sqlite:///{tmp_path / 'orders.db'}")
    clock = FixedClock()
    alerts: list[Alert] = []
    rules = ReplenishmentConfig.model_validate(
        {"window_days": 30, "default": {"min_history_days": 1}}
    )
    rep = Replenisher(rules, store=store, orders=orders, clock=clock, publish_alert=alerts.append)
    for day in range(8):
        store.write_levels(
            [LevelPoint("s", "d", "A", "X", T0 + timedelta(days=day), 100 - 10 * day)]
        )
    clock.t = T0 + timedelta(days=7)
    for _ in range(50):  # a burst of batches touching the same key
        rep.touch([("s", "X")])
    stop = threading.Event()
    runner = threading.Thread(target=rep.run, args=(stop,))
    runner.start()
    try:
        deadline = time.monotonic() + 10
        while not alerts and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        stop.set()
        runner.join(10)
    assert len(alerts) == 1
    assert rep.stats.projections == 1, "fifty touches, one evaluation"
    store.close()
    orders.close()
