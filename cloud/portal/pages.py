"""The portal's pages, under `/portal`: sign-in and out, the language switch, Stock, a
shelf, the Orders desk and its actions, and the live stream the pages listen to.

Tenancy is the API's (`cloud.api.tenancy`): a page or action on something
outside the person's view is 404, an action their role may not take is 403
(`ORDER_ACTION_ROLE`), a POST without the session's CSRF token is 403.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response
from fastapi.sse import EventSourceResponse, ServerSentEvent

from cloud.api import visible
from cloud.api.deps import CodePath, IdPath
from cloud.api.stream import LiveFeed
from cloud.api.tenancy import ORDER_ACTION_ROLE, View, may_move_order
from cloud.catalog.schema import AgreementSpec
from cloud.orders import Order, OrderBook, OrderError, OrderStatus, UnknownOrder
from cloud.portal.accounts import AccountError
from cloud.portal.chart import level_chart
from cloud.portal.i18n import LOCALES
from cloud.portal.stock import stock_rows
from cloud.portal.web import (
    LANG_COOKIE,
    LIMITER,
    LOGIN_CSRF_COOKIE,
    PREFIX,
    SESSION_COOKIE,
    context_of,
    csrf_ok,
    csrf_refused_page,
    form,
    local_path,
    new_login_csrf,
    not_found_page,
    reader_of,
    redirect,
    render,
    require_session,
    secure,
    view_for,
    wall_now,
    with_query,
)

log = logging.getLogger(__name__)

router = APIRouter(prefix=PREFIX, include_in_schema=False)
ORDER_STATUSES = [s.value for s in OrderStatus]
ACCOUNT_ERRORS = ("wrong_current", "weak")


# -- signing in and out ------------------------------------------------------------------


@router.get("")
def home() -> Response:
    return redirect(PREFIX + "/stock")


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    reader = reader_of(request)
    token = new_login_csrf()
    response = render(request, "login.html", reader, None, csrf=token, next=local_path(next))
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=secure(request),
        path=PREFIX,
    )
    return response


@router.post("/login")
async def login(request: Request) -> Response:
    fields = await form(request)
    reader = reader_of(request)
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    target = local_path(fields.get("next"))
    if not csrf_ok(cookie, fields):
        return render(
            request,
            "login.html",
            reader,
            None,
            403,
            csrf=cookie or new_login_csrf(),
            next=target,
            error=reader.t("error.csrf"),
        )
    login_name = fields.get("login", "").strip().lower()[:64]
    address = request.client.host if request.client else "?"
    now_s = time.monotonic()
    context = context_of(request)
    if not LIMITER.allowed(login_name, address, now_s):
        context.metrics.add("portal_logins_limited", 1)
        return render(
            request,
            "login.html",
            reader,
            None,
            429,
            csrf=cookie,
            next=target,
            error=reader.t("login.limited"),
            login=login_name,
        )
    user_id = context.accounts.check_password(login_name, fields.get("password", ""))
    if user_id is None:
        LIMITER.failed(login_name, address, now_s)
        context.metrics.add("portal_logins_failed", 1)
        log.info("portal: failed sign-in for %r from %s", login_name, address)
        return render(
            request,
            "login.html",
            reader,
            None,
            401,
            csrf=cookie,
            next=target,
            error=reader.t("login.failed"),
            login=login_name,
        )
    LIMITER.succeeded(login_name)
    token = context.accounts.open_session(user_id, wall_now())
    response = redirect(target)
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="lax", secure=secure(request), path=PREFIX
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=PREFIX)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    who = require_session(request)
    fields = await form(request)
    if not csrf_ok(who.csrf, fields):
        return csrf_refused_page(request, who)
    token = request.cookies.get(SESSION_COOKIE, "")
    context_of(request).accounts.close_session(token)
    response = redirect(PREFIX + "/login")
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response


@router.get("/account")
def account_page(request: Request, done: str = "", error: str = "") -> Response:
    who = require_session(request)
    reader = reader_of(request, who)
    return render(request, "account.html", reader, who, done=done[:200], error=error[:200])


@router.post("/account/password")
async def change_password(request: Request) -> Response:
    """A new password; the person signs in again (every session of theirs ends)."""
    who = require_session(request)
    fields = await form(request)
    if not csrf_ok(who.csrf, fields):
        return csrf_refused_page(request, who)
    reader = reader_of(request, who)
    new = fields.get("new_password", "")
    if new != fields.get("repeat_password", ""):
        return redirect(with_query(PREFIX + "/account", error=reader.t("account.differ")))
    try:
        context_of(request).accounts.change_password(
            who.user_id, fields.get("current_password", ""), new
        )
    except AccountError as exc:
        message = reader.t(f"account.{exc.code}") if exc.code in ACCOUNT_ERRORS else str(exc)
        return redirect(with_query(PREFIX + "/account", error=message))
    response = redirect(with_query(PREFIX + "/login", next=PREFIX + "/stock"))
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response


@router.get("/lang/{locale}")
def switch_language(request: Request, locale: str, next: str | None = None) -> Response:
    """The language switch: remembered in a cookie for a year."""
    response = redirect(local_path(next))
    if locale in LOCALES:
        response.set_cookie(
            LANG_COOKIE,
            locale,
            max_age=365 * 86400,
            samesite="lax",
            secure=secure(request),
            path=PREFIX,
        )
    return response


# -- stock --------------------------------------------------------------------------------


@router.get("/stock")
def stock_page(request: Request, q: str = "") -> Response:
    who = require_session(request)
    reader = reader_of(request, who)
    view = view_for(request, who)
    context = context_of(request)
    since = context.clock.now() - timedelta(days=context.settings.lookback_days)
    levels = visible.latest_levels(context.store, view, None)
    projections = visible.newest_projections(context.store, view, since)
    keys = {(p.site, p.sku) for p in levels} | set(projections)
    orders = context.orders.open_orders(keys)
    rows = [row for row in stock_rows(levels, projections, orders) if row.matches(q[:64])]
    return render(request, "stock.html", reader, who, rows=rows, q=q[:64])


@router.get("/shelf/{site}/{sku}")
def shelf_page(request: Request, site: CodePath, sku: CodePath) -> Response:
    who = require_session(request)
    reader = reader_of(request, who)
    view = view_for(request, who)
    if not view.sees_pair(site, sku):
        return not_found_page(request, who)
    context = context_of(request)
    now = context.clock.now()
    since = now - timedelta(days=14)
    levels = context.store.level_series(site, sku, since)
    projection = visible.newest_projections(
        context.store, view, now - timedelta(days=context.settings.lookback_days), site, sku
    ).get((site, sku))
    orders = [o for o in reversed(context.orders.orders(site)) if o.sku == sku][:20]
    agreement = context.catalog.find(AgreementSpec, (site, sku))
    if agreement is not None and not view.sees_agreement(agreement.supplier, site, sku):
        agreement = None
    alerts = [
        a for a in visible.alerts(context.store, view, since, None, site) if a.tag("sku") == sku
    ]
    chart = level_chart(levels, orders, projection, since, now, alerts)
    return render(
        request,
        "shelf.html",
        reader,
        who,
        site=site,
        sku=sku,
        levels=levels,
        projection=projection,
        orders=orders,
        agreement=agreement,
        chart=chart,
        last_order=orders[0] if orders else None,
    )


# -- orders -------------------------------------------------------------------------------


@router.get("/orders")
def orders_page(request: Request, status: str = "", done: str = "", error: str = "") -> Response:
    who = require_session(request)
    reader = reader_of(request, who)
    view = view_for(request, who)
    context = context_of(request)
    wanted = status if status in ORDER_STATUSES else ""
    orders = [
        o
        for o in reversed(context.orders.orders())
        if view.sees_pair(o.site, o.sku) and wanted in ("", o.status)
    ][:500]
    actions = {o.id: _actions(view, o) for o in orders}
    return render(
        request,
        "orders.html",
        reader,
        who,
        orders=orders,
        actions=actions,
        status=wanted,
        statuses=ORDER_STATUSES,
        done=done[:200],
        error=error[:200],
    )


@router.post("/orders/{order_id}/{action}")
async def order_action(request: Request, order_id: IdPath, action: str) -> Response:
    who = require_session(request)
    fields = await form(request)
    if not csrf_ok(who.csrf, fields):
        return csrf_refused_page(request, who)
    if action not in ORDER_ACTION_ROLE:
        return not_found_page(request, who)
    view = view_for(request, who)
    context = context_of(request)
    try:
        order = context.orders.get(order_id)
    except UnknownOrder:
        return not_found_page(request, who)
    if not view.sees_pair(order.site, order.sku):
        return not_found_page(request, who)
    reader = reader_of(request, who)
    if not may_move_order(view, action):
        return render(request, "error.html", reader, who, 403, message=reader.t("error.forbidden"))
    back = local_path(fields.get("next"), PREFIX + "/orders")
    now = context.clock.now()
    try:
        moved = _move(context.orders, order, action, fields, now)
    except (OrderError, ValueError) as exc:
        return redirect(with_query(back, error=reader.t("orders.refused", reason=str(exc))))
    status_word = reader.t(f"status.{moved.status}")
    return redirect(with_query(back, done=reader.t("orders.done", id=moved.id, status=status_word)))


# -- live -----------------------------------------------------------------------------------


@router.get("/stream", response_class=EventSourceResponse)
async def stream(request: Request) -> AsyncIterator[ServerSentEvent]:
    """Level changes and new alerts for the signed-in person (the API's `/stream`)."""
    who = require_session(request)
    context = context_of(request)
    token = request.cookies.get(SESSION_COOKIE, "")

    def still_valid() -> bool:
        return context.accounts.session(token, wall_now()) is not None

    feed = LiveFeed(context, who.principal(), None, still_valid)
    async for event in feed.events(max_events=None, max_seconds=None):
        yield event


# -- helpers ----------------------------------------------------------------------------------


def _actions(view: View, order: Order) -> list[str]:
    """The actions this person may take on this order now, in lifecycle order."""
    status = OrderStatus(order.status)
    possible = {
        OrderStatus.PROPOSED: ["confirm", "cancel"],
        OrderStatus.CONFIRMED: ["ship", "cancel"],
        OrderStatus.SHIPPED: ["receive", "cancel"],
    }.get(status, [])
    return [a for a in possible if may_move_order(view, a)]


def _move(
    book: OrderBook, order: Order, action: str, fields: dict[str, str], now: datetime
) -> Order:
    if action == "confirm":
        return book.confirm(order.id, now)
    if action == "ship":
        arrival = _arrival(fields.get("expected_arrival", ""), now)
        return book.ship(order.id, arrival, now)
    if action == "receive":
        text = fields.get("quantity", "").strip()
        quantity = float(text) if text else None
        if quantity is not None and not 0 <= quantity <= 1e12:
            raise ValueError("the quantity must be between 0 and 10^12")
        return book.receive(order.id, now, quantity)
    reason = fields.get("reason", "").strip() or "cancelled in the portal"
    return book.cancel(order.id, now, reason[:200])


def _arrival(text: str, now: datetime) -> datetime:
    """The expected arrival from the form's date (`YYYY-MM-DD`, noon UTC), else in 2 days."""
    if not text.strip():
        return now + timedelta(days=2)
    day = datetime.strptime(text.strip()[:10], "%Y-%m-%d")
    return day.replace(hour=12, tzinfo=UTC)


__all__ = ["router"]
