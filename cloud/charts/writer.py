"""Points that only feed the charts (order changes, alerts), written off the
decision path.

An order lives in SQL and an alert on MQTT; their `order_event` and `alert`
points only draw them on the boards. Writing them inline would put an
InfluxDB round trip between placing an order and publishing its alert, so a
background thread writes them instead. The queue is bounded: when the store
is down for long, the oldest chart points go first (counted), never ingest.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Sequence

from cloud.errors import StoreError
from cloud.timeseries.base import Point, TimeSeriesStore

log = logging.getLogger(__name__)

_RETRY_S = 2.0


class ChartWriter:
    """Writes queued points in the background; `put` never blocks."""

    def __init__(self, store: TimeSeriesStore, *, max_points: int = 10_000) -> None:
        self._store = store
        self._queue: deque[Point] = deque()
        self._max = max_points
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chart-writer", daemon=True)
        self.written = 0
        self.dropped = 0

    def put(self, points: Sequence[Point]) -> None:
        """Queue points for writing; the oldest go when the queue is full."""
        with self._wake:
            for point in points:
                if len(self._queue) >= self._max:
                    self._queue.popleft()
                    self.dropped += 1
                self._queue.append(point)
            self._wake.notify()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Write what is queued (within `timeout_s`), then stop."""
        self._stop.set()
        with self._wake:
            self._wake.notify()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._queue and not self._stop.is_set():
                    self._wake.wait()
                batch = list(self._queue)
                self._queue.clear()
            if not batch:
                return  # stopping, nothing left
            try:
                self._store.write_points(batch)
                self.written += len(batch)
            except StoreError as exc:
                log.warning("chart points not written (%s); retrying", exc)
                with self._wake:
                    self._queue.extendleft(reversed(batch))
                    while len(self._queue) > self._max:
                        self._queue.popleft()
                        self.dropped += 1
                if self._stop.wait(_RETRY_S):
                    return
