"""The project's policy in the simulation: the replenishment engine that ships, fed by shelves.

Every evening each simulated shelf reports its day as a level sensor would
(its opening level, a reading of 0 when it ran out, its closing level, and
the level after a delivery). From there on it is the production code path,
with a `cloud.config.ReplenishmentConfig` (the shipped defaults unless one
is given) and a VMI agreement per SKU:

- `cloud.replenishment.demand.daily_demand_many` turns the readings into the
  day's consumption, refills and in-stock share;
- `cloud.replenishment.projection.project_rows` forecasts the last
  `window_days` of them (lost-sales days scaled or left out as in production);
- the rules come from `ReplenishmentConfig.rule_for(...).for_agreement(...)`,
  their lead times learned from this run's deliveries
  (`cloud.replenishment.lead_times`) when the config says so;
- `cloud.replenishment.decide.decide_many` decides: it receives the open order
  once refills reach it and orders when the position is at the reorder point
  with no order open.

The agreement of each SKU holds what a supplier and customer would agree on:
the supplier's lead time as known from past deliveries (the prior), a daily
review (the simulation reviews once a day), the configured service level
and at most `MAX_DAYS_OF_SUPPLY` on the shelf. The SKU's ordering and
holding costs become per-SKU rules of the config (the EOQ's inputs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from cloud.catalog.schema import AgreementSpec, LevelUnit, SkuSpec
from cloud.config import ReplenishmentConfig
from cloud.replenishment.decide import decide_many
from cloud.replenishment.demand import daily_demand_many
from cloud.replenishment.lead_times import DeliveryRecord, learned_lead_times
from cloud.replenishment.policy import ReplenishmentRule, RuleTable
from cloud.replenishment.projection import project_rows
from firmware_sim.evaluate.demand import FloatArray
from firmware_sim.evaluate.scenario import Scenario
from firmware_sim.evaluate.simulate import DayState

SITE = "sim"
SUPPLIER = "sim-supplier"
MAX_DAYS_OF_SUPPLY = 120.0
START = datetime(2026, 1, 1, tzinfo=UTC)
_DAY_S = 86_400.0


def sku_code(i: int) -> str:
    """The catalog code of simulated SKU `i`."""
    return f"SKU{i:05d}"


def sim_config(scenario: Scenario, base: ReplenishmentConfig | None = None) -> ReplenishmentConfig:
    """`base` (the shipped defaults if None) with each SKU's EOQ costs as a per-SKU rule."""
    base = base or ReplenishmentConfig()
    data = base.model_dump()
    data["skus"] = {
        sku_code(i): {
            **data["skus"].get(sku_code(i), {}),
            "order_cost": float(scenario.order_cost[i]),
            "holding_cost_per_year": float(scenario.holding_cost[i]),
        }
        for i in range(scenario.n_skus)
    }
    return ReplenishmentConfig.model_validate(data)


def agreements(scenario: Scenario, rule: ReplenishmentRule) -> list[AgreementSpec]:
    """The VMI agreement of every simulated SKU (see the module docstring)."""
    return [
        AgreementSpec(
            supplier=SUPPLIER,
            site=SITE,
            sku=sku_code(i),
            lead_time_days=float(scenario.lead_time_mean[i]),
            lead_time_sigma_days=float(scenario.lead_time_sd[i]),
            service_level=rule.service_level,
            review_period_days=1.0,
            min_level=0.0,
            max_level=MAX_DAYS_OF_SUPPLY,
            level_unit=LevelUnit.DAYS_OF_SUPPLY,
        )
        for i in range(scenario.n_skus)
    ]


def rule_table(scenario: Scenario, config: ReplenishmentConfig) -> RuleTable:
    """Each SKU's rule as production builds it: configured rule, then agreement and SKU."""
    deals = agreements(scenario, config.default)
    rules = [
        config.rule_for(deal.sku).for_agreement(
            deal,
            SkuSpec(
                code=deal.sku,
                pack_size=int(scenario.pack_size[i]),
                min_order_qty=int(scenario.min_order_qty[i]),
            ),
        )
        for i, deal in enumerate(deals)
    ]
    return RuleTable.of(rules)


