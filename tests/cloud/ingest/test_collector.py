"""The collector against real Mosquitto and real InfluxDB: good readings are
stored; malformed ones are counted, dead-lettered with the reason, and change
nothing else."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from cloud.service import CloudService
from tests.cloud.broker_client import Broker
from tests.cloud.ingest.messages import T0, batch
from tests.waiting import wait_for
from vmi.wire import readings_topic


def test_good_readings_are_stored_and_bad_ones_dead_lettered(
    service: CloudService, broker: Broker, unique_id: str
) -> None:
    site = f"{unique_id}-s"
    topic = readings_topic(site, "d1")
    bad = {
        "bad_json": b"{this is not json",
        "version": json.dumps(batch(site, 2, 5) | {"v": 99}).encode(),
        "schema": json.dumps(batch(site, 3, 5) | {"seq": "three"}).encode(),
        "topic_mismatch": json.dumps(batch("someone-else", 4, 5)).encode(),
    }
    broker.publish(topic, json.dumps(batch(site, 1, 10)).encode())
    for payload in bad.values():
        broker.publish(topic, payload)
    broker.publish(topic, json.dumps(batch(site, 5, 8)).encode())

    stats = service.collector.stats
    # readings_written counts after the write; messages counts on arrival.
    wait_for(
        lambda: (
            len(broker.dead) == len(bad)
            and stats.arrived["readings"] == 6
            and stats.readings_written == 2
        ),
        15,
        "all messages",
    )

    # Only the two good readings were written.
    stored = service.store.level_series(site, "X", T0 - timedelta(hours=1))
    assert [(p.quantity, p.seq) for p in stored] == [(10.0, 1), (8.0, 5)]
    assert service.store.level_series("someone-else", "X", T0 - timedelta(hours=1)) == []
    assert stats.readings_written == 2

    # Each rejection is counted and republished with its reason and payload.
    assert dict(stats.rejected) == dict.fromkeys(bad, 1)
    by_reason = {topic.rsplit("/", 1)[1]: letter for topic, letter in broker.dead}
    assert set(by_reason) == set(bad)
    for reason, payload in bad.items():
        assert by_reason[reason]["reason"] == reason
        assert by_reason[reason]["topic"] == topic
        assert by_reason[reason]["payload"] == payload.decode()
        assert by_reason[reason]["detail"]


def shifted(message: dict[str, Any], **changes: object) -> bytes:
    """`message` with its first reading changed (time as a timedelta from now)."""
    reading = dict(message["readings"][0])
    if "ahead" in changes:
        at = datetime.now(UTC) + changes.pop("ahead")  # type: ignore[operator]
        reading["time"] = at.isoformat()
    reading |= changes
    return json.dumps(message | {"readings": [reading]}).encode()


def test_out_of_range_readings_are_dead_lettered_and_move_nothing(
    service: CloudService, broker: Broker, unique_id: str
) -> None:
    site = f"{unique_id}-s"
    topic = readings_topic(site, "d1")
    bad = {
        "time_range": [
            shifted(batch(site, 2, 5), ahead=timedelta(days=-31)),
            shifted(batch(site, 3, 5), ahead=timedelta(minutes=10)),
            shifted(batch(site, 4, 5), ahead=timedelta(days=365 * 30)),
        ],
        "quantity_range": [shifted(batch(site, 5, 5), quantity=1e12)],
        "seq_range": [json.dumps(batch(site, 7, 5) | {"seq": 2**62}).encode()],
    }
    broker.publish(topic, json.dumps(batch(site, 1, 10)).encode())
    for payloads in bad.values():
        for payload in payloads:
            broker.publish(topic, payload)
    broker.publish(topic, json.dumps(batch(site, 6, 8)).encode())
    stats = service.collector.stats
    total = sum(len(p) for p in bad.values())
    wait_for(lambda: len(broker.dead) == total and stats.readings_written == 2, 15, "all")
    stored = service.store.level_series(site, "X", T0 - timedelta(days=365 * 40))
    assert [(p.quantity, p.seq) for p in stored] == [(10.0, 1), (8.0, 6)]
    assert dict(stats.rejected) == {reason: len(p) for reason, p in bad.items()}
    assert stats.sequences.gaps == 4, "seq 1 then 6: the refused ones never counted as seen"
    assert stats.sequences.replays == 0


def test_duplicate_messages_store_one_point(
    service: CloudService, broker: Broker, unique_id: str
) -> None:
    site = f"{unique_id}-s"
    payload = json.dumps(batch(site, 1, 10)).encode()
    for _ in range(3):
        broker.publish(readings_topic(site, "d1"), payload)
    wait_for(lambda: service.collector.stats.readings_written == 3, 15, "three writes")
    stored = service.store.level_series(site, "X", T0 - timedelta(hours=1))
    assert [p.quantity for p in stored] == [10.0]


def test_metrics_and_health_endpoints(
    start_service: Callable[..., CloudService], unique_id: str, broker: Broker
) -> None:
    svc = start_service(metrics={"listen": "127.0.0.1:0"})
    assert svc.metrics is not None
    base = f"http://127.0.0.1:{svc.metrics.port}"
    site = f"{unique_id}-s"
    for seq in (1, 2, 5, 2):
        broker.publish(readings_topic(site, "d1"), json.dumps(batch(site, seq, 10)).encode())
    broker.publish(readings_topic(site, "d1"), b"garbage")
    wait_for(lambda: svc.collector.stats.readings_written == 4, 15, "four writes")
    health = httpx.get(f"{base}/health", timeout=5)
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    text = httpx.get(f"{base}/metrics", timeout=5).text
    samples = dict(line.rsplit(" ", 1) for line in text.splitlines() if not line.startswith("#"))
    assert samples['vmi_collector_messages_total{kind="readings"}'] == "5"
    assert samples["vmi_collector_readings_written_total"] == "4"
    assert samples['vmi_collector_rejected_total{reason="bad_json"}'] == "1"
    assert samples["vmi_collector_sequence_gaps_total"] == "2"
    assert samples["vmi_collector_sequence_replays_total"] == "1"
    assert samples["vmi_collector_connected"] == "1"
    assert float(samples["vmi_collector_lag_seconds"]) >= 0
    # Replenishment reports under its own name, not the collector's.
    wait_for(lambda: svc.replenisher.stats.projections >= 1, 15, "an evaluation")
    text = httpx.get(f"{base}/metrics", timeout=5).text
    names = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")}
    assert "vmi_replenisher_projections_total" in names
    assert "vmi_replenisher_orders_created_total" in names
    assert "vmi_replenisher_alerts_published_total" in names
    assert not {n for n in names if "orders" in n or "alerts" in n} & {
        n for n in names if n.startswith("vmi_collector_")
    }
    assert httpx.get(f"{base}/nope", timeout=5).status_code == 404


def test_json_nested_too_deeply_is_dead_lettered_and_ingest_goes_on(
    service: CloudService, broker: Broker, unique_id: str
) -> None:
    site = f"{unique_id}-s"
    topic = readings_topic(site, "d1")
    broker.publish(topic, b"[" * 100_000 + b"]" * 100_000)
    broker.publish(topic, json.dumps(batch(site, 1, 10)).encode())
    wait_for(lambda: service.collector.stats.readings_written == 1, 15, "the good message")
    wait_for(lambda: len(broker.dead) == 1, 15, "a dead letter")
    assert broker.dead[0][0].endswith("/bad_json")
    wait_for(lambda: service.collector.in_flight == 0, 15, "both acknowledged")
