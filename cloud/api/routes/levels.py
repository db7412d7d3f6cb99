"""`/levels`: the newest level of every shelf, and level history in time buckets.

A supplier sees the levels of its (site, SKU) pairs, a customer those at its
sites (see `cloud.api.tenancy`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from cloud.api import visible
from cloud.api.deps import CodePath, ContextDep, PagingDep, StoreDep, ViewDep
from cloud.api.downsample import (
    INTERVAL_PATTERN,
    bucket_count,
    choose_interval,
    downsample,
    format_interval,
    parse_interval,
)
from cloud.api.errors import AUTH_RESPONSES, NOT_FOUND_RESPONSE, not_found, unprocessable
from cloud.api.routes._window import SinceQuery, UntilQuery, window
from cloud.api.schemas.common import Page
from cloud.api.schemas.levels import BucketPublic, HistorySeries, LevelHistory, LevelPublic
from vmi.wire import Identifier

router = APIRouter(prefix="/levels", tags=["levels"], responses=AUTH_RESPONSES)


@router.get("")
def list_levels(
    view: ViewDep,
    store: StoreDep,
    paging: PagingDep,
    site: Annotated[Identifier | None, Query(description="Only at this site.")] = None,
    sku: Annotated[Identifier | None, Query(description="Only of this SKU.")] = None,
) -> Page[LevelPublic]:
    """The newest level of every (site, device, location, SKU, source), by site and SKU."""
    found = [
        LevelPublic.of(p) for p in visible.latest_levels(store, view, site) if sku in (None, p.sku)
    ]
    return Page.of(found, paging.offset, paging.limit)


@router.get("/{site}/{sku}/history", responses=NOT_FOUND_RESPONSE)
def level_history(
    site: CodePath,
    sku: CodePath,
    view: ViewDep,
    store: StoreDep,
    context: ContextDep,
    since: SinceQuery = None,
    until: UntilQuery = None,
    interval: Annotated[
        str | None,
        Query(
            pattern=INTERVAL_PATTERN,
            description="Bucket width: a number and s, m, h or d (`15m`, `1h`); "
            "default: the smallest that keeps each series within the point budget.",
            examples=["1h"],
        ),
    ] = None,
) -> LevelHistory:
    """Levels of (site, SKU) in `[from, to)` (default: the last day), per location,
    device and source, as mean, min, max and last per bucket."""
    if not view.sees_pair(site, sku):
        not_found()
    settings = context.settings
    start, end = window(
        since,
        until,
        now=context.clock.now(),
        default_span=timedelta(days=1),
        max_span=timedelta(days=settings.history_max_days),
    )
    if interval is None:
        step = choose_interval(end - start, settings.history_max_points)
    else:
        step = parse_interval(interval)
        if bucket_count(end - start, step) > settings.history_max_points:
            unprocessable(
                f"more than {settings.history_max_points} buckets: widen the interval "
                "or shorten the window",
                "query",
                "interval",
            )
    series = downsample(store.level_series(site, sku, start, end), step)
    return LevelHistory(
        site=site,
        sku=sku,
        since=start,
        until=end,
        interval=format_interval(step),
        series=[
            HistorySeries(
                location=s.location,
                device=s.device,
                source=s.source,
                buckets=[
                    BucketPublic(
                        time=b.start, mean=b.mean, min=b.low, max=b.high, last=b.last, count=b.count
                    )
                    for b in s.buckets
                ],
            )
            for s in series
        ],
    )
