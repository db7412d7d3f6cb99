#!/usr/bin/env python3
"""Write the Grafana dashboards (dashboards/dashboards/*.json) from the panel
definitions below.

The dashboards are data: every panel is a few lines here, and the helpers
keep what must agree across them (the datasource reference, the template
variables, the thresholds, the layout) in one place. After editing, run

    python dashboards/build.py

and commit the JSON with this script; tests/dashboards checks that the
committed JSON is exactly what this script writes, that every query reads only
what docs/data-model.md documents, and runs every query against InfluxDB.

Queries are InfluxQL, written for InfluxDB 1.x and the v1 compatibility APIs
of 2.x and 3.x. Template variables are always used in Grafana's regex form,
`"tag" =~ /^$var$/`, which holds a single value, several, or "All".
Standard library only: `dashboards/` imports nothing from the project.
"""

# ruff: noqa: S608  (InfluxQL built from constants here, never from input)
from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

Json = dict[str, Any]

DATASOURCE: Json = {"type": "influxdb", "uid": "vmi-influxdb"}
SCHEMA_VERSION = 39
OUT_DIR = Path(__file__).resolve().parent / "dashboards"

OVERVIEW_UID = "vmi-supplier-overview"
SKU_UID = "vmi-sku-detail"
FLEET_UID = "vmi-fleet-health"
COLLECTOR_UID = "vmi-collector-internals"
KPI_UID = "vmi-kpis"

DAY_MS = 86_400_000
# Days of cover: the default rule orders at lead time + safety days (2 + 1);
# the data model does not carry each SKU's own lead time, so one scale for all.
COVER_STEPS = (("red", None), ("orange", 3), ("green", 7))


# ---- small builders -----------------------------------------------------------


def steps(*pairs: tuple[str, float | None]) -> Json:
    """Absolute thresholds: ("red", None) is the base colour, then (colour, from)."""
    return {
        "mode": "absolute",
        "steps": [{"color": color, "value": value} for color, value in pairs],
    }


def influx(query: str, ref: str = "A", *, table: bool = False, alias: str | None = None) -> Json:
    """One raw InfluxQL target."""
    target: Json = {
        "refId": ref,
        "datasource": DATASOURCE,
        "query": query,
        "rawQuery": True,
        "resultFormat": "table" if table else "time_series",
    }
    if alias:
        target["alias"] = alias
    return target


def match(
    regex: dict[str, str] | None = None, *, time: bool = True, extra: Sequence[str] = ()
) -> str:
    """The WHERE clause: `$timeFilter`, then `"tag" =~ /^$var$/` per tag, then `extra`."""
    parts = ["$timeFilter"] if time else []
    parts += [f'"{tag}" =~ /^${var}$/' for tag, var in (regex or {}).items()]
    parts += list(extra)
    return " AND ".join(parts)


def override(name: str, *properties: tuple[str, Any]) -> Json:
    return {
        "matcher": {"id": "byName", "options": name},
        "properties": [{"id": key, "value": value} for key, value in properties],
    }


def sku_link_override() -> Json:
    """The `sku` column of a table, titled and linked to the SKU detail board."""
    return override(
        "sku",
        ("displayName", "SKU"),
        (
            "links",
            [
                {
                    "title": "SKU detail",
                    "url": f"/d/{SKU_UID}?var-supplier=${{__data.fields.supplier}}"
                    "&var-site=${__data.fields.site}&var-sku=${__data.fields.sku}"
                    "&${__url_time_range}",
                }
            ],
        ),
    )


def field_config(
    *,
    unit: str | None = None,
    thresholds: Json | None = None,
    decimals: int | None = None,
    mappings: list[Json] | None = None,
    custom: Json | None = None,
    color: Json | None = None,
    no_value: str | None = None,
    minimum: float | None = None,
    overrides: Iterable[Json] = (),
) -> Json:
    defaults: Json = {}
    if unit:
        defaults["unit"] = unit
    if decimals is not None:
        defaults["decimals"] = decimals
    if minimum is not None:
        defaults["min"] = minimum
    defaults["thresholds"] = thresholds or steps(("green", None))
    defaults["color"] = color or {"mode": "thresholds"}
    if mappings:
        defaults["mappings"] = mappings
    if no_value is not None:
        defaults["noValue"] = no_value
    if custom:
        defaults["custom"] = custom
    return {"defaults": defaults, "overrides": list(overrides)}


def _panel(
    kind: str, title: str, description: str, targets: list[Json], size: tuple[int, int]
) -> Json:
    return {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "targets": targets,
        "_size": size,  # replaced by gridPos when the dashboard is laid out
    }


def stat(
    title: str,
    description: str,
    query: str,
    *,
    unit: str = "short",
    thresholds: Json | None = None,
    decimals: int | None = None,
    no_value: str | None = None,
    size: tuple[int, int] = (4, 4),
    table: bool = False,
    transformations: list[Json] | None = None,
    fields: str = "",
    alias: str | None = None,
) -> Json:
    panel = _panel("stat", title, description, [influx(query, table=table, alias=alias)], size)
    panel["fieldConfig"] = field_config(
        unit=unit, thresholds=thresholds, decimals=decimals, no_value=no_value
    )
    panel["options"] = {
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": fields, "values": False},
        "colorMode": "background",
        "graphMode": "none",
        "justifyMode": "auto",
        "orientation": "auto",
        "textMode": "value_and_name" if fields else "auto",
        "wideLayout": True,
    }
    if transformations:
        panel["transformations"] = transformations
    return panel


def timeseries(
    title: str,
    description: str,
    targets: list[Json],
    *,
    unit: str = "short",
    thresholds: Json | None = None,
    overrides: Iterable[Json] = (),
    bars: bool = False,
    stepped: bool = False,
    threshold_style: str = "off",
    minimum: float | None = None,
    stack: bool = False,
    size: tuple[int, int] = (12, 8),
) -> Json:
    panel = _panel("timeseries", title, description, targets, size)
    custom: Json = {
        "drawStyle": "bars" if bars else "line",
        "lineInterpolation": "stepAfter" if stepped else "linear",
        "lineWidth": 1 if bars else 2,
        "fillOpacity": 60 if bars else 10,
        "showPoints": "never",
        "spanNulls": True,
        "thresholdsStyle": {"mode": threshold_style},
        "stacking": {"mode": "normal" if stack else "none", "group": "A"},
    }
    panel["fieldConfig"] = field_config(
        unit=unit,
        thresholds=thresholds,
        minimum=minimum,
        custom=custom,
        color={"mode": "palette-classic"},
        overrides=overrides,
    )
    panel["options"] = {
        "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
        "tooltip": {"mode": "multi", "sort": "desc"},
    }
    return panel


def table(
    title: str,
    description: str,
    targets: list[Json],
    *,
    overrides: Iterable[Json] = (),
    transformations: list[Json] | None = None,
    sort_by: str | None = "Time",
    descending: bool = True,
    size: tuple[int, int] = (24, 9),
) -> Json:
    panel = _panel("table", title, description, targets, size)
    panel["fieldConfig"] = field_config(
        custom={"align": "auto", "cellOptions": {"type": "auto"}, "filterable": True},
        overrides=overrides,
    )
    panel["options"] = {"showHeader": True, "cellHeight": "sm"}
    if sort_by:
        panel["options"]["sortBy"] = [{"displayName": sort_by, "desc": descending}]
    if transformations:
        panel["transformations"] = transformations
    return panel


def state_timeline(
    title: str,
    description: str,
    targets: list[Json],
    *,
    mappings: list[Json],
    size: tuple[int, int] = (24, 8),
) -> Json:
    panel = _panel("state-timeline", title, description, targets, size)
    panel["fieldConfig"] = field_config(
        mappings=mappings,
        custom={"fillOpacity": 80, "lineWidth": 0},
        color={"mode": "thresholds"},
    )
    panel["options"] = {
        "mergeValues": True,
        "showValue": "never",
        "alignValue": "left",
        "rowHeight": 0.85,
        "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
        "tooltip": {"mode": "single", "sort": "none"},
    }
    return panel


