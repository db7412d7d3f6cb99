"""What a device may say: times, quantities and sequence numbers within bounds. Pure.

A hostile or broken device (a clock years off, a scale reporting 10^12 units,
a sequence number near 2^63) must not move a level, an order or a statistic:
a message with anything out of bounds is refused whole (`WireError`, its
dead-letter reason) before the collector stores or counts anything of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from cloud.config import LimitsConfig
from vmi.errors import WireError
from vmi.wire import DeadLetterReason, EventsBatch, ReadingsBatch


def check_readings(batch: ReadingsBatch, limits: LimitsConfig, received_at: datetime) -> None:
    """Raise `WireError` (`seq_range`, `time_range`, `quantity_range`) unless all is in bounds."""
    _check_seq(batch.seq, limits)
    _check_times((r.time for r in batch.readings), limits, received_at)
    for reading in batch.readings:
        if reading.quantity > limits.max_quantity:
            raise WireError(
                DeadLetterReason.QUANTITY_RANGE,
                f"{reading.location}/{reading.sku}: {reading.quantity:g} units exceeds "
                f"{limits.max_quantity:g}",
            )


def check_events(batch: EventsBatch, limits: LimitsConfig, received_at: datetime) -> None:
    """Raise `WireError` (`seq_range`, `time_range`) unless all is in bounds."""
    _check_seq(batch.seq, limits)
    _check_times((e.time for e in batch.events), limits, received_at)


def _check_seq(seq: int, limits: LimitsConfig) -> None:
    if seq > limits.max_seq:
        raise WireError(DeadLetterReason.SEQ_RANGE, f"seq {seq} exceeds {limits.max_seq}")


def _check_times(times: Iterable[datetime], limits: LimitsConfig, received_at: datetime) -> None:
    earliest = received_at - timedelta(days=limits.max_age_days)
    latest = received_at + timedelta(seconds=limits.max_ahead_s)
    for time in times:
        if not earliest <= time <= latest:
            raise WireError(
                DeadLetterReason.TIME_RANGE,
                f"time {time.isoformat()} is outside {earliest.isoformat()} .. "
                f"{latest.isoformat()} (received at {received_at.isoformat()})",
            )
