"""Sensor alerts: devices gone silent or offline, and anomalies the edge reports.

`check_silent` raises `sensor_silent` for a device that sent nothing for
`silent_after_intervals` x its expected interval, and clears it when the
device speaks again; `check_offline` raises `device_offline` for a device
whose newest status is offline (its last will) for `offline_grace_s`, and
clears it when it is back. Both scan the whole fleet, so with `--workers N`
one process runs them (`watch_silent_sensors`).
`on_events` raises `sensor_anomaly` for drift, mismatch, uncertain counts
and faults, at most once per cooldown per device, location and kind; every
process handles the events it committed.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
from collections import deque
from datetime import datetime, timedelta

from cloud.config import ReplenishmentConfig
from cloud.errors import StoreError
from cloud.replenishment.alerts import AlertRaiser
from cloud.timeseries.base import TimeSeriesStore
from vmi.clock import Clock
from vmi.wire import (
    AlertKind,
    DeviceOfflineAlert,
    Event,
    EventKind,
    EventsBatch,
    SensorAnomalyAlert,
    SensorSilentAlert,
)

log = logging.getLogger(__name__)

ANOMALY_KINDS = frozenset(
    {EventKind.DRIFT, EventKind.MISMATCH, EventKind.COUNT_UNCERTAIN, EventKind.FAULT}
)
_RETRY_S = 1.0
_IDLE_S = 0.2  # look at `stop` at least this often


class SensorWatch:
    """Raises sensor alerts from stored levels (silence) and committed events (anomalies)."""

    def __init__(
        self,
        config: ReplenishmentConfig,
        *,
        store: TimeSeriesStore,
        alerts: AlertRaiser,
        clock: Clock,
    ) -> None:
        self._config = config
        self._store = store
        self._alerts = alerts
        self._clock = clock
        self._events: deque[EventsBatch] = deque()
        self._wake = threading.Condition()
        self.turns = 0  # of the `run` loop: it sleeps between them, never spins

    def notice_events(self, batch: EventsBatch) -> None:
        """Queue a stored events message; `run` raises its anomalies soon."""
        if any(e.kind in ANOMALY_KINDS for e in batch.events):
            with self._wake:
                self._events.append(batch)
                self._wake.notify()

    def run(self, stop: threading.Event) -> None:
        """Handle queued events as they come, and check for silence every
        `sensor_check_s` when `watch_silent_sensors` is set, until `stop`."""
        check_every = self._config.sensor_check_s
        watching = self._config.watch_silent_sensors
        next_check = time.monotonic() + check_every if watching else math.inf
        while not stop.is_set():
            self.turns += 1
            with self._wake:
                if not self._events:
                    self._wake.wait(min(max(next_check - time.monotonic(), 0.0), _IDLE_S))
                events = list(self._events)
                self._events.clear()
            if not self._handle(events):
                stop.wait(_RETRY_S)
                continue
            if time.monotonic() >= next_check:
                next_check = time.monotonic() + check_every
                try:
                    self.check_silent()
                    self.check_offline()
                except StoreError as exc:
                    log.warning("sensor check failed (%s); will retry", exc)

    def _handle(self, events: list[EventsBatch]) -> bool:
        """Raise the anomalies of `events`; on a store failure, queue the rest again."""
        for i, batch in enumerate(events):
            try:
                self.on_events(batch)
            except StoreError as exc:
                log.warning("sensor anomaly alerts failed (%s); will retry", exc)
                with self._wake:
                    self._events.extendleft(reversed(events[i:]))
                return False
        return True

    def check_silent(self) -> None:
        """Raise `sensor_silent` for devices quiet too long; clear it when they speak."""
        now = self._clock.now()
        limit = timedelta(
            seconds=self._config.sensor_interval_s * self._config.silent_after_intervals
        )
        forget = now - timedelta(days=self._config.window_days)
        newest = self._store.last_seen(forget)
        active = self._alerts.active_among({site for site, _ in newest})
        for (site, device), last in sorted(newest.items()):
            self._alerts.condition(
                active,
                (site, device),
                AlertKind.SENSOR_SILENT,
                forget < last < now - limit,
                now,
                functools.partial(_silent_alert, site, device, now, (now - last).total_seconds()),
            )

    def check_offline(self) -> None:
        """Raise `device_offline` for devices offline for `offline_grace_s`; clear it when
        they are back online."""
        now = self._clock.now()
        grace = timedelta(seconds=self._config.offline_grace_s)
        states = self._store.device_states(now - timedelta(days=self._config.window_days))
        active = self._alerts.active_among({site for site, _ in states})
        for (site, device), seen in sorted(states.items()):
            self._alerts.condition(
                active,
                (site, device),
                AlertKind.DEVICE_OFFLINE,
                not seen.online and now - seen.at >= grace,
                now,
                functools.partial(_offline_alert, site, device, now, seen.at),
            )

    def on_events(self, batch: EventsBatch) -> None:
        """Raise `sensor_anomaly` for the batch's drift, mismatch and fault events."""
        cooldown = timedelta(seconds=self._config.anomaly_cooldown_s)
        for event in batch.events:
            if event.kind in ANOMALY_KINDS:
                self._alerts.once(
                    (batch.site, f"{batch.device}/{event.location or '-'}/{event.kind.value}"),
                    AlertKind.SENSOR_ANOMALY,
                    event.time,
                    cooldown,
                    functools.partial(_anomaly_alert, batch, event),
                )


def _silent_alert(site: str, device: str, at: datetime, quiet_s: float) -> SensorSilentAlert:
    return SensorSilentAlert(
        site=site,
        device=device,
        at=at,
        message=f"device {device} at {site} sent nothing for {quiet_s:.0f} s",
    )


def _offline_alert(site: str, device: str, at: datetime, since: datetime) -> DeviceOfflineAlert:
    quiet_s = (at - since).total_seconds()
    return DeviceOfflineAlert(
        site=site,
        device=device,
        at=at,
        offline_since=since,
        message=f"device {device} at {site} has been offline for {quiet_s:.0f} s",
    )


def _anomaly_alert(batch: EventsBatch, event: Event) -> SensorAnomalyAlert:
    where = f" at {event.location}" if event.location else ""
    detail = f": {event.detail}" if event.detail else ""
    return SensorAnomalyAlert(
        site=batch.site,
        sku=event.sku,
        device=batch.device,
        location=event.location,
        at=event.time,
        event=event.kind,
        message=f"{event.kind.value} on {batch.device}{where}{detail}",
    )