def bargauge(
    title: str,
    description: str,
    targets: list[Json],
    *,
    thresholds: Json,
    size: tuple[int, int] = (12, 8),
) -> Json:
    panel = _panel("bargauge", title, description, targets, size)
    panel["fieldConfig"] = field_config(unit="short", thresholds=thresholds, minimum=0)
    panel["options"] = {
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "orientation": "horizontal",
        "displayMode": "gradient",
        "showUnfilled": True,
        "valueMode": "color",
    }
    return panel


def cell(kind: str, mode: str = "basic") -> tuple[str, Json]:
    """A table cell display: ("custom.cellOptions", ...)."""
    if kind == "color-background":
        return ("custom.cellOptions", {"type": kind, "mode": mode})
    return ("custom.cellOptions", {"type": kind})


def value_map(*entries: tuple[str, str, str]) -> list[Json]:
    """Value mappings: (raw value, shown text, colour)."""
    return [
        {
            "type": "value",
            "options": {
                raw: {"text": text, "color": color, "index": i}
                for i, (raw, text, color) in enumerate(entries)
            },
        }
    ]


def query_variable(
    name: str, label: str, query: str, *, multi: bool = True, include_all: bool = True
) -> Json:
    """A template variable filled by an InfluxQL `SHOW TAG VALUES` query."""
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DATASOURCE,
        "query": query,
        "definition": query,
        "refresh": 1,
        "multi": multi,
        "includeAll": include_all,
        "current": {},
        "options": [],
        "regex": "",
        "sort": 1,
        "hide": 0,
    }


def dashboard_link(title: str, uid: str, *, include_vars: bool = True) -> Json:
    return {
        "title": title,
        "type": "link",
        "url": f"/d/{uid}",
        "icon": "dashboard",
        "includeVars": include_vars,
        "keepTime": True,
        "targetBlank": False,
        "asDropdown": False,
        "tags": [],
    }


def annotation(name: str, query: str, *, text: str, tags: str, color: str) -> Json:
    """Points of a query as annotations: `text` column as the text, `tags` as tags."""
    return {
        "name": name,
        "datasource": DATASOURCE,
        "enable": True,
        "iconColor": color,
        # Grafana 10+ reads `target`; older versions read the top-level keys.
        "target": {
            "refId": "Anno",
            "query": query,
            "rawQuery": True,
            "resultFormat": "table",
            "textColumn": text,
            "tagsColumn": tags,
            "fromAnnotations": True,
        },
        "query": query,
        "textColumn": text,
        "tagsColumn": tags,
    }


def order_annotation(filters: dict[str, str]) -> Json:
    """Replenishment orders (`order_event`) as annotations: one per status change."""
    query = f'SELECT "text", "status" FROM "order_event" WHERE {match(filters)}'
    return annotation("Orders", query, text="text", tags="status", color="purple")


def layout(panels: list[Json]) -> list[Json]:
    """Number the panels and place them left to right in rows of width 24."""
    x = y = row_height = 0
    placed = []
    for number, panel in enumerate(panels, start=1):
        w, h = panel.pop("_size")
        if x + w > 24:
            x, y, row_height = 0, y + row_height, 0
        placed.append({"id": number, "gridPos": {"x": x, "y": y, "w": w, "h": h}, **panel})
        x += w
        row_height = max(row_height, h)
    return placed


def dashboard(
    uid: str,
    title: str,
    description: str,
    panels: list[Json],
    *,
    variables: list[Json],
    annotations: Sequence[Json] = (),
    links: Sequence[Json] = (),
    time_from: str = "now-7d",
    refresh: str = "1m",
) -> Json:
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["vmi"],
        "editable": True,
        "graphTooltip": 1,
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "timezone": "browser",
        "time": {"from": time_from, "to": "now"},
        "refresh": refresh,
        "templating": {"list": variables},
        "annotations": {"list": list(annotations)},
        "links": [
            {
                "title": "VMI boards",
                "type": "dashboards",
                "tags": ["vmi"],
                "asDropdown": True,
                "includeVars": False,
                "keepTime": True,
            },
            *links,
        ],
        "panels": layout(panels),
    }


# ---- template variables ----------------------------------------------------------

SUPPLIER = query_variable(
    "supplier", "Supplier", 'SHOW TAG VALUES FROM "projection" WITH KEY = "supplier"'
)


def site_variable(*, multi: bool) -> Json:
    return query_variable(
        "site",
        "Site",
        'SHOW TAG VALUES FROM "projection" WITH KEY = "site" WHERE "supplier" =~ /^$supplier$/',
        multi=multi,
        include_all=multi,
    )


def sku_variable(*, multi: bool) -> Json:
    return query_variable(
        "sku",
        "SKU",
        'SHOW TAG VALUES FROM "projection" WITH KEY = "sku" '
        'WHERE "supplier" =~ /^$supplier$/ AND "site" =~ /^$site$/',
        multi=multi,
        include_all=multi,
    )


SHELF = {"supplier": "supplier", "site": "site", "sku": "sku"}
SITE_SKU = {"site": "site", "sku": "sku"}
DEVICE = {"site": "site", "device": "device"}
COLLECTOR = {"collector": "collector"}
PICK_OR_REFILL = '"kind" =~ /^(pick|refill)$/'
OTHER_SHELF_EVENTS = '"kind" !~ /^(pick|refill)$/'
DEVICE_EVENTS = '"kind" =~ /^(fault|driver)$/'
LAST_90_DAYS = "time > now() - 90d"
STOCK_ALERTS = '"kind" =~ /^(reorder|stockout_imminent|stockout)$/'
SENSOR_ALERTS = '"kind" =~ /^(sensor_silent|sensor_anomaly|device_offline)$/'


# ---- supplier overview ----------------------------------------------------------


def _latest_per_shelf(field: str, alias: str) -> str:
    """Subquery: the newest `field` of every (site, SKU) the variables select."""
    return (
        f'SELECT last("{field}") AS "{alias}" FROM "projection" '
        f'WHERE {match(SHELF)} GROUP BY "site", "sku"'
    )


