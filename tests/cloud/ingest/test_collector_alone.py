"""The collector alone, without the service: it stores, acknowledges, tells its
listeners what each commit stored, and publishes the alerts it is handed. It
knows nothing of replenishment (real Mosquitto, real InfluxDB)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from cloud.ingest.collector import Collector, Committed
from cloud.timeseries import open_store
from cloud.timeseries.base import TimeSeriesStore
from tests.cloud.broker_client import Broker
from tests.cloud.ingest.messages import T0, batch, events
from tests.cloud.ingest.running import connected
from tests.servers import MosquittoServer
from tests.waiting import wait_for
from vmi.wire import (
    SensorSilentAlert,
    alerts_topic,
    decode_alert,
    encode,
    events_topic,
    readings_topic,
)


@pytest.fixture
def store(influx_db_url: str) -> Iterator[TimeSeriesStore]:
    s = open_store(influx_db_url)
    yield s
    s.close()


@pytest.fixture
def collector(
    mosquitto: MosquittoServer, store: TimeSeriesStore, unique_id: str
) -> Iterator[Collector]:
    """A collector whose loops this test runs, as `CloudService` would."""
    running = connected(store, mosquitto, f"alone-{unique_id}")
    running.start()
    yield running.collector
    running.stop()
    assert running.stopped(), "the loops end once stop is set"


def test_each_commit_reports_its_keys_and_events(
    collector: Collector, broker: Broker, unique_id: str
) -> None:
    heard: list[Committed] = []
    lock = threading.Lock()

    def listen(committed: Committed) -> None:
        with lock:
            heard.append(committed)

    collector.commit_listeners.append(listen)
    site = f"{unique_id}-s"
    broker.publish(readings_topic(site, "d1"), json.dumps(batch(site, 1, 10)).encode())
    broker.publish(events_topic(site, "gw"), encode(events(site, 1)))
    broker.publish(readings_topic(site, "d1"), b"not json")  # rejected: reported nowhere
    wait_for(lambda: collector.stats.events_written == 2, 15, "the events stored")
    wait_for(lambda: collector.in_flight == 0, 15, "everything acknowledged")
    with lock:
        keys = set().union(*(c.keys for c in heard))
        batches = [b for c in heard for b in c.events]
    assert keys == {(site, "X")}
    assert [(b.site, b.device, len(b.events)) for b in batches] == [(site, "gw", 2)]
    assert collector.stats.rejected["bad_json"] == 1


def test_a_failing_listener_does_not_stop_ingest(
    collector: Collector, broker: Broker, unique_id: str
) -> None:
    def broken(_committed: Committed) -> None:
        raise RuntimeError("a listener's bug")

    collector.commit_listeners.append(broken)
    site = f"{unique_id}-s"
    for seq in (1, 2, 3):
        broker.publish(readings_topic(site, "d1"), json.dumps(batch(site, seq, 10)).encode())
    wait_for(lambda: collector.stats.readings_written == 3, 15, "three readings stored")
    wait_for(lambda: collector.in_flight == 0, 15, "all acknowledged")


def test_publish_alert_sends_the_alert_on_its_site_topic(
    collector: Collector, mosquitto: MosquittoServer, unique_id: str
) -> None:
    site = f"{unique_id}-s"
    got: list[bytes] = []
    subscribed = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.on_connect = lambda c, *_: c.subscribe(alerts_topic(site), 1)
    client.on_subscribe = lambda *_: subscribed.set()
    client.on_message = lambda _c, _u, msg: got.append(msg.payload)
    client.connect("127.0.0.1", mosquitto.port)
    client.loop_start()
    try:
        assert subscribed.wait(10)
        alert = SensorSilentAlert(
            site=site, device="gw", at=T0 + timedelta(minutes=5), message="quiet"
        )
        collector.publish_alert(alert)
        wait_for(lambda: got, 10, "the alert")
    finally:
        client.disconnect()
        client.loop_stop()
    assert decode_alert(got[0]) == alert
