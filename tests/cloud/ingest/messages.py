"""Device messages for the ingest tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from vmi.wire import Event, EventKind, EventsBatch, Reading, ReadingsBatch, encode

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)


def batch(site: str, seq: int, quantity: float) -> dict[str, object]:
    b = ReadingsBatch(
        site=site,
        device="d1",
        seq=seq,
        sent_at=T0,
        readings=[
            Reading(time=T0 + timedelta(seconds=seq), location="A-01", sku="X", quantity=quantity)
        ],
    )
    loaded: dict[str, object] = json.loads(encode(b))
    return loaded


def events(site: str, seq: int) -> EventsBatch:
    return EventsBatch(
        site=site,
        device="gw",
        seq=seq,
        sent_at=T0,
        events=[
            Event(time=T0, kind=EventKind.PICK, location="A-01", sku="X", quantity=3.0),
            Event(
                time=T0 + timedelta(seconds=1),
                kind=EventKind.DRIVER,
                driver="mtsics",
                detail="port closed",
            ),
        ],
    )