def shelf_readings(state: DayState) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The day's level readings of every shelf: (seconds into the day, shelf index, level).

    The opening level at the start, 0 when the shelf ran out, the closing level
    just before the end and the level after a delivery at the end.
    """
    n = len(state.opening)
    idx = np.arange(n, dtype=np.float64)
    closing = state.on_hand - state.received
    out = [(np.zeros(n), idx, state.opening)]
    empty = np.isfinite(state.ran_out_at) & (state.ran_out_at > 0)
    out.append((state.ran_out_at[empty] * _DAY_S, idx[empty], np.zeros(int(empty.sum()))))
    out.append((np.full(n, _DAY_S - 2.0), idx, closing))
    came = state.received > 0
    out.append((np.full(int(came.sum()), _DAY_S - 1.0), idx[came], state.on_hand[came]))
    t, s, q = (np.concatenate(parts) for parts in zip(*out, strict=True))
    return t, s, q


@dataclass
class ShippedEngine:
    """The project's policy: production's demand, forecast, rule and decision (see the
    module docstring). `config=None` runs the shipped defaults."""

    scenario: Scenario
    config: ReplenishmentConfig | None = None
    name: str = "project"
    _state: _EngineState | None = field(default=None, init=False, repr=False)

    @property
    def window(self) -> tuple[FloatArray, FloatArray]:
        """The daily consumption and in-stock share the last decision forecast from,
        (n, window_days) each, oldest day first (before any decision: empty)."""
        if self._state is None:
            return np.zeros((0, 0)), np.zeros((0, 0))
        return self._state.consumed, self._state.in_stock

    def decide(self, state: DayState) -> FloatArray:
        if self._state is None or state.day == 0:
            self._state = _EngineState(self.scenario, sim_config(self.scenario, self.config))
        return self._state.decide(state)


class _EngineState:
    """What the engine remembers between evenings: what production keeps in its stores."""

    def __init__(self, scenario: Scenario, config: ReplenishmentConfig) -> None:
        n = scenario.n_skus
        self.config = config
        self.keys = [(SITE, sku_code(i)) for i in range(n)]
        self.rules = rule_table(scenario, config)
        w = config.window_days
        hist = scenario.history.astype(np.float64)[:, -w:]
        pad = w - hist.shape[1]  # a window longer than the history: unobserved days first
        self.consumed = np.pad(hist, ((0, 0), (pad, 0)))
        self.observed = np.pad(np.ones_like(hist, dtype=np.bool_), ((0, 0), (pad, 0)))
        self.in_stock = np.pad(np.ones_like(hist), ((0, 0), (pad, 0)), constant_values=np.nan)
        self.history_days = float(scenario.history.shape[1])
        self.open_qty = np.zeros(n)
        self.placed_day = np.zeros(n)
        self.refilled = np.zeros(n)
        self.held = np.full(n, np.nan)  # each shelf's level after the deadband, last evening
        self.lead_times: list[list[float]] = [[] for _ in range(n)]

    def decide(self, state: DayState) -> FloatArray:
        n = len(self.keys)
        time_s, shelf, level = shelf_readings(state)
        # Yesterday's held level, read just before the day: the deadband carries
        # on from it as it would over one long series of readings.
        carried = np.isfinite(self.held)
        time_s = np.concatenate([np.full(int(carried.sum()), -1.0), time_s])
        shelf = np.concatenate([np.flatnonzero(carried).astype(np.float64), shelf])
        level = np.concatenate([self.held[carried], level])
        day = daily_demand_many(
            time_s,
            shelf.astype(np.int64),
            np.zeros(len(shelf), dtype=np.int64),
            level,
            n_series=n,
            start_s=0.0,
            days=1,
            noise_units=self.config.noise_units,
        )
        self.consumed = np.concatenate([self.consumed[:, 1:], day.consumed], axis=1)
        self.observed = np.concatenate([self.observed[:, 1:], day.observed], axis=1)
        self.in_stock = np.concatenate([self.in_stock[:, 1:], day.in_stock], axis=1)
        self.history_days += 1.0
        self.refilled += day.refilled[:, 0]
        self.held = day.held

        at = START + timedelta(days=state.day + 1)
        table = project_rows(
            self.keys,
            at,
            consumed=self.consumed,
            observed=self.observed,
            on_hand=state.on_hand,
            history_days=np.full(n, min(self.history_days, float(self.config.window_days))),
            in_stock=self.in_stock,
        )
        rules = self.rules
        if self.config.learn_lead_times:
            mean, sd = learned_lead_times(
                rules.lead_time_days,
                rules.lead_time_sd_days,
                DeliveryRecord.of(self.lead_times),
                prior_deliveries=self.config.lead_time_prior_deliveries,
            )
            rules = rules.with_lead_times(mean, sd)
        d = decide_many(
            table,
            rules,
            open_qty=self.open_qty,
            open_arrival_days=np.full(n, np.nan),
            refilled_since_order=self.refilled,
        )
        for i in np.flatnonzero(np.isfinite(d.received_quantity)):
            self.lead_times[i].append(state.day - self.placed_day[i])
        self.open_qty = np.where(np.isfinite(d.received_quantity), 0.0, self.open_qty)
        placed = d.order_quantity > 0
        self.open_qty = np.where(placed, d.order_quantity, self.open_qty)
        self.placed_day = np.where(placed, float(state.day), self.placed_day)
        self.refilled = np.where(placed, 0.0, self.refilled)
        return d.order_quantity
