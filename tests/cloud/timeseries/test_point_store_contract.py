"""The contract for points of the other measurements (events, status,
projections, health), on every TimeSeriesStore: InfluxDB and SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cloud.errors import StoreRejected
from cloud.timeseries import TimeSeriesStore
from cloud.timeseries.base import Point
from cloud.timeseries.measurements import COLLECTOR_HEALTH, DEVICE_STATUS, STOCK_EVENT
from tests.cloud.timeseries.samples import HOSTILE, LONG_AGO, T0

# `store`, each TimeSeriesStore in turn, is the fixture of conftest.py.


def event(
    minutes: float = 0, *, kind: str = "pick", sku: str | None = "SKU-1", **fields: object
) -> Point:
    return STOCK_EVENT.point(
        tags={"site": "s1", "device": "gw-1", "kind": kind, "location": "A-01", "sku": sku},
        fields={"quantity": 2.0, "detail": "", "seq": 7, **fields},  # type: ignore[dict-item]
        time=T0 + timedelta(minutes=minutes),
    )


def test_points_round_trip_with_types(store: TimeSeriesStore) -> None:
    written = [event(0), event(1, kind="refill", quantity=12.0, detail='say "hi", a=b')]
    store.write_points(written)
    got = store.points("stock_event", LONG_AGO)
    assert got == written
    assert isinstance(got[0].field("quantity"), float)  # 2.0 must not come back as 2
    assert isinstance(got[0].field("seq"), int)


def test_missing_tag_is_left_out_and_filter_matches(store: TimeSeriesStore) -> None:
    store.write_points([event(0, sku=None, kind="fault"), event(1)])
    faults = store.points("stock_event", LONG_AGO, tags={"kind": "fault"})
    assert [p.tag("sku") for p in faults] == [None]
    assert len(store.points("stock_event", LONG_AGO, tags={"site": "s1"})) == 2
    assert store.points("stock_event", LONG_AGO, tags={"site": "other"}) == []


def test_same_identity_merges_fields(store: TimeSeriesStore) -> None:
    store.write_points([event(0, quantity=2.0, detail="first")])
    store.write_points(
        [STOCK_EVENT.point(tags=dict(event(0).tags), fields={"detail": "second"}, time=T0)]
    )
    (only,) = store.points("stock_event", LONG_AGO)
    assert only.field("detail") == "second"
    assert only.field("quantity") == 2.0  # kept, as InfluxDB keeps it


def test_time_window_is_half_open(store: TimeSeriesStore) -> None:
    store.write_points([event(m) for m in range(5)])
    got = store.points("stock_event", T0 + timedelta(minutes=1), T0 + timedelta(minutes=3))
    assert [p.time for p in got] == [T0 + timedelta(minutes=m) for m in (1, 2)]


def test_measurements_are_kept_apart(store: TimeSeriesStore) -> None:
    status = DEVICE_STATUS.point(
        tags={"site": "s1", "device": "gw-1"}, fields={"online": True, "outbox_pending": 3}, time=T0
    )
    store.write_points([status, event(0)])
    assert store.points("device_status", LONG_AGO) == [status]
    assert store.points("stock_event", LONG_AGO) == [event(0)]
    assert store.level_series("s1", "SKU-1", LONG_AGO) == []


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_tag_values_round_trip(store: TimeSeriesStore, hostile: str) -> None:
    point = COLLECTOR_HEALTH.point(tags={"collector": hostile}, fields={"messages": 1}, time=T0)
    store.write_points([point])
    assert store.points("collector_health", LONG_AGO, tags={"collector": hostile}) == [point]


def test_unwritable_point_is_refused_and_nothing_written(store: TimeSeriesStore) -> None:
    bad = STOCK_EVENT.point(
        tags={"site": "s1", "device": "gw-1", "kind": "pick"},
        fields={"detail": "two\nlines"},
        time=T0,
    )
    with pytest.raises(StoreRejected):
        store.write_points([event(0), bad])
    assert store.points("stock_event", LONG_AGO) == []


def test_declared_types_are_enforced_when_building() -> None:
    with pytest.raises(ValueError, match="undeclared field"):
        STOCK_EVENT.point(tags={"site": "s"}, fields={"bogus": 1.0}, time=T0)
    with pytest.raises(ValueError, match="undeclared tag"):
        STOCK_EVENT.point(tags={"bogus": "x"}, fields={"quantity": 1.0}, time=T0)
    with pytest.raises(ValueError, match="integer, not bool"):
        STOCK_EVENT.point(tags={}, fields={"seq": True}, time=T0)
    with pytest.raises(ValueError, match="boolean, not int"):
        DEVICE_STATUS.point(tags={}, fields={"online": 1}, time=T0)
    with pytest.raises(ValueError, match="at least one field"):
        STOCK_EVENT.point(tags={}, fields={"quantity": None}, time=T0)
    # An int is accepted for a float field and stored as a float.
    p = STOCK_EVENT.point(tags={}, fields={"quantity": 3}, time=datetime(2024, 1, 1, tzinfo=UTC))
    assert p.field("quantity") == 3.0
    assert isinstance(p.field("quantity"), float)


def test_last_seen_is_the_newest_level_per_site_and_device(store: TimeSeriesStore) -> None:
    from cloud.timeseries import LevelPoint

    def lv(minutes: int, site: str, device: str, sku: str = "X") -> LevelPoint:
        return LevelPoint(site, device, "A", sku, T0 + timedelta(minutes=minutes), 1.0)

    store.write_levels(
        [lv(0, "s1", "gw"), lv(5, "s1", "gw", "Y"), lv(3, "s1", "gw2"), lv(9, "s2", "gw")]
    )
    assert store.last_seen(T0) == {
        ("s1", "gw"): T0 + timedelta(minutes=5),
        ("s1", "gw2"): T0 + timedelta(minutes=3),
        ("s2", "gw"): T0 + timedelta(minutes=9),
    }
    assert set(store.last_seen(T0 + timedelta(minutes=4))) == {("s1", "gw"), ("s2", "gw")}


def test_device_states_are_each_devices_newest_status(store: TimeSeriesStore) -> None:
    def status(site: str, device: str, online: bool, minutes: float, **more: object) -> Point:
        return DEVICE_STATUS.point(
            tags={"site": site, "device": device},
            fields={"online": online, **more},  # type: ignore[dict-item]
            time=T0 + timedelta(minutes=minutes),
        )

    store.write_points(
        [
            status("s1", "gw-1", True, 0, agent_version="1.0"),
            status("s1", "gw-1", False, 5),  # its last will: only `online`
            status("s1", "gw-2", True, 3),
            status("s2", "gw-1", True, 1),
            status("s2", "gw-1", True, -120),  # long before the window
        ]
    )
    states = store.device_states(T0 - timedelta(minutes=60))
    assert {key: (s.online, s.at) for key, s in states.items()} == {
        ("s1", "gw-1"): (False, T0 + timedelta(minutes=5)),
        ("s1", "gw-2"): (True, T0 + timedelta(minutes=3)),
        ("s2", "gw-1"): (True, T0 + timedelta(minutes=1)),
    }
    assert store.device_states(T0 + timedelta(minutes=4)).keys() == {("s1", "gw-1")}
