"""One contract, every TimeSeriesStore: InfluxDB (real server) and SQLite."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from cloud.errors import StoreRejected
from cloud.timeseries import LevelPoint, TimeSeriesStore
from tests.cloud.timeseries.samples import HOSTILE, LONG_AGO, T0


def level(
    minutes: float = 0,
    *,
    site: str = "s1",
    sku: str = "SKU-1",
    location: str = "A-01",
    device: str = "scale-1",
    quantity: float = 10.0,
    **fields: object,
) -> LevelPoint:
    return LevelPoint(
        site=site,
        device=device,
        location=location,
        sku=sku,
        time=T0 + timedelta(minutes=minutes),
        quantity=quantity,
        **fields,  # type: ignore[arg-type]
    )


def series(store: TimeSeriesStore, site: str = "s1", sku: str = "SKU-1") -> list[LevelPoint]:
    return store.level_series(site, sku, LONG_AGO)


def test_empty_store_returns_nothing(store: TimeSeriesStore) -> None:
    assert series(store) == []
    assert store.latest_levels() == []
    assert store.latest_levels("s1") == []
    store.write_levels([])
    assert store.latest_levels() == []


def test_round_trip_of_all_fields(store: TimeSeriesStore) -> None:
    points = [
        level(0, quantity=12.0, source="scale", raw_weight_g=1234.5, stable=False, seq=41),
        level(1, quantity=11.5, source="rfid", raw_weight_g=None, stable=True, seq=None),
        level(2, quantity=0.0, source="manual", raw_weight_g=-0.25, seq=2**40),
        level(3, quantity=7, location="", device=""),  # empty tags are left out
    ]
    store.write_levels(points)
    got = series(store)
    assert got == points
    assert all(p.time.tzinfo is not None and p.time.utcoffset() == timedelta(0) for p in got)
    assert all(type(p.quantity) is float for p in got)


def test_times_are_truncated_to_the_millisecond(store: TimeSeriesStore) -> None:
    point = replace(level(), time=T0 + timedelta(microseconds=123_999))
    store.write_levels([point])
    assert series(store) == [replace(point, time=T0 + timedelta(milliseconds=123))]
    # Same millisecond, different microseconds: the same point.
    store.write_levels([replace(point, time=T0 + timedelta(microseconds=123_001), quantity=3)])
    assert [p.quantity for p in series(store)] == [3.0]


def test_writing_twice_keeps_one_copy(store: TimeSeriesStore) -> None:
    points = [level(i, quantity=10 - i) for i in range(5)]
    store.write_levels(points)
    store.write_levels(points)
    store.write_levels(points[2:3])
    assert series(store) == points


def test_same_identity_with_new_values_replaces(store: TimeSeriesStore) -> None:
    store.write_levels([level(0, quantity=10, stable=False, raw_weight_g=100.0, seq=1)])
    store.write_levels([level(0, quantity=8, stable=True, raw_weight_g=80.0, seq=2)])
    assert series(store) == [level(0, quantity=8, stable=True, raw_weight_g=80.0, seq=2)]


def test_a_rewrite_without_optional_fields_keeps_them(store: TimeSeriesStore) -> None:
    # InfluxDB merges the fields of one point; SQLite does the same on purpose.
    store.write_levels([level(0, quantity=10, raw_weight_g=100.0, seq=1)])
    store.write_levels([level(0, quantity=9)])
    assert series(store) == [level(0, quantity=9, raw_weight_g=100.0, seq=1)]


def test_series_is_sorted_by_time_then_location(store: TimeSeriesStore) -> None:
    points = [
        level(5, location="B"),
        level(0, location="C"),
        level(5, location="A"),
        level(0, location="A", device="scale-2"),
        level(60 * 24 * 30),  # a month later: another InfluxDB shard
        level(-60 * 24 * 30),
    ]
    store.write_levels(points)
    got = series(store)
    assert [(p.time, p.location) for p in got] == sorted((p.time, p.location) for p in points)


def test_time_range_includes_since_and_excludes_until(store: TimeSeriesStore) -> None:
    store.write_levels([level(m, quantity=m) for m in range(10)])
    since, until = T0 + timedelta(minutes=3), T0 + timedelta(minutes=7)
    assert [p.quantity for p in store.level_series("s1", "SKU-1", since, until)] == [3, 4, 5, 6]
    assert [p.quantity for p in store.level_series("s1", "SKU-1", since)] == [3, 4, 5, 6, 7, 8, 9]
    # Bounds finer than the stored milliseconds still mean [since, until).
    tick = timedelta(microseconds=1)
    assert [p.quantity for p in store.level_series("s1", "SKU-1", since + tick, until + tick)] == [
        4,
        5,
        6,
        7,
    ]
    assert [p.quantity for p in store.level_series("s1", "SKU-1", since - tick, until - tick)] == [
        3,
        4,
        5,
        6,
    ]
    assert store.level_series("s1", "SKU-1", until, until) == []


def test_many_series_take_the_same_time_range(store: TimeSeriesStore) -> None:
    store.write_levels([level(m, quantity=m) for m in range(10)])
    store.write_levels([level(m, sku="SKU-2", quantity=10 + m) for m in range(10)])
    since, until = T0 + timedelta(minutes=3), T0 + timedelta(minutes=7)
    keys = [("s1", "SKU-1"), ("s1", "SKU-2"), ("s1", "NONE")]
    got = store.level_series_many(keys, since, until)
    assert [p.quantity for p in got[("s1", "SKU-1")]] == [3, 4, 5, 6]
    assert [p.quantity for p in got[("s1", "SKU-2")]] == [13, 14, 15, 16]
    assert got[("s1", "NONE")] == []
    open_ended = store.level_series_many(keys, since)
    assert [p.quantity for p in open_ended[("s1", "SKU-2")]] == [13, 14, 15, 16, 17, 18, 19]


def test_extreme_bounds_are_accepted(store: TimeSeriesStore) -> None:
    store.write_levels([level(0)])
    first, last = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)
    assert store.level_series("s1", "SKU-1", first, last) == [level(0)]


def test_points_in_the_future_are_found_without_until(store: TimeSeriesStore) -> None:
    future = level(0)
    future = replace(future, time=datetime.now(UTC).replace(microsecond=0) + timedelta(days=400))
    store.write_levels([future])
    assert series(store) == [future]
    assert store.latest_levels() == [future]


def test_sites_and_skus_are_isolated(store: TimeSeriesStore) -> None:
    points = [
        level(0, site="s1", sku="SKU-1", quantity=1),
        level(0, site="s1", sku="SKU-2", quantity=2),
        level(0, site="s2", sku="SKU-1", quantity=3),
        level(0, site="s1x", sku="SKU-1", quantity=4),  # a prefix is not a match
        level(0, site="S1", sku="SKU-1", quantity=5),  # nor another case
    ]
    store.write_levels(points)
    assert series(store, "s1", "SKU-1") == [points[0]]
    assert series(store, "s1", "SKU-2") == [points[1]]
    assert series(store, "s2", "SKU-1") == [points[2]]
    assert series(store, "s2", "SKU-2") == []
    assert {p.quantity for p in store.latest_levels("s1")} == {1, 2}


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_tag_values_round_trip_exactly(store: TimeSeriesStore, value: str) -> None:
    point = LevelPoint(
        site=value,
        device=value,
        location=value,
        sku=value,
        time=T0,
        quantity=1.5,
        source=value,
    )
    store.write_levels([point, level(0, quantity=99)])
    assert store.level_series(value, value, LONG_AGO) == [point]
    assert store.latest_levels(value) == [point]


@pytest.mark.parametrize(
    "attack",
    [
        "x' OR site='victim",
        "x\\' OR site='victim",
        "victim' --",
        "x'; DROP DATABASE victim; SELECT * FROM stock_level WHERE site='x",
        "victim\\",
    ],
)
def test_a_quote_in_a_site_cannot_inject(store: TimeSeriesStore, attack: str) -> None:
    store.write_levels([level(0, site="victim", quantity=42)])
    assert store.level_series(attack, "SKU-1", LONG_AGO) == []
    assert store.latest_levels(attack) == []
    assert store.latest_levels() == [level(0, site="victim", quantity=42)]


def test_latest_levels_per_series_and_per_site(store: TimeSeriesStore) -> None:
    store.write_levels(
        [
            level(0, quantity=10, raw_weight_g=1000.0, seq=1),
            level(9, quantity=4, seq=9),  # newest of series 1, no raw weight
            level(5, quantity=7, seq=5),
            level(3, location="A-02", quantity=30),
            level(1, location="A-02", quantity=31, source="rfid"),
            level(2, site="s2", quantity=50),
            level(60 * 24 * 30, site="s2", quantity=51),  # another shard
        ]
    )
    expected_s1 = [
        level(9, quantity=4, seq=9),
        level(3, location="A-02", quantity=30),
        level(1, location="A-02", quantity=31, source="rfid"),
    ]
    expected_s2 = [level(60 * 24 * 30, site="s2", quantity=51)]

    def key(p: LevelPoint) -> tuple[str, str, str]:
        return (p.site, p.location, p.source)

    assert sorted(store.latest_levels("s1"), key=key) == sorted(expected_s1, key=key)
    assert store.latest_levels("s2") == expected_s2
    assert sorted(store.latest_levels(), key=key) == sorted(expected_s1 + expected_s2, key=key)
    assert store.latest_levels("nobody") == []


def test_large_batches_are_fully_stored(store: TimeSeriesStore) -> None:
    points = [
        level(i / 60, location=f"L{i % 7}", quantity=i, seq=i, raw_weight_g=i * 0.5)
        for i in range(12_000)
    ]
    store.write_levels(points)
    got = series(store)
    assert len(got) == 12_000
    assert got == sorted(points, key=lambda p: (p.time, p.location))
    assert len(store.latest_levels()) == 7


@pytest.mark.parametrize(
    "bad",
    [
        level(0, site="two\nlines"),
        level(0, sku="ends in backslash\\"),
        level(0, quantity=float("nan")),
        replace(level(0), time=datetime(2024, 5, 1)),  # naive
        replace(level(0), time=datetime(2263, 1, 1, tzinfo=UTC)),  # beyond InfluxDB
    ],
)
def test_unwritable_points_are_rejected_whole(store: TimeSeriesStore, bad: LevelPoint) -> None:
    with pytest.raises(StoreRejected, match="cannot write point"):
        store.write_levels([level(1), bad])
    assert series(store) == []
