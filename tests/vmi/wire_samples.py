"""Sample payloads of the wire contract, shared by the wire tests."""

from __future__ import annotations

from datetime import UTC, datetime

T = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def batch_dict(**over: object) -> dict[str, object]:
    """A valid readings batch (site s1, device d1, one reading) as JSON-ready data;
    `over` replaces or adds top-level keys."""
    d: dict[str, object] = {
        "v": 1,
        "site": "s1",
        "device": "d1",
        "seq": 7,
        "sent_at": T.isoformat(),
        "readings": [{"time": T.isoformat(), "location": "A-01", "sku": "BOLT-M8", "quantity": 12}],
    }
    d.update(over)
    return d
