"""The live stream: level changes and new alerts as server-sent events.

A `LiveFeed` polls the time-series store every `stream_poll_s` seconds for
one principal and yields only what that principal may see, re-reading its
view (and checking its key is still valid) at every poll: a revoked key's
stream ends at the next poll, and a changed agreement shows at once.

Events:

* `level`: a `LevelPublic`, first for every current level, then whenever a
  series has a newer point;
* `alert`: an `AlertPublic`, for each alert stored after the stream opened.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta

from fastapi.sse import ServerSentEvent
from starlette.concurrency import run_in_threadpool

from cloud.api import visible
from cloud.api.context import ApiContext
from cloud.api.schemas.alerts import AlertPublic
from cloud.api.schemas.levels import LevelPublic
from cloud.api.security import Principal
from cloud.api.tenancy import View, view_of
from cloud.timeseries.base import Point

# Alerts may be stored a little after their own time: look back this far.
_ALERT_MARGIN = timedelta(minutes=5)

SeriesKey = tuple[str, str, str, str, str]
AlertKey = tuple[datetime, tuple[tuple[str, str], ...]]


class LiveFeed:
    """What one stream has sent so far, and how to find what is new."""

    def __init__(
        self,
        context: ApiContext,
        principal: Principal,
        site: str | None,
        still_valid: Callable[[], bool] | None = None,
    ) -> None:
        """`still_valid`: whether the caller may go on listening (default: its API key is
        neither revoked nor expired; the portal passes its session's check)."""
        self.context = context
        self.principal = principal
        self.site = site
        self._still_valid = still_valid or (
            lambda: context.keys.is_valid(principal, context.clock.now())
        )
        self._levels: dict[SeriesKey, tuple[datetime, float]] = {}
        self._alerts: dict[AlertKey, datetime] = {}
        self._alert_floor: datetime | None = None

    def _view(self) -> View | None:
        """The principal's view now; None once its key (or session) is no longer valid."""
        if not self._still_valid():
            return None
        with self.context.session() as session:
            return view_of(self.principal, session)

    def poll(self, *, first: bool = False) -> list[ServerSentEvent] | None:
        """The events since the last poll (blocking); None when the stream must end."""
        view = self._view()
        if view is None:
            return None
        events: list[ServerSentEvent] = []
        store = self.context.store
        for point in visible.latest_levels(store, view, self.site):
            key = (point.site, point.device, point.location, point.sku, point.source)
            seen = (point.time, point.quantity)
            if self._levels.get(key) != seen:
                self._levels[key] = seen
                events.append(ServerSentEvent(event="level", data=LevelPublic.of(point)))
        now = self.context.clock.now()
        floor = self._alert_floor or now - _ALERT_MARGIN
        for alert in visible.alerts(store, view, floor, None, self.site):
            alert_key = _alert_key(alert)
            if alert_key not in self._alerts:
                self._alerts[alert_key] = alert.time
                if not first:  # the stream tells of alerts raised after it opened
                    events.append(ServerSentEvent(event="alert", data=AlertPublic.of(alert)))
        self._alert_floor = max(floor, now - _ALERT_MARGIN)
        self._alerts = {k: t for k, t in self._alerts.items() if t >= self._alert_floor}
        return events

    async def events(
        self, *, max_events: int | None, max_seconds: float | None
    ) -> AsyncIterator[ServerSentEvent]:
        """Events until a bound is reached, the key stops being valid, or the client goes."""
        settings = self.context.settings
        limit_s = min(max_seconds or settings.stream_max_s, settings.stream_max_s)
        deadline = time.monotonic() + limit_s
        sent = 0
        metrics = self.context.metrics
        metrics.add("streams_open", 1)
        try:
            first = True
            while True:
                batch = await run_in_threadpool(self.poll, first=first)
                first = False
                if batch is None:
                    return
                for event in batch:
                    yield event
                    sent += 1
                    metrics.add("stream_events", 1)
                    if max_events is not None and sent >= max_events:
                        return
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                await asyncio.sleep(min(settings.stream_poll_s, remaining))
        finally:
            metrics.add("streams_open", -1)


def _alert_key(point: Point) -> AlertKey:
    return (point.time, point.tags)
