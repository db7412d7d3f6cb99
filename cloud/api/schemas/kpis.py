"""KPIs: replenishment performance of one (site, SKU), or of a group of them, over
a window (see `cloud.kpis.measure` for every definition)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from cloud.kpis.report import KpiRow


class KpiPublic(BaseModel):
    """The KPIs of one (site, SKU) (`keys` = 1, `group` = "site/sku"), or of the
    (site, SKU)s of one site, customer or supplier rolled up (`group` = its code;
    `site`, `customer` or `supplier` is set when every member shares it).

    Totals (`consumed`, `lost_units`, counts, hours) add up over a group; the
    ratios are recomputed from the group's totals, so a big key weighs more.
    A ratio is null when there is nothing to compute it from (no stock, no
    consumption, no orders, no scored forecast days).
    """

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "group": "acme-north/BOLT-M8",
                    "site": "acme-north",
                    "sku": "BOLT-M8",
                    "supplier": "fastenal",
                    "customer": "acme",
                    "keys": 1,
                    "from": "2026-11-02T00:00:00Z",
                    "to": "2026-11-12T00:00:00Z",
                    "consumed": 75.0,
                    "avg_on_hand": 28.5,
                    "turns_per_year": 96.05,
                    "days_of_supply": 3.8,
                    "stockout_events": 1,
                    "stockout_hours": 48.0,
                    "lost_units": 24.0,
                    "fill_rate": 0.758,
                    "orders_placed": 2,
                    "avg_order_qty": 50.0,
                    "deliveries": 2,
                    "on_time_rate": 0.5,
                    "avg_lead_time_days": 4.5,
                    "forecast_days": 7,
                    "forecast_bias": -0.429,
                    "forecast_mae": 2.143,
                    "forecast_mase": 2.143,
                }
            ]
        },
    )

    group: str = Field(description='"site/sku" for one key, else the site, customer or supplier.')
    site: str | None = None
    sku: str | None = None
    supplier: str | None = Field(
        default=None, description='The managing supplier ("unassigned": no agreement).'
    )
    customer: str | None = Field(default=None, description="The site's customer.")
    keys: int = Field(ge=0, description="(site, SKU)s in the row.")
    since: datetime = Field(
        alias="from", serialization_alias="from", description="Start of the window (inclusive)."
    )
    until: datetime = Field(
        alias="to", serialization_alias="to", description="End of the window (exclusive)."
    )
    consumed: float = Field(description="Units taken from the shelves (refills excluded).")
    avg_on_hand: float | None = Field(
        default=None, description="Time-weighted mean stock over the time it is known."
    )
    turns_per_year: float | None = Field(
        default=None, description="Consumption per year over average stock."
    )
    days_of_supply: float | None = Field(
        default=None, description="Average stock over consumption per day."
    )
    stockout_events: int = Field(ge=0, description="Stretches with the shelf empty.")
    stockout_hours: float = Field(description="Hours with the shelf empty.")
    lost_units: float = Field(description="Estimated demand not served while empty.")
    fill_rate: float | None = Field(
        default=None, description="Consumed over consumed plus lost (estimated)."
    )
    orders_placed: int = Field(ge=0, description="Orders created in the window, not cancelled.")
    avg_order_qty: float | None = None
    deliveries: int = Field(ge=0, description="Orders received in the window.")
    on_time_rate: float | None = Field(
        default=None, description="Deliveries received by their due day, of those with one."
    )
    avg_lead_time_days: float | None = Field(
        default=None, description="Days from an order's creation to its receipt."
    )
    forecast_days: int = Field(ge=0, description="Days the forecast was scored on.")
    forecast_bias: float | None = Field(
        default=None, description="Mean of forecast minus actual per day (positive: over)."
    )
    forecast_mae: float | None = Field(default=None, description="Mean absolute error per day.")
    forecast_mase: float | None = Field(
        default=None, description='MAE over the naive "tomorrow as today" error (below 1: better).'
    )

    @classmethod
    def of(cls, row: KpiRow, since: datetime, until: datetime) -> KpiPublic:
        """A report row, over `[since, until)`."""
        k = row.kpis
        return cls(
            group=row.group,
            site=row.site,
            sku=row.sku,
            supplier=row.supplier,
            customer=row.customer,
            keys=row.keys,
            since=since,
            until=until,
            consumed=k.consumed,
            avg_on_hand=k.avg_on_hand,
            turns_per_year=k.turns_per_year,
            days_of_supply=k.days_of_supply,
            stockout_events=k.stockout_events,
            stockout_hours=k.stockout_hours,
            lost_units=k.lost_units,
            fill_rate=k.fill_rate,
            orders_placed=k.orders_placed,
            avg_order_qty=k.avg_order_qty,
            deliveries=k.deliveries,
            on_time_rate=k.on_time_rate,
            avg_lead_time_days=k.avg_lead_time_days,
            forecast_days=k.forecast_days,
            forecast_bias=k.forecast_bias,
            forecast_mae=k.forecast_mae,
            forecast_mase=k.forecast_mase,
        )
