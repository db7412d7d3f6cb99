from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import ValidationError

from cloud.catalog import AgreementSpec, LevelUnit, SkuSpec
from cloud.replenishment.inventory_math import (
    agreement_bounds,
    clamp_to_agreement,
    economic_order_quantity,
    expected_demand,
    replenishment_levels,
    replenishment_quantity,
    round_to_pack,
)
from cloud.replenishment.policy import ReplenishmentRule, RuleTable


def test_round_to_pack_rounds_up_to_whole_packs_and_the_moq() -> None:
    got = round_to_pack([0, -3, 1, 12, 13, 40, 24.000000001], 12, 30)
    assert got.tolist() == [0, 0, 36, 36, 36, 48, 36]
    assert round_to_pack([5, 7], [1, 5], 1).tolist() == [5, 10]


def test_agreement_min_max_in_units_or_days_of_supply() -> None:
    mean = np.array([10.0, 10.0, 10.0])
    level = np.array([5.0, 50.0, 500.0])
    assert clamp_to_agreement(level, mean, min_units=20, max_units=300).tolist() == [
        20,
        50,
        300,
    ]
    assert clamp_to_agreement(level, mean, min_days=3, max_days=14).tolist() == [30, 50, 140]
    # Both given: the tighter bound wins.
    assert clamp_to_agreement(level, mean, max_units=100, max_days=14).tolist() == [5, 50, 100]
    # Min above max: the max (shelf space) wins.
    lo, hi = agreement_bounds(10.0, min_units=80, max_units=60)
    assert (float(lo), float(hi)) == (60.0, 60.0)


def test_orders_at_or_below_the_reorder_point_up_to_the_target() -> None:
    ip = np.array([21.0, 20.0, 5.0])
    got = replenishment_quantity(ip, 20.0, 100.0)
    assert got.tolist() == [0, 80, 95]
    packed = replenishment_quantity(ip, 20.0, 100.0, pack_size=12, min_order_qty=30)
    assert packed.tolist() == [0, 84, 96]


def test_the_agreement_max_rounds_an_order_down_unless_that_breaks_the_moq() -> None:
    # Up to 100 from 20 is 80 -> 84 in packs of 12, over a max of 100: 72 instead.
    assert float(replenishment_quantity(20, 30, 100, pack_size=12, max_level=100)) == 72
    # From 95 only 0 packs fit under the max: one MOQ is ordered anyway.
    assert float(replenishment_quantity(95, 95, 100, pack_size=12, max_level=100)) == 12


def test_eoq() -> None:
    eoq = math.sqrt(2 * 3650 * 50 / 5)
    assert float(economic_order_quantity(3650, 50, 5)) == pytest.approx(eoq)
    assert float(economic_order_quantity(0, 50, 5)) == 0
    with pytest.raises(ValueError, match="holding cost"):
        economic_order_quantity(100, 10, 0)


def test_expected_demand_follows_the_trend() -> None:
    assert float(expected_demand(10, 4)) == 40
    assert float(expected_demand(10, 4, trend_per_day=1)) == 10 + 11 + 12 + 13
    assert float(expected_demand(2, 10, trend_per_day=-1)) == 0  # never negative


def test_levels_reorder_point_is_lead_time_demand_plus_safety_stock() -> None:
    lv = replenishment_levels(
        10.0, 3.0, lead_time_days=4.0, service_level=0.95, order_cycle_days=7.0
    )
    ss = 1.6448536 * 3.0 * 2.0
    assert float(lv.safety_stock) == pytest.approx(ss, rel=1e-6)
    assert float(lv.reorder_point) == pytest.approx(40 + ss, rel=1e-6)
    assert float(lv.order_qty) == 70
    assert float(lv.order_up_to) == pytest.approx(110 + ss, rel=1e-6)
    assert float(lv.max_level) == math.inf


