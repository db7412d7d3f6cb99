"""An outbox in memory: bounded and counted like the disk one, lost on a crash."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from edge_agent.outbox.base import OutboxBookkeeping, OutboxItem, OutboxLimits, OverflowPolicy


class MemoryOutbox(OutboxBookkeeping):
    def __init__(
        self, limits: OutboxLimits | None = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(limits, clock)
        self._items: OrderedDict[int, OutboxItem] = OrderedDict()
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
            self._count += 1
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

    def close(self) -> None:
        pass

    def _remove(self, item_id: int) -> None:
        self._forget(item_id, len(self._items.pop(item_id).payload))

    def _expire(self) -> None:
        horizon = self._clock() - self.limits.max_age_s
        old = [i for i, item in self._items.items() if item.created < horizon]
        for item_id in old:
            self._remove(item_id)
        self.stats.drop("expired", len(old))
