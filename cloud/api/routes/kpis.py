"""`/kpis`: replenishment KPIs (turnover, stock, stockouts, fill rate, orders,
deliveries, forecast accuracy) of the (site, SKU)s this key may see, per
(site, SKU) or rolled up by site, customer or supplier (`cloud.kpis`).

Only the pairs in the caller's view are measured, so a roll-up holds only
them: a supplier's site row sums its own pairs at that site, not the other
suppliers' there. A `site` the key may not see answers an empty list, as
the other lists do.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from cloud.api import visible
from cloud.api.deps import CatalogDep, ContextDep, OrdersDep, PagingDep, StoreDep, ViewDep
from cloud.api.errors import AUTH_RESPONSES
from cloud.api.routes._window import SinceQuery, UntilQuery, window
from cloud.api.schemas.common import Page
from cloud.api.schemas.kpis import KpiPublic
from cloud.kpis.report import GroupBy, group_rows, kpi_report
from vmi.wire import Identifier

router = APIRouter(prefix="/kpis", tags=["kpis"], responses=AUTH_RESPONSES)

DEFAULT_SPAN = timedelta(days=30)
"""The window when the request gives no `from`."""


@router.get("")
def list_kpis(
    view: ViewDep,
    store: StoreDep,
    orders: OrdersDep,
    catalog: CatalogDep,
    context: ContextDep,
    paging: PagingDep,
    site: Annotated[Identifier | None, Query(description="Only at this site.")] = None,
    sku: Annotated[Identifier | None, Query(description="Only of this SKU.")] = None,
    since: SinceQuery = None,
    until: UntilQuery = None,
    by: Annotated[
        GroupBy,
        Query(
            description="One row per (site, SKU) (`key`), or rolled up by `site`, "
            "`customer` or `supplier`."
        ),
    ] = GroupBy.KEY,
) -> Page[KpiPublic]:
    """The KPIs over `[from, to)` (default: the 30 days before `to`) of every (site, SKU)
    with stored levels this key may see, sorted by group."""
    max_span = timedelta(days=context.settings.history_max_days)
    start, end = window(
        since,
        until,
        now=context.clock.now(),
        default_span=min(DEFAULT_SPAN, max_span),
        max_span=max_span,
    )
    keys = visible.stored_pairs(store, view, site, sku)
    rows = group_rows(kpi_report(store, orders, keys, start, end, catalog=catalog), by)
    found = [KpiPublic.of(row, start, end) for row in rows]
    return Page.of(found, paging.offset, paging.limit)
