"""Every measurement the cloud writes, declared once as data.

The writers build points only through `Measurement.point`, which refuses a tag
or field the declaration does not name and a value of the wrong type, and
`docs/data-model.md` documents exactly these declarations (a test compares
the two, and the dashboards' test checks every panel queries only what is
declared there). `stock_level`, the hot path, has its own fast writer
(`line_protocol.level_line`) that the same test holds to this declaration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from cloud.timeseries.base import LEVEL_MEASUREMENT, FieldValue, Point

FieldType = Literal["float", "integer", "boolean", "string"]

_PYTHON_TYPES: dict[FieldType, tuple[type, ...]] = {
    "float": (float, int),
    "integer": (int,),
    "boolean": (bool,),
    "string": (str,),
}


@dataclass(frozen=True, slots=True)
class Column:
    """One tag or field of a measurement."""

    name: str
    type: FieldType
    doc: str


@dataclass(frozen=True, slots=True)
class Measurement:
    """A measurement's name, tags and fields."""

    name: str
    doc: str
    tags: tuple[Column, ...]
    fields: tuple[Column, ...]

    def point(
        self,
        *,
        tags: Mapping[str, str | None],
        fields: Mapping[str, FieldValue | None],
        time: datetime,
    ) -> Point:
        """A point of this measurement; tags and fields that are None are left out.

        Raises `ValueError` for an undeclared tag or field, a value of the
        wrong type, or a point with no field left.
        """
        tag_names = {c.name for c in self.tags}
        for key in tags:
            if key not in tag_names:
                raise ValueError(f"{self.name}: undeclared tag {key!r}")
        field_types = {c.name: c.type for c in self.fields}
        kept: dict[str, FieldValue] = {}
        for key, value in fields.items():
            declared = field_types.get(key)
            if declared is None:
                raise ValueError(f"{self.name}: undeclared field {key!r}")
            if value is None:
                continue
            kept[key] = _coerce(self.name, key, declared, value)
        if not kept:
            raise ValueError(f"{self.name}: a point needs at least one field")
        return Point(
            measurement=self.name,
            tags=tuple(sorted((k, v) for k, v in tags.items() if v)),
            fields=tuple(sorted(kept.items())),
            time=time,
        )


def _coerce(measurement: str, key: str, declared: FieldType, value: FieldValue) -> FieldValue:
    # bool is an int subclass: never let True pass as an integer or a float.
    if isinstance(value, bool) != (declared == "boolean") or not isinstance(
        value, _PYTHON_TYPES[declared]
    ):
        raise ValueError(
            f"{measurement}.{key} is {declared}, not {type(value).__name__}: {value!r}"
        )
    return float(value) if declared == "float" else value


def restore_types(measurement: str, fields: Mapping[str, FieldValue]) -> dict[str, FieldValue]:
    """Fields read back from a store, with declared floats made floats again.

    JSON has one number type, so InfluxDB answers 12.0 as 12.
    """
    declared = _BY_NAME.get(measurement)
    types = {c.name: c.type for c in declared.fields} if declared else {}
    return {
        key: float(value)
        if types.get(key) == "float" and isinstance(value, int) and not isinstance(value, bool)
        else value
        for key, value in fields.items()
    }


def _tag(name: str, doc: str) -> Column:
    return Column(name, "string", doc)


_SITE = _tag("site", "customer site id")
_DEVICE = _tag("device", "edge device id")
_SKU = _tag("sku", "stock-keeping unit")
_COLLECTOR = _tag("collector", "the collector's MQTT client id")

STOCK_LEVEL = Measurement(
    LEVEL_MEASUREMENT,
    "One absolute stock level reported by an edge device.",
    tags=(
        _SITE,
        _tag("device", "edge device (gateway) id"),
        _tag("location", "shelf or bin"),
        _SKU,
        _tag("source", "`scale`, `rfid` or `manual`"),
    ),
    fields=(
        Column("quantity", "float", "units on hand"),
        Column("raw_weight_g", "float", "gross weight the scale reported"),
        Column("stable", "boolean", "the scale reported the weight as settled"),
        Column("seq", "integer", "the readings message's per-device sequence number"),
    ),
)

STOCK_EVENT = Measurement(
    "stock_event",
    "One thing that happened on a shelf or device, as the edge reported it.",
    tags=(
        _SITE,
        _DEVICE,
        _tag("kind", "event kind"),
        _tag("location", "shelf or bin (omitted when the event has none)"),
        _tag("sku", "stock-keeping unit (omitted when the event has none)"),
    ),
    fields=(
        Column("quantity", "float", "units picked or refilled, drift in grams"),
        Column("detail", "string", "human-readable detail (may be empty)"),
        Column("driver", "string", "driver name (device events only)"),
        Column("seq", "integer", "the events message's per-device sequence number"),
    ),
)

DEVICE_STATUS = Measurement(
    "device_status",
    "The edge agent's retained status: birth, periodic status, offline, last will.",
    tags=(_SITE, _DEVICE),
    fields=(
        Column("online", "boolean", "true for state online, false for offline"),
        Column("agent_version", "string", "edge agent version"),
        Column("config_hash", "string", "digest of the agent's validated config"),
        Column("drivers_total", "integer", "devices the agent drives"),
        Column("drivers_faulted", "integer", "of those, how many are not ok"),
        Column("outbox_pending", "integer", "messages waiting in the outbox"),
        Column("outbox_pending_bytes", "integer", "their size"),
        Column("outbox_dropped", "integer", "messages dropped by the overflow policy"),
    ),
)

