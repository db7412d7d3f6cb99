"""What a webhook carries: an alert as an ERP-friendly JSON event, and its signature.

Pure functions, no I/O. The body of every delivery is one event:

    {
      "id": "5b7f0e4c-...",            event id (UUID), the same on every retry
      "type": "vmi.alert.reorder",     "vmi.alert." + the alert kind
      "api_version": 1,
      "occurred_at": "2025-03-05T10:21:00Z",
      "site": "acme-north",
      "sku": "BOLT-M8",                null for sensor alerts
      "device": null,                  the device of sensor alerts, else null
      "location": null,
      "order": {"id": 17, "quantity": 400.0, "unit": "pcs"},   only when the alert names an order
      "data": {...}                    every field of the alert (vmi.wire.Alert) that is
    }                                  set, its time in UTC, in `DATA_ORDER`

The event id is derived from the alert itself (a UUIDv5 of `data`), so it is
the same on every retry, after a restart, and when several collectors report
the same alert: a receiver that remembers the ids it has processed (say, for a
day) gets every event exactly once, although delivery is at-least-once.

Signature (Stripe-style). Each attempt carries

    X-VMI-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
    X-VMI-Event-Id:  <the event id>

The receiver recomputes the HMAC over the raw bytes it received (before any
JSON parsing), compares in constant time, and refuses a `t` more than
`DEFAULT_TOLERANCE_S` (5 minutes) away from its own clock: a captured request
cannot be replayed after that window. Each retry is signed afresh with a new
`t`. `verify_signature` below, with the helpers and constants after it, is
self-contained (stdlib only): receivers may copy it as it is. It never raises,
whatever a client sends: a malformed header is simply not a valid signature.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from vmi.wire import Alert, ReorderAlert

API_VERSION = 1
EVENT_TYPE_PREFIX = "vmi.alert."
SIGNATURE_HEADER = "X-VMI-Signature"
EVENT_ID_HEADER = "X-VMI-Event-Id"
EVENT_TYPE_HEADER = "X-VMI-Event-Type"
ATTEMPT_HEADER = "X-VMI-Delivery-Attempt"
DEFAULT_TOLERANCE_S = 300.0
DATA_ORDER = (
    "v",
    "kind",
    "site",
    "sku",
    "device",
    "location",
    "at",
    "order_id",
    "order_quantity",
    "on_hand",
    "inventory_position",
    "rate_per_day",
    "days_of_cover",
    "stockout_days_p10",
    "reorder_point",
    "reorder_days",
    "event",
    "message",
)
"""The order of `data`'s keys, whatever the alert's kind: receivers see stable bytes.
A field not listed here comes after these, in the alert model's order."""
"""How far (either way) a signature's timestamp may be from the receiver's clock."""

# Event ids are UUIDv5 names in this namespace (itself uuid5(NAMESPACE_URL, ...)).
EVENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:vmi:webhook-event")


def event_type(alert: Alert) -> str:
    """`vmi.alert.<kind>`, e.g. `vmi.alert.stockout_imminent`."""
    return EVENT_TYPE_PREFIX + alert.kind.value


def alert_data(alert: Alert) -> dict[str, Any]:
    """The alert's fields that are set, as JSON values; its time in UTC (`...Z`)."""
    fields = alert.model_dump(mode="json", exclude_none=True)
    fields["at"] = _utc_text(alert.at)
    data = {key: fields.pop(key) for key in DATA_ORDER if key in fields}
    return data | fields


def event_id(alert: Alert) -> str:
    """The alert's event id: a UUID that depends only on what the alert says."""
    canonical = json.dumps(alert_data(alert), sort_keys=True, separators=(",", ":"))
    return str(uuid.uuid5(EVENT_NAMESPACE, canonical))


