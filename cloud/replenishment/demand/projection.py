"""When stock runs out: days of cover and a band of stockout days, for many series at once.

Demand over the next `t` days is modelled as Normal(mean * t, sigma^2 * t):
daily demands independent, with the forecast's mean and spread. The mean is
taken as flat over the horizon (it already stands at today's level, trend
included; see `cloud.replenishment.demand.forecasting`). Stock runs out by day `t` when the
demand over `t` days reaches what is on hand, `H`, so the `q`-quantile of the
stockout day solves

    mean * t + z * sigma * sqrt(t) = H,   z = Phi^-1(1 - q),

a quadratic in `s = sqrt(t)`: `s = (-z*sigma + sqrt(z^2 sigma^2 + 4 mean H)) /
(2 mean)`, computed in whichever of its two algebraic forms does not cancel.
A low quantile means high demand, so the 10th percentile is the EARLY
stockout day (one chance in ten that the shelf is empty before it), the 50th
is `H / mean` (the days of cover), the 90th the late one.

Conventions for degenerate inputs, element by element:

- nothing on hand (`H <= 0`, negative levels count as 0): cover and every
  stockout day are 0, whatever the forecast (the shelf is empty now);
- no demand (`mean == 0`, `H > 0`): cover is `inf`; a stockout quantile is
  finite only if the spread alone can empty the shelf (`z * sigma > 0`,
  the early quantiles), else `inf`;
- unknown demand (`mean` NaN, e.g. a series without observed days) or unknown
  stock (`H` NaN): NaN;
- unknown spread (`sigma` NaN, fewer than two observed days): the median is
  still the days of cover, the other quantiles are NaN.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from cloud.replenishment.demand.forecasting import Forecasts

FloatArray = npt.NDArray[np.float64]

DEFAULT_QUANTILES = (0.1, 0.5, 0.9)


@dataclass(frozen=True, slots=True)
class ProjectionBand:
    """Days of cover and stockout-day quantiles, one row per series."""

    on_hand: FloatArray  # (n,) as given, negatives clipped to 0
    days_of_cover: FloatArray  # (n,) on_hand / mean; inf when mean is 0
    quantiles: tuple[float, ...]  # probabilities of the stockout_days columns, ascending
    stockout_days: FloatArray  # (n, len(quantiles)) days from now until stock runs out

    def stockout_at(self, quantile: float) -> FloatArray:
        """The column of `stockout_days` for one of `quantiles`."""
        try:
            return self.stockout_days[:, self.quantiles.index(quantile)]
        except ValueError:
            raise KeyError(f"quantile {quantile} not projected; have {self.quantiles}") from None


def project_many(
    on_hand: npt.ArrayLike,
    forecasts: Forecasts,
    *,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
) -> ProjectionBand:
    """Project stock `on_hand` (shape (n,)) against the forecasts of the same n series."""
    qs = tuple(float(q) for q in quantiles)
    if any(not 0 < q < 1 for q in qs) or list(qs) != sorted(set(qs)):
        raise ValueError("quantiles must be distinct, ascending and in (0, 1)")
    h = np.asarray(on_hand, dtype=np.float64)
    if h.shape != forecasts.mean_per_day.shape:
        raise ValueError("on_hand must have one value per forecast series")
    h = np.where(h < 0, 0.0, h)  # keeps NaN
    mean = forecasts.mean_per_day
    sigma = forecasts.sigma_per_day
    z = np.array([NormalDist().inv_cdf(1.0 - q) for q in qs])

    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        cover = np.where(h == 0, 0.0, h / mean)
        hh, m = h[:, None], mean[:, None]
        # z == 0 (the median) needs no spread: keep it finite when sigma is unknown.
        zs = np.where(z[None, :] == 0, 0.0, z[None, :] * sigma[:, None])
        root = np.sqrt(zs * zs + 4.0 * m * hh)
        s = np.where(zs >= 0, 2.0 * hh / (zs + root), (root - zs) / (2.0 * m))
        days = np.where(z[None, :] == 0, cover[:, None], s * s)
        days = np.where(hh == 0, 0.0, days)
    return ProjectionBand(h, cover, qs, days)