PROJECTION = Measurement(
    "projection",
    "The replenishment engine's view of one (site, SKU), written at every evaluation.",
    tags=(_SITE, _SKU, _tag("supplier", "supplier managing the SKU at the site")),
    fields=(
        Column("on_hand", "float", "units on hand, all locations"),
        Column("inventory_position", "float", "on hand plus open order quantity"),
        Column("rate_per_day", "float", "expected consumption per day"),
        Column("sigma_per_day", "float", "spread of daily consumption"),
        Column("days_of_cover", "float", "on hand / rate"),
        Column("stockout_days_p10", "float", "days until stockout, 10th percentile"),
        Column("stockout_days_p90", "float", "days until stockout, 90th percentile"),
        Column("reorder_point", "float", "units; at or below it an order is placed"),
        Column("order_up_to", "float", "units; the order target"),
        Column("open_order_qty", "float", "units on open orders"),
    ),
)

ORDER_EVENT = Measurement(
    "order_event",
    "Every change of a replenishment order.",
    tags=(_SITE, _SKU, _tag("status", "the order's new status")),
    fields=(
        Column("order_id", "integer", "order id in the order database"),
        Column("quantity", "float", "units ordered"),
        Column("text", "string", "one line for an annotation"),
    ),
)

ALERT = Measurement(
    "alert",
    "Every alert the cloud published.",
    tags=(
        _SITE,
        _tag("sku", "stock-keeping unit (stock alerts)"),
        _tag("device", "edge device id (sensor alerts)"),
        _tag("kind", "alert kind"),
    ),
    fields=(
        Column("message", "string", "the alert's message"),
        Column("order_id", "integer", "the order a reorder alert is about"),
    ),
)

COLLECTOR_HEALTH = Measurement(
    "collector_health",
    "Each collector process's own health; counters are cumulative since it started.",
    tags=(_COLLECTOR,),
    fields=(
        Column("messages", "integer", "MQTT messages received"),
        Column("readings_written", "integer", "level points written"),
        Column("events_written", "integer", "event points written"),
        Column("rejected", "integer", "messages rejected, all reasons"),
        Column("write_retries", "integer", "store writes retried"),
        Column("store_failures", "integer", "store writes that failed on the store, all reasons"),
        Column("store_error", "string", "why the store is unavailable now (absent while it works)"),
        Column("in_flight", "integer", "messages received and not yet acknowledged"),
        Column("lag_s", "float", "receive time minus send time of the newest message"),
        Column("write_latency_ms", "float", "mean store write time over the last interval"),
        Column("ingest_rate", "float", "readings written per second over the last interval"),
        Column("sequence_gaps", "integer", "per-device sequence numbers never seen"),
        Column("sequence_replays", "integer", "messages seen again"),
    ),
)

COLLECTOR_REJECTS = Measurement(
    "collector_rejects",
    "Dead-lettered messages per reason, per collector, cumulative.",
    tags=(_COLLECTOR, _tag("reason", "dead-letter reason")),
    fields=(Column("count", "integer", "messages rejected for that reason"),),
)

KPI = Measurement(
    "kpi",
    "The KPIs of one (site, SKU) over the trailing window, written by the KPI job.",
    tags=(
        _SITE,
        _SKU,
        _tag("supplier", "supplier managing the SKU at the site"),
        _tag("customer", "customer owning the site"),
    ),
    fields=(
        Column("window_days", "float", "length of the window the figures are over"),
        Column("consumed", "float", "units consumed in the window"),
        Column("avg_on_hand", "float", "time-weighted mean units on hand"),
        Column("turns_per_year", "float", "consumption per year / average stock"),
        Column("days_of_supply", "float", "average stock / consumption per day"),
        Column("stockout_events", "integer", "episodes with nothing on hand"),
        Column("stockout_hours", "float", "hours with nothing on hand"),
        Column("lost_units", "float", "estimated demand not served while empty"),
        Column("fill_rate", "float", "consumed / (consumed + lost_units)"),
        Column("orders_placed", "integer", "orders created in the window, not cancelled"),
        Column("avg_order_qty", "float", "their mean quantity"),
        Column("deliveries", "integer", "orders received in the window"),
        Column("on_time_rate", "float", "share of rated deliveries received by their due day"),
        Column("avg_lead_time_days", "float", "mean days from created to received"),
        Column("forecast_bias", "float", "mean daily forecast - actual"),
        Column("forecast_mae", "float", "mean absolute daily forecast error"),
        Column("forecast_mase", "float", "MAE / the naive forecast's MAE"),
    ),
)

MEASUREMENTS: tuple[Measurement, ...] = (
    STOCK_LEVEL,
    STOCK_EVENT,
    DEVICE_STATUS,
    PROJECTION,
    ORDER_EVENT,
    ALERT,
    COLLECTOR_HEALTH,
    COLLECTOR_REJECTS,
    KPI,
)

_BY_NAME = {m.name: m for m in MEASUREMENTS}
