"""The portal's Alerts and Devices pages: what the cloud raised, and the edge devices'
health (online, last seen, outbox depth, faults), each within the person's view."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cloud.api import visible
from cloud.portal.web import (
    PREFIX,
    context_of,
    reader_of,
    render,
    require_session,
    view_for,
)
from cloud.timeseries.base import Point
from vmi.wire import AlertKind

router = APIRouter(prefix=PREFIX, include_in_schema=False)
ALERT_KINDS = [k.value for k in AlertKind]


@dataclass(frozen=True)
class DeviceRow:
    """One edge device as the Devices page shows it."""

    site: str
    device: str
    online: bool | None
    last_seen: datetime | None
    outbox: int | None
    faulted: int | None
    drivers: int | None
    version: str | None

    @property
    def state(self) -> str:
        """`offline`, `fault` (online with a driver not ok), `ok`, or `unknown`."""
        if self.online is False:
            return "offline"
        if self.online is None:
            return "unknown"
        return "fault" if self.faulted else "ok"


def _int(point: Point, name: str) -> int | None:
    value = point.field(name)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def device_rows(
    statuses: dict[tuple[str, str], Point], seen: dict[tuple[str, str], datetime]
) -> list[DeviceRow]:
    """Every device with a status or a level, by site and device (pure)."""
    rows = []
    for key in sorted(set(statuses) | set(seen)):
        status = statuses.get(key)
        online = status.field("online") if status is not None else None
        version = status.field("agent_version") if status is not None else None
        times = [t for t in (seen.get(key), status.time if status else None) if t is not None]
        rows.append(
            DeviceRow(
                site=key[0],
                device=key[1],
                online=online if isinstance(online, bool) else None,
                last_seen=max(times) if times else None,
                outbox=_int(status, "outbox_pending") if status else None,
                faulted=_int(status, "drivers_faulted") if status else None,
                drivers=_int(status, "drivers_total") if status else None,
                version=version if isinstance(version, str) else None,
            )
        )
    return rows


@router.get("/alerts")
def alerts_page(request: Request, kind: str = "") -> Response:
    who = require_session(request)
    reader = reader_of(request, who)
    view = view_for(request, who)
    context = context_of(request)
    since = context.clock.now() - timedelta(days=context.settings.lookback_days)
    wanted = kind if kind in ALERT_KINDS else ""
    alerts = [
        a
        for a in reversed(visible.alerts(context.store, view, since))
        if wanted in ("", a.tag("kind"))
    ][:500]
    return render(
        request,
        "alerts.html",
        reader,
        who,
        alerts=alerts,
        kind=wanted,
        kinds=ALERT_KINDS,
        known_alerts={f"alert.{k}" for k in ALERT_KINDS},
    )


@router.get("/devices")
def devices_page(request: Request) -> Response:
    who = require_session(request)
    reader = reader_of(request, who)
    view = view_for(request, who)
    context = context_of(request)
    since = context.clock.now() - timedelta(days=context.settings.lookback_days)
    statuses = visible.device_statuses(context.store, view, since)
    seen = {
        key: at
        for key, at in context.store.last_seen(since).items()
        if view.sees_alert(key[0], None, key[1])
    }
    return render(request, "devices.html", reader, who, devices=device_rows(statuses, seen))