def supplier_overview() -> Json:
    stock_columns = (
        'last("on_hand") AS "on_hand", "reorder_point", "open_order_qty", '
        '"inventory_position", "order_up_to", "rate_per_day", "days_of_cover", '
        '"stockout_days_p10", "stockout_days_p90"'
    )
    stock_table = table(
        "Stock against reorder point",
        "The newest projection of every managed shelf (site and SKU): units on hand and on "
        "order against the reorder point, consumption, days of cover and the projected "
        "stockout date (10th percentile: one chance in ten it comes sooner). Click a SKU "
        "for its detail.",
        [
            influx(
                f'SELECT {stock_columns} FROM "projection" '
                f'WHERE {match(SHELF)} GROUP BY "supplier", "site", "sku"',
                table=True,
            )
        ],
        transformations=[
            {
                "id": "calculateField",
                "options": {
                    "mode": "binary",
                    "binary": {"left": "on_hand", "operator": "/", "right": "reorder_point"},
                    "alias": "stock_vs_reorder",
                    "replaceFields": False,
                },
            },
            {
                "id": "calculateField",
                "options": {
                    "mode": "binary",
                    "binary": {
                        "left": "stockout_days_p10",
                        "operator": "*",
                        "right": str(DAY_MS),
                    },
                    "alias": "stockout_in_ms",
                    "replaceFields": False,
                },
            },
            {
                "id": "calculateField",
                "options": {
                    "mode": "binary",
                    "binary": {"left": "Time", "operator": "+", "right": "stockout_in_ms"},
                    "alias": "stockout_date",
                    "replaceFields": False,
                },
            },
            {
                "id": "organize",
                "options": {
                    "excludeByName": {"stockout_in_ms": True, "Time": True},
                    "indexByName": {
                        name: i
                        for i, name in enumerate(
                            [
                                "supplier",
                                "site",
                                "sku",
                                "on_hand",
                                "reorder_point",
                                "stock_vs_reorder",
                                "open_order_qty",
                                "inventory_position",
                                "order_up_to",
                                "rate_per_day",
                                "days_of_cover",
                                "stockout_days_p10",
                                "stockout_days_p90",
                                "stockout_date",
                            ]
                        )
                    },
                    "renameByName": {},
                },
            },
        ],
        overrides=[
            override("supplier", ("displayName", "Supplier")),
            override("site", ("displayName", "Site")),
            sku_link_override(),
            override("on_hand", ("displayName", "On hand"), ("decimals", 0)),
            override("reorder_point", ("displayName", "Reorder point"), ("decimals", 0)),
            override(
                "stock_vs_reorder",
                ("displayName", "On hand / reorder point"),
                ("unit", "percentunit"),
                ("decimals", 0),
                ("thresholds", steps(("red", None), ("orange", 1.01), ("green", 1.5))),
                cell("color-background"),
            ),
            override("open_order_qty", ("displayName", "On order"), ("decimals", 0)),
            override("inventory_position", ("displayName", "Position"), ("decimals", 0)),
            override("order_up_to", ("displayName", "Order up to"), ("decimals", 0)),
            override("rate_per_day", ("displayName", "Use / day"), ("decimals", 1)),
            override(
                "days_of_cover",
                ("displayName", "Days of cover"),
                ("decimals", 1),
                ("thresholds", steps(*COVER_STEPS)),
                cell("color-background"),
            ),
            override(
                "stockout_days_p10",
                ("displayName", "Stockout in (p10, d)"),
                ("decimals", 1),
                ("thresholds", steps(*COVER_STEPS)),
                cell("color-text"),
            ),
            override("stockout_days_p90", ("displayName", "Stockout in (p90, d)"), ("decimals", 1)),
            override(
                "stockout_date",
                ("displayName", "Projected stockout"),
                ("unit", "dateTimeAsLocalNoDateIfToday"),
            ),
        ],
        sort_by="Days of cover",
        descending=False,
        size=(24, 10),
    )
    open_orders = table(
        "Open orders",
        "Orders whose newest change is not `received` or `cancelled` (at most one per site "
        "and SKU). Looks back 90 days whatever the time range, so an order placed long "
        "ago still shows while it is open.",
        [
            influx(
                'SELECT "order_id", "status", "quantity", "text" FROM ('
                'SELECT last("order_id") AS "order_id", "status", "quantity", "text" '
                f'FROM "order_event" WHERE {match(SITE_SKU, time=False, extra=[LAST_90_DAYS])} '
                'GROUP BY "site", "sku") '
                "WHERE \"status\" <> 'received' AND \"status\" <> 'cancelled' "
                'GROUP BY "site", "sku"',
                table=True,
            )
        ],
        overrides=[
            override("Time", ("displayName", "Last change"), ("unit", "dateTimeFromNow")),
            override("order_id", ("displayName", "Order"), ("decimals", 0)),
            override(
                "status",
                ("displayName", "Status"),
                (
                    "mappings",
                    value_map(
                        ("proposed", "proposed", "orange"),
                        ("confirmed", "confirmed", "yellow"),
                        ("shipped", "shipped", "blue"),
                    ),
                ),
                cell("color-text"),
            ),
            override("quantity", ("displayName", "Units"), ("decimals", 0)),
            override("text", ("displayName", "Detail")),
        ],
        sort_by="Last change",
        descending=False,
        size=(12, 8),
    )
    order_changes = table(
        "Order changes",
        "Every change of a replenishment order in the time range, newest first.",
        [
            influx(
                'SELECT "order_id", "quantity", "text" FROM "order_event" '
                f'WHERE {match(SITE_SKU)} GROUP BY "site", "sku", "status"',
                table=True,
            )
        ],
        overrides=[
            override("order_id", ("displayName", "Order"), ("decimals", 0)),
            override("quantity", ("displayName", "Units"), ("decimals", 0)),
            override("text", ("displayName", "Change")),
            override(
                "status",
                ("displayName", "Status"),
                (
                    "mappings",
                    value_map(
                        ("proposed", "proposed", "orange"),
                        ("confirmed", "confirmed", "yellow"),
                        ("shipped", "shipped", "blue"),
                        ("received", "received", "green"),
                        ("cancelled", "cancelled", "red"),
                    ),
                ),
                cell("color-text"),
            ),
        ],
        size=(12, 8),
    )
    panels = [
        stat(
            "Managed shelves",
            "Sites times SKUs the selected suppliers manage (one projection each).",
            f'SELECT count("on_hand") FROM ({_latest_per_shelf("on_hand", "on_hand")})',
            thresholds=steps(("blue", None)),
        ),
        stat(
            "On hand at or below reorder point",
            "Shelves whose units on hand are at or below their reorder point (an order should "
            "be on its way: see Open orders).",
            'SELECT count("on_hand") FROM ('
            'SELECT last("on_hand") AS "on_hand", last("reorder_point") AS "reorder_point" '
            f'FROM "projection" WHERE {match(SHELF)} GROUP BY "site", "sku") '
            'WHERE "on_hand" <= "reorder_point"',
            thresholds=steps(("green", None), ("orange", 1)),
            no_value="0",
        ),
        stat(
            "Open orders",
            "Shelves with units on order (`open_order_qty` > 0 in the newest projection).",
            'SELECT count("open") FROM ('
            f"{_latest_per_shelf('open_order_qty', 'open')}) "
            'WHERE "open" > 0',
            thresholds=steps(("blue", None)),
            no_value="0",
        ),
        stat(
            "Lowest days of cover",
            "The shortest cover among the selected shelves (on hand / rate per day).",
            f'SELECT min("cover") FROM ({_latest_per_shelf("days_of_cover", "cover")})',
            unit="d",
            decimals=1,
            thresholds=steps(*COVER_STEPS),
        ),
        stat(
            "Earliest stockout (p10)",
            "The soonest projected stockout among the selected shelves, in days: one chance "
            "in ten it comes sooner.",
            f'SELECT min("p10") FROM ({_latest_per_shelf("stockout_days_p10", "p10")})',
            unit="d",
            decimals=1,
            thresholds=steps(*COVER_STEPS),
        ),
        stat(
            "Stock alerts",
            "Reorder, stockout-imminent and stockout alerts the cloud published in the time range.",
            f'SELECT count("message") FROM "alert" WHERE {match(SITE_SKU, extra=[STOCK_ALERTS])}',
            thresholds=steps(("blue", None)),
            no_value="0",
        ),
        stock_table,
        timeseries(
            "Days of cover",
            "Days of cover of every selected shelf over time; the red band is the default "
            "reorder level (lead time 2 d + safety 1 d).",
            [
                influx(
                    'SELECT last("days_of_cover") FROM "projection" '
                    f'WHERE {match(SHELF)} GROUP BY time($__interval), "site", "sku" fill(none)',
                    alias="$tag_site $tag_sku",
                )
            ],
            unit="d",
            thresholds=steps(*COVER_STEPS),
            threshold_style="area",
            minimum=0,
        ),
        timeseries(
            "On hand / reorder point",
            "Units on hand as a share of the reorder point: under 100 % the shelf is below it.",
            [
                influx(
                    'SELECT last("on_hand") / last("reorder_point") FROM "projection" '
                    f'WHERE {match(SHELF)} GROUP BY time($__interval), "site", "sku" fill(none)',
                    alias="$tag_site $tag_sku",
                )
            ],
            unit="percentunit",
            thresholds=steps(("red", None), ("transparent", 1)),
            threshold_style="line+area",
            minimum=0,
        ),
        open_orders,
        order_changes,
        table(
            "Stock alerts",
            "Alerts the cloud published for the selected shelves, newest first: reorder "
            "(with its order), stockout imminent, stockout.",
            [
                influx(
                    'SELECT "message", "order_id" FROM "alert" '
                    f'WHERE {match(SITE_SKU, extra=[STOCK_ALERTS])} GROUP BY "site", "sku", "kind"',
                    table=True,
                )
            ],
            overrides=[
                override("site", ("displayName", "Site")),
                override("sku", ("displayName", "SKU")),
                override(
                    "kind",
                    ("displayName", "Alert"),
                    (
                        "mappings",
                        value_map(
                            ("reorder", "reorder", "blue"),
                            ("stockout_imminent", "stockout imminent", "orange"),
                            ("stockout", "stockout", "red"),
                        ),
                    ),
                    cell("color-text"),
                ),
                override("message", ("displayName", "Message")),
                override("order_id", ("displayName", "Order"), ("decimals", 0)),
            ],
            size=(24, 7),
        ),
    ]
    return dashboard(
        OVERVIEW_UID,
        "VMI: supplier overview",
        "Every managed site and SKU: stock against the reorder point, cover, projected "
        "stockout and open orders.",
        panels,
        variables=[SUPPLIER, site_variable(multi=True), sku_variable(multi=True)],
        annotations=[order_annotation(SITE_SKU)],
        links=[
            dashboard_link("SKU detail", SKU_UID),
            dashboard_link("Fleet health", FLEET_UID, include_vars=False),
        ],
    )


