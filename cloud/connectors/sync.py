"""`ConnectorSync`: our orders into the other side's ERP/CRM, and its changes back.

    sync = ConnectorSync(config.connectors, orders=book, url=sql_url, catalog=catalog)
    sync.start()      # one worker thread per configured link
    sync.stop()       # bounded; what is pending stays in SQL for the next start

Each link's worker repeats, until stopped:

1. *Plan*: the orders the link wants (by supplier, customer, site) that owe
   it a step (`cloud.connectors.plan.needed_steps`) get that step stored,
   pending and due now: create for a new order, confirm and ship as it moves,
   cancel if it was cancelled after its creation was planned. Orders moved
   by the API process are seen within `idle_s`, with no message between the
   processes: the orders table is the source.
2. *Send*: each due step whose predecessors finished (`readiness`) is
   claimed (a conditional UPDATE, so several service processes never send
   the same attempt) and carried out through the link's connector; the
   attempt is logged with what follows: done; retried later (a retryable
   `ConnectorError`: unreachable, 5xx, 429 honouring its wait, credentials
   refused) with capped exponential backoff (`cloud.notify.retry`); failed
   (the system refused the data: `vmi connector retry` sends it again once
   fixed); unsupported (the system has no such step). A create stores the
   remote record on our order (`order_remote`), and it is idempotent (the
   connector looks our reference up first), so a create whose answer was
   lost, or a crash between the answer and the log, makes no second record.
3. *Reconcile* (`pull`): every `poll_s`, and at once for records a remote
   webhook named (`ConnectorLedger.check_soon`), the remote records of open
   orders are read back; a confirmation, shipment, receipt or cancellation
   made in the other system moves our order (`catch_up`), and the matching
   step is recorded as done, not sent back.

Connectors reach the network through the webhooks' guarded client: loopback,
private, link-local and metadata addresses are refused at every connection
(DNS rebinding included) unless `allow_private` lists them. A connector that
cannot be opened (a secret file missing) is retried every `idle_s`; its steps
wait in SQL.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import httpx
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from cloud.catalog import Catalog
from cloud.catalog.schema import SiteSpec
from cloud.connectors.base import (
    Connector,
    OrderChange,
    OrderSpec,
    RemoteRef,
    RemoteStatus,
    reference_for,
)
from cloud.connectors.errors import ConnectorError, RateLimited, UnsupportedChange
from cloud.connectors.ledger import ClaimedStep, ConnectorLedger, RemoteInfo
from cloud.connectors.models import StepOutcome
from cloud.connectors.plan import CHANGE, STEP_FOR, Ready, catch_up, conflict, readiness
from cloud.connectors.registry import open_connector
from cloud.connectors.settings import ConnectorLink, ConnectorsConfig
from cloud.errors import StoreError
from cloud.notify.guard import AddressPolicy
from cloud.notify.models import open_engine, utcnow
from cloud.notify.retry import RetryPolicy
from cloud.notify.transport import attempt_limits, guarded_client
from cloud.orders import Order, OrderBook, OrderError, OrderStatus
from vmi import __version__
from vmi.clock import Clock, SystemClock
from vmi.errors import ConfigError

log = logging.getLogger(__name__)

_BATCH = 100


@dataclass
class LinkStats:
    """What one link's worker did since it started (counters only grow)."""

    planned: int = 0  # steps stored
    attempts: int = 0
    done: int = 0
    retries: int = 0
    failed: int = 0
    given_up: int = 0
    unsupported: int = 0
    skipped: int = 0
    checked: int = 0  # remote records read back
    moved: int = 0  # our orders moved to match a remote record
    conflicts: int = 0
    errors: int = 0  # database or connector-opening failures; the worker waited and went on
    connected: bool = False


@dataclass
class _Link:
    settings: ConnectorLink
    stats: LinkStats = field(default_factory=LinkStats)
    thread: threading.Thread | None = None


ConnectorOpener = Callable[[ConnectorLink], Connector]
"""Opens a link's connector (the default reads its config and uses the guarded client)."""


