"""The collector when the store fails: nothing is dropped or stranded.

A real Mosquitto and a real InfluxDB, with a stand-in proxy before InfluxDB
that answers chosen statuses. A message the store refuses for its data is
dead-lettered (`store_rejected`); one caught in an outage while messages are
written one by one waits and is written; an unexpected failure of a commit
is retried with the messages held, never left unacknowledged in limbo.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from cloud.ingest.health import health_points
from cloud.ingest.metrics import collector_metrics
from cloud.timeseries import InfluxStore, SqliteStore
from cloud.timeseries.base import LevelPoint
from tests.cloud.broker_client import Broker
from tests.cloud.ingest.messages import T0, batch
from tests.cloud.ingest.running import connected
from tests.servers import InfluxServer, MosquittoServer
from tests.store_proxy import StoreProxy
from tests.waiting import wait_for
from vmi.wire import readings_topic


@pytest.fixture
def proxy(influxdb: InfluxServer) -> Iterator[StoreProxy]:
    with StoreProxy(influxdb.url) as p:
        yield p


def test_an_outage_while_writing_one_by_one_strands_nothing(
    influxdb: InfluxServer,
    proxy: StoreProxy,
    mosquitto: MosquittoServer,
    broker: Broker,
    unique_id: str,
) -> None:
    # Regression: a 503 while messages were written one by one (after the
    # store refused the batch) left every message of the batch unwritten and
    # unacknowledged until the next reconnect.
    site = f"{unique_id}-s"
    store = InfluxStore(f"{proxy.url}/{unique_id}")
    store.ensure_database()
    # `raw_weight_g` as a string at site's shelf: a float there is a field type conflict.
    httpx.post(
        f"{influxdb.url}/write",
        params={"db": unique_id, "precision": "ms"},
        content=f'stock_level,site={site},sku=X raw_weight_g="text" {int(T0.timestamp() * 1000)}',
    ).raise_for_status()
    running = connected(store, mosquitto, f"c-{unique_id}")
    good = batch(site, 1, 10)
    conflicting = batch(site, 2, 20)
    conflicting["readings"][0]["raw_weight_g"] = 5.0  # type: ignore[index]
    for message in (good, conflicting):
        broker.publish(readings_topic(site, "d1"), json.dumps(message).encode())
    collector = running.collector
    wait_for(lambda: collector.in_flight == 2, 10, "both messages received")
    # The batch is refused (the stand-in says 400), then the good message meets
    # two 503s on its own before it goes through; the conflicting one is refused.
    proxy.script([400, 503, 503])
    running.start()
    try:
        wait_for(lambda: collector.stats.rejected["store_rejected"] == 1, 20, "the conflict")
        wait_for(lambda: collector.in_flight == 0, 20, "both acknowledged")
        levels = store.level_series(site, "X", T0 - timedelta(minutes=1))
        assert [(p.seq, p.quantity) for p in levels] == [(1, 10.0)]
        assert collector.stats.store_failures["http_503"] == 2
        assert collector.stats.store_error is None, "available again"
        assert [t for t, _ in broker.dead] == ["vmi/v1/_deadletter/store_rejected"]
    finally:
        running.stop()
        store.close()


class BuggyOnce(SqliteStore):
    """A real SQLite store whose first write fails on a bug (not a store error)."""

    failures = 0

    def write_levels(self, points: Sequence[LevelPoint]) -> None:
        if not self.failures:
            self.failures += 1
            raise RuntimeError("a bug in the store adapter")
        super().write_levels(points)


def test_a_commit_failing_on_a_bug_is_retried_with_its_messages_held(
    tmp_path: Path, mosquitto: MosquittoServer, broker: Broker, unique_id: str
) -> None:
    # Regression: the batch was logged and dropped from memory, unacknowledged,
    # stranded at the broker until the next reconnect.
    store = BuggyOnce(tmp_path / "levels.db")
    running = connected(store, mosquitto, f"c-{unique_id}")
    site = f"{unique_id}-s"
    running.start()
    try:
        broker.publish(readings_topic(site, "d1"), json.dumps(batch(site, 1, 10)).encode())
        collector = running.collector
        wait_for(lambda: collector.stats.readings_written == 1, 20, "written on the retry")
        wait_for(lambda: collector.in_flight == 0, 10, "acknowledged")
        assert collector.stats.commit_failures == 1
        assert [p.quantity for p in store.level_series(site, "X", T0 - timedelta(1))] == [10.0]
    finally:
        running.stop()
        store.close()


def test_health_and_metrics_say_why_the_store_is_down(
    proxy: StoreProxy, mosquitto: MosquittoServer, broker: Broker, unique_id: str
) -> None:
    store = InfluxStore(f"{proxy.url}/{unique_id}")
    store.ensure_database()
    running = connected(store, mosquitto, f"c-{unique_id}")
    running.start()
    site = f"{unique_id}-s"
    collector = running.collector
    try:
        with proxy.failing(403):
            broker.publish(readings_topic(site, "d1"), json.dumps(batch(site, 1, 10)).encode())
            wait_for(lambda: collector.stats.store_failures["forbidden"] >= 1, 10, "a 403")
            text = collector_metrics(collector)
            assert "vmi_collector_store_up 0" in text
            assert 'vmi_collector_store_failures_total{reason="forbidden"}' in text
            assert "vmi_collector_in_flight 1" in text, "the message is held"
            (health, *_), _ = health_points(
                "c", collector.stats, in_flight=1, at=T0, previous=None, now_s=0.0
            )
            assert str(health.field("store_error")).startswith("forbidden: ")
            assert health.field("store_failures") == sum(collector.stats.store_failures.values())
        wait_for(lambda: collector.stats.readings_written == 1, 30, "written after the outage")
        assert "vmi_collector_store_up 1" in collector_metrics(collector)
    finally:
        running.stop()
        store.close()