# ---- SKU detail -------------------------------------------------------------------


def sku_detail() -> Json:
    def latest(field: str) -> str:
        return f'SELECT last("{field}") FROM "projection" WHERE {match(SITE_SKU)}'

    panels = [
        stat(
            "On hand",
            "Units on hand at all locations (newest projection).",
            latest("on_hand"),
            decimals=0,
            thresholds=steps(("blue", None)),
        ),
        stat(
            "Reorder point",
            "At or below it (on hand plus open orders) an order is placed.",
            latest("reorder_point"),
            decimals=0,
            thresholds=steps(("purple", None)),
        ),
        stat(
            "On order",
            "Units on open orders.",
            latest("open_order_qty"),
            decimals=0,
            thresholds=steps(("blue", None)),
        ),
        stat(
            "Use per day",
            "Expected consumption per day.",
            latest("rate_per_day"),
            decimals=1,
            thresholds=steps(("blue", None)),
        ),
        stat(
            "Days of cover",
            "On hand / use per day.",
            latest("days_of_cover"),
            unit="d",
            decimals=1,
            thresholds=steps(*COVER_STEPS),
        ),
        stat(
            "Projected stockout",
            "When the shelf runs empty at the projected consumption: between the 10th and "
            "the 90th percentile (evaluation time + stockout days).",
            'SELECT last("stockout_days_p10") AS "p10", "stockout_days_p90" AS "p90" '
            f'FROM "projection" WHERE {match(SITE_SKU)}',
            table=True,
            unit="dateTimeAsLocalNoDateIfToday",
            thresholds=steps(("text", None)),
            fields="/^(from|until)$/",
            transformations=[
                {
                    "id": "calculateField",
                    "options": {
                        "mode": "binary",
                        "binary": {"left": "p10", "operator": "*", "right": str(DAY_MS)},
                        "alias": "p10_ms",
                        "replaceFields": False,
                    },
                },
                {
                    "id": "calculateField",
                    "options": {
                        "mode": "binary",
                        "binary": {"left": "p90", "operator": "*", "right": str(DAY_MS)},
                        "alias": "p90_ms",
                        "replaceFields": False,
                    },
                },
                {
                    "id": "calculateField",
                    "options": {
                        "mode": "binary",
                        "binary": {"left": "Time", "operator": "+", "right": "p10_ms"},
                        "alias": "from",
                        "replaceFields": False,
                    },
                },
                {
                    "id": "calculateField",
                    "options": {
                        "mode": "binary",
                        "binary": {"left": "Time", "operator": "+", "right": "p90_ms"},
                        "alias": "until",
                        "replaceFields": False,
                    },
                },
            ],
        ),
        timeseries(
            "Stock level",
            "Units per location as the edge reported them, with the projection's total on "
            "hand, reorder point and order-up-to level. Orders are annotations.",
            [
                influx(
                    'SELECT last("quantity") FROM "stock_level" '
                    f'WHERE {match(SITE_SKU)} GROUP BY time($__interval), "location" fill(none)',
                    alias="$tag_location",
                ),
                influx(
                    'SELECT last("on_hand") AS "on hand", last("reorder_point") AS '
                    '"reorder point", last("order_up_to") AS "order up to" FROM "projection" '
                    f"WHERE {match(SITE_SKU)} GROUP BY time($__interval) fill(none)",
                    "B",
                    alias="$col",
                ),
            ],
            stepped=True,
            minimum=0,
            overrides=[
                override(
                    "reorder point",
                    ("color", {"mode": "fixed", "fixedColor": "red"}),
                    ("custom.lineStyle", {"fill": "dash", "dash": [10, 10]}),
                    ("custom.fillOpacity", 0),
                ),
                override(
                    "order up to",
                    ("color", {"mode": "fixed", "fixedColor": "green"}),
                    ("custom.lineStyle", {"fill": "dash", "dash": [10, 10]}),
                    ("custom.fillOpacity", 0),
                ),
                override(
                    "on hand",
                    ("color", {"mode": "fixed", "fixedColor": "blue"}),
                    ("custom.lineWidth", 3),
                    ("custom.fillOpacity", 0),
                ),
            ],
            size=(24, 9),
        ),
        timeseries(
            "Consumption rate",
            "Expected consumption per day, with a band of one standard deviation of daily "
            "consumption either side.",
            [
                influx(
                    'SELECT mean("rate_per_day") AS "rate", '
                    'mean("rate_per_day") - mean("sigma_per_day") AS "rate - sigma", '
                    'mean("rate_per_day") + mean("sigma_per_day") AS "rate + sigma" '
                    f'FROM "projection" WHERE {match(SITE_SKU)} '
                    "GROUP BY time($__interval) fill(none)",
                    alias="$col",
                )
            ],
            unit="short",
            minimum=0,
            overrides=[
                override(
                    "rate + sigma",
                    ("custom.fillBelowTo", "rate - sigma"),
                    ("custom.lineWidth", 0),
                    ("custom.fillOpacity", 20),
                    ("color", {"mode": "fixed", "fixedColor": "blue"}),
                ),
                override(
                    "rate - sigma",
                    ("custom.lineWidth", 0),
                    ("color", {"mode": "fixed", "fixedColor": "blue"}),
                ),
                override("rate", ("color", {"mode": "fixed", "fixedColor": "blue"})),
            ],
        ),
        timeseries(
            "Projection band: days until stockout",
            "Days until the shelf runs empty: the band spans the 10th to the 90th percentile, "
            "the line is days of cover.",
            [
                influx(
                    'SELECT mean("stockout_days_p10") AS "p10", '
                    'mean("stockout_days_p90") AS "p90", mean("days_of_cover") AS "days of cover" '
                    f'FROM "projection" WHERE {match(SITE_SKU)} '
                    "GROUP BY time($__interval) fill(none)",
                    alias="$col",
                )
            ],
            unit="d",
            minimum=0,
            thresholds=steps(*COVER_STEPS),
            threshold_style="area",
            overrides=[
                override(
                    "p90",
                    ("custom.fillBelowTo", "p10"),
                    ("custom.lineWidth", 0),
                    ("custom.fillOpacity", 25),
                    ("color", {"mode": "fixed", "fixedColor": "purple"}),
                ),
                override(
                    "p10",
                    ("custom.lineWidth", 0),
                    ("color", {"mode": "fixed", "fixedColor": "purple"}),
                ),
                override("days of cover", ("color", {"mode": "fixed", "fixedColor": "blue"})),
            ],
        ),
        timeseries(
            "Picks and refills",
            "Units picked (down) and refilled (up) per interval, from the edge's events.",
            [
                influx(
                    'SELECT sum("quantity") FROM "stock_event" '
                    f"WHERE {match(SITE_SKU, extra=[PICK_OR_REFILL])} "
                    'GROUP BY time($__interval), "kind" fill(none)',
                    alias="$tag_kind",
                )
            ],
            bars=True,
            overrides=[
                override(
                    "pick",
                    ("custom.transform", "negative-Y"),
                    ("color", {"mode": "fixed", "fixedColor": "orange"}),
                ),
                override("refill", ("color", {"mode": "fixed", "fixedColor": "green"})),
            ],
        ),
        table(
            "Shelf events",
            "Everything else the edge reported for this SKU: tare, calibration, drift, "
            "uncertain counts, weight/RFID mismatches.",
            [
                influx(
                    'SELECT "quantity", "detail" FROM "stock_event" '
                    f"WHERE {match(SITE_SKU, extra=[OTHER_SHELF_EVENTS])} "
                    'GROUP BY "kind", "location", "device"',
                    table=True,
                )
            ],
            overrides=[
                override("kind", ("displayName", "Event")),
                override("location", ("displayName", "Location")),
                override("device", ("displayName", "Device")),
                override("quantity", ("displayName", "Units (g for drift)")),
                override("detail", ("displayName", "Detail")),
            ],
            size=(12, 8),
        ),
        table(
            "Orders",
            "Every change of this SKU's orders in the time range, newest first.",
            [
                influx(
                    'SELECT "order_id", "quantity", "text" FROM "order_event" '
                    f'WHERE {match(SITE_SKU)} GROUP BY "status"',
                    table=True,
                )
            ],
            overrides=[
                override("order_id", ("displayName", "Order"), ("decimals", 0)),
                override("quantity", ("displayName", "Units"), ("decimals", 0)),
                override("status", ("displayName", "Status")),
                override("text", ("displayName", "Change")),
            ],
            size=(24, 7),
        ),
    ]
    return dashboard(
        SKU_UID,
        "VMI: SKU detail",
        "One SKU at one site: level per location, consumption, projection band, picks, "
        "refills and events, with orders as annotations.",
        panels,
        variables=[SUPPLIER, site_variable(multi=False), sku_variable(multi=False)],
        annotations=[
            order_annotation(SITE_SKU),
            annotation(
                "Stock alerts",
                'SELECT "message", "kind" FROM "alert" '
                f"WHERE {match(SITE_SKU, extra=[STOCK_ALERTS])}",
                text="message",
                tags="kind",
                color="red",
            ),
        ],
        links=[dashboard_link("Supplier overview", OVERVIEW_UID)],
    )