def _utc_text(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def build_event(alert: Alert) -> dict[str, Any]:
    """The event envelope of `alert` (see the module's docstring)."""
    event: dict[str, Any] = {
        "id": event_id(alert),
        "type": event_type(alert),
        "api_version": API_VERSION,
        "occurred_at": _utc_text(alert.at),
        "site": alert.site,
        "sku": alert.sku,
        "device": alert.device,
        "location": alert.location,
    }
    if isinstance(alert, ReorderAlert):
        event["order"] = {"id": alert.order_id, "quantity": alert.order_quantity, "unit": "pcs"}
    event["data"] = alert_data(alert)
    return event


def encode_event(event: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact UTF-8 JSON, keys in envelope order."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The `X-VMI-Signature` value for `body` sent at `timestamp` (unix seconds)."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def delivery_headers(
    secret: str, body: bytes, *, event_id: str, event_type: str, attempt: int, timestamp: int
) -> dict[str, str]:
    """Every header of one delivery attempt, signed at `timestamp`."""
    return {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature(secret, body, timestamp),
        EVENT_ID_HEADER: event_id,
        EVENT_TYPE_HEADER: event_type,
        ATTEMPT_HEADER: str(attempt),
    }


MAX_SIGNATURE_HEADER = 4096
"""A longer `X-VMI-Signature` value is refused unread (ours is under 100 characters)."""
MAX_SIGNATURES = 8
"""`v1=` entries compared at most (a sender rotating secrets sends two)."""
_TIMESTAMP_DIGITS = 12  # unix seconds until the year 33658
_HEX = frozenset("0123456789abcdef")


def verify_signature(
    secret: str,
    header: str,
    body: bytes,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
    *,
    now: float | None = None,
) -> bool:
    """True if `header` (the `X-VMI-Signature` value) signs `body` with `secret`.

    `body` is the raw request body, exactly as received. False if the header
    is malformed, no `v1` signature matches, or its timestamp is more than
    `tolerance_s` seconds from `now` (default: this machine's clock). Several
    `v1=` entries are accepted (any may match), so a sender can sign with an
    old and a new secret while a secret is being changed.

    Never raises, whatever it is given: a header that is not text, too long,
    not ASCII, with a timestamp that is not 1 to 12 ASCII digits, a signature
    that is not 64 lowercase hex digits, more than `MAX_SIGNATURES` of them, a
    body that is not bytes, a secret that is not text: all False.
    """
    try:
        return _verify(secret, header, body, tolerance_s, now)
    except Exception:  # belt and braces: hostile input answers False, never an error
        return False


def _verify(secret: object, header: object, body: object, tolerance_s: object, now: object) -> bool:
    if not isinstance(secret, str) or not secret or not isinstance(header, str):
        return False
    if not isinstance(body, (bytes, bytearray, memoryview)):
        return False
    if len(header) > MAX_SIGNATURE_HEADER or not header.isascii():
        return False
    limit = _number(tolerance_s)
    current = time.time() if now is None else _number(now)
    if limit is None or limit < 0 or current is None or not math.isfinite(current):
        return False
    timestamp: int | None = None
    candidates: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            return False
        if key == "t":
            if timestamp is not None or not _is_digits(value, _TIMESTAMP_DIGITS):
                return False
            timestamp = int(value)
        elif key == "v1" and len(value) == 64 and set(value) <= _HEX:
            candidates.append(value)
    if timestamp is None or not candidates or len(candidates) > MAX_SIGNATURES:
        return False
    if abs(current - timestamp) > limit:
        return False
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + bytes(body), hashlib.sha256)
    expected = mac.hexdigest()
    # Compare every candidate, each in constant time.
    matches = [hmac.compare_digest(expected, c) for c in candidates]
    return any(matches)


def _is_digits(text: str, most: int) -> bool:
    return 0 < len(text) <= most and all("0" <= c <= "9" for c in text)


def _number(value: object) -> float | None:
    """`value` as a float, or None (not a number, NaN, too large, a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return None if math.isnan(number) else number
