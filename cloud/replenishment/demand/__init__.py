"""Demand from level series: daily consumption, forecasts and stockout projections.

Pure and vectorized (numpy), no I/O. Three seams, one module each:

- `daily`: one (site, SKU)'s absolute level points -> per-day consumption,
  refills, which days were observed and their in-stock share (noise
  deadband, duplicates, gaps); `daily_demand_many` does many series at once;
- `forecasting`: a matrix of daily demand (one row per series) -> EW mean,
  spread and trend, with TSB for intermittent series;
- `projection`: stock on hand and forecasts -> days of cover and the 10th,
  50th and 90th percentile stockout days.

Typical use over many series::

    demands = [daily_demand(points, start=start, days=90) for points in series]
    consumed, observed = stack_daily(demands)
    forecasts = forecast_many(consumed, observed=observed)
    band = project_many(np.array([d.on_hand for d in demands]), forecasts)

or, from flat columns of all series (series index 0..n-1 per point)::

    demands = daily_demand_many(time_s, series, location, quantity,
                                n_series=n, start_s=start_s, days=90)
    forecasts = forecast_many(demands.consumed, observed=demands.observed)
"""

from cloud.replenishment.demand.daily import (
    DEFAULT_NOISE_UNITS,
    DailyDemand,
    DailyDemands,
    daily_demand,
    daily_demand_arrays,
    daily_demand_many,
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
    "DailyDemands",
    "Forecast",
    "Forecasts",
    "ProjectionBand",
    "daily_demand",
    "daily_demand_arrays",
    "daily_demand_many",
    "forecast",
    "forecast_many",
    "project_many",
    "stack_daily",
]
