"""Webhook delivery: `WebhookNotifier` sends alerts to the subscribed ERP/CRM endpoints.

    notifier = WebhookNotifier(sql_url, tenants_of=CatalogTenants(catalog))
    notifier.start()
    notifier.notify(alert)   # never blocks: a bounded in-memory queue
    notifier.stop()          # bounded; what is pending stays in SQL for the next start

One worker thread does the rest, in three steps:

1. *Intake*: each queued alert goes to the subscriptions that want it
   (`WebhookSubscriptions.match`), one pending `WebhookDelivery` each, due
   now, holding the exact body to send. From then on the delivery survives a
   crash or a restart. The event id comes from the alert's content and an
   (event, subscription) pair is stored once, so an alert reported twice (a
   redelivered MQTT message, two collectors) is delivered once.
2. *Dispatch*: each due delivery is claimed with a conditional UPDATE (so
   several notifiers on one database never send the same attempt twice),
   POSTed with a fresh signature, and the attempt logged (`WebhookAttempt`)
   with what follows: delivered (2xx), retried later (network error, 408,
   425, 429, 5xx: capped exponential backoff with jitter, `Retry-After`
   honoured; `cloud.notify.retry`), failed (other answers), or given up after
   the last attempt. A delivery claimed by a notifier that died is due again
   when its lease ends.
3. *Wait* for a new alert or the next due retry.

Delivery is at-least-once: if the process dies between the receiver's answer
and the log write, the attempt is repeated. Receivers deduplicate on the event
id (`X-VMI-Event-Id`, also the body's `id`). One worker sends one request at
a time: a receiver that answers slowly delays the others by up to `timeout_s`.

Overflow: the queue holds `queue_size` alerts; a full queue drops the oldest
(`overflow="drop_oldest"`, the default) or refuses the new alert
(`"drop_newest"`). Either is counted (`stats.dropped_overflow`) and logged.
Secrets never reach a log line or the delivery log; URLs are logged without
user info or query string.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

import httpx
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from cloud.errors import StoreError
from cloud.notify.ledger import Claimed, DeliveryLedger, add_deliveries
from cloud.notify.models import AttemptOutcome, utcnow
from cloud.notify.payload import build_event, encode_event
from cloud.notify.retry import RetryPolicy
from cloud.notify.sender import Answer, post_event, shown_url
from cloud.notify.subscriptions import WebhookSubscriptions, WebhookTarget
from vmi import __version__
from vmi.wire import Alert

log = logging.getLogger(__name__)

Overflow = Literal["drop_oldest", "drop_newest"]
TenantsOf = Callable[[Alert], Collection[str]]
"""Which supplier and customer codes an alert concerns (see `CatalogTenants`)."""

_INTAKE_TRIES = 3


@dataclass
class NotifierStats:
    """What the notifier did since it was made (counters only grow)."""

    notified: int = 0  # alerts queued by notify()
    dropped_overflow: int = 0  # alerts dropped because the queue was full
    dropped_stopped: int = 0  # alerts handed over after stop()
    unmatched: int = 0  # alerts no subscription wanted
    deliveries_created: int = 0
    attempts: int = 0
    delivered: int = 0
    retries_scheduled: int = 0
    failed: int = 0
    given_up: int = 0
    cancelled: int = 0
    store_errors: int = 0  # database (or catalog) unavailable; the worker waited and went on


class WebhookNotifier:
    """Signs and POSTs alerts to webhook subscriptions, with retries, logging every attempt."""

    def __init__(
        self,
        url: str | Engine,
        *,
        tenants_of: TenantsOf | None = None,
        retry: RetryPolicy | None = None,
        timeout_s: float = 10.0,
        queue_size: int = 1000,
        overflow: Overflow = "drop_oldest",
        batch_size: int = 50,
        idle_poll_s: float = 5.0,
        store_retry_s: float = 5.0,
        lease_s: float | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """`url`: the cloud's SQL database (an SQLAlchemy URL or engine); the tables are
        created if missing (`StoreUnavailable` if it cannot be reached).

        `tenants_of`: which tenant codes an alert concerns, for subscriptions
        with a tenant filter (usually `CatalogTenants(catalog)`); without it
        only subscriptions with no tenant filter match. `timeout_s` bounds each
        phase of a request (connect, write, read). `idle_poll_s`: how often to
        look for deliveries due from elsewhere (another process, an expired
        lease). `lease_s`: how long a claim holds (default 3 x timeout + 30 s).
        """
        if queue_size < 1 or batch_size < 1:
            raise ValueError("queue_size and batch_size must be at least 1")
        if overflow not in ("drop_oldest", "drop_newest"):
            raise ValueError(f"overflow is drop_oldest or drop_newest, not {overflow!r}")
        self.subscriptions = WebhookSubscriptions(url)
        self.ledger = DeliveryLedger(self.subscriptions.engine)
        self.retry = retry or RetryPolicy()
        self._tenants_of = tenants_of
        self._timeout_s = timeout_s
        self._queue_size = queue_size
        self._overflow: Overflow = overflow
        self._batch_size = batch_size
        self._idle_poll_s = idle_poll_s
        self._store_retry_s = store_retry_s
        self._lease_s = lease_s if lease_s is not None else 3 * timeout_s + 30.0
        self._rng = rng or random.Random()
        self._cond = threading.Condition()
        self._buffer: deque[Alert] = deque()
        self._held: deque[Alert] = deque()  # taken from the buffer, not stored yet
        self._stopping = False
        self._wake = False
        self._stats = NotifierStats()
        self._thread: threading.Thread | None = None

    # -- public face ----------------------------------------------------------

    @property
    def stats(self) -> NotifierStats:
        """A snapshot of the counters."""
        with self._cond:
            return replace(self._stats)

    @property
    def queued(self) -> int:
        """Alerts waiting in memory to become deliveries."""
        with self._cond:
            return len(self._buffer) + len(self._held)

    def start(self) -> None:
        """Start the worker; it resumes the deliveries pending in the database."""
        with self._cond:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="webhooks", daemon=True)
        self._thread.start()

    def notify(self, alert: Alert) -> bool:
        """Queue `alert` for the subscriptions that want it; never blocks.

        False if it was not queued (full queue with drop_newest, or stopped).
        With drop_oldest the oldest queued alert makes room, and this is True.
        """
        dropped: Alert | None = None
        with self._cond:
            if self._stopping:
                self._stats.dropped_stopped += 1
                queued = False
            elif len(self._buffer) >= self._queue_size and self._overflow == "drop_newest":
                self._stats.dropped_overflow += 1
                queued, dropped = False, alert
            else:
                if len(self._buffer) >= self._queue_size:
                    self._stats.dropped_overflow += 1
                    dropped = self._buffer.popleft()
                self._buffer.append(alert)
                self._stats.notified += 1
                self._cond.notify()
                queued = True
        if dropped is not None:
            log.warning(
                "webhook queue full (%d alerts): dropped the %s one, %s at %s",
                self._queue_size,
                "oldest" if queued else "new",
                dropped.kind.value,
                dropped.site,
            )
        elif not queued:
            log.warning("webhooks stopped: %s alert at %s not sent", alert.kind.value, alert.site)
        return queued

    def record(self, session: Session, alert: Alert) -> int:
        """Write `alert`'s deliveries in the caller's transaction `session` (the outbox
        pattern: they commit with whatever records the alert, or not at all); returns
        how many. The worker sends them once the transaction commits (`wake`).

        `session` must be on this notifier's database (the cloud's SQL database).
        """
        tenants = self._tenants_of(alert) if self._tenants_of is not None else ()
        targets = [t.id for t in self.subscriptions.match(alert, tenants)]
        if not targets:
            self._count(unmatched=1)
            return 0
        event = build_event(alert)
        body = encode_event(event).decode("utf-8")
        created = add_deliveries(session, event["id"], event["type"], alert.site, body, targets)
        self._count(notified=1, deliveries_created=created)
        return created

    def wake(self) -> None:
        """Look for due deliveries now (after a transaction that `record`ed some committed)."""
        with self._cond:
            self._wake = True
            self._cond.notify()

    def stop(self, timeout_s: float = 15.0) -> bool:
        """Stop within about `timeout_s`; True if the worker ended.

        Queued alerts are stored as deliveries first, and a request under way
        finishes (bounded by `timeout_s` of the constructor). Pending
        deliveries stay in the database and resume at the next start.
        """
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread = self._thread
        if thread is None:  # never started: still keep what was queued
            self._final_intake()
            ended = True
        else:
            thread.join(timeout_s)
            ended = not thread.is_alive()
        if ended:
            self.subscriptions.close()
        else:
            log.warning("webhook worker still busy after %.0f s; leaving it", timeout_s)
        return ended

    # -- the worker -------------------------------------------------------------

    def _run(self) -> None:
        headers = {"User-Agent": f"vmi-webhooks/{__version__}"}
        timeout = httpx.Timeout(self._timeout_s)
        with httpx.Client(timeout=timeout, follow_redirects=False, headers=headers) as http:
            while not self._stopping:
                try:
                    self._intake()
                    wait = self._dispatch(http)
                except (SQLAlchemyError, StoreError) as exc:
                    self._count(store_errors=1)
                    log.warning(
                        "webhooks: database unavailable (%s); again in %.0f s",
                        exc,
                        self._store_retry_s,
                    )
                    self._sleep(self._store_retry_s)
                    continue
                except Exception:  # a bug must not end the worker silently
                    self._count(store_errors=1)
                    log.exception(
                        "webhooks: unexpected error; again in %.0f s", self._store_retry_s
                    )
                    self._sleep(self._store_retry_s)
                    continue
                self._wait_for_work(wait)
        self._final_intake()

    def _final_intake(self) -> None:
        try:
            self._intake()  # what was queued is sent at the next start
        except (SQLAlchemyError, StoreError) as exc:
            log.error("webhooks: %d queued alerts lost at stop: %s", self.queued, exc)

    def _sleep(self, seconds: float) -> None:
        with self._cond:
            self._cond.wait_for(lambda: self._stopping, timeout=seconds)

    def _wait_for_work(self, next_due_s: float | None) -> None:
        wait = self._idle_poll_s if next_due_s is None else min(next_due_s, self._idle_poll_s)
        with self._cond:
            self._cond.wait_for(
                lambda: self._stopping or bool(self._buffer) or self._wake, timeout=wait
            )
            self._wake = False

    def _count(self, **counts: int) -> None:
        with self._cond:
            for name, n in counts.items():
                setattr(self._stats, name, getattr(self._stats, name) + n)

    # -- intake: alerts to deliveries --------------------------------------------

    def _intake(self) -> None:
        while True:
            with self._cond:
                if not self._held and self._buffer:
                    self._held.append(self._buffer.popleft())
                if not self._held:
                    return
                alert = self._held[0]
            self._store(alert)  # raises if the database is down: the alert stays held
            with self._cond:
                self._held.popleft()

    def _store(self, alert: Alert) -> None:
        tenants = self._tenants_of(alert) if self._tenants_of is not None else ()
        event = build_event(alert)
        body = encode_event(event).decode("utf-8")
        for attempt in range(_INTAKE_TRIES):
            targets = [t.id for t in self.subscriptions.match(alert, tenants)]
            if not targets:
                self._count(unmatched=1)
                return
            try:
                created = self.ledger.add(event["id"], event["type"], alert.site, body, targets)
            except IntegrityError:  # a concurrent add, or a subscription deleted meanwhile
                if attempt == _INTAKE_TRIES - 1:
                    raise
                continue
            self._count(deliveries_created=created)
            return

    # -- dispatch: deliveries to HTTP requests -------------------------------------

    def _dispatch(self, http: httpx.Client) -> float | None:
        """Send what is due; return the seconds until the next is due (None: nothing pending)."""
        rows = self.ledger.due(self._batch_size)
        for delivery_id, claim in rows:
            if self._stopping:
                return 0.0
            if self._buffer:  # new alerts are stored before older retries go out
                self._intake()
            claimed = self.ledger.claim(delivery_id, claim, self._lease_s)
            if claimed is not None:
                self._attempt(http, claimed)
        if len(rows) == self._batch_size:
            return 0.0
        first = self.ledger.next_due()
        return None if first is None else max(0.0, (first - utcnow()).total_seconds())

    def _attempt(self, http: httpx.Client, delivery: Claimed) -> None:
        target = None
        if delivery.subscription_id is not None:
            target = self.subscriptions.target(delivery.subscription_id)
        if target is None:
            self.ledger.cancel(delivery.id, "subscription revoked or deleted")
            self._count(cancelled=1)
            return
        number = delivery.attempts + 1
        started, t0 = utcnow(), time.monotonic()
        answer = post_event(http, target, delivery.event, number)
        duration_ms = (time.monotonic() - t0) * 1000.0
        next_at: datetime | None = None
        if answer.delivered:
            outcome = AttemptOutcome.DELIVERED
        elif not answer.retryable:
            outcome = AttemptOutcome.FAILED
        elif number >= self.retry.max_attempts:
            outcome = AttemptOutcome.GIVEN_UP
        else:
            outcome = AttemptOutcome.RETRY
            delay = self.retry.delay_s(number, answer.retry_after_s, self._rng)
            next_at = utcnow() + timedelta(seconds=delay)
        self.ledger.record(delivery.id, number, started, duration_ms, answer, outcome, next_at)
        self._count(
            attempts=1,
            delivered=int(outcome is AttemptOutcome.DELIVERED),
            retries_scheduled=int(outcome is AttemptOutcome.RETRY),
            failed=int(outcome is AttemptOutcome.FAILED),
            given_up=int(outcome is AttemptOutcome.GIVEN_UP),
        )
        _log_attempt(delivery, target, number, answer, outcome, next_at)


def _log_attempt(
    delivery: Claimed,
    target: WebhookTarget,
    number: int,
    answer: Answer,
    outcome: AttemptOutcome,
    next_at: datetime | None,
) -> None:
    where = (
        f"event {delivery.event.event_id} to subscription #{target.id} ({shown_url(target.url)})"
    )
    if outcome is AttemptOutcome.DELIVERED:
        log.info("webhook %s delivered (attempt %d, HTTP %s)", where, number, answer.status)
    elif outcome is AttemptOutcome.RETRY and next_at is not None:
        when = next_at.isoformat(timespec="seconds")
        log.warning(
            "webhook %s: attempt %d failed (%s); next at %s", where, number, answer.error, when
        )
    else:
        what = "given up" if outcome is AttemptOutcome.GIVEN_UP else "failed"
        log.error("webhook %s %s after attempt %d: %s", where, what, number, answer.error)