# ---- fleet health -------------------------------------------------------------------


def _latest_per_device(field: str, alias: str, *, where: str | None = None) -> str:
    return (
        f'SELECT last("{field}") AS "{alias}" FROM "device_status" '
        f'WHERE {where or match(DEVICE)} GROUP BY "site", "device"'
    )


_DEAD_LETTERS = (
    'SELECT non_negative_difference("count") AS "rejected" FROM "collector_rejects" '
    'WHERE $timeFilter GROUP BY "collector", "reason"'
)


def fleet_health() -> Json:
    online_map = value_map(("true", "online", "green"), ("false", "offline", "red"))
    panels = [
        stat(
            "Online",
            "Gateways whose newest status says online.",
            f'SELECT count("online") FROM ({_latest_per_device("online", "online")}) '
            'WHERE "online" = true',
            thresholds=steps(("green", None)),
            no_value="0",
        ),
        stat(
            "Offline",
            "Gateways whose newest status is offline (clean shutdown or last will).",
            f'SELECT count("online") FROM ({_latest_per_device("online", "online")}) '
            'WHERE "online" = false',
            thresholds=steps(("green", None), ("red", 1)),
            no_value="0",
        ),
        stat(
            "Reported in the last 15 min",
            "Gateways with any status in the last 15 minutes (they report every minute by "
            "default); fewer than online means some are silent without a last will.",
            'SELECT count("online") FROM ('
            + _latest_per_device(
                "online", "online", where=match(DEVICE, time=False, extra=["time > now() - 15m"])
            )
            + ")",
            thresholds=steps(("blue", None)),
            no_value="0",
        ),
        stat(
            "Faulted drivers",
            "Scales and readers that are not ok, summed over the gateways' newest status.",
            f'SELECT sum("faulted") FROM ({_latest_per_device("drivers_faulted", "faulted")})',
            thresholds=steps(("green", None), ("red", 1)),
            no_value="0",
        ),
        stat(
            "Outbox backlog",
            "Messages waiting in the gateways' outboxes (newest status of each).",
            f'SELECT sum("pending") FROM ({_latest_per_device("outbox_pending", "pending")})',
            thresholds=steps(("green", None), ("orange", 100), ("red", 10000)),
            no_value="0",
        ),
        stat(
            "Dead letters",
            "Messages the collectors rejected in the time range, all reasons. Dead letters "
            "carry no site tag: this counts the whole fleet.",
            f'SELECT sum("rejected") FROM ({_DEAD_LETTERS})',
            thresholds=steps(("green", None), ("orange", 1), ("red", 100)),
            no_value="0",
        ),
        table(
            "Gateways",
            "The newest status of every gateway. A last will carries only online = false, so "
            "an offline gateway's other columns are empty: see the charts for its last figures.",
            [
                influx(
                    'SELECT last("online") AS "online", "agent_version", "config_hash", '
                    '"drivers_total", '
                    '"drivers_faulted", "outbox_pending", "outbox_pending_bytes", '
                    f'"outbox_dropped" FROM "device_status" WHERE {match(DEVICE)} '
                    'GROUP BY "site", "device"',
                    table=True,
                )
            ],
            overrides=[
                override("Time", ("displayName", "Last seen"), ("unit", "dateTimeFromNow")),
                override("site", ("displayName", "Site")),
                override("device", ("displayName", "Gateway")),
                override(
                    "online",
                    ("displayName", "State"),
                    ("mappings", online_map),
                    cell("color-background"),
                ),
                override("agent_version", ("displayName", "Agent")),
                override("config_hash", ("displayName", "Config")),
                override("drivers_total", ("displayName", "Drivers")),
                override(
                    "drivers_faulted",
                    ("displayName", "Faulted"),
                    ("thresholds", steps(("green", None), ("red", 1))),
                    cell("color-background"),
                ),
                override(
                    "outbox_pending",
                    ("displayName", "Outbox"),
                    ("thresholds", steps(("green", None), ("orange", 100), ("red", 10000))),
                    cell("color-text"),
                ),
                override("outbox_pending_bytes", ("displayName", "Outbox size"), ("unit", "bytes")),
                override(
                    "outbox_dropped",
                    ("displayName", "Dropped"),
                    ("thresholds", steps(("green", None), ("red", 1))),
                    cell("color-text"),
                ),
            ],
            sort_by="Last seen",
            descending=False,
        ),
        state_timeline(
            "Online / offline",
            "Each gateway's state from its status messages (birth, periodic, shutdown, last will).",
            [
                influx(
                    'SELECT last("online") FROM "device_status" '
                    f'WHERE {match(DEVICE)} GROUP BY time($__interval), "site", "device" '
                    "fill(previous)",
                    alias="$tag_site $tag_device",
                )
            ],
            mappings=online_map,
        ),
        timeseries(
            "Outbox depth",
            "Messages waiting in each gateway's outbox until the broker acknowledges them.",
            [
                influx(
                    'SELECT max("outbox_pending") FROM "device_status" '
                    f'WHERE {match(DEVICE)} GROUP BY time($__interval), "site", "device" '
                    "fill(none)",
                    alias="$tag_site $tag_device",
                )
            ],
            thresholds=steps(("green", None), ("orange", 100), ("red", 10000)),
            minimum=0,
        ),
        timeseries(
            "Faulted drivers",
            "Drivers per gateway that are not ok.",
            [
                influx(
                    'SELECT max("drivers_faulted") FROM "device_status" '
                    f'WHERE {match(DEVICE)} GROUP BY time($__interval), "site", "device" '
                    "fill(none)",
                    alias="$tag_site $tag_device",
                )
            ],
            stepped=True,
            minimum=0,
            thresholds=steps(("green", None), ("red", 1)),
            threshold_style="line",
        ),
        timeseries(
            "Outbox drops",
            "Messages an outbox dropped per interval (overflow or age): they never reach the "
            "cloud.",
            [
                influx(
                    'SELECT non_negative_difference(max("outbox_dropped")) FROM "device_status" '
                    f'WHERE {match(DEVICE)} GROUP BY time($__interval), "site", "device" '
                    "fill(none)",
                    alias="$tag_site $tag_device",
                )
            ],
            bars=True,
            minimum=0,
        ),
        table(
            "Device faults and driver events",
            "Faults and driver state changes the gateways reported.",
            [
                influx(
                    'SELECT "driver", "detail" FROM "stock_event" '
                    f"WHERE {match(DEVICE, extra=[DEVICE_EVENTS])} "
                    'GROUP BY "site", "device", "kind"',
                    table=True,
                )
            ],
            overrides=[
                override("site", ("displayName", "Site")),
                override("device", ("displayName", "Gateway")),
                override(
                    "kind",
                    ("displayName", "Event"),
                    (
                        "mappings",
                        value_map(("fault", "fault", "red"), ("driver", "driver", "blue")),
                    ),
                    cell("color-text"),
                ),
                override("driver", ("displayName", "Driver")),
                override("detail", ("displayName", "Detail")),
            ],
            size=(12, 8),
        ),
        table(
            "Sensor alerts",
            "Alerts about the gateways' sensors: silent (no reading when one was due) and "
            "anomalies, newest first.",
            [
                influx(
                    'SELECT "message" FROM "alert" '
                    f"WHERE {match(DEVICE, extra=[SENSOR_ALERTS])} "
                    'GROUP BY "site", "device", "kind"',
                    table=True,
                )
            ],
            overrides=[
                override("site", ("displayName", "Site")),
                override("device", ("displayName", "Gateway")),
                override(
                    "kind",
                    ("displayName", "Alert"),
                    (
                        "mappings",
                        value_map(
                            ("sensor_silent", "silent", "red"),
                            ("sensor_anomaly", "anomaly", "orange"),
                            ("device_offline", "offline", "dark-red"),
                        ),
                    ),
                    cell("color-text"),
                ),
                override("message", ("displayName", "Message")),
            ],
            size=(24, 7),
        ),
        timeseries(
            "Dead letters by reason",
            "Rejected messages per interval and reason, all collectors. They carry no site.",
            [
                influx(
                    f'SELECT sum("rejected") FROM ({_DEAD_LETTERS}) '
                    'WHERE $timeFilter GROUP BY time($__interval), "reason" fill(none)',
                    alias="$tag_reason",
                )
            ],
            bars=True,
            stack=True,
            minimum=0,
        ),
        bargauge(
            "Dead letters in the time range",
            "Rejected messages per reason over the whole time range.",
            [
                influx(
                    f'SELECT sum("rejected") FROM ({_DEAD_LETTERS}) GROUP BY "reason"',
                    alias="$tag_reason",
                )
            ],
            thresholds=steps(("green", None), ("orange", 1), ("red", 100)),
        ),
    ]
    site = query_variable("site", "Site", 'SHOW TAG VALUES FROM "device_status" WITH KEY = "site"')
    device = query_variable(
        "device",
        "Gateway",
        'SHOW TAG VALUES FROM "device_status" WITH KEY = "device" WHERE "site" =~ /^$site$/',
    )
    return dashboard(
        FLEET_UID,
        "VMI: fleet health",
        "Edge gateways: online or not, last seen, outbox depth and drops, driver faults; "
        "and the messages the cloud rejected.",
        panels,
        variables=[site, device],
        links=[dashboard_link("Collector internals", COLLECTOR_UID, include_vars=False)],
        time_from="now-24h",
    )


