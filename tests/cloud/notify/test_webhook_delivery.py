"""WebhookNotifier against a real HTTP server on loopback, on SQLite and PostgreSQL:
signatures verify, retries follow the answers, every attempt is logged, pending
deliveries survive a restart, filters hold, secrets stay out of logs."""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from cloud.catalog import Catalog
from cloud.notify import (
    CatalogTenants,
    DeliveryInfo,
    DeliveryStatus,
    RetryPolicy,
    WebhookNotifier,
    WebhookSubscriptionCreate,
    WebhookSubscriptions,
    build_event,
    verify_signature,
)
from cloud.notify.payload import encode_event
from tests.cloud.notify.sample_alerts import sample_alert
from tests.cloud.notify.webhook_receiver import LOOPBACK, Received, WebhookReceiver, wait_until
from vmi.wire import AlertKind

SAMPLE_CATALOG = Path(__file__).parents[3] / "cloud" / "sample-catalog.yaml"
FAST = RetryPolicy(max_attempts=5, base_delay_s=0.05, max_delay_s=0.2, jitter=0.0)

MakeNotifier = Callable[..., WebhookNotifier]


@pytest.fixture
def make_notifier(sql_url: str) -> Iterator[MakeNotifier]:
    """Notifiers on this test's database, quick to retry; all stopped at the end."""
    made: list[WebhookNotifier] = []

    def make(**options: object) -> WebhookNotifier:
        settings: dict[str, object] = {
            "retry": FAST,
            "timeout_s": 2.0,
            "idle_poll_s": 0.1,
            "store_retry_s": 0.1,
            "policy": LOOPBACK,
        }
        notifier = WebhookNotifier(sql_url, **(settings | options))  # type: ignore[arg-type]
        made.append(notifier)
        return notifier

    yield make
    for notifier in made:
        assert notifier.stop(timeout_s=10)


@pytest.fixture
def subs(sql_url: str) -> Iterator[WebhookSubscriptions]:
    service = WebhookSubscriptions(sql_url)
    yield service
    service.close()


def subscribe(subs: WebhookSubscriptions, url: str, **filters: object) -> tuple[int, str]:
    created = subs.create(WebhookSubscriptionCreate.model_validate({"url": url} | filters))
    return created.subscription.id, created.secret


def one_delivery(notifier: WebhookNotifier, sub_id: int) -> DeliveryInfo:
    found = notifier.ledger.deliveries(subscription_id=sub_id)
    assert len(found) == 1, found
    return found[0]


def finished(notifier: WebhookNotifier, sub_id: int) -> DeliveryInfo | None:
    found = notifier.ledger.deliveries(subscription_id=sub_id)
    if found and found[0].status is not DeliveryStatus.PENDING:
        return found[0]
    return None


def assert_signed(request: Received, secret: str) -> None:
    assert verify_signature(secret, request.headers["x-vmi-signature"], request.body)


def test_delivered_signed_and_logged(
    subs: WebhookSubscriptions, make_notifier: MakeNotifier
) -> None:
    with WebhookReceiver() as receiver:
        sub_id, secret = subscribe(subs, receiver.url)
        notifier = make_notifier()
        notifier.start()
        a = sample_alert()
        assert notifier.notify(a)
        (request,) = receiver.wait_for(1)
        assert_signed(request, secret)
        assert not verify_signature(
            "whsec_someone-else-entirely-000", request.headers["x-vmi-signature"], request.body
        )
        assert request.path == "/vmi/hooks"
        assert request.headers["content-type"] == "application/json"
        assert request.headers["user-agent"].startswith("vmi-webhooks/")
        assert request.body == encode_event(build_event(a))
        event = json.loads(request.body)
        assert request.headers["x-vmi-event-id"] == event["id"]
        assert request.headers["x-vmi-event-type"] == "vmi.alert.reorder"
        assert event["order"] == {"id": 7, "quantity": 200.0, "unit": "pcs"}
        delivery = wait_until(lambda: finished(notifier, sub_id))
    assert delivery.status is DeliveryStatus.DELIVERED
    assert delivery.attempts == 1
    assert delivery.last_status_code == 200
    assert delivery.delivered_at is not None
    assert delivery.duration_ms is not None
    assert delivery.event_id == event["id"]
    assert delivery.body.encode() == request.body
    (attempt,) = notifier.ledger.attempts(delivery.id)
    assert (attempt.attempt, attempt.status_code, attempt.outcome) == (1, 200, "delivered")
    assert notifier.stats.delivered == 1


