"""Lead times learned from deliveries, with the agreement's figures as the prior. Pure.

An agreement quotes a lead time and its spread; the orders a supplier has
delivered say what it achieves. The quote counts as `prior_deliveries`
deliveries of that mean and spread, pooled with the ones observed (placed ->
received, per supplier, site and SKU): with few deliveries the quote
dominates, with many the record does. The pooled variance is the sample
variance of the prior's pseudo-deliveries and the observed ones together.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """Sums of observed lead times (days), one element per key."""

    count: FloatArray
    total: FloatArray
    total_sq: FloatArray

    @classmethod
    def of(cls, samples: Iterable[Iterable[float]]) -> DeliveryRecord:
        """The record of each key's observed lead times (in days)."""
        rows = [np.asarray(list(s), dtype=np.float64) for s in samples]
        return cls(
            np.array([len(r) for r in rows], dtype=np.float64),
            np.array([r.sum() for r in rows], dtype=np.float64),
            np.array([(r * r).sum() for r in rows], dtype=np.float64),
        )


def learned_lead_times(
    prior_mean: npt.ArrayLike,
    prior_sd: npt.ArrayLike,
    record: DeliveryRecord,
    *,
    prior_deliveries: float,
) -> tuple[FloatArray, FloatArray]:
    """(mean, standard deviation) of each key's lead time: the prior pooled with `record`."""
    if prior_deliveries < 2:
        raise ValueError("prior_deliveries must be at least 2")
    m0 = np.asarray(prior_mean, dtype=np.float64)
    s0 = np.asarray(prior_sd, dtype=np.float64)
    w = float(prior_deliveries)
    count = w + record.count
    mean = (w * m0 + record.total) / count
    squares = (w - 1.0) * s0 * s0 + w * m0 * m0 + record.total_sq
    var = np.maximum(squares - count * mean * mean, 0.0) / (count - 1.0)
    return mean, np.sqrt(var)
