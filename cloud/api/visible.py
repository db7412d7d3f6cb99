"""Reads from the time-series store, filtered to one view: what the levels,
projections, alerts and stream routes, and the portal's pages, share."""

from __future__ import annotations

from datetime import datetime

from cloud.api.tenancy import View
from cloud.timeseries import LevelPoint, TimeSeriesStore
from cloud.timeseries.base import Point
from cloud.timeseries.measurements import ALERT, PROJECTION


def latest_levels(store: TimeSeriesStore, view: View, site: str | None) -> list[LevelPoint]:
    """The newest level of every series the view holds (of `site` if given)."""
    sites = view.visible_sites(site)
    if sites is None:
        points = store.latest_levels()
    else:
        points = [p for s in sites for p in store.latest_levels(s)]
    return [p for p in points if view.sees_pair(p.site, p.sku)]


def newest_projections(
    store: TimeSeriesStore,
    view: View,
    since: datetime,
    site: str | None = None,
    sku: str | None = None,
) -> dict[tuple[str, str], Point]:
    """The newest `projection` point of every (site, SKU) the view holds, evaluated since
    `since` (of `site` and `sku` if given)."""
    sites = view.visible_sites(site)
    if sites is None:
        points = store.points(PROJECTION.name, since)
    else:
        points = [p for s in sites for p in store.points(PROJECTION.name, since, tags={"site": s})]
    newest: dict[tuple[str, str], Point] = {}
    for point in points:  # in time order: later ones replace earlier ones
        key = (point.tag("site") or "", point.tag("sku") or "")
        if view.sees_pair(*key) and sku in (None, key[1]):
            newest[key] = point
    return newest


def alerts(
    store: TimeSeriesStore,
    view: View,
    since: datetime,
    until: datetime | None = None,
    site: str | None = None,
) -> list[Point]:
    """The alert points in `[since, until)` the view holds (of `site` if given), in time order."""
    sites = view.visible_sites(site)
    if sites is None:
        points = store.points(ALERT.name, since, until)
    else:
        points = [
            p for s in sites for p in store.points(ALERT.name, since, until, tags={"site": s})
        ]
        points.sort(key=lambda p: (p.time, p.tags))
    return [
        p for p in points if view.sees_alert(p.tag("site") or "", p.tag("sku"), p.tag("device"))
    ]
