"""`decide`: one pure step from projection, rule and open order to a decision."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from cloud.replenishment.decide import RECEIVE_SHARE, decide, decide_many, refilled_since
from cloud.replenishment.policy import ReplenishmentRule, RuleTable
from cloud.replenishment.projection import Projection, ProjectionTable
from cloud.timeseries.base import LevelPoint

AT = datetime(2026, 11, 10, tzinfo=UTC)
RULE = ReplenishmentRule(lead_time_days=2, service_level=0.95, order_cycle_days=7)
# 10 a day, steady: the reorder point is about 2 days of demand plus a little.
SHELF = Projection(
    site="s",
    sku="X",
    at=AT,
    on_hand=100.0,
    rate_per_day=10.0,
    sigma_per_day=1.0,
    trend_per_day=0.0,
    intermittent=False,
    days_of_cover=10.0,
    stockout_days_p10=8.0,
    stockout_days_p50=10.0,
    stockout_days_p90=12.0,
    history_days=20.0,
)


@dataclass(frozen=True)
class OpenOrder:
    quantity: int
    created_at: datetime
    expected_arrival: datetime | None = None


def low(on_hand: float, p10: float | None = None) -> Projection:
    return replace(SHELF, on_hand=on_hand, days_of_cover=on_hand / 10, stockout_days_p10=p10)


def test_plenty_on_hand_decides_nothing() -> None:
    d = decide(SHELF, RULE, None)
    assert d.decided
    assert d.order_quantity == 0
    assert 20 <= d.reorder_point <= 25
    assert d.inventory_position == 100
    assert not d.stockout
    assert not d.stockout_imminent
    assert not d.receives_order


def test_at_the_reorder_point_an_order_up_to_the_target_is_due() -> None:
    d = decide(low(20), RULE, None)
    assert d.order_quantity == pytest.approx(d.order_up_to - 20, abs=1)
    assert d.order_up_to > d.reorder_point + 60  # about a week of demand above it


def test_an_open_order_counts_in_the_position_and_blocks_a_second() -> None:
    order = OpenOrder(quantity=80, created_at=AT - timedelta(days=1))
    d = decide(low(20), RULE, order)
    assert d.inventory_position == 100
    assert d.open_order_qty == 80
    assert d.order_quantity == 0


def test_refills_receive_the_open_order_from_the_share_on() -> None:
    order = OpenOrder(quantity=80, created_at=AT - timedelta(days=1))
    short = decide(low(20), RULE, order, refilled_since_order=RECEIVE_SHARE * 80 - 1)
    assert not short.receives_order
    d = decide(low(60), RULE, order, refilled_since_order=RECEIVE_SHARE * 80)
    assert d.received_quantity == 40
    assert d.open_order_qty == 0
    assert d.inventory_position == 60


def test_a_received_order_frees_the_key_for_a_new_one_in_the_same_step() -> None:
    order = OpenOrder(quantity=80, created_at=AT - timedelta(days=1))
    d = decide(low(15), RULE, order, refilled_since_order=70)
    assert d.receives_order
    assert d.order_quantity > 0


def test_too_little_history_or_no_demand_decides_nothing() -> None:
    young = replace(low(5), history_days=0.5)
    assert not decide(young, RULE, None).decided
    assert decide(young, RULE, None).order_quantity == 0
    idle = replace(low(5), rate_per_day=0.0)
    assert decide(idle, RULE, None).order_quantity == 0


def test_stockout_holds_while_nothing_is_on_hand() -> None:
    d = decide(low(0, p10=0.0), RULE, None)
    assert d.stockout
    assert not d.stockout_imminent, "empty is a stockout, not an imminent one"


def test_imminent_compares_the_early_stockout_with_the_next_delivery() -> None:
    # No order: the horizon is the lead time (2 days).
    assert decide(low(30, p10=1.5), RULE, None).stockout_imminent
    assert not decide(low(30, p10=2.5), RULE, None).stockout_imminent
    # A shipped order due in 1 day: 1.5 days of stock is enough.
    due = OpenOrder(quantity=80, created_at=AT, expected_arrival=AT + timedelta(days=1))
    d = decide(low(30, p10=1.5), RULE, due)
    assert d.delivery_horizon_days == pytest.approx(1.0)
    assert not d.stockout_imminent
    late = replace(due, expected_arrival=AT + timedelta(days=3))
    assert decide(low(30, p10=2.5), RULE, late).stockout_imminent


def test_refilled_since_sums_increases_per_location_after_the_time() -> None:
    def pt(hours: float, qty: float, location: str = "A") -> LevelPoint:
        return LevelPoint("s", "d", location, "X", AT + timedelta(hours=hours), qty)

    points = [pt(0, 10), pt(1, 30), pt(2, 25), pt(3, 40), pt(0, 5, "B"), pt(4, 12, "B")]
    assert refilled_since(points, AT - timedelta(hours=1)) == 20 + 15 + 7
    assert refilled_since(points, AT + timedelta(hours=2)) == 15 + 7
    assert refilled_since(points, AT + timedelta(hours=5)) == 0


def test_a_round_decided_at_once_equals_each_key_decided_alone() -> None:
    shelves = [
        SHELF,
        low(20),
        low(20, p10=1.0),
        replace(SHELF, on_hand=0.0, days_of_cover=0.0, stockout_days_p10=0.0),
        replace(SHELF, rate_per_day=0.0, days_of_cover=None, stockout_days_p10=None),
        replace(SHELF, history_days=0.2),
        low(5),
    ]
    rules = [
        RULE,
        RULE,
        replace_rule(lead_time_days=6),
        RULE,
        RULE,
        replace_rule(min_history_days=1),
        replace_rule(pack_size=12),
    ]
    orders: list[OpenOrder | None] = [
        None,
        OpenOrder(50, AT - timedelta(days=1)),
        OpenOrder(50, AT - timedelta(days=1), expected_arrival=AT + timedelta(days=3)),
        None,
        None,
        None,
        OpenOrder(40, AT - timedelta(days=2)),
    ]
    refilled = [0.0, 10.0, 0.0, 0.0, 0.0, 0.0, 30.0]
    together = decide_many(
        ProjectionTable.of(shelves),
        RuleTable.of(rules),
        open_qty=[o.quantity if o else 0.0 for o in orders],
        open_arrival_days=[
            (o.expected_arrival - AT).total_seconds() / 86400
            if o and o.expected_arrival
            else float("nan")
            for o in orders
        ],
        refilled_since_order=refilled,
    )
    for i, (p, rule, order) in enumerate(zip(shelves, rules, orders, strict=True)):
        alone = decide(p, rule, order, refilled_since_order=refilled[i])
        assert together.row(i) == alone, f"key {i}"
    assert together.row(6).receives_order  # 30 of 40 refilled: received
    assert together.row(6).order_quantity > 0  # and reordered at once (5 on hand)
    assert together.row(2).stockout_imminent  # early stockout (1 d) before arrival (3 d)


def replace_rule(**changes: float) -> ReplenishmentRule:
    return RULE.model_copy(update=changes)
