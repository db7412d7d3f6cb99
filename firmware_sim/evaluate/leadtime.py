"""Supplier lead times: a mean per SKU and a gamma-distributed draw per order.

What a policy may know is the mean and spread of the supplier's past
deliveries (a sample of them), never the draws ahead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

PAST_DELIVERIES = 20  # deliveries before the simulation the known mean and spread come from


@dataclass(frozen=True, slots=True)
class LeadTimes:
    """Lead times of n SKUs' suppliers, in whole days (at least 1)."""

    mean_days: FloatArray  # (n,) mean of the past deliveries
    sd_days: FloatArray  # (n,) standard deviation of the past deliveries
    draws: IntArray  # (n, days) lead time of an order placed on each day


def draw_lead_times(
    n_skus: int,
    n_days: int,
    rng: np.random.Generator,
    *,
    past_deliveries: int = PAST_DELIVERIES,
    mean_range: tuple[int, int] = (2, 14),
    cv_range: tuple[float, float] = (0.1, 0.35),
) -> LeadTimes:
    """Quoted lead times in `mean_range` days, varying with a coefficient of variation in
    `cv_range`; the known mean and spread come from `past_deliveries` earlier draws."""
    quoted = rng.integers(mean_range[0], mean_range[1] + 1, size=(n_skus, 1)).astype(np.float64)
    cv = rng.uniform(*cv_range, size=(n_skus, 1))
    shape = 1.0 / cv**2

    def draw(days: int) -> IntArray:
        lt = np.rint(rng.gamma(shape, quoted / shape, size=(n_skus, days)))
        return np.maximum(lt, 1).astype(np.int64)

    past = draw(past_deliveries).astype(np.float64)
    return LeadTimes(past.mean(axis=1), past.std(axis=1, ddof=1), draw(n_days))
