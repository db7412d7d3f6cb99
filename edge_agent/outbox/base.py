"""The outbox: messages wait here until the broker has acknowledged them.

Between the agent (which builds messages) and the publisher (which sends
them) sits an `Outbox`: `add` a message, `take` the oldest ones not yet in
flight, then `accept` them once the broker acknowledged (they are deleted) or
`reject` them (they go back, in order, to be sent again). The disk outbox
(`SqliteOutbox`) keeps messages through a crash or power cut; the memory one
(`MemoryOutbox`) is for tests and for sites that accept the risk.

Bounds are explicit: at most `max_messages` and `max_bytes` waiting, none older
than `max_age_s`. When a new message would exceed a bound the policy decides:
`drop_oldest` (default: the newest state matters most, and levels are
absolute) or `drop_newest`. Every dropped message is counted.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class OverflowPolicy(StrEnum):
    DROP_OLDEST = "drop_oldest"
    DROP_NEWEST = "drop_newest"


@dataclass(frozen=True, slots=True)
class OutboxLimits:
    max_messages: int = 100_000
    max_bytes: int = 64 * 1024 * 1024
    max_age_s: float = 7 * 86_400.0
    policy: OverflowPolicy = OverflowPolicy.DROP_OLDEST


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int  # rises with insertion order
    topic: str
    payload: bytes
    created: float  # wall-clock seconds (time.time()) when added


@dataclass
class OutboxStats:
    added: int = 0
    accepted: int = 0
    rejected: int = 0
    dropped: dict[str, int] = field(default_factory=dict)  # reason -> count

    def drop(self, reason: str, n: int = 1) -> None:
        if n:
            self.dropped[reason] = self.dropped.get(reason, 0) + n


class Outbox(Protocol):
    """Messages waiting for the broker's acknowledgement, oldest first."""

    stats: OutboxStats

    def add(self, topic: str, payload: bytes) -> None:
        """Keep a message (on disk, for the disk outbox, when this returns)."""
        ...

    def take(self, max_messages: int) -> list[OutboxItem]:
        """The oldest messages not in flight, now marked in flight."""
        ...

    def accept(self, ids: list[int]) -> None:
        """The broker acknowledged these: forget them."""
        ...

    def reject(self, ids: list[int]) -> None:
        """These were not acknowledged: send them again, in their order."""
        ...

    def reject_all(self) -> None:
        """The connection dropped: everything in flight is to be sent again."""
        ...

    def pending(self) -> int:
        """Messages waiting, in flight or not."""
        ...

    def pending_bytes(self) -> int: ...

    def close(self) -> None: ...


class OutboxBookkeeping:
    """What every outbox keeps the same way: bounds, counters, and which
    messages are in flight (in memory only: after a restart nothing is)."""

    def __init__(self, limits: OutboxLimits | None, clock: Callable[[], float]) -> None:
        self.limits = limits or OutboxLimits()
        self.stats = OutboxStats()
        self._clock = clock
        self._lock = threading.Lock()
        self._in_flight: set[int] = set()
        self._count = 0
        self._bytes = 0

    def reject(self, ids: list[int]) -> None:
        with self._lock:
            for item_id in ids:
                if item_id in self._in_flight:
                    self._in_flight.discard(item_id)
                    self.stats.rejected += 1

    def reject_all(self) -> None:
        with self._lock:
            self.stats.rejected += len(self._in_flight)
            self._in_flight.clear()

    def pending(self) -> int:
        with self._lock:
            return self._count

    def pending_bytes(self) -> int:
        with self._lock:
            return self._bytes

    def _over(self, incoming: int) -> bool:
        """Would one more message of `incoming` bytes exceed a bound?"""
        return (
            self._count + 1 > self.limits.max_messages
            or self._bytes + incoming > self.limits.max_bytes
        )

    def _forget(self, item_id: int, size: int) -> None:
        self._count -= 1
        self._bytes -= size
        self._in_flight.discard(item_id)
