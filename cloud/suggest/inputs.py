"""What the suggestions read from the stores, for many (site, SKU)s at once.

The level series of the window (`window_days`, longer than the replenisher's
so a year's resampling has more to draw from) become production's daily
demand rows and forecast (`cloud.replenishment.projection`); the terms are
the replenisher's (`cloud.replenishment.terms`: configured rule, VMI
agreement and SKU, lead times learned from deliveries).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cloud.catalog import Catalog
from cloud.config import ReplenishmentConfig
from cloud.orders import OrderBook
from cloud.replenishment.effects import UNASSIGNED
from cloud.replenishment.policy import RuleTable
from cloud.replenishment.projection import demand_rows, project_rows, window_demand
from cloud.replenishment.terms import learned_table, rules_for
from cloud.suggest.suggest import KeyInputs
from cloud.timeseries import TimeSeriesStore

Key = tuple[str, str]
_EPSILON = timedelta(milliseconds=1)


@dataclass(frozen=True, slots=True)
class ReadInputs:
    """The inputs of the keys that have readings, and each one's supplier."""

    inputs: KeyInputs
    suppliers: list[str | None]  # None: no agreement names one


def read_inputs(
    store: TimeSeriesStore,
    orders: OrderBook,
    catalog: Catalog | None,
    config: ReplenishmentConfig,
    keys: Sequence[Key],
    now: datetime,
    *,
    window_days: int,
) -> ReadInputs:
    """Read and shape the inputs of `keys` as of `now` (keys without readings are left out)."""
    wanted = sorted(set(keys))
    series = store.level_series_many(wanted, now - timedelta(days=window_days), now + _EPSILON)
    w = window_demand(series, now, window_days=window_days, noise_units=config.noise_units)
    table = project_rows(
        w.keys,
        now,
        consumed=w.consumed,
        observed=w.observed,
        on_hand=w.on_hand,
        history_days=w.history_days,
        in_stock=w.in_stock,
    )
    resolved = rules_for(config, catalog, w.keys)
    keyed = [resolved[k] for k in w.keys]
    rules = learned_table(config, orders, w.keys, keyed, RuleTable.of([r for r, _ in keyed]), now)
    rows, seen = demand_rows(w.consumed, w.observed, w.in_stock)
    inputs = KeyInputs(
        keys=list(w.keys),
        rules=rules,
        rate_per_day=table.rate_per_day,
        sigma_per_day=table.sigma_per_day,
        rate_error_sd=table.rate_error_sd,
        on_hand=w.on_hand,
        consumed=rows,
        observed=seen,
        in_stock=w.in_stock,
    )
    suppliers = [None if who == UNASSIGNED else who for _, who in keyed]
    return ReadInputs(inputs, suppliers)
