from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from firmware_sim.world import Shelf, ShelfSpec, World

T0 = datetime(2026, 11, 1, tzinfo=UTC)
SPEC = ShelfSpec(
    "X", "A-01", item_weight_g=10.0, tare_g=100.0, start_units=50, demand_per_day=20.0, max_pick=3
)


def make() -> tuple[World, list[float]]:
    loads: list[float] = []
    world = World([Shelf(SPEC, loads.append)], lead_time=timedelta(days=2), start=T0, seed=3)
    return world, loads


def test_picks_lower_the_load_and_only_changes_reach_the_scale() -> None:
    world, loads = make()
    assert loads == [100.0 + 50 * 10.0]
    for hour in range(1, 49):
        world.tick(T0 + timedelta(hours=hour))
    shelf = world.shelves["X"]
    assert shelf.units < 50
    assert shelf.picks > 0
    assert loads[-1] == 100.0 + shelf.units * 10.0
    assert all(a != b for a, b in pairwise(loads)), "no repeated loads"


def test_delivery_arrives_after_lead_time_and_empty_shelf_counts_unmet_demand() -> None:
    world, _ = make()
    world.order_placed("X", 30, T0)
    assert world.order_placed("UNKNOWN", 5, T0) is None
    for hour in range(1, 48):
        assert world.tick(T0 + timedelta(hours=hour)) == []
    arrived = world.tick(T0 + timedelta(hours=48))
    assert [(d.sku, d.quantity) for d in arrived] == [("X", 30)]
    assert world.shelves["X"].delivered == 30
    for day in range(3, 30):
        world.tick(T0 + timedelta(days=day))
    assert world.shelves["X"].units == 0
    assert world.shelves["X"].unmet > 0
