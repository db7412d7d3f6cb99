"""The connector sync's pure decisions: which steps an order owes, when a step may run,
how our order follows the remote record."""

from __future__ import annotations

import pytest

from cloud.connectors.models import StepStatus
from cloud.connectors.plan import Ready, catch_up, conflict, needed_steps, readiness
from cloud.connectors.settings import ACTIONS
from cloud.orders import OrderStatus

P, C, S, R, X = (
    OrderStatus.PROPOSED,
    OrderStatus.CONFIRMED,
    OrderStatus.SHIPPED,
    OrderStatus.RECEIVED,
    OrderStatus.CANCELLED,
)
PENDING, DONE, FAILED = StepStatus.PENDING, StepStatus.DONE, StepStatus.FAILED


@pytest.mark.parametrize(
    ("status", "created", "steps"),
    [
        (P, False, ["create"]),
        (C, False, ["create", "confirm"]),
        (S, True, ["create", "confirm", "ship"]),
        (R, True, []),  # received at the site: nothing to carry
        (X, True, ["cancel"]),
        (X, False, []),  # cancelled before anything was planned: never sent
    ],
)
def test_an_order_owes_its_creation_and_each_step_it_went_through(
    status: OrderStatus, created: bool, steps: list[str]
) -> None:
    assert needed_steps(status, ACTIONS, created=created) == steps


def test_only_the_pushed_steps_are_owed() -> None:
    assert needed_steps(S, ("create", "cancel"), created=True) == ["create"]
    assert needed_steps(X, ("create", "confirm"), created=True) == []


def test_create_runs_at_once_and_the_others_wait_for_it() -> None:
    assert readiness("create", {}) is Ready.RUN
    assert readiness("confirm", {"create": PENDING, "confirm": PENDING}) is Ready.WAIT
    assert readiness("confirm", {"create": DONE, "confirm": PENDING}) is Ready.RUN
    assert readiness("ship", {"create": DONE, "confirm": PENDING, "ship": PENDING}) is Ready.WAIT
    assert readiness("ship", {"create": DONE, "confirm": DONE, "ship": PENDING}) is Ready.RUN
    unsupported = {"create": DONE, "confirm": StepStatus.UNSUPPORTED}
    assert readiness("ship", unsupported) is Ready.RUN


def test_steps_after_a_failed_create_are_skipped() -> None:
    for create in (FAILED, StepStatus.GIVEN_UP, StepStatus.SKIPPED):
        assert readiness("confirm", {"create": create, "confirm": PENDING}) is Ready.SKIP


def test_cancel_waits_for_the_others_to_finish_then_runs_even_without_a_create() -> None:
    assert readiness("cancel", {"create": PENDING, "cancel": PENDING}) is Ready.WAIT
    assert readiness("cancel", {"create": StepStatus.SKIPPED, "cancel": PENDING}) is Ready.RUN
    assert readiness("cancel", {"create": DONE, "confirm": DONE, "cancel": PENDING}) is Ready.RUN


@pytest.mark.parametrize(
    ("ours", "theirs", "moves"),
    [
        (P, C, [C]),
        (P, S, [C, S]),
        (C, S, [S]),
        (P, R, [R]),
        (S, R, [R]),
        (C, X, [X]),
        (C, P, []),  # the remote is behind: our confirm step catches it up
        (S, C, []),
        (R, X, []),  # ours is final
        (X, C, []),
        (C, C, []),
    ],
)
def test_our_order_follows_the_remote_record_forward_only(
    ours: OrderStatus, theirs: OrderStatus, moves: list[OrderStatus]
) -> None:
    assert catch_up(ours, theirs) == moves


def test_received_here_and_cancelled_there_is_a_conflict() -> None:
    assert conflict(R, X)
    assert conflict(X, R)
    assert not conflict(X, X)
    assert not conflict(C, X)
    assert not conflict(X, C)  # our cancel step is on its way
