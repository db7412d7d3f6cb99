"""The closed-loop policy simulation: bookkeeping, metrics and the ERP rules it compares."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from cloud.replenishment.demand import daily_demand_many
from firmware_sim.evaluate.demand import FloatArray, Pattern, generate_demand
from firmware_sim.evaluate.engine import ShippedEngine, shelf_readings
from firmware_sim.evaluate.metrics import measure
from firmware_sim.evaluate.policies import ErpnextReorder, OdooMinMax
from firmware_sim.evaluate.scenario import Scenario, make_scenario
from firmware_sim.evaluate.simulate import DayState, Run, simulate
from firmware_sim.evaluate.tuning import tune_to_fill_rate

DAY_S = 86_400.0
SMALL = make_scenario(20, 120, history_days=60, seed=11)


@pytest.fixture(scope="module")
def runs() -> dict[str, Run]:
    sc = SMALL
    return {
        p.name: simulate(sc, p)
        for p in (ShippedEngine(sc), OdooMinMax.from_history(sc), ErpnextReorder.from_history(sc))
    }


def test_stock_is_conserved_and_never_negative(runs: dict[str, Run]) -> None:
    for run in runs.values():
        start = SMALL.initial_on_hand[:, None]
        expected = start + np.cumsum(run.received, axis=1) - np.cumsum(run.shipped, axis=1)
        np.testing.assert_allclose(run.on_hand, expected, atol=1e-9)
        assert (run.on_hand >= 0).all()
        assert (run.shipped >= 0).all()
        assert (run.shipped <= run.demand).all()
        # Served is what was wanted, or everything the shelf held that morning.
        before = np.concatenate([start, run.on_hand[:, :-1]], axis=1)
        np.testing.assert_allclose(run.shipped, np.minimum(before, run.demand))


def test_every_order_arrives_after_its_lead_time(runs: dict[str, Run]) -> None:
    days = SMALL.days
    for run in runs.values():
        log = run.orders
        assert len(log.sku) > 0
        assert (log.lead_time >= 1).all()
        np.testing.assert_array_equal(log.lead_time, SMALL.lead_time_draws[log.sku, log.placed])
        np.testing.assert_array_equal(log.due, log.placed + log.lead_time)
        # What lands each day is exactly the orders due that day.
        due = np.zeros((SMALL.n_skus, days + int(log.lead_time.max()) + 1))
        np.add.at(due, (log.sku, log.due), log.quantity)
        np.testing.assert_allclose(run.received, due[:, :days])
        # Orders due after the horizon are still open at the end.
        np.testing.assert_allclose(run.on_order[:, -1], due[:, days:].sum(axis=1))
        assert (run.received[:, 0] == 0).all()  # nothing arrives the day it is ordered


def test_the_project_policy_orders_whole_packs_of_at_least_the_moq(
    runs: dict[str, Run],
) -> None:
    log = runs["project"].orders
    packs = log.quantity / SMALL.pack_size[log.sku]
    np.testing.assert_allclose(packs, np.round(packs))
    assert (log.quantity >= SMALL.min_order_qty[log.sku]).all()


def test_policies_reach_a_sensible_service(runs: dict[str, Run]) -> None:
    for run in runs.values():
        assert measure(run, SMALL).fill_rate > 0.9


def tiny(demand: list[list[int]], on_hand: list[float], lead: int = 2) -> Scenario:
    """A hand-made world: unit costs 1, fixed lead times, 14 days of history of 1 a day."""
    d = np.array(demand, dtype=np.int64)
    n, days = d.shape
    ones = np.ones(n)
    return Scenario(
        seed=0,
        history=np.ones((n, 14), dtype=np.int64),
        demand=d,
        rate=np.ones((n, 14 + days)),
        pattern=np.zeros(n, dtype=np.int64),
        lead_time_mean=ones * lead,
        lead_time_sd=ones * 0.0,
        lead_time_draws=np.full((n, days), lead, dtype=np.int64),
        unit_cost=ones.copy(),
        order_cost=ones * 10.0,
        pack_size=np.ones(n, dtype=np.int64),
        min_order_qty=np.ones(n, dtype=np.int64),
        initial_on_hand=np.array(on_hand, dtype=np.float64),
    )


@dataclass
class Fixed:
    """Orders given quantities on given days."""

    plan: dict[int, list[float]]
    name: str = "fixed"

    def decide(self, state: DayState) -> FloatArray:
        n = len(state.on_hand)
        return np.array(self.plan.get(state.day, [0.0] * n), dtype=np.float64)


def test_fill_rate_stockouts_stock_and_turns_on_a_hand_made_case() -> None:
    # SKU 0: 5 on hand, wants 3, 4, 2, 1; an order of 6 on day 0 lands on day 2 evening.
    # SKU 1: 10 on hand, wants 2 a day, never short.
    sc = tiny([[3, 4, 2, 1], [2, 2, 2, 2]], [5, 10])
    run = simulate(sc, Fixed({0: [6, 0]}))
    assert run.shipped.tolist() == [[3, 2, 0, 1], [2, 2, 2, 2]]
    assert run.received.tolist() == [[0, 0, 6, 0], [0, 0, 0, 0]]
    assert run.on_hand.tolist() == [[2, 0, 6, 5], [8, 6, 4, 2]]
    m = measure(run, sc)
    assert m.fill_rate == pytest.approx(14 / 18)
    assert m.stockout_days == 2  # SKU 0 on days 1 and 2
    assert m.orders == 1
    assert m.sku_fill_rate.tolist() == pytest.approx([6 / 10, 1.0])
    # Average stock (13 / 4 + 20 / 4) over average daily demand (10 / 4 + 8 / 4).
    assert m.avg_on_hand_days == pytest.approx(33 / 18)
    assert m.turns == pytest.approx(14 * 365 / 4 / (33 / 4))
    # Without the order: days on an empty shelf are unobserved, the day it ran out is seen.
    seen: list[DayState] = []

    @dataclass
    class Spy:
        name: str = "spy"

        def decide(self, state: DayState) -> FloatArray:
            seen.append(state)
            return np.zeros(2)

    simulate(sc, Spy())
    last = seen[-1]
    assert last.consumed[0, -4:].tolist() == [3, 2, 0, 0]
    assert last.observed[0, -4:].tolist() == [True, True, False, False]


def ip_state(ip: list[float]) -> DayState:
    n = len(ip)
    z = np.zeros(n)
    hist = np.zeros((n, 1), dtype=np.int64)
    return DayState(0, np.array(ip, float), z, hist, hist.astype(bool), z, z, z, z, z * np.nan, z)


def test_odoo_orders_up_to_max_in_multiples_when_below_min() -> None:
    rule = OdooMinMax(
        min_qty=np.full(4, 10.0), max_qty=np.full(4, 30.0), qty_multiple=np.array([6, 6, 6, 0.0])
    )
    got = rule.decide(ip_state([10, 9, -2, 4]))
    # 10 is not below min; 30 - 9 = 21 -> 24; 30 + 2 = 32 -> 36; no multiple: 26.
    assert got.tolist() == [0, 24, 36, 26]
    # max below min: order up to min.
    rule = OdooMinMax(np.array([10.0]), np.array([5.0]), np.array([1.0]))
    assert rule.decide(ip_state([4])).tolist() == [6]


def test_erpnext_orders_the_reorder_qty_or_the_deficiency_when_below_level() -> None:
    rule = ErpnextReorder(reorder_level=np.full(4, 20.0), reorder_qty=np.full(4, 15.0))
    got = rule.decide(ip_state([20, 19, 5, 0]))
    # 20 is not below; deficiency 1 < 15 -> 15; 15 -> 15; 20 > 15 -> 20.
    assert got.tolist() == [0, 15, 15, 20]


def test_baselines_configured_from_history_scale_with_the_safety_factor() -> None:
    sc = tiny([[1] * 5], [10], lead=3)  # history: 1 a day
    odoo = OdooMinMax.from_history(sc, 0.5)
    # min = 1/day x (3 + 1 review day) x 1.5; max = min + the EOQ kept to 7..60 days.
    assert odoo.min_qty.tolist() == [6]
    assert odoo.max_qty.tolist() == [6 + 60]  # EOQ sqrt(2 365 10 / 0.25) = 171 -> 60 days
    erp = ErpnextReorder.from_history(sc, 1.0)
    assert erp.reorder_level.tolist() == [8]
    assert erp.reorder_qty.tolist() == odoo.max_qty - odoo.min_qty


def test_tuning_finds_a_factor_reaching_the_target() -> None:
    sc = SMALL
    target = 0.99
    tuned = tune_to_fill_rate(sc, lambda k: OdooMinMax.from_history(sc, k), target)
    assert tuned.reached
    assert tuned.metrics.fill_rate >= target
    # Bisection: every factor tried below the one found fell short.
    lower = [p for p in tuned.curve if p.parameter < tuned.safety_factor]
    assert lower
    assert all(p.metrics.fill_rate < target for p in lower)


def test_demand_patterns_have_their_shape() -> None:
    rng = np.random.default_rng(3)
    d = generate_demand(400, 365, rng)
    for p in Pattern:
        assert (d.pattern == p).sum() > 20
    inter = d.daily[d.pattern == Pattern.INTERMITTENT]
    smooth = d.daily[d.pattern == Pattern.SMOOTH]
    assert (inter == 0).mean() > 0.6
    assert (smooth == 0).mean() < (inter == 0).mean()
    np.testing.assert_allclose(d.daily.mean(axis=1), d.rate.mean(axis=1), rtol=0.35, atol=0.3)


def test_same_seed_same_world() -> None:
    a, b = make_scenario(5, 30, seed=4), make_scenario(5, 30, seed=4)
    np.testing.assert_array_equal(a.demand, b.demand)
    np.testing.assert_array_equal(a.lead_time_draws, b.lead_time_draws)


def test_the_engine_reads_its_shelves_as_production_reads_one_long_series() -> None:
    # Day by day, carrying each shelf's held level, the engine must get the same
    # daily consumption and in-stock share as production's extraction over all
    # the readings at once: the deadband (1 unit) must not restart every day.
    sc = make_scenario(30, 60, history_days=30, seed=3)
    engine = ShippedEngine(sc)
    times, shelves, levels = [], [], []

    @dataclass
    class Recorder:
        name: str = "recorder"

        def decide(self, state: DayState) -> FloatArray:
            t, s, q = shelf_readings(state)
            times.append(t + state.day * DAY_S)
            shelves.append(s)
            levels.append(q)
            return engine.decide(state)

    run = simulate(sc, Recorder())
    consumed, in_stock = engine.window
    w = consumed.shape[1]
    whole = daily_demand_many(
        np.concatenate(times),
        np.concatenate(shelves).astype(np.int64),
        np.zeros(sum(len(t) for t in times), dtype=np.int64),
        np.concatenate(levels),
        n_series=sc.n_skus,
        start_s=(sc.days - w) * DAY_S,
        days=w,
    )
    assert whole.consumed.sum() > 0
    np.testing.assert_allclose(consumed, whole.consumed, atol=1e-9)
    np.testing.assert_allclose(in_stock, whole.in_stock, atol=1e-9)
    # Single-unit picks are not lost: over the window the engine saw every unit
    # the shelves lost, up to one deadband per shelf at the window's start.
    lost = run.shipped[:, -w:].sum(axis=1)
    assert (np.abs(consumed.sum(axis=1) - lost) <= 1.0 + 1e-9).all()
