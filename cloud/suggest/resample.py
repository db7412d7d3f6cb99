"""Resampled demand and lead times for a replay: pure, seeded, vectorized.

Demand is a weekly block bootstrap of each key's own observed daily demand:
blocks of 7 consecutive observed days drawn with replacement (circularly),
which keeps the weekday pattern and short runs of high or low demand. Days
the key was not observed (offline, or out of stock: see
`cloud.replenishment.projection`) are left out before drawing. Lead times are
drawn from a normal distribution of the key's (learned) mean and spread,
rounded to whole days, at least 1.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

BLOCK_DAYS = 7


def resample_demand(
    consumed: npt.ArrayLike, observed: npt.ArrayLike, days: int, rng: np.random.Generator
) -> FloatArray:
    """(keys, days) of demand drawn from each key's observed days (see the module docstring).

    A key without observed days gets zeros.
    """
    c = np.asarray(consumed, dtype=np.float64)
    seen = np.asarray(observed, dtype=np.bool_) & np.isfinite(c)
    keys = c.shape[0]
    # Observed days first, in their order: row i's days are [0, count_i).
    order = np.argsort(~seen, axis=1, kind="stable")
    packed = np.take_along_axis(np.where(seen, c, 0.0), order, axis=1)
    count = seen.sum(axis=1)
    blocks = -(-days // BLOCK_DAYS)
    start = np.floor(rng.random((keys, blocks)) * np.maximum(count, 1)[:, None]).astype(np.int64)
    offset = np.arange(BLOCK_DAYS)
    idx = (start[:, :, None] + offset) % np.maximum(count, 1)[:, None, None]
    out = np.take_along_axis(packed, idx.reshape(keys, -1), axis=1)[:, :days]
    out[count == 0] = 0.0
    result: FloatArray = np.ascontiguousarray(out)
    return result


def resample_lead_times(
    mean_days: npt.ArrayLike, sd_days: npt.ArrayLike, days: int, rng: np.random.Generator
) -> IntArray:
    """(keys, days) whole-day lead times, normal around each key's mean, at least 1."""
    mean = np.asarray(mean_days, dtype=np.float64)
    sd = np.asarray(sd_days, dtype=np.float64)
    draws = mean[:, None] + sd[:, None] * rng.standard_normal((len(mean), days))
    result: IntArray = np.maximum(np.rint(draws), 1).astype(np.int64)
    return result