def test_500_twice_then_200_is_three_attempts_one_delivery(
    subs: WebhookSubscriptions, make_notifier: MakeNotifier
) -> None:
    with WebhookReceiver([500, 502]) as receiver:
        sub_id, secret = subscribe(subs, receiver.url)
        notifier = make_notifier()
        notifier.start()
        notifier.notify(sample_alert())
        delivery = wait_until(lambda: finished(notifier, sub_id))
        requests = receiver.received
    assert len(requests) == 3
    assert len({r.headers["x-vmi-event-id"] for r in requests}) == 1
    assert len({r.body for r in requests}) == 1
    assert [r.headers["x-vmi-delivery-attempt"] for r in requests] == ["1", "2", "3"]
    for r in requests:
        assert_signed(r, secret)
    assert delivery.status is DeliveryStatus.DELIVERED
    assert delivery.attempts == 3
    attempts = notifier.ledger.attempts(delivery.id)
    assert [(a.attempt, a.status_code, a.outcome) for a in attempts] == [
        (1, 500, "retry"),
        (2, 502, "retry"),
        (3, 200, "delivered"),
    ]
    assert attempts[0].error is not None
    assert attempts[0].error.startswith("HTTP 500")
    assert all(a.next_attempt_at is not None for a in attempts[:2])
    assert notifier.ledger.deliveries(event_id=delivery.event_id) == [delivery]


def test_400_is_not_retried(subs: WebhookSubscriptions, make_notifier: MakeNotifier) -> None:
    with WebhookReceiver([400]) as receiver:
        sub_id, _ = subscribe(subs, receiver.url)
        notifier = make_notifier()
        notifier.start()
        notifier.notify(sample_alert())
        delivery = wait_until(lambda: finished(notifier, sub_id))
        assert len(receiver.received) == 1
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.attempts == 1
    assert delivery.last_status_code == 400
    assert delivery.last_error == "HTTP 400: nope: status 400"
    assert delivery.finished_at is not None
    assert delivery.delivered_at is None
    assert [a.outcome for a in notifier.ledger.attempts(delivery.id)] == ["failed"]
    assert notifier.stats.failed == 1


def test_429_waits_as_retry_after_asks(
    subs: WebhookSubscriptions, make_notifier: MakeNotifier
) -> None:
    with WebhookReceiver([(429, {"Retry-After": "1"})]) as receiver:
        sub_id, _ = subscribe(subs, receiver.url)
        notifier = make_notifier()
        notifier.start()
        notifier.notify(sample_alert())
        delivery = wait_until(lambda: finished(notifier, sub_id))
    first, second = notifier.ledger.attempts(delivery.id)
    assert (first.status_code, second.status_code) == (429, 200)
    waited = (second.started_at - first.started_at).total_seconds()
    assert waited >= 0.9  # not FAST's 0.05 s


def test_gives_up_after_the_last_attempt(
    subs: WebhookSubscriptions, make_notifier: MakeNotifier
) -> None:
    with WebhookReceiver(default=503) as receiver:
        sub_id, _ = subscribe(subs, receiver.url)
        notifier = make_notifier(
            retry=RetryPolicy(max_attempts=3, base_delay_s=0.02, max_delay_s=0.05)
        )
        notifier.start()
        notifier.notify(sample_alert())
        delivery = wait_until(lambda: finished(notifier, sub_id))
        assert len(receiver.received) == 3
    assert delivery.status is DeliveryStatus.GIVEN_UP
    assert delivery.next_attempt_at is None
    outcomes = [a.outcome for a in notifier.ledger.attempts(delivery.id)]
    assert outcomes == ["retry", "retry", "given_up"]


def test_a_receiver_that_is_down_gets_it_when_it_comes_up(
    subs: WebhookSubscriptions, make_notifier: MakeNotifier
) -> None:
    receiver = WebhookReceiver()  # its port, not listening yet
    sub_id, secret = subscribe(subs, receiver.url)
    notifier = make_notifier(
        retry=RetryPolicy(max_attempts=100, base_delay_s=0.05, max_delay_s=0.1, jitter=0)
    )
    notifier.start()
    notifier.notify(sample_alert())
    wait_until(lambda: notifier.stats.attempts >= 3, what="three refused attempts")
    with receiver:
        delivery = wait_until(lambda: finished(notifier, sub_id))
        (request,) = receiver.received
    assert_signed(request, secret)
    assert delivery.status is DeliveryStatus.DELIVERED
    assert delivery.attempts >= 4
    attempts = notifier.ledger.attempts(delivery.id)
    assert attempts[0].status_code is None
    assert attempts[0].error is not None
    assert "ConnectError" in attempts[0].error
    assert [a.outcome for a in attempts][-1] == "delivered"


