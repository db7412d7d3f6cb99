"""The KPIs on the demo's data: the production computation against the world's truth."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

import pytest

from firmware_sim.demo import DEMO_SHELVES, Demo, DemoOptions

pytestmark = pytest.mark.e2e


def test_demo_kpis_match_what_the_world_did(tmp_path: Path) -> None:
    # A simulated day every 5 s for 40 s: orders, deliveries, forecasts.
    demo = Demo(DemoOptions(speed=17_280.0, duration_s=40.0, data_dir=tmp_path))
    with demo.running():
        demo.run(threading.Event())
        end = demo.clock.now()
        rows = demo.kpis()
        orders = demo.orders()
        assert demo.cloud is not None
        keys = [(demo.site, spec.sku) for spec in DEMO_SHELVES]
        stored = demo.cloud.store.level_series_many(keys, demo.world_start)
    assert demo.world is not None
    by_sku = {r.sku: r.kpis for r in rows if r.sku is not None}
    (site,) = [r for r in rows if r.sku is None]
    assert set(by_sku) == {s.sku for s in DEMO_SHELVES}
    assert site.keys == len(DEMO_SHELVES)
    for spec in DEMO_SHELVES:
        shelf = demo.world.shelves[spec.sku]
        k = by_sku[spec.sku]
        # The KPIs are what the stored readings say, computed plainly here: the
        # drops between consecutive readings (the deadband holds back at most
        # one unit per run of drops, ended by the end or a refill) ...
        points = sorted(
            (p for p in stored[(demo.site, spec.sku)] if p.time < end), key=lambda p: p.time
        )
        assert len(points) > 10
        drops = sum(max(0.0, a.quantity - b.quantity) for a, b in itertools.pairwise(points))
        refills = sum(b.quantity > a.quantity for a, b in itertools.pairwise(points))
        assert drops - 1 - refills <= k.consumed <= drops
        # ... and the time-weighted stock from the first reading on.
        times = [p.time for p in points] + [end]
        area = sum(
            p.quantity * (t1 - t0).total_seconds()
            for p, t0, t1 in zip(points, times, times[1:], strict=False)
        )
        assert k.avg_on_hand == pytest.approx(area / (end - points[0].time).total_seconds())
        # The scales saw no more leave the shelf than customers took (refills
        # are not consumption); less by what left before the first reading and
        # what a delivery hid between two readings (sparse at this speed).
        assert 0.5 * shelf.served <= k.consumed <= shelf.served + 1
        placed = [o for o in orders if o.sku == spec.sku]
        assert k.orders_placed == len(placed) >= 1
        assert k.avg_order_qty == pytest.approx(sum(o.quantity for o in placed) / len(placed))
        received = [o for o in placed if o.received_at is not None]
        assert k.deliveries == len(received)
        if shelf.unmet == 0 and k.stockout_events == 0:
            assert k.fill_rate == pytest.approx(1.0)
        assert k.forecast_days >= 1
        assert k.forecast_mae is not None
    assert site.kpis.consumed == pytest.approx(sum(k.consumed for k in by_sku.values()))
    assert site.kpis.orders_placed == len(orders)
