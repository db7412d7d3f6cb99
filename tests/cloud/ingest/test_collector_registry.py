"""The device registry check: with a catalog configured, messages from devices
it does not know, or knows at another site, are dead-lettered (`unknown_device`,
`site_mismatch`); lookups are cached with a TTL and a bound, never one
database query per message. Real Mosquitto, real InfluxDB, a real catalog."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from cloud.catalog.catalog import Catalog
from cloud.catalog.schema import (
    BindingSpec,
    CustomerSpec,
    DeviceSpec,
    LocationSpec,
    SiteSpec,
    SkuSpec,
)
from cloud.ingest.device_registry import (
    DeviceRegistry,
    Registration,
    check_bound_events,
    check_registered,
)
from cloud.service import CloudService
from tests.cloud.broker_client import Broker
from tests.cloud.ingest.messages import T0, batch, events
from tests.waiting import wait_for
from vmi.errors import WireError
from vmi.wire import (
    DeviceState,
    DeviceStatus,
    Event,
    EventKind,
    EventsBatch,
    encode,
    events_topic,
    readings_topic,
    status_topic,
)

SINCE = T0 - timedelta(hours=1)
A01_X = BindingSpec(location="A-01", sku="X")


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_lookups_are_cached_for_the_ttl_and_bounded() -> None:
    asked: list[str] = []
    north, south = Registration("north", frozenset()), Registration("south", frozenset())
    sites = {"gw-1": north, "gw-2": south}

    def lookup(device: str) -> Registration | None:
        asked.append(device)
        return sites.get(device)

    clock = FakeClock()
    registry = DeviceRegistry(lookup, ttl_s=10, max_entries=3, clock=clock)
    for _ in range(100):
        assert registry.registrations_of(["gw-1", "gw-2", "nobody"]) == {
            "gw-1": north,
            "gw-2": south,
            "nobody": None,
        }
    assert asked == ["gw-1", "gw-2", "nobody"], "one query per device per TTL"

    # A device added at run time is found once its negative answer expires.
    sites["nobody"] = north
    clock.t += 9.9
    assert registry.registrations_of(["nobody"]) == {"nobody": None}
    clock.t += 0.2
    assert registry.registrations_of(["nobody"]) == {"nobody": north}

    # Never more than max_entries answers; the least recently used go first.
    registry.registrations_of(["gw-3", "gw-4"])
    assert len(registry) == 3
    before = len(asked)
    registry.registrations_of(["gw-4", "nobody"])  # both still cached
    assert len(asked) == before
    registry.registrations_of(["gw-1"])  # evicted: asked again
    assert asked[-1] == "gw-1"


def test_check_registered_reasons() -> None:
    sites = {"gw-1": Registration("north", frozenset()), "ghost": None}
    assert check_registered(sites, "north", "gw-1") == sites["gw-1"]
    with pytest.raises(WireError) as unknown:
        check_registered(sites, "north", "ghost")
    assert unknown.value.reason == "unknown_device"
    with pytest.raises(WireError) as moved:
        check_registered(sites, "south", "gw-1")
    assert moved.value.reason == "site_mismatch"
    assert "north" in moved.value.detail


@pytest.fixture
def catalog_url(tmp_path: Path, unique_id: str) -> str:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    catalog = Catalog(url)
    catalog.create(CustomerSpec(code="acme", name="ACME"))
    catalog.create(SiteSpec(code=f"{unique_id}-n", customer="acme"))
    catalog.create(SiteSpec(code=f"{unique_id}-s", customer="acme"))
    catalog.create(SkuSpec(code="X"))
    catalog.create(SkuSpec(code="Y"))
    for location in ("A-01", "A-02"):
        catalog.create(LocationSpec(site=f"{unique_id}-n", code=location))
    catalog.create(DeviceSpec(code="d1", site=f"{unique_id}-n", bindings=(A01_X,)))
    catalog.create(DeviceSpec(code="gw", site=f"{unique_id}-n", bindings=(A01_X,)))
    catalog.close()
    return url


@pytest.fixture
def registry_service(start_service: Callable[..., CloudService], catalog_url: str) -> CloudService:
    return start_service(catalog={"url": catalog_url, "cache_ttl_s": 1.0})


def test_unknown_devices_and_wrong_sites_are_dead_lettered(
    registry_service: CloudService, broker: Broker, unique_id: str, catalog_url: str
) -> None:
    svc = registry_service
    north, south = f"{unique_id}-n", f"{unique_id}-s"
    good = json.dumps(batch(north, 1, 10)).encode()
    unknown = json.dumps(batch(north, 2, 11) | {"device": "d9"}).encode()
    moved = json.dumps(batch(south, 3, 12)).encode()  # d1 is registered at north
    broker.publish(readings_topic(north, "d1"), good)
    broker.publish(readings_topic(north, "d9"), unknown)
    broker.publish(readings_topic(south, "d1"), moved)
    broker.publish(
        events_topic(north, "stranger"), encode(events(north, 1)).replace(b'"gw"', b'"stranger"')
    )
    broker.publish(
        status_topic(south, "gw"),
        encode(DeviceStatus(site=south, device="gw", state=DeviceState.ONLINE, at=T0)),
    )
    broker.publish(events_topic(north, "gw"), encode(events(north, 2)))
    stats = svc.collector.stats
    wait_for(
        lambda: len(broker.dead) == 4 and stats.readings_written == 1 and stats.events_written == 2,
        15,
        "four dead letters and the good messages written",
    )
    assert dict(stats.rejected) == {"unknown_device": 2, "site_mismatch": 2}
    letters = sorted((t.rsplit("/", 1)[1], letter["topic"]) for t, letter in broker.dead)
    assert letters == sorted(
        [
            ("unknown_device", readings_topic(north, "d9")),
            ("unknown_device", events_topic(north, "stranger")),
            ("site_mismatch", readings_topic(south, "d1")),
            ("site_mismatch", status_topic(south, "gw")),
        ]
    )
    assert [p.quantity for p in svc.store.level_series(north, "X", SINCE)] == [10.0]
    assert svc.store.level_series(south, "X", SINCE) == []
    assert svc.store.points("device_status", SINCE, tags={"site": south}) == []

    # A device registered at run time is accepted within the cache TTL.
    catalog = Catalog(catalog_url)
    catalog.create(DeviceSpec(code="d9", site=north, bindings=(A01_X,)))
    catalog.close()
    deadline = time.monotonic() + 15
    while stats.readings_written < 2 and time.monotonic() < deadline:
        broker.publish(readings_topic(north, "d9"), unknown)
        time.sleep(0.3)
    assert stats.readings_written >= 2
    assert [p.quantity for p in svc.store.level_series(north, "X", SINCE)] == [10.0, 11.0]
    # Cached: a handful of catalog queries, not one per message.
    assert svc.collector.registry is not None
    assert svc.collector.registry.lookups < stats.messages


def test_a_device_writes_only_what_it_is_bound_to(
    registry_service: CloudService, broker: Broker, unique_id: str
) -> None:
    svc = registry_service
    north = f"{unique_id}-n"
    topic = readings_topic(north, "d1")  # d1 is bound to X at A-01 only
    good = batch(north, 1, 10)
    other_sku = json.loads(json.dumps(good))
    other_sku["seq"], other_sku["readings"][0]["sku"] = 2, "Y"
    other_place = json.loads(json.dumps(good))
    other_place["seq"], other_place["readings"][0]["location"] = 3, "A-02"
    broker.publish(topic, json.dumps(good).encode())
    broker.publish(topic, json.dumps(other_sku).encode())
    broker.publish(topic, json.dumps(other_place).encode())
    stray = events(north, 3)
    stray = stray.model_copy(
        update={"events": [stray.events[0].model_copy(update={"location": "A-02"})]}
    )
    broker.publish(events_topic(north, "gw"), encode(stray))
    broker.publish(events_topic(north, "gw"), encode(events(north, 4)))  # bound, and a fault
    stats = svc.collector.stats
    wait_for(
        lambda: len(broker.dead) == 3 and stats.readings_written == 1 and stats.events_written == 2,
        15,
        "three dead letters and the bound messages written",
    )
    assert dict(stats.rejected) == {"not_bound": 3}
    details = sorted(letter["detail"] for _, letter in broker.dead)
    assert any("'Y' at 'A-01'" in d for d in details), details
    assert any("'X' at 'A-02'" in d for d in details), details
    assert [p.quantity for p in svc.store.level_series(north, "X", SINCE)] == [10.0]
    assert svc.store.level_series(north, "Y", SINCE) == []
    assert stats.sequences.gaps == 0, "refused messages never count as seen"


def test_bound_checks_of_events() -> None:
    bound = Registration("north", frozenset({("A-01", "X")}))
    at = T0

    def batch_of(*found: Event) -> EventsBatch:
        return EventsBatch(site="north", device="gw", seq=1, sent_at=at, events=list(found))

    check_bound_events(bound, batch_of(Event(time=at, kind=EventKind.FAULT, detail="no loc")))
    check_bound_events(bound, batch_of(Event(time=at, kind=EventKind.TARE, location="A-01")))
    check_bound_events(
        bound, batch_of(Event(time=at, kind=EventKind.PICK, location="A-01", sku="X"))
    )
    for stray in (
        Event(time=at, kind=EventKind.TARE, location="B-9"),
        Event(time=at, kind=EventKind.PICK, location="A-01", sku="Z"),
    ):
        with pytest.raises(WireError) as caught:
            check_bound_events(bound, batch_of(stray))
        assert caught.value.reason == "not_bound"
