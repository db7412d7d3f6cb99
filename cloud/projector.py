"""Consumption rate and days of cover from the absolute level series.

Pure and vectorized: decreases of a location's level are consumption,
increases are refills. The rate is consumption per day over the observed span.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from cloud.timeseries.base import LevelPoint

_DAY_S = 86_400.0


@dataclass(frozen=True, slots=True)
class Projection:
    """What the cloud knows about one (site, SKU) right now."""

    site: str
    sku: str
    at: datetime
    on_hand: float
    rate_per_day: float
    days_of_cover: float | None  # None when nothing is being consumed
    history_days: float  # span of level history the rate is based on
    refilled: float  # units added by refills inside the window


def project(site: str, sku: str, points: Sequence[LevelPoint], at: datetime) -> Projection | None:
    """Project one (site, SKU) from its level points (any order, all locations).

    Returns None when there are no points.
    """
    if not points:
        return None
    by_location: dict[str, list[LevelPoint]] = {}
    for p in points:
        by_location.setdefault(p.location, []).append(p)

    on_hand = 0.0
    consumed = 0.0
    refilled = 0.0
    first = min(p.time for p in points)
    for series in by_location.values():
        series.sort(key=lambda p: p.time)
        levels = np.fromiter((p.quantity for p in series), dtype=np.float64, count=len(series))
        steps = np.diff(levels)
        consumed += float(-steps[steps < 0].sum())
        refilled += float(steps[steps > 0].sum())
        on_hand += float(levels[-1])

    history_days = max((at - first).total_seconds(), 0.0) / _DAY_S
    rate = consumed / history_days if history_days > 0 else 0.0
    cover = on_hand / rate if rate > 0 else None
    return Projection(site, sku, at, on_hand, rate, cover, history_days, refilled)
