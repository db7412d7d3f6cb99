"""Alerts the cloud published (`vmi/v1/<site>/alerts`), as stored."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from cloud.timeseries.base import Point


class AlertPublic(BaseModel):
    """One alert: a stock alert names the SKU, a sensor alert the device."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "time": "2026-11-20T08:15:00Z",
                    "site": "acme-north",
                    "kind": "reorder",
                    "sku": "BOLT-M8",
                    "device": None,
                    "message": "reorder 143 x BOLT-M8: 2.8 days of cover <= 3",
                    "order_id": 17,
                }
            ]
        }
    )

    time: datetime
    site: str
    kind: str
    sku: str | None = None
    device: str | None = None
    message: str | None = None
    order_id: int | None = None

    @classmethod
    def of(cls, point: Point) -> AlertPublic:
        message = point.field("message")
        order_id = point.field("order_id")
        return cls(
            time=point.time,
            site=point.tag("site") or "",
            kind=point.tag("kind") or "",
            sku=point.tag("sku"),
            device=point.tag("device"),
            message=message if isinstance(message, str) else None,
            order_id=order_id
            if isinstance(order_id, int) and not isinstance(order_id, bool)
            else None,
        )
