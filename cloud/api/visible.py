"""Reads from the time-series store, filtered to one view: what the levels,
projections, alerts and stream routes, and the portal's pages, share."""

from __future__ import annotations

from datetime import datetime

from cloud.api.tenancy import Pair, View
from cloud.kpis.report import stored_keys
from cloud.timeseries import LevelPoint, TimeSeriesStore
from cloud.timeseries.base import Point
from cloud.timeseries.measurements import ALERT, DEVICE_STATUS, PROJECTION


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


def device_statuses(
    store: TimeSeriesStore, view: View, since: datetime
) -> dict[tuple[str, str], Point]:
    """The newest `device_status` of every (site, device) the view holds, reported since
    `since`: a customer's every device at its sites, a supplier's the devices that report
    only its pairs (as for sensor alerts)."""
    sites = view.visible_sites()
    if sites is None:
        points = store.points(DEVICE_STATUS.name, since)
    else:
        points = [
            p for s in sites for p in store.points(DEVICE_STATUS.name, since, tags={"site": s})
        ]
    newest: dict[tuple[str, str], Point] = {}
    for point in points:  # in time order
        key = (point.tag("site") or "", point.tag("device") or "")
        if view.sees_alert(key[0], None, key[1]):
            newest[key] = point
    return newest


def stored_pairs(
    store: TimeSeriesStore, view: View, site: str | None = None, sku: str | None = None
) -> list[Pair]:
    """The (site, SKU)s with stored levels that `view` holds (of `site` / `sku` if given)."""
    sites = view.visible_sites(site)
    if sites is None:
        keys = stored_keys(store, None, sku)
    else:
        keys = [k for s in sites for k in stored_keys(store, s, sku)]
    return [k for k in keys if view.sees_pair(*k)]