class ConnectorSync:
    """Carries order steps to every configured link and reads remote states back."""

    def __init__(
        self,
        config: ConnectorsConfig,
        *,
        orders: OrderBook,
        url: str | Engine,
        catalog: Catalog | None = None,
        clock: Clock | None = None,
        opener: ConnectorOpener | None = None,
        policy: AddressPolicy | None = None,
        lease_s: float = 300.0,
        rng: random.Random | None = None,
    ) -> None:
        """`url`: the orders database (where the ledger lives; its tables are made if
        missing). `opener`: how to open
        a link's connector (default: its `[connector]` table, through a client that
        refuses non-public addresses outside `config.allow_private`)."""
        self.config = config
        self.ledger = ConnectorLedger(open_engine(url))
        self._orders = orders
        self._catalog = catalog
        self._clock = clock or SystemClock()
        self.policy = policy or AddressPolicy.from_allowlist(config.allow_private)
        self._opener = opener or self._open
        self._lease_s = lease_s
        self.retry = RetryPolicy(max_attempts=config.max_attempts)
        self._rng = rng or random.Random()
        self._links = {link.name: _Link(link) for link in config.systems}
        self._stop = threading.Event()
        self._wake = threading.Event()

    # -- public face ----------------------------------------------------------

    def link_names(self) -> list[str]:
        """The configured links, by name."""
        return sorted(self._links)

    def stats(self, link: str) -> LinkStats:
        """A snapshot of one link's counters."""
        return replace(self._links[link].stats)

    def start(self) -> None:
        """Start one worker per link; they resume the steps pending in the database."""
        for name, link in self._links.items():
            if link.thread is None:
                link.thread = threading.Thread(
                    target=self._run, args=(link,), name=f"connector-{name}", daemon=True
                )
                link.thread.start()

    def wake(self) -> None:
        """Look for changed orders now (an order was just created or moved here)."""
        self._wake.set()

    def stop(self, timeout_s: float = 15.0) -> bool:
        """Stop within about `timeout_s` (an attempt under way ends by the connector's
        timeout); True if every worker ended."""
        self._stop.set()
        self._wake.set()
        deadline = time.monotonic() + timeout_s
        ended = True
        for link in self._links.values():
            if link.thread is not None:
                link.thread.join(max(0.0, deadline - time.monotonic()))
                ended = ended and not link.thread.is_alive()
        return ended

    def open_link(self, name: str) -> Connector:
        """Open link `name`'s connector as its worker does (the caller closes it)."""
        return self._opener(self._links[name].settings)

    def run_once(self, name: str, connector: Connector) -> None:
        """One round of one link with `connector`: plan, send what is due, reconcile what
        is due a read. The worker's round; tests and tools call it directly."""
        link = self._links[name]
        self._plan(link)
        self._send_due(link, connector)
        if link.settings.pull:
            self._reconcile(link, connector)

    # -- the worker -----------------------------------------------------------------

    def _open(self, link: ConnectorLink) -> Connector:
        config = link.resolved()
        http = guarded_client(
            self.policy,
            timeout_s=config.timeout_s,
            headers={"User-Agent": f"vmi-connectors/{__version__}"},
            max_connections=4,
        )
        return _Guarded(open_connector(config, http=http), http)

    def _run(self, link: _Link) -> None:
        name = link.settings.name
        connector: Connector | None = None
        idle = self.config.idle_s
        while not self._stop.is_set():
            try:
                if connector is None:
                    connector = self._opener(link.settings)
                    link.stats.connected = True
                    log.info("connector %s: opened (%s)", name, connector.kind)
                self.run_once(name, connector)
                wait = self._until_due(name, idle)
            except ConfigError as exc:
                link.stats.errors += 1
                log.error("connector %s: cannot open: %s; again in %.0f s", name, exc, idle)
                wait = idle
            except (SQLAlchemyError, StoreError) as exc:
                link.stats.errors += 1
                log.warning(
                    "connector %s: database unavailable (%s); again in %.0f s", name, exc, idle
                )
                wait = idle
            except Exception:  # a bug must not end the worker silently
                link.stats.errors += 1
                log.exception("connector %s: unexpected error; again in %.0f s", name, idle)
                wait = idle
            self._wake.wait(wait)
            self._wake.clear()
        if connector is not None:
            connector.close()

    def _limits(self) -> AbstractContextManager[object]:
        # The allowlist serves connectors (an operator configured them); the deadline
        # bounds a whole step, however the system trickles its answers.
        return attempt_limits(self.config.deadline_s, private_ok=True)

    def _until_due(self, name: str, idle: float) -> float:
        first = self.ledger.next_due(name)
        if first is None:
            return idle
        return min(idle, max(0.0, (first - utcnow()).total_seconds()))

    # -- plan -------------------------------------------------------------------------

    def _plan(self, link: _Link) -> None:
        sites = self._customer_sites(link.settings)
        while True:
            owing = self.ledger.owing(link.settings, sites, _BATCH)
            if not owing:
                return
            try:
                added = self.ledger.plan(link.settings, owing)
            except IntegrityError:
                continue  # another process planned some of them: read again
            link.stats.planned += added
            if len(owing) < _BATCH or added == 0:
                return

    def _customer_sites(self, link: ConnectorLink) -> set[str] | None:
        if not link.customers:
            return None
        if self._catalog is None:
            log.warning("connector %s: customers given but no catalog: no order matches", link.name)
            return set()
        return {
            site.code for site in self._catalog.entries(SiteSpec) if site.customer in link.customers
        }

    # -- send ----------------------------------------------------------------------------

    def _send_due(self, link: _Link, connector: Connector) -> None:
        name = link.settings.name
        for _ in range(100):  # bounded: a longer queue is worked through over several rounds
            rows = self.ledger.due(name, _BATCH)
            if not rows:
                return
            statuses = self.ledger.statuses(name, {order_id for _, _, order_id, _ in rows})
            sent = 0
            for step_id, claim, order_id, action in rows:
                if self._stop.is_set():
                    return
                ready = readiness(action, statuses.get(order_id, {}))
                if ready is Ready.WAIT:
                    continue
                if ready is Ready.SKIP:
                    self.ledger.skip(step_id, "no remote record: its create did not succeed")
                    link.stats.skipped += 1
                    sent += 1
                    continue
                claimed = self.ledger.claim(step_id, claim, self._lease_s)
                if claimed is None:
                    continue
                self._attempt(link, connector, claimed)
                sent += 1
                # The next steps of this order read what this one did.
                statuses |= self.ledger.statuses(name, {order_id})
            if sent == 0:  # else what was sent may have made its successors runnable
                return

    def _attempt(self, link: _Link, connector: Connector, step: ClaimedStep) -> None:
        name = link.settings.name
        number = step.attempts + 1
        started, t0 = utcnow(), time.monotonic()
        error: str | None = None
        next_at: datetime | None = None
        try:
            with self._limits():
                self._carry_out(link.settings, connector, step)
            outcome = StepOutcome.DONE
        except UnsupportedChange as exc:
            outcome, error = StepOutcome.UNSUPPORTED, str(exc)
        except ConnectorError as exc:
            error = f"{type(exc).__name__}: {exc}"
            tries = number - step.attempts_before  # since it was last re-queued
            if not exc.retryable:
                outcome = StepOutcome.FAILED
            elif tries >= self.retry.max_attempts:
                outcome = StepOutcome.GIVEN_UP
            else:
                outcome = StepOutcome.RETRY
                wait = exc.retry_after_s if isinstance(exc, RateLimited) else None
                next_at = utcnow() + timedelta(seconds=self.retry.delay_s(tries, wait, self._rng))
        duration_ms = (time.monotonic() - t0) * 1000.0
        self.ledger.record(step.id, number, started, duration_ms, outcome, error, next_at)
        stats = link.stats
        stats.attempts += 1
        stats.done += outcome is StepOutcome.DONE
        stats.retries += outcome is StepOutcome.RETRY
        stats.failed += outcome is StepOutcome.FAILED
        stats.given_up += outcome is StepOutcome.GIVEN_UP
        stats.unsupported += outcome is StepOutcome.UNSUPPORTED
        what = f"connector {name}: {step.action} of order #{step.order_id} (attempt {number})"
        if outcome is StepOutcome.DONE:
            log.info("%s done", what)
        elif outcome is StepOutcome.RETRY and next_at is not None:
            log.warning(
                "%s failed: %s; next at %s", what, error, next_at.isoformat(timespec="seconds")
            )
        elif outcome is StepOutcome.UNSUPPORTED:
            log.info("%s: not a step of this system (%s)", what, error)
        else:
            log.error("%s %s: %s", what, outcome.value.replace("_", " "), error)

    def _carry_out(self, link: ConnectorLink, connector: Connector, step: ClaimedStep) -> None:
        order = self._orders.get(step.order_id)
        if step.action == "create":
            ref = connector.create_order(self._spec(link, order))
            self.ledger.save_remote(order.id, link.name, ref)
            return
        stored = self.ledger.remote(order.id, link.name)
        found: RemoteRef | None = stored.ref() if stored is not None else None
        if found is None:
            # Only a cancel gets here (the others wait for their create): the create
            # may have happened with its answer lost, so look for it.
            found = connector.find_order(reference_for(order.id, link.reference_prefix))
            if found is None:
                return  # nothing was made: nothing to cancel
            self.ledger.save_remote(order.id, link.name, found)
        status = connector.update_order(found, CHANGE[step.action])
        self.ledger.save_status(order.id, link.name, status)

    def _spec(self, link: ConnectorLink, order: Order) -> OrderSpec:
        customer = None
        if self._catalog is not None:
            site = self._catalog.find(SiteSpec, order.site)
            customer = site.customer if site is not None else None
        return OrderSpec.from_order(order, customer=customer, prefix=link.reference_prefix)

    # -- reconcile -----------------------------------------------------------------

    def _reconcile(self, link: _Link, connector: Connector) -> None:
        name = link.settings.name
        for remote in self.ledger.to_check(name, self.config.poll_s, _BATCH):
            if self._stop.is_set():
                return
            try:
                with self._limits():
                    status = connector.fetch_status(remote.ref())
            except ConnectorError as exc:
                log.warning(
                    "connector %s: cannot read %s %s of order #%d: %s",
                    name,
                    remote.record_type,
                    remote.remote_id,
                    remote.order_id,
                    exc,
                )
                if not exc.retryable:  # gone or refused: read it again only at the next poll
                    self.ledger.touch_remote(remote.order_id, name)
                continue
            self.ledger.save_status(remote.order_id, name, status)
            link.stats.checked += 1
            self._follow(link, remote, status.status, status.remote_state)

    def _follow(self, link: _Link, remote: RemoteInfo, theirs: OrderStatus, state: str) -> None:
        name = link.settings.name
        order = self._orders.get(remote.order_id)
        ours = OrderStatus(order.status)
        where = f"{remote.system} {remote.record_type} {remote.remote_name or remote.remote_id}"
        if conflict(ours, theirs):
            link.stats.conflicts += 1
            log.warning(
                "connector %s: order #%d is %s here but %s (%s) in %s; left as it is",
                name,
                order.id,
                ours,
                theirs,
                state,
                where,
            )
            return
        now = self._clock.now()
        for move in catch_up(ours, theirs):
            note = f"{move} in {where} ({state})"
            try:
                self._move(order, move, now, note)
            except OrderError as exc:  # moved here meanwhile: the next read sorts it out
                log.info("connector %s: order #%d not moved to %s: %s", name, order.id, move, exc)
                return
            link.stats.moved += 1
            step = STEP_FOR.get(move)
            if step is not None:
                self.ledger.settle(name, order.id, step, f"made in {where}")
            log.info("connector %s: order #%d is now %s: %s", name, order.id, move, note)

    def _move(self, order: Order, to: OrderStatus, at: datetime, note: str) -> None:
        if to is OrderStatus.CONFIRMED:
            self._orders.confirm(order.id, at)
        elif to is OrderStatus.SHIPPED:
            self._orders.ship(order.id, self._arrival(order, at), at)
        elif to is OrderStatus.RECEIVED:
            self._orders.receive_refill(order.id, at, float(order.quantity))
        elif to is OrderStatus.CANCELLED:
            self._orders.cancel(order.id, at, note)

    def _arrival(self, order: Order, at: datetime) -> datetime:
        """When goods shipped in the other system arrive: as already expected, else by
        the agreement's lead time from the order, else now."""
        if order.expected_arrival is not None:
            return order.expected_arrival
        if self._catalog is not None:
            agreement = self._catalog.agreement_for(order.site, order.sku)
            if agreement is not None:
                return max(at, order.created_at + timedelta(days=agreement.lead_time_days))
        return at


class _Guarded:
    """A link's connector, which also closes the guarded client it sends with."""

    def __init__(self, inner: Connector, http: httpx.Client) -> None:
        self._inner = inner
        self._http = http
        self.kind = inner.kind

    def create_order(self, order: OrderSpec) -> RemoteRef:
        return self._inner.create_order(order)

    def find_order(self, reference: str) -> RemoteRef | None:
        return self._inner.find_order(reference)

    def update_order(self, ref: RemoteRef, change: OrderChange) -> RemoteStatus:
        return self._inner.update_order(ref, change)

    def fetch_status(self, ref: RemoteRef) -> RemoteStatus:
        return self._inner.fetch_status(ref)

    def close(self) -> None:
        self._inner.close()
        self._http.close()
