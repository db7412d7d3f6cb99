"""`/alerts`: what the cloud published on `vmi/v1/<site>/alerts` (the `alert`
measurement). A supplier sees stock alerts of its pairs and sensor alerts of
the devices it sees; a customer every alert at its sites."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from cloud.api import visible
from cloud.api.deps import ContextDep, PagingDep, StoreDep, ViewDep
from cloud.api.errors import AUTH_RESPONSES
from cloud.api.routes._window import SinceQuery, UntilQuery, window
from cloud.api.schemas.alerts import AlertPublic
from cloud.api.schemas.common import Page
from vmi.wire import AlertKind, Identifier

router = APIRouter(prefix="/alerts", tags=["alerts"], responses=AUTH_RESPONSES)


@router.get("")
def list_alerts(
    view: ViewDep,
    store: StoreDep,
    context: ContextDep,
    paging: PagingDep,
    since: SinceQuery = None,
    until: UntilQuery = None,
    site: Annotated[Identifier | None, Query(description="Only at this site.")] = None,
    sku: Annotated[Identifier | None, Query(description="Only of this SKU.")] = None,
    kind: Annotated[AlertKind | None, Query(description="Only of this kind.")] = None,
) -> Page[AlertPublic]:
    """The alerts in `[from, to)` (default: the lookback window) this key may see,
    newest first."""
    start, end = window(
        since,
        until,
        now=context.clock.now(),
        default_span=timedelta(days=context.settings.lookback_days),
        max_span=timedelta(days=context.settings.history_max_days),
    )
    found = [
        AlertPublic.of(p)
        for p in reversed(visible.alerts(store, view, start, end, site))
        if sku in (None, p.tag("sku")) and (kind is None or kind.value == p.tag("kind"))
    ]
    return Page.of(found, paging.offset, paging.limit)
