"""KPIs on hand-made series whose every figure is known exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cloud.kpis import Forecast, OrderFacts, key_kpis, rollup
from cloud.timeseries.base import LevelPoint

T0 = datetime(2026, 11, 2, tzinfo=UTC)
END = T0 + timedelta(days=10)


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def pt(days: float, qty: float, location: str = "A") -> LevelPoint:
    return LevelPoint("s", "d", location, "X", at(days), qty)


# A reading each midnight: 45, 30, 20, 10, 0 (empty two days), refilled to 60,
# then 50, 40, 30 (the last reading starts day 9).
SERIES = [
    pt(0, 45), pt(1, 30), pt(2, 20), pt(3, 10), pt(4, 0),
    pt(6, 60), pt(7, 50), pt(8, 40), pt(9, 30),
]  # fmt: skip
FORECASTS = [Forecast(at(-1 / 24), 12.0), Forecast(at(5), 8.0)]
ORDERS = [
    # placed before the window, received on day 1: 6 days, due on day 2 by the agreement
    OrderFacts(50, at(-5), received_at=at(1)),
    # placed day 3, due day 5 once shipped, received day 6: late, 3 days
    OrderFacts(60, at(3), received_at=at(6), expected_arrival=at(5)),
    OrderFacts(40, at(7)),  # still open
    OrderFacts(99, at(8), cancelled=True),
    OrderFacts(70, at(10)),  # after the window
]


def test_every_kpi_of_a_hand_made_series() -> None:
    k = key_kpis(SERIES, T0, END, orders=ORDERS, forecasts=FORECASTS, agreed_lead_time_days=7)
    assert k.window_days == 10
    assert k.known_hours == 240
    # 15 + 10 + 10 + 10 before the stockout, 10 + 10 + 10 after; the refill is not consumption.
    assert k.consumed == pytest.approx(75)
    # (45 + 30 + 20 + 10 + 0 + 0 + 60 + 50 + 40 + 30) unit-days over 10 days.
    assert k.avg_on_hand == pytest.approx(28.5)
    assert k.turns_per_year == pytest.approx(75 * 365 / 10 / 28.5)
    assert k.days_of_supply == pytest.approx(28.5 / 7.5)
    assert k.stockout_events == 1
    assert k.stockout_hours == pytest.approx(48)
    # Two empty days at the forecast made before the stockout began (12 a day).
    assert k.lost_units == pytest.approx(24)
    assert k.fill_rate == pytest.approx(75 / 99)
    assert k.orders_placed == 2
    assert k.avg_order_qty == pytest.approx(50)
    assert k.deliveries == 2
    assert k.deliveries_rated == 2
    assert k.on_time_rate == pytest.approx(0.5)
    assert k.avg_lead_time_days == pytest.approx(4.5)
    # Scored: days 0-3 (forecast 12; actual 15, 10, 10, 10) and 6-8 (forecast 8, actual 10).
    assert k.forecast_days == 7
    assert k.forecast_bias == pytest.approx((-3 + 2 + 2 + 2 - 2 - 2 - 2) / 7)
    assert k.forecast_mae == pytest.approx(15 / 7)
    # Naive errors on consecutive scored days: |10 - 15| and four zeros.
    assert k.forecast_mase == pytest.approx((15 / 7) / (5 / 5))


def test_locations_add_up_and_a_stockout_needs_all_of_them_empty() -> None:
    points = [pt(0, 10, "A"), pt(0, 5, "B"), pt(5, 0, "A"), pt(7, 0, "B")]
    k = key_kpis(points, T0, END)
    assert k.avg_on_hand == pytest.approx((15 * 5 + 5 * 2 + 0 * 3) / 10)
    assert k.consumed == pytest.approx(15)
    assert k.stockout_events == 1
    assert k.stockout_hours == pytest.approx(72)
    # No forecast: the empty time is charged the window's consumption per
    # in-stock day (15 units over 7 days).
    assert k.lost_units == pytest.approx(15 / 7 * 3)


def test_known_time_starts_at_the_first_reading() -> None:
    k = key_kpis([pt(5, 20), pt(6, 10)], T0, END)
    assert k.known_hours == 120
    assert k.avg_on_hand == pytest.approx((20 + 4 * 10) / 5)
    assert k.consumed == pytest.approx(10)


def test_nothing_known() -> None:
    k = key_kpis([], T0, END)
    assert k.avg_on_hand is None
    assert k.turns_per_year is None
    assert k.fill_rate is None
    assert k.forecast_mae is None
    assert k.stockout_events == 0


def test_rollup_adds_totals_and_recomputes_ratios() -> None:
    a = key_kpis(SERIES, T0, END, orders=ORDERS, forecasts=FORECASTS, agreed_lead_time_days=7)
    b = key_kpis([pt(0, 100), pt(9.5, 50)], T0, END)
    g = rollup([a, b])
    assert g.consumed == pytest.approx(a.consumed + b.consumed)
    assert g.avg_on_hand == pytest.approx(a.avg_on_hand + b.avg_on_hand)  # type: ignore[operator]
    assert g.fill_rate == pytest.approx(g.consumed / (g.consumed + 24))
    assert g.turns_per_year == pytest.approx(g.consumed * 36.5 / g.avg_on_hand)  # type: ignore[operator]
    assert g.orders_placed == 2
    assert g.on_time_rate == pytest.approx(0.5)
    assert g.forecast_mae == pytest.approx(a.forecast_mae)
    with pytest.raises(ValueError, match="empty"):
        rollup([])


def test_naive_window_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        key_kpis([], datetime(2026, 1, 1), datetime(2026, 1, 2))
    with pytest.raises(ValueError, match="after"):
        key_kpis([], END, T0)


def test_negative_stock_gives_no_turnover_alone_or_rolled_up() -> None:
    # A tare error: the scale reads below zero all window.
    k = key_kpis([pt(0, -5), pt(5, -6)], T0, END)
    assert k.avg_on_hand is not None
    assert k.avg_on_hand < 0
    assert k.turns_per_year is None
    assert rollup([k]).turns_per_year is None


def test_a_forecast_made_at_the_very_start_of_a_stockout_is_not_before_it() -> None:
    points = [pt(0, 10), pt(1, 0), pt(2, 10)]
    at_start = key_kpis(points, T0, END, forecasts=[Forecast(at(1), 100.0)])
    before = key_kpis(points, T0, END, forecasts=[Forecast(at(0.5), 100.0)])
    assert before.lost_units == pytest.approx(100.0)
    assert at_start.lost_units == pytest.approx(10 / 9)  # the in-stock rate: 10 in 9 days


def test_a_shelf_read_for_part_of_the_window_is_not_diluted() -> None:
    # Read only over the last 3 days: 30, 20, 10 at days 7, 8 and 9 (10 a day).
    k = key_kpis([pt(7, 30), pt(8, 20), pt(9, 10)], T0, END)
    assert k.consumed_per_day == pytest.approx(20 / 3)
    assert k.avg_on_hand == pytest.approx(20.0)
    assert k.days_of_supply == pytest.approx(20 / (20 / 3))
    assert k.turns_per_year == pytest.approx(20 / 3 * 365 / 20)
    g = rollup([k, key_kpis(SERIES, T0, END)])
    assert g.consumed_per_day == pytest.approx(20 / 3 + 7.5)
