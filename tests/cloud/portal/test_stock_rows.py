"""The Stock page's rows and the shelf chart, computed from levels, projections and
orders (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cloud.orders import Order
from cloud.portal.chart import level_chart, shelf_totals
from cloud.portal.stock import stock_rows
from cloud.timeseries import LevelPoint
from cloud.timeseries.measurements import PROJECTION

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def level(loc: str, hours_ago: float, qty: float, device: str = "gw") -> LevelPoint:
    return LevelPoint("north", device, loc, "BOLT", NOW - timedelta(hours=hours_ago), qty)


def projection(**fields: float) -> object:
    return PROJECTION.point(tags={"site": "north", "sku": "BOLT"}, fields=fields, time=NOW)


def test_on_hand_sums_each_locations_newest_level() -> None:
    levels = [level("A", 3, 10), level("A", 1, 8), level("B", 2, 5)]
    [row] = stock_rows(levels, {}, {})
    assert (row.on_hand, row.updated, row.state) == (13, NOW - timedelta(hours=1), "ok")


def test_the_state_follows_the_reorder_point() -> None:
    rop = {("north", "BOLT"): projection(reorder_point=12.0, days_of_cover=2.0)}
    assert stock_rows([level("A", 1, 13)], rop, {})[0].state == "ok"
    assert stock_rows([level("A", 1, 12)], rop, {})[0].state == "reorder"
    assert stock_rows([level("A", 1, 0)], rop, {})[0].state == "stockout"
    [only_projection] = stock_rows([], {("north", "BOLT"): projection(on_hand=4.0)}, {})
    assert only_projection.on_hand == 4
    [row] = stock_rows([level("A", 1, 3)], rop, {})
    assert (row.days_of_cover, row.reorder_point) == (2, 12)


def test_the_filter_matches_part_of_a_site_or_sku_in_any_case() -> None:
    [row] = stock_rows([level("A", 1, 3)], {}, {})
    assert row.matches("nor")
    assert row.matches("bol")
    assert row.matches("")
    assert not row.matches("south")


def test_the_chart_draws_the_level_the_band_and_the_orders() -> None:
    levels = [level("A", 48 - h, 100 - h) for h in range(48)]
    order = Order(
        id=7,
        site="north",
        sku="BOLT",
        quantity=50,
        status="proposed",
        reason="r",
        on_hand_at_trigger=60,
        rate_per_day=24,
        created_at=NOW - timedelta(hours=5),
        updated_at=NOW,
    )
    point = projection(
        on_hand=53.0,
        rate_per_day=24.0,
        stockout_days_p10=1.8,
        stockout_days_p90=2.6,
        reorder_point=60.0,
    )
    chart = level_chart(levels, [order], point, NOW - timedelta(days=14), NOW)
    assert len(str(chart["line"]).split()) == 48
    band = str(chart["band"]).split()
    assert len(band) == 3  # from now at on hand to the p10 and p90 days at zero
    assert band[1].endswith(f",{chart['bottom']}")
    assert [m["id"] for m in chart["orders"]] == [7]  # type: ignore[index,union-attr]
    assert chart["p50"] == 53.0 / 24.0
    empty = level_chart([], [], None, NOW - timedelta(days=14), NOW)
    assert (empty["line"], empty["band"], empty["rop_y"]) == ("", "", None)


def test_shelf_totals_keep_each_locations_last_reading() -> None:
    totals = shelf_totals([level("A", 3, 10), level("B", 2, 5), level("A", 1, 8)])
    assert [q for _, q in totals] == [10, 15, 13]
