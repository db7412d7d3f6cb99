"""The wire contract: what is accepted, what is rejected and why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from tests.vmi.wire_samples import T, batch_dict
from vmi.errors import WireError
from vmi.wire import (
    DeviceCommand,
    ReadingsBatch,
    decode_readings,
    encode,
    readings_topic,
    split_device_topic,
)
from vmi.wire_doc import render

ROOT = Path(__file__).resolve().parents[2]


def decode(d: object, topic: str = "vmi/v1/s1/d1/readings") -> ReadingsBatch:
    return decode_readings(topic, json.dumps(d).encode())


def test_valid_batch_round_trips() -> None:
    batch = decode(batch_dict())
    assert batch.readings[0].quantity == 12
    assert batch.readings[0].source == "scale"
    again = decode_readings("vmi/v1/s1/d1/readings", encode(batch))
    assert again == batch


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "bad_json"),
        (b"\xff\xfe\x00", "bad_json"),
        (b"[1, 2]", "schema"),
        (json.dumps(batch_dict(v=2)).encode(), "version"),
        (json.dumps({k: v for k, v in batch_dict().items() if k != "v"}).encode(), "version"),
        (json.dumps(batch_dict(seq=-1)).encode(), "schema"),
        (json.dumps(batch_dict(readings=[])).encode(), "schema"),
        (json.dumps(batch_dict(extra=1)).encode(), "schema"),
        (json.dumps(batch_dict(site="s/1")).encode(), "schema"),
        (json.dumps(batch_dict(site="+")).encode(), "schema"),
        (json.dumps(batch_dict(sent_at="2026-11-24T10:00:00")).encode(), "schema"),
        (json.dumps(batch_dict(site="other")).encode(), "topic_mismatch"),
        (json.dumps(batch_dict(device="other")).encode(), "topic_mismatch"),
    ],
)
def test_bad_payloads_are_rejected_with_a_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(WireError) as err:
        decode_readings("vmi/v1/s1/d1/readings", payload)
    assert err.value.reason == reason


@pytest.mark.parametrize(
    "reading",
    [
        {"quantity": -1},
        {"quantity": "NaN"},
        {"quantity": float("inf")},
        {"unit": "kg"},
        {"source": "guess"},
        {"time": "yesterday"},
        {"sku": ""},
    ],
)
def test_bad_readings_are_schema_errors(reading: dict[str, object]) -> None:
    r = {"time": T.isoformat(), "location": "A-01", "sku": "X", "quantity": 1} | reading
    with pytest.raises(WireError) as err:
        decode_readings("vmi/v1/s1/d1/readings", json.dumps(batch_dict(readings=[r])).encode())
    assert err.value.reason == "schema"


def test_topics() -> None:
    assert readings_topic("s1", "d1") == "vmi/v1/s1/d1/readings"
    assert split_device_topic("vmi/v1/s1/d1/status") == ("s1", "d1", "status")
    with pytest.raises(WireError):
        split_device_topic("vmi/v2/s1/d1/status")


def test_wire_doc_is_generated_from_the_contract() -> None:
    doc = (ROOT / "docs" / "wire-protocol.md").read_text(encoding="utf-8")
    assert doc == render(), "docs/wire-protocol.md is stale: run `make docs`"


_FRESH = {"id": "c-1", "issued_at": "2026-12-04T12:00:00Z", "expires_at": "2026-12-04T12:05:00Z"}


@pytest.mark.parametrize(
    ("payload", "ok"),
    [
        (_FRESH | {"command": "tare", "location": "A"}, True),
        (_FRESH | {"command": "calibrate", "location": "A", "units": 5}, True),
        (_FRESH | {"command": "calibrate", "location": "A"}, False),
        (_FRESH | {"command": "tare", "location": "A", "units": 5}, False),
        (_FRESH | {"command": "calibrate", "location": "A", "units": 0}, False),
        (_FRESH | {"command": "explode", "location": "A"}, False),
        ({"command": "tare", "location": "A"}, False),  # no id, issue time or expiry
        (
            _FRESH | {"expires_at": "2026-12-04T11:00:00Z", "command": "tare", "location": "A"},
            False,
        ),
    ],
)
def test_device_commands(payload: dict[str, object], ok: bool) -> None:
    if ok:
        assert DeviceCommand.model_validate(payload).location == "A"
    else:
        with pytest.raises(ValidationError):
            DeviceCommand.model_validate(payload)