# ---- KPIs -------------------------------------------------------------------------------

KPI_FILTERS = {"supplier": "supplier", "site": "site"}
FILL_STEPS = (("red", None), ("orange", 0.9), ("green", 0.95))
ON_TIME_STEPS = (("red", None), ("orange", 0.8), ("green", 0.95))
MASE_STEPS = (("green", None), ("orange", 1), ("red", 1.5))
# The newest `kpi` point of each (site, SKU): every field of that one point.
_KPI_NEWEST = (
    'last("consumed") AS "consumed", "lost_units", "avg_on_hand", "window_days", '
    '"stockout_events", "stockout_hours", "fill_rate", "deliveries", "on_time_rate", '
    '"avg_lead_time_days", "forecast_mase"'
)
# What a group's ratios are sums of, per key. `x + 0 * "ratio"` is null where the
# key's ratio is unknown, so such a key drops out of both sides of the group's
# ratio (InfluxQL answers 0, not null, for 0 / 0).
_KPI_PARTS = (
    '"consumed" + 0 * "fill_rate" AS "served", "lost_units" + 0 * "fill_rate" AS "lost", '
    '"consumed" / "window_days" AS "per_day", "avg_on_hand" AS "stock", '
    '"stockout_events" AS "events", "stockout_hours" AS "hours", '
    '"deliveries" + 0 * "on_time_rate" AS "rated", "deliveries" * "on_time_rate" AS "on_time", '
    '"deliveries" + 0 * "avg_lead_time_days" AS "delivered", '
    '"deliveries" * "avg_lead_time_days" AS "lead_days", "forecast_mase" AS "mase"'
)
FILL_RATE = 'sum("served") / (sum("served") + sum("lost"))'
TURNS = 'sum("per_day") * 365 / sum("stock")'
DAYS_OF_SUPPLY = 'sum("stock") / sum("per_day")'
ON_TIME = 'sum("on_time") / sum("rated")'
LEAD_TIME = 'sum("lead_days") / sum("delivered")'


def kpi_rollup(select: str, *, by: str | None = None, over_time: bool = False) -> str:
    """`select` (aggregates of `_KPI_PARTS`) over the newest `kpi` point of each (site,
    SKU) the variables select: in the whole time range, or per interval; by a tag or
    all together. KPIs are snapshots of a trailing window: a group's figure is a ratio
    of sums over its keys' newest snapshots (docs/data-model.md), never a sum over time."""
    interval = "time($__interval), " if over_time else ""
    newest = (
        f'SELECT {_KPI_NEWEST} FROM "kpi" WHERE {match(KPI_FILTERS)} '
        f'GROUP BY {interval}"supplier", "site", "sku"'
    )
    query = f"SELECT {select} FROM (SELECT {_KPI_PARTS} FROM ({newest}))"
    if over_time:
        query += " WHERE $timeFilter"
    groups = (["time($__interval)"] if over_time else []) + ([f'"{by}"'] if by else [])
    if groups:
        query += " GROUP BY " + ", ".join(groups)
    return query + (" fill(none)" if over_time else "")


def kpi_column(name: str) -> Json:
    """The override of a `kpi` field both KPI tables show the same way."""
    properties: dict[str, tuple[tuple[str, Any], ...]] = {
        "fill_rate": (
            ("displayName", "Fill rate"),
            ("unit", "percentunit"),
            ("decimals", 1),
            ("thresholds", steps(*FILL_STEPS)),
            cell("color-background"),
        ),
        "turns_per_year": (("displayName", "Turns / year"), ("decimals", 1)),
        "days_of_supply": (
            ("displayName", "Days of supply"),
            ("decimals", 1),
            ("thresholds", steps(*COVER_STEPS)),
            cell("color-text"),
        ),
        "stockout_events": (
            ("displayName", "Stockouts"),
            ("thresholds", steps(("green", None), ("red", 1))),
            cell("color-text"),
        ),
        "on_time_rate": (
            ("displayName", "On time"),
            ("unit", "percentunit"),
            ("decimals", 0),
            ("thresholds", steps(*ON_TIME_STEPS)),
            cell("color-text"),
        ),
        "avg_lead_time_days": (("displayName", "Lead time"), ("unit", "d"), ("decimals", 1)),
    }
    return override(name, *properties[name])


