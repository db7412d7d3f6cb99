"""Projections: the replenishment engine's view of one (site, SKU) at one time."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from cloud.timeseries.base import Point

_FIELDS = (
    "on_hand",
    "inventory_position",
    "rate_per_day",
    "sigma_per_day",
    "days_of_cover",
    "stockout_days_p10",
    "stockout_days_p90",
    "reorder_point",
    "order_up_to",
    "open_order_qty",
)


class ProjectionPublic(BaseModel):
    """One evaluation of (site, SKU); see docs/data-model.md, `projection`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "site": "acme-north",
                    "sku": "BOLT-M8",
                    "supplier": "fastenal",
                    "time": "2026-11-20T08:15:00Z",
                    "on_hand": 88.0,
                    "inventory_position": 231.0,
                    "rate_per_day": 31.1,
                    "sigma_per_day": 6.2,
                    "days_of_cover": 2.8,
                    "stockout_days_p10": 2.1,
                    "stockout_days_p90": 3.6,
                    "reorder_point": 93.3,
                    "order_up_to": 240.0,
                    "open_order_qty": 143.0,
                }
            ]
        }
    )

    site: str
    sku: str
    supplier: str | None = None
    time: datetime
    on_hand: float | None = None
    inventory_position: float | None = None
    rate_per_day: float | None = None
    sigma_per_day: float | None = None
    days_of_cover: float | None = None
    stockout_days_p10: float | None = None
    stockout_days_p90: float | None = None
    reorder_point: float | None = None
    order_up_to: float | None = None
    open_order_qty: float | None = None

    @classmethod
    def of(cls, point: Point) -> ProjectionPublic:
        values = {
            name: float(v)
            for name in _FIELDS
            if isinstance(v := point.field(name), int | float) and not isinstance(v, bool)
        }
        return cls(
            site=point.tag("site") or "",
            sku=point.tag("sku") or "",
            supplier=point.tag("supplier"),
            time=point.time,
            **values,
        )
