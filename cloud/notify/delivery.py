"""Webhook delivery: `WebhookNotifier` sends alerts to the subscribed ERP/CRM endpoints.

    notifier = WebhookNotifier(sql_url, tenants_of=CatalogTenants(catalog))
    notifier.start()
    notifier.notify(alert)   # never blocks: a bounded in-memory queue
    notifier.stop()          # bounded; what is pending stays in SQL for the next start

One dispatcher thread does the rest, with a bounded pool of sender threads:

1. *Intake*: each queued alert goes to the subscriptions that want it
   (`WebhookSubscriptions.match`), one pending `WebhookDelivery` each, due
   now, holding the exact body to send. From then on the delivery survives a
   crash or a restart. The event id comes from the alert's content and an
   (event, subscription) pair is stored once, so an alert reported twice (a
   redelivered MQTT message, two collectors) is delivered once.
2. *Dispatch*: each due delivery is claimed with a conditional UPDATE (so
   several notifiers on one database never send the same attempt twice),
   handed to a free sender thread (`workers` of them), POSTed with a fresh
   signature, and the attempt logged (`WebhookAttempt`)
   with what follows: delivered (2xx), retried later (network error, 408,
   425, 429, 5xx: capped exponential backoff with jitter, `Retry-After`
   honoured; `cloud.notify.retry`), failed (other answers), or given up after
   the last attempt. A delivery claimed by a notifier that died is due again
   when its lease ends.
3. *Wait* for a new alert, a sender to finish, or the next due retry.

Delivery is at-least-once: if the process dies between the receiver's answer
and the log write, the attempt is repeated. Receivers deduplicate on the event
id (`X-VMI-Event-Id`, also the body's `id`).

One slow or hostile receiver cannot stall the others:

* each attempt ends by `deadline_s` in all (DNS, connect, TLS, sending and
  reading the answer), however the receiver trickles its bytes
  (`cloud.notify.transport`); `timeout_s` bounds each phase besides;
* at most `workers` attempts run at once (a bounded thread pool), and at
  most `per_subscription` of them for one subscription (in this process),
  so a subscription whose receiver hangs holds at most that many senders;
  its other due deliveries wait, and the dispatcher passes over them to the
  other subscriptions' (they are not even read while it is at its cap).

Where a webhook may go: `policy` (`cloud.notify.guard.AddressPolicy`)
refuses loopback, private, link-local (cloud metadata), multicast and other
non-public addresses at every connection, DNS rebinding included; its
allowlist serves only subscriptions an admin made. A refused address fails
the delivery (not retried) with the reason in the delivery log.

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
from collections import Counter, deque
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

import httpx
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from cloud.errors import StoreError
from cloud.notify.guard import AddressPolicy
from cloud.notify.ledger import Claimed, DeliveryLedger, add_deliveries
from cloud.notify.models import AttemptOutcome, utcnow
from cloud.notify.payload import build_event, encode_event
from cloud.notify.retry import RetryPolicy
from cloud.notify.sender import Answer, post_event
from cloud.notify.subscriptions import Tenant, WebhookSubscriptions, WebhookTarget
from cloud.notify.transport import guarded_client
from cloud.notify.urls import shown_url
from vmi import __version__
from vmi.wire import Alert

log = logging.getLogger(__name__)

Overflow = Literal["drop_oldest", "drop_newest"]
TenantsOf = Callable[[Alert], Collection[Tenant]]
"""Which tenants ((role, code) pairs) an alert concerns (see `CatalogTenants`)."""

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
        deadline_s: float = 30.0,
        workers: int = 8,
        per_subscription: int = 2,
        policy: AddressPolicy | None = None,
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
        phase of a request (connect, write, read), `deadline_s` a whole attempt.
        `workers`: attempts at once, at most; `per_subscription`: of them for one
        subscription. `policy`: where webhooks may go (default: public addresses
        only, no allowlist). `idle_poll_s`: how often to look for deliveries due
        from elsewhere (another process, an expired lease). `lease_s`: how long a
        claim holds (default `deadline_s` + 30 s).
        """
        if queue_size < 1 or batch_size < 1:
            raise ValueError("queue_size and batch_size must be at least 1")
        if workers < 1 or per_subscription < 1:
            raise ValueError("workers and per_subscription must be at least 1")
        if not deadline_s > 0 or not timeout_s > 0:
            raise ValueError("deadline_s and timeout_s must be positive")
        if overflow not in ("drop_oldest", "drop_newest"):
            raise ValueError(f"overflow is drop_oldest or drop_newest, not {overflow!r}")
        self.subscriptions = WebhookSubscriptions(url)
        self.ledger = DeliveryLedger(self.subscriptions.engine)
        self.retry = retry or RetryPolicy()
        self._tenants_of = tenants_of
        self._timeout_s = timeout_s
        self._deadline_s = deadline_s
        self._workers = workers
        self._per_subscription = per_subscription
        self.policy = policy or AddressPolicy()
        self._queue_size = queue_size
        self._overflow: Overflow = overflow
        self._batch_size = batch_size
        self._idle_poll_s = idle_poll_s
        self._store_retry_s = store_retry_s
        self._lease_s = lease_s if lease_s is not None else deadline_s + 30.0
        self._rng = rng or random.Random()
        self._cond = threading.Condition()
        self._buffer: deque[Alert] = deque()
        self._held: deque[Alert] = deque()  # taken from the buffer, not stored yet
        self._stopping = False
        self._wake = False
        self._stats = NotifierStats()
        self._thread: threading.Thread | None = None
        self._running = 0  # attempts under way
        self._in_flight: Counter[int] = Counter()  # attempts under way per subscription

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

        Queued alerts are stored as deliveries first, and the attempts under way
        finish (bounded by `deadline_s` of the constructor). Pending
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
        http = guarded_client(
            self.policy,
            timeout_s=self._timeout_s,
            headers=headers,
            max_connections=max(self._workers, 10),
        )
        pool = ThreadPoolExecutor(self._workers, thread_name_prefix="webhooks-send")
        with http:
            try:
                self._loop(http, pool)
            finally:
                pool.shutdown(wait=True)  # each attempt ends by its deadline
        self._final_intake()

    def _loop(self, http: httpx.Client, pool: ThreadPoolExecutor) -> None:
        while not self._stopping:
            try:
                self._intake()
                wait = self._dispatch(http, pool)
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
                log.exception("webhooks: unexpected error; again in %.0f s", self._store_retry_s)
                self._sleep(self._store_retry_s)
                continue
            self._wait_for_work(wait)

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

    def _dispatch(self, http: httpx.Client, pool: ThreadPoolExecutor) -> float | None:
        """Hand what is due to free senders; return the seconds until the next is due
        (None: nothing pending, or no sender free: a sender finishing wakes the loop)."""
        with self._cond:
            if self._running >= self._workers:
                return None
            busy = self._busy()
        rows = self.ledger.due(self._batch_size, exclude=busy)
        for delivery_id, claim, subscription_id in rows:
            if self._stopping:
                return 0.0
            if self._buffer:  # new alerts are stored before older retries go out
                self._intake()
            with self._cond:
                if self._running >= self._workers:
                    return None
                if (
                    subscription_id is not None
                    and self._in_flight[subscription_id] >= self._per_subscription
                ):
                    continue  # at its cap: the others go first, it waits its turn
            claimed = self.ledger.claim(delivery_id, claim, self._lease_s)
            if claimed is not None:
                self._submit(http, pool, claimed)
        if len(rows) == self._batch_size:
            return 0.0
        with self._cond:
            busy = self._busy()
        first = self.ledger.next_due(exclude=busy)
        return None if first is None else max(0.0, (first - utcnow()).total_seconds())

    def _busy(self) -> set[int]:
        """Subscriptions with as many attempts under way as they may have (hold `_cond`)."""
        return {sub for sub, n in self._in_flight.items() if n >= self._per_subscription}

    def _submit(self, http: httpx.Client, pool: ThreadPoolExecutor, delivery: Claimed) -> None:
        with self._cond:
            self._running += 1
            if delivery.subscription_id is not None:
                self._in_flight[delivery.subscription_id] += 1
        try:
            pool.submit(self._send, http, delivery)
        except RuntimeError:  # the pool is shut down: the lease ends, it is due again
            self._finished(delivery)

    def _send(self, http: httpx.Client, delivery: Claimed) -> None:
        """One attempt, on a sender thread; whatever happens, the slot is freed."""
        try:
            self._attempt(http, delivery)
        except (SQLAlchemyError, StoreError) as exc:  # the lease ends; it is tried again
            self._count(store_errors=1)
            log.warning("webhooks: database unavailable while sending (%s)", exc)
        except Exception:  # a bug must not kill the sender silently
            self._count(store_errors=1)
            log.exception("webhooks: unexpected error while sending")
        finally:
            self._finished(delivery)

    def _finished(self, delivery: Claimed) -> None:
        with self._cond:
            self._running -= 1
            sub = delivery.subscription_id
            if sub is not None:
                self._in_flight[sub] -= 1
                if self._in_flight[sub] <= 0:
                    del self._in_flight[sub]
            self._wake = True
            self._cond.notify_all()

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
        answer = post_event(http, target, delivery.event, number, deadline_s=self._deadline_s)
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