def test_levels_include_lead_time_variability_and_forecast_error() -> None:
    plain = replenishment_levels(10.0, 3.0, lead_time_days=4.0)
    variable = replenishment_levels(10.0, 3.0, lead_time_days=4.0, lead_time_sd_days=1.0)
    uncertain = replenishment_levels(10.0, 3.0, lead_time_days=4.0, mean_error_sd=1.0)
    z = 1.6448536
    assert float(variable.safety_stock) == pytest.approx(z * math.sqrt(4 * 9 + 100), rel=1e-6)
    assert float(uncertain.safety_stock) == pytest.approx(z * math.sqrt(4 * 9 + 16), rel=1e-6)
    assert float(plain.safety_stock) < float(uncertain.safety_stock)


def test_levels_fill_rate_raises_z_only_where_needed() -> None:
    # A small order quantity needs more safety stock for 99% of units than 50% cycles.
    small = replenishment_levels(
        10.0, 5.0, lead_time_days=4.0, service_level=0.5, fill_rate=0.99, order_qty=20.0
    )
    assert float(small.safety_stock) > 0
    # A huge lot covers 99% of units by itself: z stays at the service level's.
    huge = replenishment_levels(
        10.0, 5.0, lead_time_days=4.0, service_level=0.9, fill_rate=0.99, order_qty=1e6
    )
    assert float(huge.safety_stock) == pytest.approx(1.2815516 * 10.0, rel=1e-6)


def test_levels_stay_inside_the_agreement() -> None:
    lv = replenishment_levels(10.0, 3.0, lead_time_days=4.0, min_days=5.0, max_days=8.0)
    assert float(lv.reorder_point) == 50.0  # 40 + ss < 50: raised to the min
    assert float(lv.order_up_to) == 80.0
    assert float(lv.max_level) == 80.0


def test_policy_params_defaults_and_validation() -> None:
    p = ReplenishmentRule()
    assert p.service_level == 0.99
    assert p.fill_rate is None
    with pytest.raises(ValidationError):
        ReplenishmentRule(service_level=1.0)
    with pytest.raises(ValidationError):
        ReplenishmentRule(unknown=1)  # type: ignore[call-arg]


def test_policy_params_order_with_eoq_packs_and_max() -> None:
    p = ReplenishmentRule(
        lead_time_days=4,
        service_level=0.95,
        order_cost=50,
        holding_cost_per_year=5,
        pack_size=10,
        min_order_qty=20,
        max_units=400,
    )
    lv = p.levels([10.0, 10.0], [3.0, 3.0])
    eoq = math.sqrt(2 * 3650 * 50 / 5)
    assert lv.order_qty.tolist() == pytest.approx([eoq, eoq])
    got = p.order([100.0, 30.0], lv)
    assert got[0] == 0  # above the reorder point (~49.9)
    # Up to min(49.9 + 270.2, 400) = 320.05 from 30: 290.05 -> 300 in packs (330 <= 400).
    assert got[1] == 300


def test_an_agreement_and_its_sku_override_the_configured_rule() -> None:
    base = ReplenishmentRule(lead_time_days=9, service_level=0.8, pack_size=1, min_history_days=2)
    agreement = AgreementSpec(
        supplier="sup",
        site="s",
        sku="X",
        lead_time_days=3,
        lead_time_sigma_days=0.5,
        service_level=0.99,
        review_period_days=1,
        min_level=2,
        max_level=10,
        level_unit=LevelUnit.DAYS_OF_SUPPLY,
    )
    sku = SkuSpec(code="X", pack_size=12, min_order_qty=24)
    rule = base.for_agreement(agreement, sku)
    assert (rule.lead_time_days, rule.lead_time_sd_days, rule.service_level) == (3, 0.5, 0.99)
    assert (rule.review_period_days, rule.min_days, rule.max_days) == (1, 2, 10)
    assert (rule.min_units, rule.max_units) == (None, None)
    assert (rule.pack_size, rule.min_order_qty) == (12, 24)
    assert rule.min_history_days == 2  # not in the agreement: kept
    in_units = agreement.model_copy(update={"level_unit": LevelUnit.UNITS})
    rule = base.for_agreement(in_units, None)
    assert (rule.min_units, rule.max_units, rule.min_days) == (2, 10, None)
    assert rule.pack_size == 1  # no SKU entry: the configured packs