def kpi_board() -> Json:
    def per_site(title: str, description: str, select: str, **kw: Any) -> Json:
        return timeseries(
            title,
            description,
            [influx(kpi_rollup(select, by="site", over_time=True), alias="$tag_site")],
            **kw,
        )

    def per_shelf(field: str) -> str:
        return (
            f'SELECT last("{field}") FROM "kpi" WHERE {match(KPI_FILTERS)} '
            'GROUP BY time($__interval), "site", "sku" fill(none)'
        )

    shelf_columns = (
        'last("consumed") AS "consumed", "avg_on_hand", "turns_per_year", "days_of_supply", '
        '"stockout_events", "stockout_hours", "lost_units", "fill_rate", "orders_placed", '
        '"avg_order_qty", "deliveries", "on_time_rate", "avg_lead_time_days", '
        '"forecast_bias", "forecast_mae", "forecast_mase", "window_days"'
    )
    panels = [
        stat(
            "Fill rate",
            "Demand served from stock: consumed / (consumed + the demand estimated lost "
            "while shelves were empty), all selected shelves, newest window.",
            kpi_rollup(FILL_RATE),
            unit="percentunit",
            decimals=1,
            thresholds=steps(*FILL_STEPS),
            no_value="none",
            size=(3, 4),
        ),
        stat(
            "Turns per year",
            "Consumption per year over average stock, all selected shelves.",
            kpi_rollup(TURNS),
            decimals=1,
            thresholds=steps(("blue", None)),
            size=(3, 4),
        ),
        stat(
            "Days of supply",
            "Average stock over consumption per day, all selected shelves.",
            kpi_rollup(DAYS_OF_SUPPLY),
            unit="d",
            decimals=1,
            thresholds=steps(*COVER_STEPS),
            size=(3, 4),
        ),
        stat(
            "Stockouts",
            "Episodes with a shelf empty in the window, all selected shelves.",
            kpi_rollup('sum("events")'),
            thresholds=steps(("green", None), ("red", 1)),
            no_value="0",
            size=(3, 4),
        ),
        stat(
            "Stockout hours",
            "Hours shelves were empty in the window, added over the selected shelves.",
            kpi_rollup('sum("hours")'),
            unit="h",
            decimals=0,
            thresholds=steps(("green", None), ("red", 1)),
            no_value="0",
            size=(3, 4),
        ),
        stat(
            "On-time deliveries",
            "Deliveries received no later than the day they were due, of those with a due "
            "day (weighted by each shelf's deliveries).",
            kpi_rollup(ON_TIME),
            unit="percentunit",
            decimals=0,
            thresholds=steps(*ON_TIME_STEPS),
            no_value="none",
            size=(3, 4),
        ),
        stat(
            "Lead time",
            "Mean days from order to delivery of the deliveries in the window.",
            kpi_rollup(LEAD_TIME),
            unit="d",
            decimals=1,
            thresholds=steps(("blue", None)),
            no_value="none",
            size=(3, 4),
        ),
        stat(
            "Forecast MASE (median)",
            "The median shelf's forecast error over the naive forecast's (tomorrow as "
            "today): below 1 the forecast beats it.",
            kpi_rollup('median("mase")'),
            decimals=2,
            thresholds=steps(*MASE_STEPS),
            no_value="none",
            size=(3, 4),
        ),
        table(
            "KPIs per site",
            "Each site's KPIs from the newest window of each of its selected shelves: "
            "ratios of sums, so a busy shelf weighs more than a quiet one.",
            [
                influx(
                    kpi_rollup(
                        f'count("per_day") AS "shelves", {FILL_RATE} AS "fill_rate", '
                        f'{TURNS} AS "turns_per_year", {DAYS_OF_SUPPLY} AS "days_of_supply", '
                        'sum("events") AS "stockout_events", sum("hours") AS "stockout_hours", '
                        f'{ON_TIME} AS "on_time_rate", {LEAD_TIME} AS "avg_lead_time_days"',
                        by="site",
                    ),
                    table=True,
                )
            ],
            overrides=[
                override("Time", ("custom.hidden", True)),
                override("site", ("displayName", "Site")),
                override("shelves", ("displayName", "Shelves")),
                kpi_column("fill_rate"),
                kpi_column("turns_per_year"),
                kpi_column("days_of_supply"),
                kpi_column("stockout_events"),
                override(
                    "stockout_hours",
                    ("displayName", "Stockout hours"),
                    ("unit", "h"),
                    ("decimals", 0),
                ),
                kpi_column("on_time_rate"),
                kpi_column("avg_lead_time_days"),
            ],
            sort_by="Fill rate",
            descending=False,
            size=(24, 6),
        ),
        per_site(
            "Fill rate by site",
            "Each site's fill rate over time (each point: the window ending then).",
            FILL_RATE,
            unit="percentunit",
            thresholds=steps(*FILL_STEPS),
            threshold_style="line",
        ),
        per_site(
            "Turns per year by site",
            "Consumption per year over average stock, each site over time.",
            TURNS,
            minimum=0,
        ),
        per_site(
            "Days of supply by site",
            "Average stock over consumption per day, each site over time.",
            DAYS_OF_SUPPLY,
            unit="d",
            minimum=0,
            thresholds=steps(*COVER_STEPS),
            threshold_style="area",
        ),
        per_site(
            "Stockout hours by site",
            "Hours shelves were empty in the window ending then, added over each site's shelves.",
            'sum("hours")',
            unit="h",
            minimum=0,
        ),
        timeseries(
            "On-time deliveries by supplier",
            "Each supplier's deliveries received no later than the day they were due, of "
            "those with a due day, at the selected sites.",
            [influx(kpi_rollup(ON_TIME, by="supplier", over_time=True), alias="$tag_supplier")],
            unit="percentunit",
            minimum=0,
            thresholds=steps(*ON_TIME_STEPS),
            threshold_style="line",
        ),
        timeseries(
            "Lead time by supplier",
            "Each supplier's mean days from order to delivery, at the selected sites.",
            [influx(kpi_rollup(LEAD_TIME, by="supplier", over_time=True), alias="$tag_supplier")],
            unit="d",
            minimum=0,
        ),
        timeseries(
            "Forecast MASE per shelf",
            "Each shelf's daily forecast error over the naive forecast's: below 1 (the "
            "line) the forecast beats 'tomorrow as today'.",
            [influx(per_shelf("forecast_mase"), alias="$tag_site $tag_sku")],
            minimum=0,
            thresholds=steps(*MASE_STEPS),
            threshold_style="line",
            size=(8, 8),
        ),
        timeseries(
            "Forecast MAE per shelf",
            "Each shelf's mean absolute daily forecast error, in units a day.",
            [influx(per_shelf("forecast_mae"), alias="$tag_site $tag_sku")],
            minimum=0,
            size=(8, 8),
        ),
        timeseries(
            "Forecast bias per shelf",
            "Each shelf's mean daily forecast minus actual: above 0 it over-forecasts.",
            [influx(per_shelf("forecast_bias"), alias="$tag_site $tag_sku")],
            size=(8, 8),
        ),
        table(
            "KPIs per shelf",
            "The newest window of every selected shelf (site and SKU). Click a SKU for its detail.",
            [
                influx(
                    f'SELECT {shelf_columns} FROM "kpi" WHERE {match(KPI_FILTERS)} '
                    'GROUP BY "supplier", "customer", "site", "sku"',
                    table=True,
                )
            ],
            overrides=[
                override("Time", ("displayName", "As of"), ("unit", "dateTimeFromNow")),
                override("supplier", ("displayName", "Supplier")),
                override("customer", ("displayName", "Customer")),
                override("site", ("displayName", "Site")),
                sku_link_override(),
                override("consumed", ("displayName", "Consumed"), ("decimals", 0)),
                override("avg_on_hand", ("displayName", "Avg on hand"), ("decimals", 1)),
                kpi_column("turns_per_year"),
                kpi_column("days_of_supply"),
                kpi_column("stockout_events"),
                override(
                    "stockout_hours", ("displayName", "Stockout h"), ("unit", "h"), ("decimals", 0)
                ),
                override("lost_units", ("displayName", "Lost (est.)"), ("decimals", 0)),
                kpi_column("fill_rate"),
                override("orders_placed", ("displayName", "Orders")),
                override("avg_order_qty", ("displayName", "Avg order"), ("decimals", 0)),
                override("deliveries", ("displayName", "Deliveries")),
                kpi_column("on_time_rate"),
                kpi_column("avg_lead_time_days"),
                override("forecast_bias", ("displayName", "Bias"), ("decimals", 2)),
                override("forecast_mae", ("displayName", "MAE"), ("decimals", 2)),
                override(
                    "forecast_mase",
                    ("displayName", "MASE"),
                    ("decimals", 2),
                    ("thresholds", steps(*MASE_STEPS)),
                    cell("color-text"),
                ),
                override("window_days", ("displayName", "Window"), ("unit", "d"), ("decimals", 0)),
            ],
            sort_by="Fill rate",
            descending=False,
            size=(24, 10),
        ),
    ]
    supplier = query_variable(
        "supplier", "Supplier", 'SHOW TAG VALUES FROM "kpi" WITH KEY = "supplier"'
    )
    site = query_variable(
        "site",
        "Site",
        'SHOW TAG VALUES FROM "kpi" WITH KEY = "site" WHERE "supplier" =~ /^$supplier$/',
    )
    return dashboard(
        KPI_UID,
        "VMI: KPIs",
        "How well the shelves are kept: fill rate, turns, days of supply, stockouts; "
        "suppliers' on-time deliveries and lead times; forecast accuracy. Each figure is "
        "over the trailing window of the KPI job (30 days by default).",
        panels,
        variables=[supplier, site],
        links=[
            dashboard_link("Supplier overview", OVERVIEW_UID),
            dashboard_link("SKU detail", SKU_UID),
        ],
        time_from="now-30d",
        refresh="15m",
    )


