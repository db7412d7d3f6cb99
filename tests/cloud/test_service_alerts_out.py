"""The running cloud service turns the reading that crosses a reorder point
into an order, an MQTT alert, a signed webhook and chart points (real
Mosquitto, a real HTTP receiver on loopback)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from cloud.config import CloudConfig
from cloud.notify import (
    SIGNATURE_HEADER,
    WebhookSubscriptionCreate,
    WebhookSubscriptions,
    verify_signature,
)
from cloud.service import CloudService
from cloud.timeseries import SqliteStore
from cloud.timeseries.base import LevelPoint
from tests.cloud.broker_client import Broker
from tests.servers import MosquittoServer
from tests.waiting import wait_for
from vmi.wire import Reading, ReadingsBatch, encode, readings_topic


class Receiver:
    """An ERP endpoint: records every POST with its headers."""

    def __init__(self) -> None:
        self.posts: list[tuple[dict[str, str], bytes]] = []
        received = self.posts

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((dict(self.headers), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/erp/vmi"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def test_crossing_reading_orders_alerts_and_calls_the_webhook(
    tmp_path: Path, mosquitto: MosquittoServer, broker: Broker, receiver: Receiver, unique_id: str
) -> None:
    orders_url = f"sqlite:///{tmp_path / 'orders.db'}"
    subs = WebhookSubscriptions(orders_url)
    created = subs.create(WebhookSubscriptionCreate(url=receiver.url, kinds=("reorder",)))
    subs.close()
    config = CloudConfig.model_validate(
        {
            "mqtt": {"url": mosquitto.url, "client_id": f"c-{unique_id}"},
            "store": {"url": f"sqlite:///{tmp_path / 'levels.db'}"},
            "orders": {"url": orders_url},
            "replenishment": {"default": {"lead_time_days": 2, "min_history_days": 1}},
            "notify": {"allow_private": ["127.0.0.0/8"]},  # the receiver is on loopback
        }
    )
    svc = CloudService(config)
    site, now = f"{unique_id}-s", datetime.now(UTC)
    # Two days of history at 24 a day, from 100 down to 53: above the reorder point.
    svc.store.write_levels(
        [
            LevelPoint(site, "gw", "A", "X", now - timedelta(hours=48 - h), 100 - h)
            for h in range(48)
        ]
    )
    svc.start()
    try:
        assert svc.collector.wait_connected(10)
        crossing = ReadingsBatch(
            site=site,
            device="gw",
            seq=1,
            sent_at=now,
            readings=[Reading(time=now, location="A", sku="X", quantity=30)],
        )
        broker.publish(readings_topic(site, "gw"), encode(crossing))
        wait_for(lambda: bool(receiver.posts), 20, "the webhook")
    finally:
        svc.stop()

    (order,) = svc.orders.orders(site)
    headers, body = receiver.posts[0]
    event = json.loads(body)
    assert event["type"] == "vmi.alert.reorder"
    assert event["site"] == site
    assert event["order"]["id"] == order.id
    assert event["order"]["quantity"] == order.quantity
    assert verify_signature(created.secret, headers[SIGNATURE_HEADER], body)
    assert not verify_signature(created.secret, headers[SIGNATURE_HEADER], body + b" ")
    # The charts got the projection, the order and the alert.
    since = now - timedelta(hours=1)
    store = SqliteStore(tmp_path / "levels.db")
    try:
        assert store.points("projection", since, tags={"site": site})
        assert [p.tag("status") for p in store.points("order_event", since)] == ["proposed"]
        kinds = [p.tag("kind") for p in store.points("alert", since, tags={"site": site})]
        assert "reorder" in kinds
    finally:
        store.close()