def test_pending_deliveries_survive_a_restart(
    subs: WebhookSubscriptions, make_notifier: MakeNotifier
) -> None:
    with WebhookReceiver([500]) as receiver:
        sub_id, secret = subscribe(subs, receiver.url)
        slow = RetryPolicy(max_attempts=5, base_delay_s=1.0, max_delay_s=1.0, jitter=0)
        first = make_notifier(retry=slow)
        first.start()
        first.notify(sample_alert())
        wait_until(lambda: first.stats.retries_scheduled == 1, what="a retry scheduled")
        assert first.stop(timeout_s=10)
        pending = one_delivery(first, sub_id)
        assert pending.status is DeliveryStatus.PENDING
        assert pending.attempts == 1

        # Queued but never started: stop() still stores it.
        unsent = sample_alert(AlertKind.STOCKOUT)
        never_started = make_notifier()
        assert never_started.notify(unsent)
        assert never_started.stop(timeout_s=10)

        second = make_notifier()
        second.start()
        wait_until(lambda: len(receiver.received) == 3, what="the resumed and the stored alert")
        wait_until(lambda: second.stats.delivered == 2, what="both delivered")
        requests = receiver.received
    for r in requests:
        assert_signed(r, secret)
    resent = [r for r in requests if r.headers["x-vmi-event-id"] == pending.event_id]
    assert len(resent) == 2
    assert resent[0].body == resent[1].body
    (stored,) = [r for r in requests if r not in resent]
    assert json.loads(stored.body)["type"] == "vmi.alert.stockout"
    resumed = second.ledger.deliveries(event_id=pending.event_id)
    assert [(d.status, d.attempts) for d in resumed] == [(DeliveryStatus.DELIVERED, 2)]


def test_filters_are_honoured(
    sql_url: str, subs: WebhookSubscriptions, make_notifier: MakeNotifier
) -> None:
    catalog = Catalog(sql_url)
    catalog.load_file(SAMPLE_CATALOG)
    with WebhookReceiver() as receiver:
        base = receiver.url
        north, _ = subscribe(subs, base + "?n", sites=["acme-north"])
        sensors, _ = subscribe(subs, base + "?s", kinds=["sensor_silent", "sensor_anomaly"])
        safeguard, _ = subscribe(subs, base + "?g", tenant="safeguard")
        notifier = make_notifier(tenants_of=CatalogTenants(catalog))
        notifier.start()
        sent = [
            sample_alert(site="acme-north", sku="BOLT-M8"),  # north
            sample_alert(AlertKind.STOCKOUT, site="acme-south", sku="BOLT-M8"),  # nobody
            sample_alert(AlertKind.SENSOR_SILENT, site="acme-south", device="gw-acme-south-01"),
            sample_alert(
                AlertKind.STOCKOUT_IMMINENT, site="nordwerk-hh", sku="GLOVE-L"
            ),  # safeguard
        ]
        for a in sent:
            notifier.notify(a)
        receiver.wait_for(3)
        wait_until(lambda: notifier.stats.unmatched == 1 and notifier.queued == 0)
        wait_until(lambda: notifier.stats.delivered == 3)
        got = {(r.path.split("?")[1], json.loads(r.body)["type"]) for r in receiver.received}
    catalog.close()
    assert got == {
        ("n", "vmi.alert.reorder"),
        ("s", "vmi.alert.sensor_silent"),
        ("g", "vmi.alert.stockout_imminent"),
    }
    assert len(receiver.received) == 3
    assert {d.subscription_id for d in notifier.ledger.deliveries()} == {north, sensors, safeguard}


def test_the_same_alert_twice_is_delivered_once(
    subs: WebhookSubscriptions, make_notifier: MakeNotifier
) -> None:
    with WebhookReceiver() as receiver:
        sub_id, _ = subscribe(subs, receiver.url)
        one, two = make_notifier(), make_notifier()
        a = sample_alert()
        one.notify(a)
        two.notify(a)  # e.g. a second collector, or a redelivered message
        one.start()
        two.start()
        receiver.wait_for(1)
        wait_until(lambda: finished(one, sub_id))
        wait_until(lambda: one.queued == 0 and two.queued == 0)
        assert len(receiver.received) == 1
    assert len(one.ledger.deliveries()) == 1


