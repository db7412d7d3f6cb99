"""The connector ledger in SQL: the steps each order owes each link, claims, attempts, the
remote records, and reading it all back.

    ledger = ConnectorLedger(engine)
    ledger.plan(link, sites=...)            # store the steps changed orders now owe
    ledger.due(link.name, limit)            # (step, claim) due now, oldest order first
    ledger.claim(step_id, claim, lease_s)   # reserve one for an attempt
    ledger.record(...)                      # log the attempt and move the step
    ledger.remote(order_id, link.name)      # where the order landed

Every change is one short transaction. Planning reads only the orders that
owe something (four anti-joins against the unique (link, order, action) key),
so an idle round costs a few index lookups however many orders there are.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, and_, exists, func, or_, select, update
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, sessionmaker

from cloud.connectors.base import RemoteRef, RemoteStatus
from cloud.connectors.models import (
    ERROR_LIMIT,
    ConnectorAttempt,
    ConnectorDelivery,
    OrderRemote,
    StepOutcome,
    StepStatus,
)
from cloud.connectors.plan import needed_steps
from cloud.connectors.settings import ACTIONS, Action, ConnectorLink
from cloud.notify.models import utcnow
from cloud.orders import OPEN_STATUSES, Order, OrderStatus

_RANK = {a: i for i, a in enumerate(ACTIONS)}


class StepInfo(BaseModel):
    """One step as the ledger shows it."""

    model_config = ConfigDict(from_attributes=True, frozen=True)

    id: int
    link: str
    order_id: int
    action: str
    status: StepStatus
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None


class AttemptInfo(BaseModel):
    """One try of a step."""

    model_config = ConfigDict(from_attributes=True, frozen=True)

    attempt: int
    started_at: datetime
    duration_ms: float
    error: str | None
    outcome: StepOutcome
    next_attempt_at: datetime | None


class RemoteInfo(BaseModel):
    """Where an order landed in one link's system, and its state when last read."""

    model_config = ConfigDict(from_attributes=True, frozen=True)

    order_id: int
    link: str
    system: str
    record_type: str
    remote_id: str
    remote_name: str | None
    reference: str
    remote_state: str | None
    remote_status: OrderStatus | None
    checked_at: datetime | None

    def ref(self) -> RemoteRef:
        """The `RemoteRef` connectors take."""
        return RemoteRef(
            system=self.system,
            record_type=self.record_type,
            id=self.remote_id,
            name=self.remote_name,
            reference=self.reference,
        )


@dataclass(frozen=True)
class ClaimedStep:
    """A step this process has reserved for one attempt."""

    id: int
    order_id: int
    action: Action
    attempts: int
    attempts_before: int  # at the last re-queue: the retry policy counts from there


