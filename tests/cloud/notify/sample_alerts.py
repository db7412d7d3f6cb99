"""Valid alerts of any kind for the webhook tests: stock alerts with made-up
figures (a reorder also its order), sensor alerts naming a device."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter

from vmi.wire import Alert, AlertKind

AT = datetime(2025, 3, 5, 10, 0, tzinfo=UTC)
_ALERT = TypeAdapter[Alert](Alert)
_FIGURES = {
    "on_hand": 12.0,
    "inventory_position": 12.0,
    "rate_per_day": 4.0,
    "reorder_point": 20.0,
    "reorder_days": 3.0,
}


def sample_alert(
    kind: AlertKind = AlertKind.REORDER, site: str = "acme-north", **fields: Any
) -> Alert:
    """An alert of `kind` at `site`; `fields` override or add to the defaults."""
    base: dict[str, Any] = {"kind": kind, "site": site, "at": AT, "message": "m"}
    if kind in (AlertKind.SENSOR_SILENT, AlertKind.SENSOR_ANOMALY, AlertKind.DEVICE_OFFLINE):
        base["device"] = "gw-1"
        if kind is AlertKind.SENSOR_ANOMALY:
            base["event"] = "drift"
        if kind is AlertKind.DEVICE_OFFLINE:
            base["offline_since"] = AT
    else:
        base |= {"sku": "BOLT-M8"} | _FIGURES
        if kind is AlertKind.REORDER:
            base |= {"order_id": 7, "order_quantity": 200}
    return _ALERT.validate_python(base | fields)
