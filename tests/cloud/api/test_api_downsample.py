"""Bucketing level history: intervals, alignment, statistics per series."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cloud.api.downsample import (
    bucket_start,
    choose_interval,
    downsample,
    format_interval,
    parse_interval,
)
from cloud.timeseries import LevelPoint

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("15m", 900), ("1h", 3600), ("7d", 604_800)]
)
def test_intervals_read_and_write(text: str, seconds: int) -> None:
    assert parse_interval(text) == timedelta(seconds=seconds)
    assert parse_interval(format_interval(timedelta(seconds=seconds))) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["0s", "1w", "", "h", "1.5h", "-1h", "9999999s"])
def test_bad_intervals(text: str) -> None:
    with pytest.raises(ValueError, match="interval"):
        parse_interval(text)


def test_buckets_align_to_the_epoch() -> None:
    hour = timedelta(hours=1)
    assert bucket_start(T0 + timedelta(minutes=59, seconds=59), hour) == T0
    assert bucket_start(T0 + hour, hour) == T0 + hour
    assert bucket_start(T0, timedelta(days=1)) == datetime(2026, 3, 2, tzinfo=UTC)


def test_the_interval_fits_the_point_budget() -> None:
    assert choose_interval(timedelta(hours=1), 1000) == timedelta(seconds=10)
    assert choose_interval(timedelta(days=1), 100) == timedelta(minutes=15)
    assert choose_interval(timedelta(days=400), 100) == timedelta(days=7)
    assert choose_interval(timedelta(days=4000), 100) == timedelta(days=41)


def test_statistics_per_series() -> None:
    points = [
        LevelPoint("s", "gw", "A", "X", T0 + timedelta(minutes=1), 10.0),
        LevelPoint("s", "gw", "B", "X", T0 + timedelta(minutes=2), 1.0),
        LevelPoint("s", "gw", "A", "X", T0 + timedelta(minutes=3), 6.0),
        LevelPoint("s", "gw", "A", "X", T0 + timedelta(minutes=4), 8.0),
        LevelPoint("s", "gw", "A", "X", T0 + timedelta(minutes=61), 2.0),
    ]
    a, b = downsample(points, timedelta(hours=1))
    assert (a.location, b.location) == ("A", "B")
    first, second = a.buckets
    assert (first.start, first.count, first.mean, first.low, first.high, first.last) == (
        T0,
        3,
        8.0,
        6.0,
        10.0,
        8.0,
    )
    assert (second.start, second.count, second.last) == (T0 + timedelta(hours=1), 1, 2.0)
    assert [bucket.count for bucket in b.buckets] == [1]
    assert downsample([], timedelta(hours=1)) == []
