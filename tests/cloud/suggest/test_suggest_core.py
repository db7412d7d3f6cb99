"""Replay, resampling and the choice of terms, on cases whose outcome is known."""

from __future__ import annotations

import numpy as np
import pytest

from cloud.replenishment.policy import ReplenishmentRule, RuleTable
from cloud.suggest.replay import replay
from cloud.suggest.resample import resample_demand, resample_lead_times
from cloud.suggest.suggest import Flag, KeyInputs, SuggestOptions, suggest

DAYS = 28 + 364


def table(n: int = 1, **terms: float) -> RuleTable:
    return RuleTable.of([ReplenishmentRule(**terms)] * n)  # type: ignore[arg-type]


def steady(rule: RuleTable, *, demand: float = 10.0, lead: int = 2):
    return replay(
        np.full((1, DAYS), demand),
        np.full((1, DAYS), lead),
        rule,
        rate_per_day=[demand],
        sigma_per_day=[0.0],
        rate_error_sd=[0.0],
        on_hand=[100.0],
    )


def test_steady_demand_with_the_right_lead_time_never_runs_out() -> None:
    r = steady(table(lead_time_days=2, order_cycle_days=7))
    assert r.fill_rate[0] == 1.0
    assert r.stockout_days_per_year[0] == 0.0
    # Reorder at 2 days of demand, order a week's: one order a week.
    assert r.reorder_point[0] == pytest.approx(20.0)
    assert r.orders_per_year[0] == pytest.approx(365 / 7, abs=1.5)
    assert 0 < r.avg_on_hand[0] < 80


def test_a_lead_time_longer_than_the_rule_believes_runs_out() -> None:
    r = steady(table(lead_time_days=2, order_cycle_days=7), lead=5)
    assert r.fill_rate[0] < 0.9
    assert r.stockout_days_per_year[0] > 50


def test_a_weekly_review_orders_at_most_weekly_and_holds_more() -> None:
    daily = steady(table(lead_time_days=2, order_cycle_days=2, review_period_days=1))
    weekly = steady(table(lead_time_days=2, order_cycle_days=2, review_period_days=7))
    assert weekly.orders_per_year[0] <= 365 / 7 + 1
    assert daily.orders_per_year[0] > weekly.orders_per_year[0]
    assert weekly.avg_on_hand[0] > daily.avg_on_hand[0]
    assert weekly.fill_rate[0] == 1.0


def test_replay_refuses_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="shape"):
        replay(np.ones((1, 5)), np.ones((1, 4)), table(), rate_per_day=[1], sigma_per_day=[0],
               rate_error_sd=[0], on_hand=[0], warmup_days=0)  # fmt: skip


def test_resampled_demand_uses_observed_days_in_weekly_blocks() -> None:
    consumed = np.array([np.arange(14.0), np.full(14, 5.0), np.zeros(14)])
    observed = np.ones((3, 14), dtype=bool)
    observed[1, :7] = False
    consumed[1, :7] = 99.0  # unobserved: never drawn
    observed[2] = False
    out = resample_demand(consumed, observed, 30, np.random.default_rng(0))
    assert out.shape == (3, 30)
    assert set(out[1]) == {5.0}
    assert (out[2] == 0).all()
    # Within a block the days follow each other (circularly over the 14 days).
    block = out[0, :7]
    assert ((np.diff(block) == 1) | (np.diff(block) == -13)).all()
    again = resample_demand(consumed, observed, 30, np.random.default_rng(0))
    assert np.array_equal(out, again)


def test_resampled_lead_times_are_whole_days_of_at_least_one() -> None:
    lead = resample_lead_times([0.2, 10.0], [0.0, 2.0], 2000, np.random.default_rng(1))
    assert (lead[0] == 1).all()
    assert lead.min() >= 1
    assert lead[1].mean() == pytest.approx(10.0, abs=0.2)
    assert lead[1].std() == pytest.approx(2.0, abs=0.2)


def inputs(rules: RuleTable, rate: list[float], on_hand: list[float], **over: object) -> KeyInputs:
    n = len(rate)
    rng = np.random.default_rng(5)
    consumed = rng.poisson(np.array(rate)[:, None], (n, 56)).astype(float)
    base = {
        "keys": [("s", f"K{i}") for i in range(n)],
        "rules": rules,
        "rate_per_day": np.array(rate),
        "sigma_per_day": np.sqrt(np.array(rate)),
        "rate_error_sd": np.sqrt(np.array(rate)) * 0.23,
        "on_hand": np.array(on_hand),
        "consumed": consumed,
        "observed": np.ones((n, 56), dtype=bool),
        "in_stock": np.ones((n, 56)),
    }
    base.update(over)
    return KeyInputs(**base)  # type: ignore[arg-type]


def test_overstocked_terms_get_less_stock_and_no_more_stockouts() -> None:
    rules = table(1, service_level=0.999, lead_time_days=4, lead_time_sd_days=1, order_cycle_days=7)
    (s,) = suggest(inputs(rules, [20.0], [200.0]))
    assert s.suggested is not None
    assert s.suggested_effect is not None
    assert s.suggested.service_level < 0.999
    assert s.suggested_effect.avg_on_hand <= 0.95 * s.current_effect.avg_on_hand
    assert s.suggested_effect.fill_rate >= s.target_fill_rate
    assert s.suggested_effect.stockout_days_per_year <= s.current_effect.stockout_days_per_year
    assert s.suggested.reorder_point < s.current.reorder_point
    assert "less stock" in s.reason


def test_terms_that_miss_the_target_get_more_service() -> None:
    # The rule believes a 1-day lead time with no spread; deliveries take 4 +- 2.
    rules = table(1, service_level=0.9, lead_time_days=1, order_cycle_days=3)
    rules = rules.with_lead_times([4.0], [2.0])
    low = suggest(inputs(rules, [20.0], [60.0]), SuggestOptions(target_fill_rate=0.999))[0]
    assert low.current_effect.fill_rate < 0.999
    assert low.suggested is not None
    assert low.suggested_effect is not None
    assert low.suggested_effect.fill_rate > low.current_effect.fill_rate
    assert "under the" in low.reason


def test_flags() -> None:
    rules = table(3, lead_time_days=2)
    in_stock = np.ones((3, 56))
    in_stock[2, ::3] = 0.5  # a third of the days partly empty
    consumed = np.ones((3, 56)) * 5
    consumed[0] = 0.0
    found = suggest(
        inputs(rules, [0.0, 5.0, 5.0], [40.0, 5000.0, 10.0], consumed=consumed, in_stock=in_stock)
    )
    assert found[0].flags == (Flag.DEAD_STOCK,)
    assert found[1].flags == (Flag.EXCESS_COVER,)
    assert found[2].flags == (Flag.CHRONIC_STOCKOUTS,)


def test_no_keys_no_suggestions() -> None:
    empty = inputs(table(0), [], [])
    assert suggest(empty) == []
