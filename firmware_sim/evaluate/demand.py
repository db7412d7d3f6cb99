"""Daily demand of many SKUs with smooth, seasonal, trending and intermittent patterns.

Counts are Poisson-gamma (negative binomial) around a true rate, so demand is
over-dispersed like real consumption. All SKUs are generated at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class Pattern(IntEnum):
    """How a SKU's demand behaves over the year."""

    SMOOTH = 0
    SEASONAL = 1
    TRENDING = 2
    INTERMITTENT = 3


DEFAULT_MIX = {
    Pattern.SMOOTH: 0.35,
    Pattern.SEASONAL: 0.25,
    Pattern.TRENDING: 0.2,
    Pattern.INTERMITTENT: 0.2,
}


@dataclass(frozen=True, slots=True)
class DemandSet:
    """Demand of n SKUs over n days; day 0 is the first day of the history."""

    daily: IntArray  # (n, days) units wanted each day
    rate: FloatArray  # (n, days) the true expected units a day
    pattern: IntArray  # (n,) a Pattern per SKU


def generate_demand(
    n_skus: int,
    n_days: int,
    rng: np.random.Generator,
    *,
    mix: dict[Pattern, float] | None = None,
) -> DemandSet:
    """Draw patterns, true rates and daily counts for `n_skus` SKUs over `n_days` days."""
    shares = mix or DEFAULT_MIX
    kinds = np.array([int(k) for k in shares], dtype=np.int64)
    weights = np.array(list(shares.values()), dtype=np.float64)
    pattern = rng.choice(kinds, size=n_skus, p=weights / weights.sum())
    t = np.arange(n_days, dtype=np.float64)[None, :]
    base = np.clip(rng.lognormal(np.log(8.0), 1.0, size=(n_skus, 1)), 0.3, 300.0)

    amplitude = rng.uniform(0.25, 0.6, size=(n_skus, 1))
    phase = rng.uniform(0.0, 2 * np.pi, size=(n_skus, 1))
    seasonal = 1.0 + amplitude * np.sin(2 * np.pi * t / 365.0 + phase)
    growth = rng.uniform(-0.5, 1.0, size=(n_skus, 1))  # change of the rate over a year
    trending = np.maximum(1.0 + growth * t / 365.0, 0.2)

    shape = np.ones((n_skus, n_days))
    shape = np.where(pattern[:, None] == Pattern.SEASONAL, seasonal, shape)
    shape = np.where(pattern[:, None] == Pattern.TRENDING, trending, shape)
    rate = base * shape

    # Over-dispersion: a gamma-distributed rate each day (variance mean + mean^2/k).
    k = rng.uniform(4.0, 30.0, size=(n_skus, 1))
    daily = rng.poisson(rng.gamma(k, rate / k)).astype(np.int64)

    # Intermittent: slow movers (spare parts), demanded on a few days, in lumps.
    intermittent = pattern == Pattern.INTERMITTENT
    slow = np.clip(rng.lognormal(np.log(0.8), 0.8, size=(n_skus, 1)), 0.05, 10.0)
    p_occur = rng.uniform(0.05, 0.3, size=(n_skus, 1))
    lump = np.maximum(slow / p_occur, 1.5)
    occurs = rng.random((n_skus, n_days)) < p_occur
    lumps = 1 + rng.poisson(np.broadcast_to(lump - 1.0, (n_skus, n_days)))
    daily = np.where(intermittent[:, None], occurs * lumps, daily)
    rate = np.where(intermittent[:, None], np.broadcast_to(p_occur * lump, rate.shape), rate)
    return DemandSet(daily.astype(np.int64), rate, pattern.astype(np.int64))