# ---- collector internals --------------------------------------------------------------


def collector_internals() -> Json:
    def per_collector(expr: str) -> str:
        return (
            f'SELECT {expr} FROM "collector_health" WHERE {match(COLLECTOR)} '
            'GROUP BY time($__interval), "collector" fill(none)'
        )

    def latest_sum(field: str, func: str = "sum") -> str:
        return (
            f'SELECT {func}("v") FROM (SELECT last("{field}") AS "v" '
            f'FROM "collector_health" WHERE {match(COLLECTOR)} GROUP BY "collector")'
        )

    panels = [
        stat(
            "Ingest rate",
            "Readings written per second, all selected collectors (newest figures).",
            latest_sum("ingest_rate"),
            unit="short",
            decimals=1,
            thresholds=steps(("blue", None)),
        ),
        stat(
            "Lag",
            "Receive time minus send time of the newest message (worst collector).",
            latest_sum("lag_s", "max"),
            unit="s",
            decimals=2,
            thresholds=steps(("green", None), ("orange", 5), ("red", 60)),
        ),
        stat(
            "Write latency",
            "Mean store write time over the last interval (worst collector).",
            latest_sum("write_latency_ms", "max"),
            unit="ms",
            decimals=1,
            thresholds=steps(("green", None), ("orange", 100), ("red", 1000)),
        ),
        stat(
            "In flight",
            "Messages received and not yet acknowledged, all collectors.",
            latest_sum("in_flight"),
            thresholds=steps(("green", None), ("orange", 500), ("red", 5000)),
        ),
        stat(
            "Rejected in range",
            "Messages the collectors dead-lettered in the time range.",
            'SELECT sum("d") FROM (SELECT non_negative_difference("rejected") AS "d" '
            f'FROM "collector_health" WHERE {match(COLLECTOR)} GROUP BY "collector")',
            thresholds=steps(("green", None), ("orange", 1), ("red", 100)),
            no_value="0",
        ),
        stat(
            "Reporting",
            "Collectors that wrote their health in the last 5 minutes (every 10 s by default).",
            'SELECT count("v") FROM (SELECT last("messages") AS "v" FROM "collector_health" '
            f"WHERE {match(COLLECTOR, time=False, extra=['time > now() - 5m'])} "
            'GROUP BY "collector")',
            thresholds=steps(("red", None), ("green", 1)),
            no_value="0",
        ),
        timeseries(
            "Ingest",
            "Readings written per second (collector's own figure) and MQTT messages received "
            "per second.",
            [
                influx(per_collector('mean("ingest_rate")'), alias="$tag_collector readings/s"),
                influx(
                    per_collector('non_negative_derivative(max("messages"), 1s)'),
                    "B",
                    alias="$tag_collector messages/s",
                ),
            ],
            minimum=0,
        ),
        timeseries(
            "Lag",
            "Receive time minus send time of the newest message.",
            [influx(per_collector('max("lag_s")'), alias="$tag_collector")],
            unit="s",
            minimum=0,
            thresholds=steps(("green", None), ("orange", 5), ("red", 60)),
            threshold_style="line",
        ),
        timeseries(
            "Write latency",
            "Mean store write time per reporting interval.",
            [influx(per_collector('mean("write_latency_ms")'), alias="$tag_collector")],
            unit="ms",
            minimum=0,
            thresholds=steps(("green", None), ("orange", 100), ("red", 1000)),
            threshold_style="line",
        ),
        timeseries(
            "In flight",
            "Messages received and not yet acknowledged (written).",
            [influx(per_collector('max("in_flight")'), alias="$tag_collector")],
            minimum=0,
        ),
        timeseries(
            "Rejected payloads by reason",
            "Messages dead-lettered per interval, per reason and collector.",
            [
                influx(
                    'SELECT non_negative_difference(max("count")) FROM "collector_rejects" '
                    f'WHERE {match(COLLECTOR)} GROUP BY time($__interval), "collector", "reason" '
                    "fill(none)",
                    alias="$tag_reason ($tag_collector)",
                )
            ],
            bars=True,
            stack=True,
            minimum=0,
        ),
        timeseries(
            "Retries, sequence gaps and replays",
            "Store writes retried (store down), per-device sequence numbers never seen (lost "
            "upstream), and messages seen again (redeliveries, duplicates), per interval.",
            [
                influx(
                    per_collector(
                        'non_negative_difference(max("write_retries")) AS "write retries", '
                        'non_negative_difference(max("sequence_gaps")) AS "sequence gaps", '
                        'non_negative_difference(max("sequence_replays")) AS "replays"'
                    ),
                    alias="$tag_collector $col",
                )
            ],
            bars=True,
            minimum=0,
        ),
        table(
            "Collectors",
            "The newest health report of each collector; counters are cumulative since it started.",
            [
                influx(
                    'SELECT last("messages") AS "messages", "readings_written", '
                    '"events_written", "rejected", "write_retries", "in_flight", "lag_s", '
                    '"write_latency_ms", "ingest_rate", "sequence_gaps", "sequence_replays" '
                    f'FROM "collector_health" WHERE {match(COLLECTOR)} GROUP BY "collector"',
                    table=True,
                )
            ],
            overrides=[
                override("Time", ("displayName", "Last report"), ("unit", "dateTimeFromNow")),
                override("collector", ("displayName", "Collector")),
                override("lag_s", ("displayName", "Lag"), ("unit", "s")),
                override("write_latency_ms", ("displayName", "Write latency"), ("unit", "ms")),
                override("ingest_rate", ("displayName", "Readings/s"), ("decimals", 1)),
                override(
                    "rejected",
                    ("thresholds", steps(("green", None), ("orange", 1))),
                    cell("color-text"),
                ),
            ],
            sort_by="Collector",
            descending=False,
            size=(24, 6),
        ),
    ]
    collector = query_variable(
        "collector",
        "Collector",
        'SHOW TAG VALUES FROM "collector_health" WITH KEY = "collector"',
    )
    return dashboard(
        COLLECTOR_UID,
        "VMI: collector internals",
        "The cloud collectors' own health: ingest rate, lag, write latency, in-flight "
        "messages, rejected payloads, retries and sequence gaps.",
        panels,
        variables=[collector],
        links=[dashboard_link("Fleet health", FLEET_UID, include_vars=False)],
        time_from="now-24h",
        refresh="30s",
    )


DASHBOARDS = {
    "supplier-overview.json": supplier_overview,
    "sku-detail.json": sku_detail,
    "fleet-health.json": fleet_health,
    "collector-internals.json": collector_internals,
    "kpis.json": kpi_board,
}


def render() -> dict[str, str]:
    """File name -> JSON text of every dashboard."""
    return {
        name: json.dumps(build(), indent=2, ensure_ascii=False) + "\n"
        for name, build in DASHBOARDS.items()
    }


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else OUT_DIR
    out.mkdir(parents=True, exist_ok=True)
    for name, text in render().items():
        (out / name).write_text(text, encoding="utf-8")
        print(f"wrote {out / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
