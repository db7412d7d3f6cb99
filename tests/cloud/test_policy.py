from __future__ import annotations

from datetime import UTC, datetime

from cloud.policy import ReplenishmentRule, order_quantity, propose
from cloud.projector import Projection

AT = datetime(2026, 11, 1, tzinfo=UTC)


def proj(on_hand: float, rate: float, history: float = 5.0) -> Projection:
    cover = on_hand / rate if rate else None
    return Projection("s", "X", AT, on_hand, rate, cover, history, 0.0)


RULE = ReplenishmentRule(lead_time_days=2, safety_days=1, target_days=7)


def test_reorders_at_or_below_lead_time_plus_safety() -> None:
    assert propose(proj(31, 10), RULE) is None  # 3.1 days of cover
    at = propose(proj(30, 10), RULE)  # exactly 3.0: at the reorder point
    assert at is not None
    assert at.quantity == 40  # up to 7 days: 70 - 30
    assert "3.00 days of cover" in at.reason


def test_no_decision_on_too_little_history_or_no_consumption() -> None:
    assert propose(proj(5, 10, history=0.1), RULE) is None
    assert propose(proj(5, 0), RULE) is None


def test_quantity_rounds_up_to_packs_and_moq() -> None:
    rule = ReplenishmentRule(target_days=7, pack_size=12, min_order_qty=30)
    assert order_quantity(proj(30, 10), rule) == 48  # 40 -> 4 packs
    assert order_quantity(proj(68, 10), rule) == 36  # 2 -> MOQ 30 -> 3 packs
