"""The portal's KPIs and Suggestions pages: how the shelves did over the last 30 days, per
shelf and rolled up, and better agreement terms to accept or dismiss (decided as the
API decides: `cloud.api.suggestion_decisions`)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cloud.api import suggestion_decisions as decisions
from cloud.api import visible
from cloud.api.deps import IdPath
from cloud.catalog import AgreementSpec
from cloud.kpis.report import GroupBy, group_rows, kpi_report
from cloud.portal.web import (
    PREFIX,
    context_of,
    csrf_ok,
    csrf_refused_page,
    form,
    local_path,
    not_found_page,
    reader_of,
    redirect,
    render,
    require_session,
    view_for,
    with_query,
)
from cloud.suggest.book import SuggestionStatus

router = APIRouter(prefix=PREFIX, include_in_schema=False)
KPI_DAYS = 30
GROUPS = [g.value for g in GroupBy]


@router.get("/kpis")
def kpis_page(request: Request, by: str = "key") -> Response:
    who = require_session(request)
    reader = reader_of(request, who)
    view = view_for(request, who)
    context = context_of(request)
    group = GroupBy(by) if by in GROUPS else GroupBy.KEY
    end = context.clock.now()
    start = end - timedelta(days=KPI_DAYS)
    keys = visible.stored_pairs(context.store, view)
    rows = group_rows(
        kpi_report(context.store, context.orders, keys, start, end, catalog=context.catalog),
        group,
    )
    return render(
        request, "kpis.html", reader, who, rows=rows, by=group.value, groups=GROUPS, days=KPI_DAYS
    )


@router.get("/suggestions")
def suggestions_page(request: Request, done: str = "", error: str = "") -> Response:
    who = require_session(request)
    reader = reader_of(request, who)
    view = view_for(request, who)
    context = context_of(request)
    sites = view.visible_sites()
    found = (
        []
        if sites == []
        else context.suggestions.suggestions(sites=sites, status=SuggestionStatus.OPEN)
    )
    rows = [row for row in found if view.sees_pair(row.site, row.sku)]
    deciders = {
        row.id: decisions.may_decide(
            view, row, context.catalog.find(AgreementSpec, (row.site, row.sku))
        )
        for row in rows
    }
    return render(
        request,
        "suggestions.html",
        reader,
        who,
        rows=rows,
        deciders=deciders,
        done=done[:200],
        error=error[:200],
    )


@router.post("/suggestions/{suggestion_id}/{action}")
async def decide(request: Request, suggestion_id: IdPath, action: str) -> Response:
    who = require_session(request)
    fields = await form(request)
    if not csrf_ok(who.csrf, fields):
        return csrf_refused_page(request, who)
    if action not in ("accept", "dismiss"):
        return not_found_page(request, who)
    reader = reader_of(request, who)
    view = view_for(request, who)
    context = context_of(request)
    back = local_path(fields.get("next"), PREFIX + "/suggestions")
    now = context.clock.now()
    try:
        if action == "accept":
            decisions.accept(context.suggestions, context.catalog, view, suggestion_id, now)
        else:
            note = fields.get("note", "").strip()[:500] or None
            decisions.dismiss(context.suggestions, context.catalog, view, suggestion_id, now, note)
    except decisions.DecisionRefused as exc:
        if exc.refusal is decisions.Refusal.NOT_FOUND:
            return not_found_page(request, who)
        if exc.refusal is decisions.Refusal.FORBIDDEN:
            return render(
                request, "error.html", reader, who, 403, message=reader.t("error.forbidden")
            )
        return redirect(with_query(back, error=reader.t("orders.refused", reason=exc.detail)))
    word = reader.t(f"suggestions.{action}ed")
    return redirect(
        with_query(back, done=reader.t("suggestions.done", id=suggestion_id, what=word))
    )
