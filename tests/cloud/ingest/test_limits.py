"""Device message bounds: times around the receive time, quantities, sequence numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cloud.config import LimitsConfig
from cloud.ingest.limits import check_events, check_readings
from vmi.errors import WireError
from vmi.wire import DeadLetterReason, Event, EventKind, EventsBatch, Reading, ReadingsBatch

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
LIMITS = LimitsConfig(max_age_days=30, max_ahead_s=300, max_quantity=1000, max_seq=10**6)


def readings(*times: datetime, quantity: float = 5, seq: int = 1) -> ReadingsBatch:
    return ReadingsBatch(
        site="s",
        device="d",
        seq=seq,
        sent_at=NOW,
        readings=[Reading(time=t, location="A", sku="X", quantity=quantity) for t in times],
    )


def events(*times: datetime, seq: int = 1) -> EventsBatch:
    return EventsBatch(
        site="s",
        device="d",
        seq=seq,
        sent_at=NOW,
        events=[Event(time=t, kind=EventKind.PICK) for t in times],
    )


def reason(check: object) -> DeadLetterReason | None:
    try:
        check()  # type: ignore[operator]
    except WireError as exc:
        return exc.reason
    return None


@pytest.mark.parametrize(
    ("offset", "refused"),
    [
        (timedelta(days=-30), False),  # the edges are in
        (timedelta(seconds=300), False),
        (timedelta(0), False),
        (timedelta(days=-30, seconds=-1), True),
        (timedelta(seconds=301), True),
        (timedelta(days=365 * 50), True),
    ],
)
def test_times_within_the_window(offset: timedelta, refused: bool) -> None:
    want = DeadLetterReason.TIME_RANGE if refused else None
    assert reason(lambda: check_readings(readings(NOW + offset), LIMITS, NOW)) == want
    assert reason(lambda: check_events(events(NOW + offset), LIMITS, NOW)) == want


def test_one_reading_out_of_the_window_refuses_the_whole_message() -> None:
    batch = readings(NOW, NOW - timedelta(days=40), NOW)
    assert reason(lambda: check_readings(batch, LIMITS, NOW)) == DeadLetterReason.TIME_RANGE


def test_quantities_up_to_the_bound() -> None:
    assert reason(lambda: check_readings(readings(NOW, quantity=1000), LIMITS, NOW)) is None
    over = readings(NOW, quantity=1000.5)
    assert reason(lambda: check_readings(over, LIMITS, NOW)) == DeadLetterReason.QUANTITY_RANGE


def test_sequence_numbers_up_to_the_bound() -> None:
    assert reason(lambda: check_readings(readings(NOW, seq=10**6), LIMITS, NOW)) is None
    assert reason(lambda: check_readings(readings(NOW, seq=10**6 + 1), LIMITS, NOW)) == (
        DeadLetterReason.SEQ_RANGE
    )
    assert reason(lambda: check_events(events(NOW, seq=10**6 + 1), LIMITS, NOW)) == (
        DeadLetterReason.SEQ_RANGE
    )


def test_the_defaults_are_a_month_back_and_five_minutes_ahead() -> None:
    limits = LimitsConfig()
    assert (limits.max_age_days, limits.max_ahead_s) == (30.0, 300.0)
    assert limits.max_seq == 2**53 - 1
