"""Alerts: built as their kind's typed model, raised once per episode, published.

A condition (a shelf at zero, a silent sensor) holds for many evaluations,
and several processes evaluate the same shelves: `AlertRaiser.condition`
publishes an alert when its condition starts, once across processes
(`AlertState`'s insert decides), and forgets it when it ends. Point events
(sensor anomalies) use `AlertRaiser.once` with a cooldown instead.

With a `record` (the webhook notifier's), an alert's webhook deliveries are
written in the transaction that records the alert (the outbox pattern): a
crash between recording the alert and sending it loses no webhook, and a
failure to write them records no alert, so a later round raises it again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypedDict

from sqlalchemy.orm import Session

from cloud.replenishment.alert_state import AlertState
from cloud.replenishment.decide import Decision
from cloud.replenishment.metrics import ReplenisherStats
from cloud.replenishment.policy import ReplenishmentRule
from cloud.replenishment.projection import Projection
from vmi.wire import Alert, AlertKind

log = logging.getLogger(__name__)

Record = Callable[[Session, Alert], object]
"""Writes an alert's webhook deliveries in a transaction (`WebhookNotifier.record`)."""

ActiveAlerts = set[tuple[str, str, str]]
"""(site, subject, kind) of alerts active at the start of a round (`AlertState.active_among`)."""


class StockFigures(TypedDict):
    """The fields every stock alert model shares: the projection behind the alert."""

    site: str
    sku: str
    at: datetime
    on_hand: float
    inventory_position: float
    rate_per_day: float
    days_of_cover: float | None
    stockout_days_p10: float | None
    reorder_point: float
    reorder_days: float


def stock_figures(p: Projection, d: Decision, rule: ReplenishmentRule) -> StockFigures:
    """The projection behind a stock alert, rounded for people to read."""
    return StockFigures(
        site=p.site,
        sku=p.sku,
        at=p.at,
        on_hand=p.on_hand,
        inventory_position=d.inventory_position,
        rate_per_day=round(p.rate_per_day, 3),
        days_of_cover=_round(p.days_of_cover),
        stockout_days_p10=_round(p.stockout_days_p10),
        reorder_point=round(d.reorder_point, 3),
        reorder_days=rule.lead_time_days,
    )


def _round(days: float | None) -> float | None:
    return None if days is None else round(days, 3)


class AlertRaiser:
    """Publishes alerts, raising conditions once per episode through `AlertState`."""

    def __init__(
        self,
        state: AlertState,
        publish: Callable[[Alert], None],
        stats: ReplenisherStats,
        *,
        record: Record | None = None,
    ) -> None:
        """`publish`: sends an alert once it is recorded (MQTT, charts); `record`: writes
        its webhook deliveries in the recording transaction."""
        self._state = state
        self._publish = publish
        self._stats = stats
        self._record = record

    def active_among(self, sites: set[str]) -> ActiveAlerts:
        """The active alerts of these sites, read once for a round."""
        return self._state.active_among(sites)

    def publish(self, alert: Alert) -> None:
        """Publish an alert already recorded (a reorder: with its order)."""
        self._publish(alert)
        self._stats.alerts_published += 1

    def record_in(self, session: Session, alert: Alert) -> None:
        """Write `alert`'s webhook deliveries in `session`'s transaction (if any record)."""
        if self._record is not None:
            self._record(session, alert)

    def condition(
        self,
        active: ActiveAlerts,
        subject: tuple[str, str],
        kind: AlertKind,
        holds: bool,
        at: datetime,
        alert: Callable[[], Alert],
    ) -> None:
        """Alert when a condition starts (once, across processes); forget it when it ends.

        `subject` is (site, SKU or device). `active` (read once a round)
        spares a database write for every condition that neither starts nor
        ends; the SQL insert still decides who raises, so a stale read costs
        at most a no-op write. `alert` builds the alert only when it is raised.
        """
        site, what = subject
        was_active = (site, what, kind.value) in active
        if not holds:
            if was_active:
                self._state.clear(site, what, kind.value)
        elif not was_active:
            self._raise(subject, kind, at, alert)

    def once(
        self,
        subject: tuple[str, str],
        kind: AlertKind,
        at: datetime,
        cooldown: timedelta,
        alert: Callable[[], Alert],
    ) -> bool:
        """Publish unless the same (site, subject, kind) was raised within `cooldown`."""
        return self._raise(subject, kind, at, alert, cooldown=cooldown)

    def _raise(
        self,
        subject: tuple[str, str],
        kind: AlertKind,
        at: datetime,
        alert: Callable[[], Alert],
        *,
        cooldown: timedelta | None = None,
    ) -> bool:
        """Record the alert (with its webhooks) if this call raises it, then publish it.

        The alert is built only inside the transaction that raises it.
        """
        built: list[Alert] = []

        def record(session: Session) -> None:
            built.append(alert())
            self.record_in(session, built[0])

        site, what = subject
        if not self._state.raise_once(site, what, kind.value, at, cooldown=cooldown, within=record):
            return False
        self.publish(built[0])
        return True