def test_a_revoked_subscription_gets_nothing_more(
    subs: WebhookSubscriptions, make_notifier: MakeNotifier
) -> None:
    gate = threading.Event()
    with WebhookReceiver(default=500, gate=gate) as receiver:
        sub_id, _ = subscribe(subs, receiver.url)
        notifier = make_notifier()
        notifier.start()
        notifier.notify(sample_alert())
        receiver.wait_for(1)
        subs.revoke(sub_id)  # while the first attempt waits for its answer
        gate.set()
        wait_until(lambda: notifier.stats.attempts == 1, what="the attempt logged")
        notifier.notify(sample_alert(AlertKind.STOCKOUT))
        wait_until(lambda: notifier.stats.unmatched == 1, what="the next alert unmatched")
        assert len(receiver.received) == 1
    delivery = one_delivery(notifier, sub_id)
    assert delivery.status is DeliveryStatus.CANCELLED
    assert delivery.last_error == "subscription revoked"
    assert delivery.attempts == 1
    assert delivery.last_status_code == 500
    assert [a.outcome for a in notifier.ledger.attempts(delivery.id)] == ["retry"]


def test_a_full_queue_drops_by_its_policy(make_notifier: MakeNotifier) -> None:
    alerts = [sample_alert(order_id=n) for n in range(4)]
    newest = make_notifier(queue_size=2, overflow="drop_newest")
    assert [newest.notify(a) for a in alerts] == [True, True, False, False]
    oldest = make_notifier(queue_size=2, overflow="drop_oldest")
    assert [oldest.notify(a) for a in alerts] == [True, True, True, True]
    for notifier in (newest, oldest):
        assert notifier.stats.dropped_overflow == 2
        assert notifier.queued == 2
    with pytest.raises(ValueError, match="overflow"):
        make_notifier(overflow="block")


def test_notify_after_stop_is_refused(make_notifier: MakeNotifier) -> None:
    notifier = make_notifier()
    notifier.start()
    assert notifier.stop(timeout_s=10)
    assert not notifier.notify(sample_alert())
    assert notifier.stats.dropped_stopped == 1


def test_secrets_stay_out_of_logs_and_the_delivery_log(
    sql_url: str,
    subs: WebhookSubscriptions,
    make_notifier: MakeNotifier,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    token = "tok-in-query-0123456789"
    with WebhookReceiver([503, 404]) as receiver:
        url = receiver.url.replace("http://", "http://user:pw-in-url@") + f"?token={token}"
        sub_id, secret = subscribe(subs, url)
        notifier = make_notifier()
        notifier.start()
        notifier.notify(sample_alert())
        delivery = wait_until(lambda: finished(notifier, sub_id))
        first = receiver.received[0]
    assert delivery.status is DeliveryStatus.FAILED
    # User info goes as basic auth, never in the URL (which httpx logs).
    basic = base64.b64encode(b"user:pw-in-url").decode()
    assert first.headers["authorization"] == f"Basic {basic}"
    assert first.path == f"/vmi/hooks?token={token}"
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("cloud."))
    assert "webhook event" in ours
    assert "/vmi/hooks" in ours
    assert token not in ours
    engine = create_engine(sql_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        logged = []
        for table in ("webhook_delivery", "webhook_attempt"):
            rows = conn.execute(text(f"SELECT * FROM {table}"))  # noqa: S608 (our names)
            logged.append(json.dumps([list(map(str, row)) for row in rows]))
    engine.dispose()
    for leak in (secret, "pw-in-url"):
        assert leak not in caplog.text  # any logger, any level
    for leak in (secret, "pw-in-url", token):
        assert all(leak not in dump for dump in logged)


def test_stop_is_bounded_while_a_receiver_hangs(
    subs: WebhookSubscriptions, make_notifier: MakeNotifier
) -> None:
    import socket

    # A listener that accepts and never answers.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        host, port = silent.getsockname()
        subscribe(subs, f"http://{host}:{port}/hook")
        notifier = make_notifier(timeout_s=1.0)
        notifier.start()
        notifier.notify(sample_alert())
        wait_until(lambda: notifier.ledger.deliveries(), what="a stored delivery")
        assert notifier.stop(timeout_s=5)
