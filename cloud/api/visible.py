"""Reads from the time-series store, filtered to one view: what the levels,
alerts and stream routes share."""

from __future__ import annotations

from datetime import datetime

from cloud.api.tenancy import View
from cloud.timeseries import LevelPoint, TimeSeriesStore
from cloud.timeseries.base import Point
from cloud.timeseries.measurements import ALERT


def latest_levels(store: TimeSeriesStore, view: View, site: str | None) -> list[LevelPoint]:
    """The newest level of every series the view holds (of `site` if given)."""
    sites = view.visible_sites(site)
    if sites is None:
        points = store.latest_levels()
    else:
        points = [p for s in sites for p in store.latest_levels(s)]
    return [p for p in points if view.sees_pair(p.site, p.sku)]


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
