"""The wire contract's closed sets: dead-letter reasons (one enum, listed exactly in
docs/wire-protocol.md) and alerts (one model per kind, a union on `kind`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from vmi.errors import WireError
from vmi.wire import (
    ALERT_MODELS,
    AlertKind,
    DeadLetter,
    DeadLetterReason,
    ReorderAlert,
    SensorAnomalyAlert,
    SensorSilentAlert,
    StockoutAlert,
    deadletter_topic,
    decode_alert,
    encode,
)

DOC = Path(__file__).parents[2] / "docs" / "wire-protocol.md"
AT = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
FIGURES = {
    "on_hand": 3.0,
    "inventory_position": 3.0,
    "rate_per_day": 2.0,
    "reorder_point": 5.0,
    "reorder_days": 2.0,
}


def test_the_doc_lists_exactly_the_dead_letter_reasons() -> None:
    row = next(line for line in DOC.read_text().splitlines() if line.startswith("| deadletter |"))
    listed = re.search(r"with the reason: ([a-z_, ]+) \|", row)
    assert listed is not None, row
    assert listed.group(1).split(", ") == [r.value for r in DeadLetterReason]


def test_a_dead_letter_names_a_known_reason() -> None:
    letter = DeadLetter(reason=DeadLetterReason.SCHEMA, detail="d", topic="t", payload="p", at=AT)
    assert deadletter_topic(letter.reason) == "vmi/v1/_deadletter/schema"
    with pytest.raises(ValueError, match="reason"):
        DeadLetter.model_validate(
            {"reason": "made_up", "detail": "d", "topic": "t", "payload": "p", "at": AT}
        )


def test_every_alert_kind_has_exactly_one_model() -> None:
    kinds = [m.model_fields["kind"].default for m in ALERT_MODELS]
    assert sorted(kinds) == sorted(AlertKind)


@pytest.mark.parametrize(
    "alert",
    [
        ReorderAlert(
            site="s", sku="X", at=AT, message="m", order_id=4, order_quantity=20, **FIGURES
        ),
        StockoutAlert(site="s", sku="X", at=AT, message="m", **FIGURES),
        SensorSilentAlert(site="s", device="gw", at=AT, message="m"),
        SensorAnomalyAlert(site="s", device="gw", at=AT, message="m", event="drift"),
    ],
)
def test_an_alert_decodes_as_its_kinds_model(alert: object) -> None:
    assert isinstance(alert, ALERT_MODELS)
    decoded = decode_alert(encode(alert))
    assert type(decoded) is type(alert)
    assert decoded == alert


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        # A reorder must name its order; a stockout its SKU; a silent sensor its device.
        (
            b'{"kind":"reorder","site":"s","sku":"X","at":"2026-11-01T12:00:00Z","message":"m",'
            b'"on_hand":1,"inventory_position":1,"rate_per_day":1,"reorder_point":2,'
            b'"reorder_days":1}',
            "order_id",
        ),
        (b'{"kind":"stockout","site":"s","at":"2026-11-01T12:00:00Z","message":"m"}', "sku"),
        (
            b'{"kind":"sensor_silent","site":"s","at":"2026-11-01T12:00:00Z","message":"m"}',
            "device",
        ),
        (b'{"kind":"price_drop","site":"s","at":"2026-11-01T12:00:00Z","message":"m"}', "kind"),
    ],
)
def test_an_alert_missing_what_its_kind_needs_is_refused(payload: bytes, why: str) -> None:
    with pytest.raises(WireError, match=why) as caught:
        decode_alert(payload)
    assert caught.value.reason is DeadLetterReason.SCHEMA


def test_an_alert_that_is_not_json_is_bad_json() -> None:
    with pytest.raises(WireError, match="not JSON") as caught:
        decode_alert(b"{not json")
    assert caught.value.reason is DeadLetterReason.BAD_JSON
