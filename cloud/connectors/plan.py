"""Pure decisions of the connector sync: which steps an order owes a system, when a step
may run, and how our order catches up with the remote record. No I/O.

    needed_steps(OrderStatus.SHIPPED, push=ACTIONS, created=True)  -> [create, confirm, ship]
    readiness("ship", {"create": DONE, "confirm": PENDING})          -> Ready.WAIT
    catch_up(OrderStatus.PROPOSED, OrderStatus.SHIPPED)               -> [confirmed, shipped]
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from enum import StrEnum

from cloud.connectors.base import OrderChange
from cloud.connectors.models import FINISHED, StepStatus
from cloud.connectors.settings import Action
from cloud.orders import OPEN_STATUSES, OrderStatus

RANK: Mapping[OrderStatus, int] = {
    OrderStatus.PROPOSED: 0,
    OrderStatus.CONFIRMED: 1,
    OrderStatus.SHIPPED: 2,
    OrderStatus.RECEIVED: 3,
}
"""How far along the lifecycle an order is (cancelled is off it)."""

CHANGE: Mapping[Action, OrderChange] = {
    "confirm": OrderChange.CONFIRM,
    "ship": OrderChange.SHIP,
    "cancel": OrderChange.CANCEL,
}
"""The remote update each step after `create` makes."""

STEP_FOR: Mapping[OrderStatus, Action] = {
    OrderStatus.CONFIRMED: "confirm",
    OrderStatus.SHIPPED: "ship",
    OrderStatus.CANCELLED: "cancel",
}
"""The step that carries a move of our order to the remote record."""


def needed_steps(status: OrderStatus, push: Collection[Action], *, created: bool) -> list[Action]:
    """The steps an order in `status` owes a link that pushes `push`.

    An open order owes its creation and each step it went through; a cancelled
    one owes a cancel only if its creation was ever planned (an order
    cancelled before anything was sent is not sent at all); a received one
    owes nothing new (receiving happens at the site, not in the remote order).
    """
    steps: list[Action]
    if status in OPEN_STATUSES:
        steps = ["create"]
        if RANK[status] >= RANK[OrderStatus.CONFIRMED]:
            steps.append("confirm")
        if status is OrderStatus.SHIPPED:
            steps.append("ship")
    elif status is OrderStatus.CANCELLED and created:
        steps = ["cancel"]
    else:
        steps = []
    return [s for s in steps if s in push]


class Ready(StrEnum):
    RUN = "run"  # send it now
    WAIT = "wait"  # a step before it has not finished
    SKIP = "skip"  # it can never run: the record it needs was not made


def readiness(action: Action, steps: Mapping[str, StepStatus]) -> Ready:
    """Whether `action` may run, given the statuses of the order's steps on this link.

    `create` runs at once. `cancel` runs once the other steps have finished
    (planning it skips the pending ones); it finds the record by our
    reference if the create's answer never came. `confirm` and `ship` need
    the record: they wait for a pending create and are skipped when it
    failed; `ship` waits for a pending confirm too.
    """
    if action == "create":
        return Ready.RUN
    if action == "cancel":
        others = [s for a, s in steps.items() if a != "cancel"]
        return Ready.RUN if all(s in FINISHED for s in others) else Ready.WAIT
    create = steps.get("create")
    if create is None or create is StepStatus.PENDING:
        return Ready.WAIT
    if create is not StepStatus.DONE:
        return Ready.SKIP
    if action == "ship" and steps.get("confirm") is StepStatus.PENDING:
        return Ready.WAIT
    return Ready.RUN


def catch_up(ours: OrderStatus, theirs: OrderStatus) -> list[OrderStatus]:
    """The moves that bring our order to the remote record's state, along our lifecycle.

    Only forward: a remote record behind ours is the push's business (its
    step is pending or failed), and a final order of ours never moves.
    Received is reached in one move from any open status (as a refill does).
    """
    if ours not in OPEN_STATUSES or theirs == ours:
        return []
    if theirs is OrderStatus.CANCELLED:
        return [OrderStatus.CANCELLED]
    if RANK[theirs] <= RANK[ours]:
        return []
    if theirs is OrderStatus.RECEIVED:
        return [OrderStatus.RECEIVED]
    return [
        s
        for s in (OrderStatus.CONFIRMED, OrderStatus.SHIPPED)
        if RANK[ours] < RANK[s] <= RANK[theirs]
    ]


def conflict(ours: OrderStatus, theirs: OrderStatus) -> bool:
    """True when the two disagree in a way neither side's next step resolves: one is
    cancelled and the other received, or ours is final and theirs went elsewhere."""
    if ours == theirs:
        return False
    final = {OrderStatus.RECEIVED, OrderStatus.CANCELLED}
    return ours in final and theirs in final