def test_a_rule_table_computes_each_row_as_its_own_rule() -> None:
    rules = [
        ReplenishmentRule(lead_time_days=4, service_level=0.95, fill_rate=0.99, pack_size=6),
        ReplenishmentRule(
            lead_time_days=1,
            service_level=0.8,
            order_cost=40,
            holding_cost_per_year=3,
            max_cycle_days=30,
        ),
        ReplenishmentRule(
            lead_time_days=10,
            lead_time_sd_days=2,
            review_period_days=1,
            min_units=5,
            max_days=20,
            min_cycle_days=14,
        ),
    ]
    mean, sigma = np.array([10.0, 0.5, 3.0]), np.array([3.0, 0.7, 1.0])
    table = RuleTable.of(rules).levels(mean, sigma, mean_error_sd=[0.2, 0.0, 0.1])
    for i, rule in enumerate(rules):
        one = rule.levels(mean[i], sigma[i], mean_error_sd=[0.2, 0.0, 0.1][i])
        assert float(table.reorder_point[i]) == pytest.approx(float(one.reorder_point))
        assert float(table.order_up_to[i]) == pytest.approx(float(one.order_up_to))
    positions = np.array([0.0, 0.0, 0.0])
    np.testing.assert_allclose(
        RuleTable.of(rules).order(positions, table),
        [
            float(r.order(0.0, r.levels(mean[i], sigma[i], mean_error_sd=[0.2, 0.0, 0.1][i])))
            for i, r in enumerate(rules)
        ],
    )


def test_an_order_lasts_until_the_next_one_can_arrive() -> None:
    # One order open at a time: with a 14-day lead time and a 7-day cycle, an order
    # of 7 days would leave the shelf empty before the next could land.
    rule = ReplenishmentRule(lead_time_days=14, review_period_days=1, order_cycle_days=7)
    lv = rule.levels(10.0, 2.0)
    assert float(lv.order_qty) == pytest.approx(150.0)  # 10 a day over 14 + 1 days
    short = ReplenishmentRule(lead_time_days=2, order_cycle_days=7)
    assert float(short.levels(10.0, 2.0).order_qty) == pytest.approx(70.0)


def test_eoq_is_kept_between_the_cycle_bounds() -> None:
    base = {"lead_time_days": 1.0, "order_cost": 1000.0, "holding_cost_per_year": 0.01}
    huge = ReplenishmentRule(**base)  # an EOQ of years of supply
    capped = ReplenishmentRule(**base, max_cycle_days=60)
    assert float(huge.levels(1.0, 1.0).order_qty) > 3000
    assert float(capped.levels(1.0, 1.0).order_qty) == pytest.approx(60.0)
    tiny = ReplenishmentRule(
        lead_time_days=1.0, order_cost=0.01, holding_cost_per_year=100, min_cycle_days=7
    )
    assert float(tiny.levels(10.0, 1.0).order_qty) == pytest.approx(70.0)


def test_a_fill_rate_target_only_raises_the_rows_that_have_one() -> None:
    with_target = ReplenishmentRule(lead_time_days=4, service_level=0.5, fill_rate=0.999)
    without = ReplenishmentRule(lead_time_days=4, service_level=0.5)
    lv = RuleTable.of([with_target, without]).levels([10.0, 10.0], [4.0, 4.0])
    assert lv.safety_stock[0] > 0
    assert lv.safety_stock[1] == pytest.approx(0.0)  # z(0.5) = 0
