"""Events, device status and the collector's own health reach the store
(real Mosquitto, real InfluxDB), and bad ones are dead-lettered."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest

from cloud.service import CloudService
from tests.cloud.broker_client import Broker
from tests.cloud.ingest.messages import T0, events
from tests.waiting import wait_for
from vmi.wire import (
    DeviceState,
    DeviceStatus,
    OutboxState,
    encode,
    events_topic,
    status_topic,
)

SINCE = T0 - timedelta(hours=1)


def test_events_are_stored_with_their_tags(
    service: CloudService, broker: Broker, unique_id: str
) -> None:
    site = f"{unique_id}-s"
    broker.publish(events_topic(site, "gw"), encode(events(site, 4)))
    wait_for(lambda: service.collector.stats.events_written == 2, 15, "two events")
    stored = service.store.points("stock_event", SINCE, tags={"site": site})
    assert [(p.tag("kind"), p.tag("sku"), p.field("quantity"), p.field("seq")) for p in stored] == [
        ("pick", "X", 3.0, 4),
        ("driver", None, None, 4),
    ]
    assert stored[1].field("driver") == "mtsics"
    assert stored[1].field("detail") == "port closed"


def test_bad_events_are_dead_lettered_and_store_nothing(
    service: CloudService, broker: Broker, unique_id: str
) -> None:
    site = f"{unique_id}-s"
    good = json.loads(encode(events(site, 1)))
    bad = {
        "schema": json.dumps(good | {"events": [{"kind": "explosion"}]}).encode(),
        "topic_mismatch": json.dumps(good | {"site": "elsewhere"}).encode(),
        "bad_json": b"\xff\xfe",
    }
    for payload in bad.values():
        broker.publish(events_topic(site, "gw"), payload)
    wait_for(lambda: len(broker.dead) == len(bad), 15, "dead letters")
    assert {t.rsplit("/", 1)[1] for t, _ in broker.dead} == set(bad)
    assert service.store.points("stock_event", SINCE, tags={"site": site}) == []
    assert service.collector.stats.events_written == 0


def test_status_birth_and_last_will_are_stored(
    service: CloudService, broker: Broker, unique_id: str
) -> None:
    site = f"{unique_id}-s"
    birth = DeviceStatus(
        site=site,
        device="gw",
        state=DeviceState.ONLINE,
        at=T0,
        agent_version="1.2.3",
        drivers={"/dev/ttyUSB0": "ok", "/dev/ttyUSB1": "unavailable", "/dev/ttyUSB2": "starting"},
        outbox=OutboxState(pending=12, pending_bytes=3400, dropped={"oldest": 2, "age": 1}),
    )
    # A last will carries no time: the collector stamps it on arrival.
    will = DeviceStatus(site=site, device="gw", state=DeviceState.OFFLINE)
    broker.publish(status_topic(site, "gw"), encode(birth))
    wait_for(
        lambda: len(service.store.points("device_status", SINCE, tags={"site": site})) == 1,
        15,
        "birth stored",
    )
    broker.publish(status_topic(site, "gw"), encode(will))
    wait_for(
        lambda: len(service.store.points("device_status", SINCE, tags={"site": site})) == 2,
        15,
        "will stored",
    )
    first, second = service.store.points("device_status", SINCE, tags={"site": site})
    assert dict(first.fields) == {
        "online": True,
        "agent_version": "1.2.3",
        "drivers_total": 3,
        "drivers_faulted": 1,
        "outbox_pending": 12,
        "outbox_pending_bytes": 3400,
        "outbox_dropped": 3,
    }
    assert first.time == T0
    assert dict(second.fields) == {"online": False, "drivers_total": 0, "drivers_faulted": 0}
    assert second.time > T0


@pytest.fixture
def fast_health_service(start_service: Callable[..., CloudService]) -> CloudService:
    return start_service(health_interval_s=0.2)


def test_collector_writes_its_own_health(
    fast_health_service: CloudService, broker: Broker, unique_id: str
) -> None:
    svc = fast_health_service
    site = f"{unique_id}-s"
    broker.publish(events_topic(site, "gw"), b"not json")
    broker.publish(events_topic(site, "gw"), encode(events(site, 1)))
    wait_for(lambda: svc.collector.stats.events_written == 2, 15, "events written")
    wait_for(lambda: svc.health.reports >= 3, 15, "three health reports")
    me = {"collector": svc.config.mqtt.client_id}
    health = svc.store.points("collector_health", SINCE, tags=me)
    assert len(health) >= 3
    latest = dict(health[-1].fields)
    assert latest["events_written"] == 2
    assert latest["rejected"] == 1
    assert latest["messages"] >= 2
    assert latest["ingest_rate"] >= 0.0  # from the second report on
    assert "ingest_rate" not in dict(health[0].fields)  # no interval yet
    rejects = svc.store.points("collector_rejects", SINCE, tags=me)
    assert {(p.tag("reason"), p.field("count")) for p in rejects} == {("bad_json", 1)}


def test_collector_socket_sends_small_packets_at_once(service: CloudService) -> None:
    # Regression: with Nagle's algorithm on, a QoS 1 alert published right
    # after a PUBACK waited ~40 ms for the broker's delayed TCP ACK.
    import socket

    sock = service.collector._client.socket()
    assert sock is not None
    assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_an_oversized_payload_is_dead_lettered_unparsed(
    service: CloudService, broker: Broker, unique_id: str
) -> None:
    from cloud.ingest.decode import MAX_PAYLOAD_BYTES

    site = f"{unique_id}-s"
    huge = b'{"v": 1, "pad": "' + b"x" * MAX_PAYLOAD_BYTES + b'"}'
    broker.publish(events_topic(site, "gw"), huge)
    wait_for(lambda: len(broker.dead) == 1, 15, "the dead letter")
    topic, letter = broker.dead[0]
    assert topic.endswith("/too_large")
    assert len(str(letter["payload"])) <= 4096  # the letter carries only the start
    assert service.collector.stats.rejected["too_large"] == 1
