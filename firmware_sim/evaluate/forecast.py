"""Demand forecasts for the simulated project policy, from `cloud.replenishment.demand`.

The cloud's forecaster (`cloud.replenishment.demand.forecast_many`, vectorized over series)
reports the rate on the last observed day and its trend; the policy wants the
rate expected tomorrow, and how uncertain that rate is: an exponentially
weighted mean with smoothing alpha over days of spread sigma has a standard
error of sigma sqrt(alpha / (2 - alpha)). Series without enough observed days (NaN) count as no
demand and no spread.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cloud.replenishment.demand import forecast_many

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

ALPHA = 0.1  # smoothing of the level: weights halve every ~6.6 days


@dataclass(frozen=True, slots=True)
class DemandOutlook:
    """Per SKU: expected units tomorrow, daily standard deviation, daily trend, and the
    standard error of the expected daily rate."""

    mean_per_day: FloatArray
    sigma_per_day: FloatArray
    trend_per_day: FloatArray
    mean_error_sd: FloatArray


def forecast_next_day(consumed: npt.ArrayLike, observed: BoolArray) -> DemandOutlook:
    """Forecast every row of `consumed` (n_skus, n_days), using only the observed days."""
    f = forecast_many(consumed, observed=observed, alpha=ALPHA)
    trend = np.nan_to_num(f.trend_per_day, nan=0.0)
    mean = np.maximum(np.nan_to_num(f.mean_per_day, nan=0.0) + trend, 0.0)
    sigma = np.nan_to_num(f.sigma_per_day, nan=0.0)
    return DemandOutlook(mean, sigma, trend, sigma * np.sqrt(ALPHA / (2.0 - ALPHA)))