class ConnectorLedger:
    """Steps, attempts and remote records in SQL."""

    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    # -- planning ------------------------------------------------------------------

    def owing(self, link: ConnectorLink, sites: Collection[str] | None, limit: int) -> list[Order]:
        """Orders this link wants that lack a step they owe (see `needed_steps`), oldest
        first. `sites`: only these (the link's customers' sites), None: any."""
        steps = ConnectorDelivery

        def has(action: Action) -> Any:
            return exists().where(
                steps.link == link.name, steps.order_id == Order.id, steps.action == action
            )

        missing = []
        if "create" in link.push:
            missing.append(and_(Order.status.in_([s.value for s in OPEN_STATUSES]), ~has("create")))
        if "confirm" in link.push:
            missing.append(
                and_(Order.status.in_(["confirmed", "shipped"]), ~has("confirm"), has("create"))
            )
        if "ship" in link.push:
            missing.append(and_(Order.status == "shipped", ~has("ship"), has("create")))
        if "cancel" in link.push:
            missing.append(and_(Order.status == "cancelled", has("create"), ~has("cancel")))
        if not missing:
            return []
        stmt = select(Order).where(or_(*missing)).order_by(Order.id).limit(limit)
        if link.sites:
            stmt = stmt.where(Order.site.in_(link.sites))
        if sites is not None:
            stmt = stmt.where(Order.site.in_(sorted(sites)))
        if link.suppliers:
            stmt = stmt.where(Order.supplier.in_(link.suppliers))
        with self._sessions() as s:
            return list(s.scalars(stmt))

    def plan(self, link: ConnectorLink, orders: Sequence[Order]) -> int:
        """Store the steps `orders` owe `link` (those not stored yet), due now; a cancel
        skips the order's pending steps. Returns how many were added. A concurrent plan
        of the same step fails on the unique key (`IntegrityError`): call again."""
        if not orders:
            return 0
        now = utcnow()
        ids = [o.id for o in orders]
        with self._sessions.begin() as s:
            have: dict[int, set[str]] = {}
            for order_id, action in s.execute(
                select(ConnectorDelivery.order_id, ConnectorDelivery.action).where(
                    ConnectorDelivery.link == link.name, ConnectorDelivery.order_id.in_(ids)
                )
            ):
                have.setdefault(order_id, set()).add(action)
            added = 0
            for order in orders:
                stored = have.get(order.id, set())
                for action in needed_steps(
                    OrderStatus(order.status), link.push, created="create" in stored
                ):
                    if action in stored:
                        continue
                    if action == "cancel":
                        s.execute(
                            update(ConnectorDelivery)
                            .where(
                                ConnectorDelivery.link == link.name,
                                ConnectorDelivery.order_id == order.id,
                                ConnectorDelivery.status == StepStatus.PENDING.value,
                            )
                            .values(
                                status=StepStatus.SKIPPED.value,
                                next_attempt_at=None,
                                last_error="the order was cancelled first",
                                finished_at=now,
                            )
                        )
                    s.add(_step(link.name, order.id, action, now))
                    added += 1
            s.flush()
        return added

    def settle(self, link: str, order_id: int, action: Action, note: str) -> None:
        """Record `action` as done without sending it (the remote record made the move
        first: reconciling), unless it is stored already."""
        now = utcnow()
        try:
            with self._sessions.begin() as s:
                found = s.scalar(
                    select(ConnectorDelivery.id).where(
                        ConnectorDelivery.link == link,
                        ConnectorDelivery.order_id == order_id,
                        ConnectorDelivery.action == action,
                    )
                )
                if found is None:
                    row = _step(link, order_id, action, now)
                    row.status = StepStatus.DONE.value
                    row.next_attempt_at = None
                    row.last_error = note[:ERROR_LIMIT]
                    row.finished_at = now
                    s.add(row)
        except IntegrityError:
            pass  # planned meanwhile: it will find the record already there

    # -- dispatching ---------------------------------------------------------------

    def due(self, link: str, limit: int) -> list[tuple[int, int, int, Action]]:
        """(step id, claim, order id, action) of up to `limit` pending steps due now whose
        predecessors are not pending (see `readiness`), by order and lifecycle order.

        Steps still waiting for their order's create (or a ship for its confirm)
        are left out here, so a long backlog of waiting steps never hides the
        runnable ones behind it."""
        step = ConnectorDelivery
        stmt = (
            select(step.id, step.claim, step.order_id, step.action)
            .where(step.link == link, _runnable(), step.next_attempt_at <= utcnow())
            .order_by(ConnectorDelivery.order_id, ConnectorDelivery.id)
            .limit(limit)
        )
        with self._sessions() as s:
            rows = [(r[0], r[1], r[2], cast(Action, r[3])) for r in s.execute(stmt)]
        return sorted(rows, key=lambda r: (r[2], _RANK[r[3]]))

    def statuses(self, link: str, order_ids: Collection[int]) -> dict[int, dict[str, StepStatus]]:
        """Each order's steps on `link`: action -> status."""
        found: dict[int, dict[str, StepStatus]] = {}
        if not order_ids:
            return found
        stmt = select(
            ConnectorDelivery.order_id, ConnectorDelivery.action, ConnectorDelivery.status
        ).where(ConnectorDelivery.link == link, ConnectorDelivery.order_id.in_(sorted(order_ids)))
        with self._sessions() as s:
            for order_id, action, status in s.execute(stmt):
                found.setdefault(order_id, {})[action] = StepStatus(status)
        return found

    def next_due(self, link: str) -> datetime | None:
        """When the link's earliest runnable pending step is due (one waiting for its
        create is not: its create's time counts); None if none is pending."""
        stmt = select(func.min(ConnectorDelivery.next_attempt_at)).where(
            ConnectorDelivery.link == link, _runnable()
        )
        with self._sessions() as s:
            first: datetime | None = s.scalar(stmt)
        return first

    def claim(self, step_id: int, claim: int, lease_s: float) -> ClaimedStep | None:
        """Reserve a due step for one attempt, for `lease_s` seconds (then it is due again,
        should this process die mid-attempt). None if another process claimed it first."""
        with self._sessions.begin() as s:
            result = s.execute(
                update(ConnectorDelivery)
                .where(
                    ConnectorDelivery.id == step_id,
                    ConnectorDelivery.claim == claim,
                    ConnectorDelivery.status == StepStatus.PENDING.value,
                )
                .values(claim=claim + 1, next_attempt_at=utcnow() + timedelta(seconds=lease_s))
            )
            if cast("CursorResult[Any]", result).rowcount != 1:
                return None
            row = s.get(ConnectorDelivery, step_id)
            assert row is not None
            return ClaimedStep(
                row.id, row.order_id, cast(Action, row.action), row.attempts, row.attempts_before
            )

    def record(
        self,
        step_id: int,
        attempt: int,
        started: datetime,
        duration_ms: float,
        outcome: StepOutcome,
        error: str | None,
        next_at: datetime | None,
    ) -> None:
        """Log one attempt and move the step to what follows it."""
        status = {
            StepOutcome.DONE: StepStatus.DONE,
            StepOutcome.RETRY: StepStatus.PENDING,
            StepOutcome.FAILED: StepStatus.FAILED,
            StepOutcome.GIVEN_UP: StepStatus.GIVEN_UP,
            StepOutcome.UNSUPPORTED: StepStatus.UNSUPPORTED,
        }[outcome]
        error = None if error is None else error[:ERROR_LIMIT]
        with self._sessions.begin() as s:
            s.add(
                ConnectorAttempt(
                    delivery_id=step_id,
                    attempt=attempt,
                    started_at=started,
                    duration_ms=duration_ms,
                    error=error,
                    outcome=outcome.value,
                    next_attempt_at=next_at,
                )
            )
            s.execute(
                update(ConnectorDelivery)
                .where(ConnectorDelivery.id == step_id)
                .values(
                    attempts=attempt,
                    status=status.value,
                    next_attempt_at=next_at,
                    last_error=error,
                    finished_at=None if status is StepStatus.PENDING else utcnow(),
                )
            )

    def skip(self, step_id: int, why: str) -> None:
        """Finish a step without an attempt (the record it needs was never made)."""
        with self._sessions.begin() as s:
            s.execute(
                update(ConnectorDelivery)
                .where(
                    ConnectorDelivery.id == step_id,
                    ConnectorDelivery.status == StepStatus.PENDING.value,
                )
                .values(
                    status=StepStatus.SKIPPED.value,
                    next_attempt_at=None,
                    last_error=why[:ERROR_LIMIT],
                    finished_at=utcnow(),
                )
            )

    def retry(self, link: str | None = None, order_id: int | None = None) -> int:
        """Send failed, given-up and skipped steps again (after the cause was fixed in the
        other system: a product created, credentials renewed), and pending ones now
        rather than at their next backoff; returns how many. Each gets a fresh allowance
        of attempts; the log keeps numbering them. Steps of an order no longer open are
        left alone, except a cancel."""
        again = (StepStatus.FAILED, StepStatus.GIVEN_UP, StepStatus.SKIPPED, StepStatus.PENDING)
        open_orders = select(Order.id).where(Order.status.in_([s.value for s in OPEN_STATUSES]))
        stmt = (
            update(ConnectorDelivery)
            .where(
                ConnectorDelivery.status.in_([s.value for s in again]),
                # Still wanted: a cancel always; the others only while the order is open
                # (never create or confirm a record for an order cancelled meanwhile).
                or_(
                    ConnectorDelivery.action == "cancel",
                    ConnectorDelivery.order_id.in_(open_orders),
                ),
            )
            .values(
                status=StepStatus.PENDING.value,
                attempts_before=ConnectorDelivery.attempts,
                next_attempt_at=utcnow(),
                finished_at=None,
            )
        )
        if link is not None:
            stmt = stmt.where(ConnectorDelivery.link == link)
        if order_id is not None:
            stmt = stmt.where(ConnectorDelivery.order_id == order_id)
        with self._sessions.begin() as s:
            return cast("CursorResult[Any]", s.execute(stmt)).rowcount

    # -- remote records ------------------------------------------------------------

    def remote(self, order_id: int, link: str) -> RemoteInfo | None:
        """Where the order landed in `link`'s system, if it was created there."""
        with self._sessions() as s:
            row = s.scalar(
                select(OrderRemote).where(
                    OrderRemote.order_id == order_id, OrderRemote.link == link
                )
            )
            return None if row is None else RemoteInfo.model_validate(row)

    def remotes(self, order_ids: Collection[int]) -> list[RemoteInfo]:
        """The remote records of these orders, on every link."""
        if not order_ids:
            return []
        stmt = (
            select(OrderRemote)
            .where(OrderRemote.order_id.in_(sorted(order_ids)))
            .order_by(OrderRemote.order_id, OrderRemote.link)
        )
        with self._sessions() as s:
            return [RemoteInfo.model_validate(r) for r in s.scalars(stmt)]

    def save_remote(self, order_id: int, link: str, ref: RemoteRef) -> None:
        """Store where the order landed (kept if already stored: the first record wins)."""
        now = utcnow()
        try:
            with self._sessions.begin() as s:
                found = s.scalar(
                    select(OrderRemote.id).where(
                        OrderRemote.order_id == order_id, OrderRemote.link == link
                    )
                )
                if found is None:
                    s.add(
                        OrderRemote(
                            order_id=order_id,
                            link=link,
                            system=ref.system,
                            record_type=ref.record_type,
                            remote_id=ref.id,
                            remote_name=ref.name,
                            reference=ref.reference,
                            created_at=now,
                        )
                    )
        except IntegrityError:
            pass  # stored by another process meanwhile

    def save_status(self, order_id: int, link: str, status: RemoteStatus) -> None:
        """Store the remote record's state as just read."""
        with self._sessions.begin() as s:
            s.execute(
                update(OrderRemote)
                .where(OrderRemote.order_id == order_id, OrderRemote.link == link)
                .values(
                    remote_state=status.remote_state[:64],
                    remote_status=status.status.value,
                    checked_at=utcnow(),
                    check_due_at=None,
                )
            )

    def touch_remote(self, order_id: int, link: str) -> None:
        """Note a read that gave nothing usable: the next is due after the poll interval."""
        with self._sessions.begin() as s:
            s.execute(
                update(OrderRemote)
                .where(OrderRemote.order_id == order_id, OrderRemote.link == link)
                .values(checked_at=utcnow(), check_due_at=None)
            )

    def to_check(self, link: str, older_than_s: float, limit: int) -> list[RemoteInfo]:
        """Remote records of open orders due a read: never read, read more than
        `older_than_s` ago, or asked for now (`check_soon`), oldest read first."""
        now = utcnow()
        stmt = (
            select(OrderRemote)
            .join(Order, Order.id == OrderRemote.order_id)
            .where(
                OrderRemote.link == link,
                Order.status.in_([s.value for s in OPEN_STATUSES]),
                or_(
                    OrderRemote.checked_at.is_(None),
                    OrderRemote.checked_at <= now - timedelta(seconds=older_than_s),
                    OrderRemote.check_due_at <= now,
                ),
            )
            .order_by(OrderRemote.checked_at.is_not(None), OrderRemote.checked_at)
            .limit(limit)
        )
        with self._sessions() as s:
            return [RemoteInfo.model_validate(r) for r in s.scalars(stmt)]

    def check_soon(self, link: str, *, reference: str | None = None) -> int:
        """Ask for the link's records (or the one carrying `reference`) to be read at the
        next round (a remote system's webhook said something changed); returns how many."""
        stmt = update(OrderRemote).where(OrderRemote.link == link).values(check_due_at=utcnow())
        if reference is not None:
            stmt = stmt.where(
                or_(OrderRemote.reference == reference, OrderRemote.remote_id == reference)
            )
        with self._sessions.begin() as s:
            return cast("CursorResult[Any]", s.execute(stmt)).rowcount

    # -- reading the log -------------------------------------------------------------

    def steps(
        self,
        *,
        link: str | None = None,
        order_id: int | None = None,
        status: StepStatus | None = None,
        limit: int = 100,
    ) -> list[StepInfo]:
        """Steps, newest first, filtered by whatever is given."""
        stmt = select(ConnectorDelivery).order_by(ConnectorDelivery.id.desc()).limit(limit)
        if link is not None:
            stmt = stmt.where(ConnectorDelivery.link == link)
        if order_id is not None:
            stmt = stmt.where(ConnectorDelivery.order_id == order_id)
        if status is not None:
            stmt = stmt.where(ConnectorDelivery.status == status.value)
        with self._sessions() as s:
            return [StepInfo.model_validate(r) for r in s.scalars(stmt)]

    def attempts(self, step_id: int) -> list[AttemptInfo]:
        """Every attempt of one step, first first."""
        stmt = (
            select(ConnectorAttempt)
            .where(ConnectorAttempt.delivery_id == step_id)
            .order_by(ConnectorAttempt.attempt)
        )
        with self._sessions() as s:
            return [AttemptInfo.model_validate(r) for r in s.scalars(stmt)]


def _runnable() -> ColumnElement[bool]:
    """Pending steps none of whose predecessors on the same order is pending: a create;
    a confirm once its create finished; a ship once its create and confirm did; a
    cancel once everything else did (see `cloud.connectors.plan.readiness`)."""
    step = ConnectorDelivery
    before = aliased(ConnectorDelivery)

    def waiting_for(actions: list[str]) -> ColumnElement[bool]:
        return exists().where(
            before.link == step.link,
            before.order_id == step.order_id,
            before.status == StepStatus.PENDING.value,
            before.action.in_(actions),
        )

    return and_(
        step.status == StepStatus.PENDING.value,
        or_(
            step.action == "create",
            and_(step.action == "confirm", ~waiting_for(["create"])),
            and_(step.action == "ship", ~waiting_for(["create", "confirm"])),
            and_(step.action == "cancel", ~waiting_for(["create", "confirm", "ship"])),
        ),
    )


def _step(link: str, order_id: int, action: Action, now: datetime) -> ConnectorDelivery:
    return ConnectorDelivery(
        link=link,
        order_id=order_id,
        action=action,
        status=StepStatus.PENDING.value,
        attempts=0,
        attempts_before=0,
        next_attempt_at=now,
        claim=0,
        created_at=now,
    )
