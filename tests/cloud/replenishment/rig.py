"""The replenishment test rig: a replenisher and a sensor watch on real stores
(SQLite levels, SQL orders and alert state), alerts collected in a list."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cloud.config import ReplenishmentConfig
from cloud.orders import OrderBook
from cloud.replenishment.alert_state import AlertState
from cloud.replenishment.replenisher import Replenisher
from cloud.replenishment.sensor_watch import SensorWatch
from cloud.timeseries import SqliteStore
from cloud.timeseries.base import LevelPoint
from vmi.wire import Alert

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
    watch: SensorWatch
    alerts: list[Alert] = field(default_factory=list)

    def level(self, hours: float, qty: float, *, sku: str = "X", device: str = "d") -> None:
        """Store a level `hours` after T0 and evaluate its key at once."""
        self.clock.t = T0 + timedelta(hours=hours)
        self.store.write_levels([LevelPoint("s", device, "A-01", sku, self.clock.t, qty)])
        self.rep.evaluate([("s", sku)])

    def kinds(self) -> list[str]:
        return [a.kind.value for a in self.alerts]

    def close(self) -> None:
        self.store.close()
        self.orders.close()
        self.state.close()


def make_rig(
    tmp_path: Path,
    rules: dict[str, object] = RULES,
    clock: FixedClock | None = None,
    **kw: object,
) -> Rig:
    """A rig on the stores in `tmp_path` (a second rig there shares them)."""
    store = SqliteStore(tmp_path / "levels.db")
    url = f"sqlite:///{tmp_path / 'orders.db'}"
    orders, state, clock = OrderBook(url), AlertState(url), clock or FixedClock()
    alerts: list[Alert] = []
    config = ReplenishmentConfig.model_validate(rules)
    rep = Replenisher(
        config,
        store=store,
        orders=orders,
        alert_state=state,
        clock=clock,
        publish_alert=alerts.append,
        **kw,  # type: ignore[arg-type]
    )
    watch = SensorWatch(config, store=store, alerts=rep.alerts, clock=clock)
    return Rig(store, orders, state, clock, rep, watch, alerts)
