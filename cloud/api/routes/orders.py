"""`/orders`: replenishment orders and their lifecycle.

Who may do what (after the 404 for orders outside the caller's view):
confirm, ship and cancel: the managing supplier or an admin; receive: the
customer whose site it is or an admin. Others get 403; a move the lifecycle
does not allow (shipping a proposed order, anything on a final one) gets 409.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from cloud.api.deps import ContextDep, IdPath, OrdersDep, PagingDep, ViewDep
from cloud.api.errors import (
    AUTH_RESPONSES,
    CONFLICT_RESPONSE,
    NOT_FOUND_RESPONSE,
    forbidden,
    not_found,
)
from cloud.api.schemas.common import Page
from cloud.api.schemas.connectors import OrderRemotePublic
from cloud.api.schemas.orders import CancelOrder, OrderPublic, ReceiveOrder, ShipOrder
from cloud.api.tenancy import ORDER_ACTION_ROLE, View, may_move_order
from cloud.orders import Order, OrderBook, OrderStatus, UnknownOrder
from vmi.wire import Identifier

router = APIRouter(prefix="/orders", tags=["orders"], responses=AUTH_RESPONSES)
_ACTION_RESPONSES = {**NOT_FOUND_RESPONSE, **CONFLICT_RESPONSE}


def _visible(orders: OrderBook, view: View, order_id: int) -> Order:
    try:
        order = orders.get(order_id)
    except UnknownOrder:
        not_found()
    if not view.sees_pair(order.site, order.sku):
        not_found()
    return order


def _may(view: View, action: str) -> None:
    if not may_move_order(view, action):
        forbidden(f"only {ORDER_ACTION_ROLE[action].value} keys may do this")


@router.get("")
def list_orders(
    view: ViewDep,
    orders: OrdersDep,
    paging: PagingDep,
    site: Annotated[Identifier | None, Query(description="Only at this site.")] = None,
    sku: Annotated[Identifier | None, Query(description="Only of this SKU.")] = None,
    status: Annotated[OrderStatus | None, Query(description="Only in this status.")] = None,
) -> Page[OrderPublic]:
    """The orders this key may see, newest first."""
    if site is not None and not view.sees_site(site):
        return Page(data=[], count=0)
    found = [
        OrderPublic.of(o)
        for o in reversed(orders.orders(site))
        if view.sees_pair(o.site, o.sku)
        and sku in (None, o.sku)
        and status in (None, OrderStatus(o.status))
    ]
    return Page.of(found, paging.offset, paging.limit)


@router.get("/{order_id}", responses=NOT_FOUND_RESPONSE)
def read_order(order_id: IdPath, view: ViewDep, orders: OrdersDep) -> OrderPublic:
    """One order."""
    return OrderPublic.of(_visible(orders, view, order_id))


@router.get("/{order_id}/remote", responses=NOT_FOUND_RESPONSE)
def read_order_remote(
    order_id: IdPath, view: ViewDep, orders: OrdersDep, context: ContextDep
) -> list[OrderRemotePublic]:
    """Where the order landed in each connected ERP/CRM (the record's id and number, its
    state when last read back) and each step the service sent or still owes it."""
    _visible(orders, view, order_id)
    ledger = context.connectors
    steps = ledger.steps(order_id=order_id, limit=1000)
    remotes = {r.link: r for r in ledger.remotes([order_id])}
    links = sorted({s.link for s in steps} | set(remotes))
    return [
        OrderRemotePublic.of(link, remotes.get(link), [s for s in steps if s.link == link])
        for link in links
    ]


@router.post("/{order_id}/confirm", responses=_ACTION_RESPONSES)
def confirm_order(
    order_id: IdPath, view: ViewDep, orders: OrdersDep, context: ContextDep
) -> OrderPublic:
    """The supplier accepts a proposed order."""
    _visible(orders, view, order_id)
    _may(view, "confirm")
    return OrderPublic.of(orders.confirm(order_id, context.clock.now()))


@router.post("/{order_id}/ship", responses=_ACTION_RESPONSES)
def ship_order(
    order_id: IdPath, body: ShipOrder, view: ViewDep, orders: OrdersDep, context: ContextDep
) -> OrderPublic:
    """The supplier shipped a confirmed order, due at `expected_arrival`."""
    _visible(orders, view, order_id)
    _may(view, "ship")
    return OrderPublic.of(orders.ship(order_id, body.expected_arrival, context.clock.now()))


@router.post("/{order_id}/receive", responses=_ACTION_RESPONSES)
def receive_order(
    order_id: IdPath, body: ReceiveOrder, view: ViewDep, orders: OrdersDep, context: ContextDep
) -> OrderPublic:
    """The customer received a shipped order."""
    _visible(orders, view, order_id)
    _may(view, "receive")
    return OrderPublic.of(orders.receive(order_id, context.clock.now(), body.quantity))


@router.post("/{order_id}/cancel", responses=_ACTION_RESPONSES)
def cancel_order(
    order_id: IdPath, body: CancelOrder, view: ViewDep, orders: OrdersDep, context: ContextDep
) -> OrderPublic:
    """The supplier cancels an open order, saying why."""
    _visible(orders, view, order_id)
    _may(view, "cancel")
    return OrderPublic.of(orders.cancel(order_id, context.clock.now(), body.reason))
