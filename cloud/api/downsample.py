"""Level history in time buckets: what a chart needs, not every raw point.

Pure: level points in, one series of buckets per (location, device, source)
out. Buckets are aligned to multiples of the interval since the Unix epoch
(as InfluxDB's `GROUP BY time(...)`), and a bucket with no point is left out.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cloud.timeseries import LevelPoint

INTERVAL_PATTERN = r"^[1-9][0-9]{0,5}[smhd]$"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
LADDER_S = (1, 10, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 7 * 86400)
"""Intervals chosen automatically: the smallest that keeps within the point budget."""


def parse_interval(text: str) -> timedelta:
    """`"90s"`, `"15m"`, `"1h"`, `"7d"` as a timedelta; `ValueError` otherwise."""
    if not re.fullmatch(INTERVAL_PATTERN, text):
        raise ValueError(f"an interval is a number and s, m, h or d (e.g. 15m), not {text!r}")
    return timedelta(seconds=int(text[:-1]) * _UNITS[text[-1]])


def format_interval(interval: timedelta) -> str:
    """The shortest text `parse_interval` reads back as `interval`."""
    seconds = int(interval.total_seconds())
    for unit in ("d", "h", "m"):
        if seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


def bucket_count(window: timedelta, interval: timedelta) -> int:
    """How many buckets `window` spans at most (one more for misalignment)."""
    return math.ceil(window / interval) + 1


def choose_interval(window: timedelta, max_points: int) -> timedelta:
    """The smallest interval of the ladder giving at most `max_points` buckets."""
    for seconds in LADDER_S:
        interval = timedelta(seconds=seconds)
        if bucket_count(window, interval) <= max_points:
            return interval
    days = math.ceil(window / timedelta(days=1) / max(max_points - 1, 1))
    return timedelta(days=max(days, 1))


@dataclass
class Bucket:
    """The points of one series in `[start, start + interval)`."""

    start: datetime
    count: int = 0
    total: float = 0.0
    low: float = math.inf
    high: float = -math.inf
    last: float = 0.0

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0

    def add(self, quantity: float) -> None:
        self.count += 1
        self.total += quantity
        self.low = min(self.low, quantity)
        self.high = max(self.high, quantity)
        self.last = quantity  # points arrive sorted by time


@dataclass
class Series:
    """The buckets of one (location, device, source) in time order."""

    location: str
    device: str
    source: str
    buckets: list[Bucket] = field(default_factory=list)


def bucket_start(at: datetime, interval: timedelta) -> datetime:
    """The start of the bucket holding `at`."""
    return _EPOCH + ((at - _EPOCH) // interval) * interval


def downsample(points: list[LevelPoint], interval: timedelta) -> list[Series]:
    """Bucket `points` (sorted by time, as the stores return them) per series."""
    series: dict[tuple[str, str, str], Series] = {}
    for point in points:
        key = (point.location, point.device, point.source)
        one = series.get(key)
        if one is None:
            one = series[key] = Series(*key)
        start = bucket_start(point.time, interval)
        if not one.buckets or one.buckets[-1].start != start:
            one.buckets.append(Bucket(start))
        one.buckets[-1].add(point.quantity)
    return [series[key] for key in sorted(series)]
