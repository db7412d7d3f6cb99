from __future__ import annotations

import pytest

from edge_agent.stock import LevelChange, units_from_weight


def test_units_from_weight_rounds_and_reports_confidence() -> None:
    c = units_from_weight(250.0 + 10 * 12.5, tare_g=250.0, item_weight_g=12.5)
    assert (c.quantity, c.confidence) == (10, 1.0)
    half = units_from_weight(250.0 + 10.5 * 12.5, tare_g=250.0, item_weight_g=12.5)
    assert half.confidence == pytest.approx(0.0)
    near = units_from_weight(250.0 + 9.9 * 12.5, tare_g=250.0, item_weight_g=12.5)
    assert near.quantity == 10
    assert near.confidence == pytest.approx(0.8)


def test_net_below_zero_counts_as_empty() -> None:
    assert units_from_weight(240.0, tare_g=250.0, item_weight_g=12.5).quantity == 0


def test_item_weight_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        units_from_weight(1.0, tare_g=0, item_weight_g=0)


def test_level_change_publishes_changes_and_heartbeats() -> None:
    lc = LevelChange(heartbeat_s=10)
    assert lc.should_publish(5, 0.0)
    assert not lc.should_publish(5, 1.0)
    assert lc.should_publish(4, 2.0)
    assert not lc.should_publish(4, 11.9)
    assert lc.should_publish(4, 12.0)
