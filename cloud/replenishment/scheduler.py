"""Which (site, SKU)s the replenisher evaluates, and when.

Ingest touches keys as it commits levels and never waits for evaluation;
touches that arrive while a round runs are merged, so each key is evaluated
at most once a round. Urgent keys come first: keys never evaluated by this
process, and keys whose last inventory position was near their reorder point,
so the reading that crosses it is acted on at once. Every other key is
evaluated at most once per `evaluate_every_s` and waits until then. A round
takes at most `chunk` keys, so an urgent key never waits behind a long round.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from cloud.replenishment.decide import Decision

Key = tuple[str, str]
"""(site, SKU)."""

NEAR = 1.5
"""A position within this many reorder points (plus one unit) is urgent on every reading."""
CHUNK = 16


class Scheduler:
    """Touched keys in, the next round's keys out. Thread-safe."""

    def __init__(
        self,
        *,
        evaluate_every_s: float,
        last: Callable[[Key], Decision | None],
        chunk: int = CHUNK,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """`last`: a key's latest decision in this process (None: never evaluated here)."""
        self._every_s = evaluate_every_s
        self._last = last
        self._chunk = chunk
        self._monotonic = monotonic
        self._touched: set[Key] = set()
        self._due_at: dict[Key, float] = {}  # monotonic time of next evaluation
        self._wake = threading.Condition()

    @property
    def waiting(self) -> int:
        """Keys touched and not yet taken into a round."""
        with self._wake:
            return len(self._touched)

    def touch(self, keys: Iterable[Key]) -> None:
        """Mark keys as having new levels; a round takes them soon."""
        with self._wake:
            self._touched.update(keys)
            self._wake.notify()

    def retry(self, keys: Iterable[Key]) -> None:
        """Put back keys whose round failed: they are due again at once."""
        keys = list(keys)
        with self._wake:
            for key in keys:
                self._due_at.pop(key, None)
            self._touched.update(keys)

    def next_round(self, wait_s: float = 0.2) -> list[Key]:
        """The next round's keys, taken out of the touched set; [] after `wait_s` of nothing."""
        with self._wake:
            keys = self._take()
            if not keys:
                self._wake.wait(0.05 if self._touched else wait_s)
                keys = self._take()
            return keys

    def _take(self) -> list[Key]:
        if not self._touched:
            return []
        now = self._monotonic()
        chosen = sorted(k for k in self._touched if self._urgent(k))[: self._chunk]
        if not chosen:
            due = (k for k in self._touched if self._due_at.get(k, 0.0) <= now)
            chosen = sorted(due)[: self._chunk]
        self._touched.difference_update(chosen)
        for key in chosen:
            self._due_at[key] = now + self._every_s
        return chosen

    def _urgent(self, key: Key) -> bool:
        last = self._last(key)
        return last is None or last.inventory_position <= NEAR * last.reorder_point + 1
