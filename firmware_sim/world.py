"""A customer warehouse's demand and the supplier's deliveries, in simulated time.

Picks arrive as a Poisson process per shelf; each removes a few units. When the
cloud raises a reorder alert, a delivery of the ordered quantity arrives after
the lead time. Shelves push their gross weight to emulated scales.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np


@dataclass(frozen=True, slots=True)
class ShelfSpec:
    sku: str
    location: str
    item_weight_g: float
    tare_g: float
    start_units: int
    demand_per_day: float
    max_pick: int = 3  # a pick takes 1..max_pick units


@dataclass
class Shelf:
    spec: ShelfSpec
    set_load: Callable[[float], None]  # pushes gross grams to the shelf's scale
    units: int = 0
    unmet: int = 0  # units customers wanted while the shelf was empty
    served: int = 0  # units customers took
    picks: int = 0
    delivered: int = 0
    _weighed: int | None = None

    def weigh(self) -> None:
        # Only a real change touches the scale: every load change unsettles it.
        if self.units != self._weighed:
            self.set_load(self.spec.tare_g + self.units * self.spec.item_weight_g)
            self._weighed = self.units


@dataclass(order=True)
class Delivery:
    due: datetime
    sku: str = field(compare=False)
    quantity: int = field(compare=False)


class World:
    """Advances demand and deliveries up to the clock's current time on each `tick`."""

    def __init__(
        self,
        shelves: list[Shelf],
        *,
        lead_time: timedelta,
        start: datetime,
        seed: int = 0,
    ) -> None:
        self.shelves = {s.spec.sku: s for s in shelves}
        self.lead_time = lead_time
        self._rng = np.random.default_rng(seed)
        self._now = start
        self._lock = threading.Lock()
        self._deliveries: list[Delivery] = []
        self.delivered_log: list[Delivery] = []
        for s in shelves:
            s.units = s.spec.start_units
            s.weigh()

    def order_placed(self, sku: str, quantity: int, at: datetime) -> Delivery | None:
        """Schedule the delivery for an order (thread-safe; called from MQTT)."""
        if sku not in self.shelves:
            return None
        delivery = Delivery(at + self.lead_time, sku, quantity)
        with self._lock:
            self._deliveries.append(delivery)
            self._deliveries.sort()
        return delivery

    def pending(self) -> list[Delivery]:
        with self._lock:
            return list(self._deliveries)

    def tick(self, now: datetime) -> list[Delivery]:
        """Apply picks and deliveries up to `now`; return the deliveries that arrived."""
        dt_days = (now - self._now).total_seconds() / 86_400.0
        if dt_days <= 0:
            return []
        self._now = now
        for shelf in self.shelves.values():
            self._picks(shelf, dt_days)
        arrived = self._arrivals(now)
        for shelf in self.shelves.values():
            shelf.weigh()
        return arrived

    def _picks(self, shelf: Shelf, dt_days: float) -> None:
        spec = shelf.spec
        mean_pick = (1 + spec.max_pick) / 2
        n = int(self._rng.poisson(spec.demand_per_day / mean_pick * dt_days))
        for _ in range(n):
            want = int(self._rng.integers(1, spec.max_pick + 1))
            take = min(want, shelf.units)
            shelf.units -= take
            shelf.served += take
            shelf.unmet += want - take
            shelf.picks += 1

    def _arrivals(self, now: datetime) -> list[Delivery]:
        with self._lock:
            due = [d for d in self._deliveries if d.due <= now]
            self._deliveries = [d for d in self._deliveries if d.due > now]
        for d in due:
            shelf = self.shelves[d.sku]
            shelf.units += d.quantity
            shelf.delivered += d.quantity
        self.delivered_log += due
        return due
