"""Demand from level series: daily consumption, forecasts and stockout projections.

Pure and vectorized (numpy), no I/O. Three seams, one module each:

- `daily`: one (site, SKU)'s absolute level points -> per-day consumption,
  refills and which days were observed (noise deadband, duplicates, gaps);
- `forecasting`: a matrix of daily demand (one row per series) -> EW mean,
  spread and trend, with TSB for intermittent series;
- `projection`: stock on hand and forecasts -> days of cover and the 10th,
  50th and 90th percentile stockout days.

Typical use over many series::

    demands = [daily_demand(points, start=start, days=90) for points in series]
    consumed, observed = stack_daily(demands)
    forecasts = forecast_many(consumed, observed=observed)
    band = project_many(np.array([d.on_hand for d in demands]), forecasts)
"""

from cloud.replenishment.demand.daily import (
    DEFAULT_NOISE_UNITS,
    DailyDemand,
    daily_demand,
    daily_demand_arrays,
    stack_daily,
)
from cloud.replenishment.demand.forecasting import (
    ADI_INTERMITTENT,
    METHOD_INTERMITTENT,
    METHOD_NONE,
    METHOD_SMOOTH,
    Forecast,
    Forecasts,
    forecast,
    forecast_many,
)
from cloud.replenishment.demand.projection import DEFAULT_QUANTILES, ProjectionBand, project_many

__all__ = [
    "ADI_INTERMITTENT",
    "DEFAULT_NOISE_UNITS",
    "DEFAULT_QUANTILES",
    "METHOD_INTERMITTENT",
    "METHOD_NONE",
    "METHOD_SMOOTH",
    "DailyDemand",
    "Forecast",
    "Forecasts",
    "ProjectionBand",
    "daily_demand",
    "daily_demand_arrays",
    "forecast",
    "forecast_many",
    "project_many",
    "stack_daily",
]
