"""The collector writes its own health to the time-series store.

Every `interval_s` a `HealthReporter` takes the collector's counters and
writes one `collector_health` point and one `collector_rejects` point per
reason (see docs/data-model.md), so the boards show every collector's ingest
rate, lag and write latency next to the data. Rates and the mean latency are
over the interval since the previous report.

A report that cannot be written (store down) is counted and skipped: the
next one carries the cumulative counters anyway, and health must never hold
up ingest.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from cloud.errors import StoreError
from cloud.ingest.collector import CollectorStats
from cloud.timeseries.base import Point, TimeSeriesStore
from cloud.timeseries.measurements import COLLECTOR_HEALTH, COLLECTOR_REJECTS
from vmi.clock import Clock

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Mark:
    """The counters at the previous report."""

    monotonic_s: float
    readings_written: int
    writes: int
    write_seconds: float


def health_points(
    collector: str,
    stats: CollectorStats,
    *,
    in_flight: int,
    at: datetime,
    previous: _Mark | None,
    now_s: float,
) -> tuple[list[Point], _Mark]:
    """The points of one report and the mark for the next. Pure."""
    mark = _Mark(now_s, stats.readings_written, stats.writes, stats.write_seconds)
    rate = latency_ms = None
    if previous is not None and now_s > previous.monotonic_s:
        rate = (mark.readings_written - previous.readings_written) / (now_s - previous.monotonic_s)
        writes = mark.writes - previous.writes
        if writes > 0:
            latency_ms = 1000.0 * (mark.write_seconds - previous.write_seconds) / writes
    tags = {"collector": collector}
    points = [
        COLLECTOR_HEALTH.point(
            tags=tags,
            fields={
                "messages": stats.messages,
                "readings_written": stats.readings_written,
                "events_written": stats.events_written,
                "rejected": sum(stats.rejected.values()),
                "write_retries": stats.write_retries,
                "store_failures": sum(stats.store_failures.values()),
                "store_error": stats.store_error,
                "in_flight": in_flight,
                "lag_s": stats.lag_s,
                "write_latency_ms": latency_ms,
                "ingest_rate": rate,
                "sequence_gaps": stats.sequences.gaps,
                "sequence_replays": stats.sequences.replays,
            },
            time=at,
        )
    ]
    points += [
        COLLECTOR_REJECTS.point(tags={**tags, "reason": reason}, fields={"count": n}, time=at)
        for reason, n in sorted(stats.rejected.items())
    ]
    return points, mark


class HealthReporter:
    """Writes a collector's health every `interval_s` until stopped."""

    def __init__(
        self,
        collector_id: str,
        stats: CollectorStats,
        in_flight: Callable[[], int],
        *,
        store: TimeSeriesStore,
        clock: Clock,
        interval_s: float,
    ) -> None:
        self._id = collector_id
        self._stats = stats
        self._in_flight = in_flight
        self._store = store
        self._clock = clock
        self._interval_s = interval_s
        self._previous: _Mark | None = None
        self.reports = 0
        self.failures = 0

    def report(self) -> None:
        """Write one report now (also called once more at shutdown)."""
        points, mark = health_points(
            self._id,
            self._stats,
            in_flight=self._in_flight(),
            at=self._clock.now(),
            previous=self._previous,
            now_s=time.monotonic(),
        )
        self._previous = mark
        try:
            self._store.write_points(points)
            self.reports += 1
        except StoreError as exc:
            self.failures += 1
            log.warning("could not write collector health (%s); skipped", exc)

    def run(self, stop: threading.Event) -> None:
        """Report every interval until `stop` is set."""
        while not stop.wait(self._interval_s):
            self.report()
