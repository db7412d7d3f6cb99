"""The webhook event envelope, its signature and the retry arithmetic (pure, no I/O)."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
from datetime import UTC, datetime, timedelta, timezone

import pytest

from cloud.notify.payload import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    build_event,
    delivery_headers,
    encode_event,
    event_id,
    signature,
    verify_signature,
)
from cloud.notify.retry import RetryPolicy, is_retryable, retry_after_seconds
from tests.cloud.notify.sample_alerts import sample_alert
from vmi.wire import AlertKind, ReorderAlert, SensorSilentAlert

SECRET = "whsec_test-secret-0123456789abcdef"

REORDER = ReorderAlert(
    site="acme-north",
    sku="BOLT-M8",
    at=datetime(2025, 3, 5, 11, 21, tzinfo=timezone(timedelta(hours=1))),
    order_id=17,
    order_quantity=400,
    on_hand=88,
    inventory_position=88,
    rate_per_day=31.1,
    days_of_cover=2.83,
    reorder_point=93.3,
    reorder_days=3,
    message="reorder 400 x BOLT-M8 for acme-north: 2.83 days of cover <= 3 (lead 2 + safety 1)",
)

SILENT = SensorSilentAlert(
    site="acme-north",
    device="gw-acme-north-01",
    location="A-01",
    at=datetime(2025, 3, 5, 10, 0, tzinfo=UTC),
    message="no reading for 15 min (3 x 5 min)",
)

# The exact bytes an ERP receives for REORDER. Changing them breaks receivers:
# bump api_version instead.
REORDER_BODY = (
    b'{"id":"112c10e9-e10b-575c-a0e0-6c6668489f67","type":"vmi.alert.reorder","api_version":1,'
    b'"occurred_at":"2025-03-05T10:21:00Z","site":"acme-north","sku":"BOLT-M8","device":null,'
    b'"location":null,"order":{"id":17,"quantity":400.0,"unit":"pcs"},'
    b'"data":{"v":1,"kind":"reorder","site":"acme-north","sku":"BOLT-M8",'
    b'"at":"2025-03-05T10:21:00Z","order_id":17,"order_quantity":400.0,"on_hand":88.0,'
    b'"inventory_position":88.0,"rate_per_day":31.1,"days_of_cover":2.83,"reorder_point":93.3,'
    b'"reorder_days":3.0,'
    b'"message":"reorder 400 x BOLT-M8 for acme-north: 2.83 days of cover <= 3 '
    b'(lead 2 + safety 1)"}}'
)


def test_reorder_event_golden() -> None:
    assert encode_event(build_event(REORDER)) == REORDER_BODY


def test_sensor_event_names_the_device_and_has_no_order() -> None:
    event = build_event(SILENT)
    assert event["type"] == "vmi.alert.sensor_silent"
    assert (event["sku"], event["device"], event["location"]) == (None, "gw-acme-north-01", "A-01")
    assert "order" not in event
    assert event["data"] == {
        "v": 1,
        "kind": "sensor_silent",
        "site": "acme-north",
        "device": "gw-acme-north-01",
        "location": "A-01",
        "at": "2025-03-05T10:00:00Z",
        "message": "no reading for 15 min (3 x 5 min)",
    }


def test_every_alert_kind_has_a_type() -> None:
    types = {build_event(sample_alert(k))["type"] for k in AlertKind}
    assert types == {f"vmi.alert.{k.value}" for k in AlertKind}


def test_event_id_depends_on_the_alert_only() -> None:
    same_instant = REORDER.model_copy(update={"at": REORDER.at.astimezone(UTC)})
    assert event_id(REORDER) == event_id(same_instant) == build_event(REORDER)["id"]
    assert event_id(REORDER) != event_id(REORDER.model_copy(update={"order_id": 18}))


def test_a_signature_verifies_over_the_exact_body() -> None:
    now = 1_741_170_000
    header = signature(SECRET, REORDER_BODY, now)
    expected = hmac.new(SECRET.encode(), f"{now}.".encode() + REORDER_BODY, hashlib.sha256)
    assert header == f"t={now},v1={expected.hexdigest()}"
    assert verify_signature(SECRET, header, REORDER_BODY, now=now + 10)


def test_delivery_headers_carry_signature_and_event_id() -> None:
    headers = delivery_headers(
        SECRET,
        REORDER_BODY,
        event_id="e-1",
        event_type="vmi.alert.reorder",
        attempt=2,
        timestamp=1000,
    )
    assert headers[EVENT_ID_HEADER] == "e-1"
    assert headers["X-VMI-Delivery-Attempt"] == "2"
    assert headers["Content-Type"] == "application/json"
    assert verify_signature(SECRET, headers[SIGNATURE_HEADER], REORDER_BODY, now=1000)
    assert SECRET not in json.dumps(headers)


def test_a_tampered_body_fails() -> None:
    header = signature(SECRET, REORDER_BODY, 1000)
    tampered = REORDER_BODY.replace(b'"quantity":400.0', b'"quantity":4000.0')
    assert not verify_signature(SECRET, header, tampered, now=1000)
    # Re-serialized JSON (same data, other bytes) fails too: verify the raw body.
    reformatted = json.dumps(json.loads(REORDER_BODY)).encode()
    assert not verify_signature(SECRET, header, reformatted, now=1000)


def test_a_wrong_secret_fails() -> None:
    header = signature(SECRET, REORDER_BODY, 1000)
    assert not verify_signature("whsec_another-secret-000000000", header, REORDER_BODY, now=1000)


@pytest.mark.parametrize("age_s", [301, -301, 86_400])
def test_a_timestamp_outside_the_window_fails(age_s: int) -> None:
    header = signature(SECRET, REORDER_BODY, 1_000_000)
    assert not verify_signature(SECRET, header, REORDER_BODY, 300, now=1_000_000 + age_s)
    assert verify_signature(SECRET, header, REORDER_BODY, 300, now=1_000_000 + 299)


def test_the_default_window_uses_this_machines_clock() -> None:
    import time

    fresh = signature(SECRET, REORDER_BODY, int(time.time()))
    stale = signature(SECRET, REORDER_BODY, int(time.time()) - 3600)
    assert verify_signature(SECRET, fresh, REORDER_BODY)
    assert not verify_signature(SECRET, stale, REORDER_BODY)


@pytest.mark.parametrize(
    "header",
    ["", "v1=abc", "t=1000", "t=soon,v1=abc", "t=1000;v1=abc", "garbage", "t=1000,v0=abc"],
)
def test_malformed_headers_fail(header: str) -> None:
    assert not verify_signature(SECRET, header, REORDER_BODY, now=1000)


def test_any_of_several_v1_signatures_may_match() -> None:
    good = signature(SECRET, REORDER_BODY, 1000).split(",")[1]
    old = signature("whsec_the-old-secret-0000000000", REORDER_BODY, 1000).split(",")[1]
    assert verify_signature(SECRET, f"t=1000,{old},{good}", REORDER_BODY, now=1000)


# ---- retries -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "retry"),
    [
        (None, True),
        (500, True),
        (503, True),
        (429, True),
        (408, True),
        (425, True),
        (400, False),
        (401, False),
        (404, False),
        (410, False),
        (301, False),
    ],
)
def test_what_is_retried(status: int | None, retry: bool) -> None:
    assert is_retryable(status) is retry


def test_backoff_doubles_up_to_the_cap_with_jitter_below() -> None:
    policy = RetryPolicy(base_delay_s=1, max_delay_s=10, jitter=0.5)
    rng = random.Random(1)
    for attempt, ceiling in [(1, 1), (2, 2), (3, 4), (4, 8), (5, 10), (60, 10), (500, 10)]:
        for _ in range(20):
            delay = policy.backoff_s(attempt, rng)
            assert ceiling * 0.5 <= delay <= ceiling
    assert RetryPolicy(base_delay_s=1, max_delay_s=10, jitter=0).backoff_s(3) == 4


def test_retry_after_lengthens_the_wait_up_to_its_cap() -> None:
    policy = RetryPolicy(base_delay_s=1, max_delay_s=10, jitter=0, max_retry_after_s=60)
    assert policy.delay_s(1, retry_after_s=30) == 30
    assert policy.delay_s(1, retry_after_s=0.5) == 1
    assert policy.delay_s(1, retry_after_s=7200) == 60


def test_retry_after_in_seconds_or_as_a_date() -> None:
    now = datetime(2025, 3, 5, 10, 0, tzinfo=UTC)
    assert retry_after_seconds("120", now) == 120
    assert retry_after_seconds("Wed, 05 Mar 2025 10:02:00 GMT", now) == 120
    assert retry_after_seconds("Wed, 05 Mar 2025 09:00:00 GMT", now) == 0
    for unreadable in (None, "", "soon", "-5"):
        assert retry_after_seconds(unreadable, now) is None


@pytest.mark.parametrize(
    "settings",
    [
        {"max_attempts": 0},
        {"base_delay_s": 0},
        {"base_delay_s": 20, "max_delay_s": 10},
        {"jitter": 1.0},
        {"max_retry_after_s": -1},
    ],
)
def test_nonsense_policies_are_refused(settings: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=r"must|need|fraction"):
        RetryPolicy(**settings)  # type: ignore[arg-type]
