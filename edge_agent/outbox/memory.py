"""An outbox in memory: bounded and counted like the disk one, lost on a crash."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from edge_agent.outbox.base import OutboxItem, OutboxLimits, OutboxStats, OverflowPolicy


class MemoryOutbox:
    def __init__(
        self, limits: OutboxLimits | None = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.limits = limits or OutboxLimits()
        self.stats = OutboxStats()
        self._clock = clock
        self._lock = threading.Lock()
        self._items: OrderedDict[int, OutboxItem] = OrderedDict()
        self._in_flight: set[int] = set()
        self._bytes = 0
        self._next_id = 1

    def add(self, topic: str, payload: bytes) -> None:
        with self._lock:
            self._expire()
            size = len(payload)
            if size > self.limits.max_bytes:
                self.stats.drop("too_large")
                return
            while self._items and self._over(size):
                if self.limits.policy is OverflowPolicy.DROP_NEWEST:
                    self.stats.drop("overflow")
                    return
                self._remove(next(iter(self._items)))
                self.stats.drop("overflow")
            item = OutboxItem(self._next_id, topic, payload, self._clock())
            self._next_id += 1
            self._items[item.id] = item
            self._bytes += size
            self.stats.added += 1

    def take(self, max_messages: int) -> list[OutboxItem]:
        with self._lock:
            self._expire()
            taken: list[OutboxItem] = []
            for item_id, item in self._items.items():
                if len(taken) >= max_messages:
                    break
                if item_id not in self._in_flight:
                    taken.append(item)
            self._in_flight.update(i.id for i in taken)
            return taken

    def accept(self, ids: list[int]) -> None:
        with self._lock:
            for item_id in ids:
                if item_id in self._items:
                    self._remove(item_id)
                    self.stats.accepted += 1

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
            return len(self._items)

    def pending_bytes(self) -> int:
        with self._lock:
            return self._bytes

    def close(self) -> None:
        pass

    def _over(self, incoming: int) -> bool:
        return (
            len(self._items) + 1 > self.limits.max_messages
            or self._bytes + incoming > self.limits.max_bytes
        )

    def _remove(self, item_id: int) -> None:
        item = self._items.pop(item_id)
        self._bytes -= len(item.payload)
        self._in_flight.discard(item_id)

    def _expire(self) -> None:
        horizon = self._clock() - self.limits.max_age_s
        old = [i for i, item in self._items.items() if item.created < horizon]
        for item_id in old:
            self._remove(item_id)
        self.stats.drop("expired", len(old))
