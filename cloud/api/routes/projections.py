"""`/projections`: the replenishment engine's view of each (site, SKU): on hand,
consumption, days of cover, reorder point (the `projection` measurement)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from cloud.api.deps import CodePath, ContextDep, PagingDep, StoreDep, ViewDep
from cloud.api.errors import AUTH_RESPONSES, NOT_FOUND_RESPONSE, not_found
from cloud.api.routes._window import SinceQuery, UntilQuery, window
from cloud.api.schemas.common import Page
from cloud.api.schemas.projections import ProjectionPublic
from cloud.api.visible import newest_projections
from cloud.timeseries.measurements import PROJECTION
from vmi.wire import Identifier

router = APIRouter(prefix="/projections", tags=["projections"], responses=AUTH_RESPONSES)


@router.get("")
def latest_projections(
    view: ViewDep,
    store: StoreDep,
    context: ContextDep,
    paging: PagingDep,
    site: Annotated[Identifier | None, Query(description="Only at this site.")] = None,
    sku: Annotated[Identifier | None, Query(description="Only of this SKU.")] = None,
    since: SinceQuery = None,
) -> Page[ProjectionPublic]:
    """The newest projection of every (site, SKU) this key may see, evaluated since
    `from` (default: the lookback window), by site and SKU."""
    start, _ = window(
        since,
        None,
        now=context.clock.now(),
        default_span=timedelta(days=context.settings.lookback_days),
    )
    newest = {
        key: ProjectionPublic.of(point)
        for key, point in newest_projections(store, view, start, site, sku).items()
    }
    found = [newest[key] for key in sorted(newest)]
    return Page.of(found, paging.offset, paging.limit)


@router.get("/{site}/{sku}", responses=NOT_FOUND_RESPONSE)
def projection_history(
    site: CodePath,
    sku: CodePath,
    view: ViewDep,
    store: StoreDep,
    context: ContextDep,
    paging: PagingDep,
    since: SinceQuery = None,
    until: UntilQuery = None,
) -> Page[ProjectionPublic]:
    """The projections of (site, SKU) in `[from, to)` (default: the lookback window), oldest
    first."""
    if not view.sees_pair(site, sku):
        not_found()
    start, end = window(
        since,
        until,
        now=context.clock.now(),
        default_span=timedelta(days=context.settings.lookback_days),
        max_span=timedelta(days=context.settings.history_max_days),
    )
    points = store.points(PROJECTION.name, start, end, tags={"site": site, "sku": sku})
    found = [ProjectionPublic.of(p) for p in points]
    return Page.of(found, paging.offset, paging.limit)
