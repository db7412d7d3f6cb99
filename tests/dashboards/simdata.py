"""Simulated history, as line protocol that follows docs/data-model.md.

Three days of a small VMI fleet up to "now": three customer sites, four SKUs
managed by two suppliers (and one SKU with no agreement), five gateways, two
collectors. Shelves lose stock to picks; a shelf whose inventory position
falls to its reorder point gets an order that is confirmed, shipped and
received after the lead time (one is cancelled). Gateways report status every
five minutes; one goes offline for good, one drops off for half an hour, one
loses its network and builds an outbox backlog, two report a faulted driver.
Collectors report their health every two minutes; one restarts (its counters
start again from zero). The KPI job writes every shelf's KPIs over a 30-day
window every hour (a shelf without demand has no ratios; one whose deliveries
had no due day has no on-time rate).

Everything is deterministic for a seed, and every state a panel shows (a
shelf below its reorder point, an open order, an offline device, a dead
letter...) is present, so every panel query of the dashboards returns data.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
MINUTE_MS = 60_000
STEP_MS = 10 * MINUTE_MS  # stock levels
PROJECTION_EVERY_MS = 30 * MINUTE_MS
STATUS_EVERY_MS = 5 * MINUTE_MS
HEALTH_EVERY_MS = 2 * MINUTE_MS
KPI_EVERY_MS = HOUR_MS
KPI_WINDOW_DAYS = 30.0
HISTORY_MS = 3 * DAY_MS

# The values the query test picks for the template variables: each has data
# in every panel.
FOCUS = {
    "supplier": "northbolt",
    "site": "acme-north",
    "sku": "BOLT-M8",
    "device": "gw-01",
    "collector": "vmi-collector-a",
}

LEAD_DAYS = 2.0
SAFETY_DAYS = 1.0
TARGET_DAYS = 5.0  # short, so each busy shelf gets a new order soon after a delivery
AGENT_VERSION = "0.1.0"
REJECT_REASONS = ("bad_json", "schema", "topic_mismatch")


@dataclass(frozen=True)
class ShelfSpec:
    """One bin: which site, SKU, supplier and gateway, and how fast it empties."""

    site: str
    sku: str
    supplier: str
    device: str
    location: str
    source: str
    start_units: int
    demand_per_day: float
    max_pick: int
    item_weight_g: float = 10.0


SHELVES = (
    ShelfSpec("acme-north", "BOLT-M8", "northbolt", "gw-01", "A-01", "scale", 80, 30.0, 4, 12.5),
    ShelfSpec("acme-north", "BOLT-M8", "northbolt", "gw-01", "A-05", "rfid", 30, 6.0, 2),
    ShelfSpec("acme-north", "NUT-M8", "northbolt", "gw-01", "A-02", "scale", 700, 60.0, 6, 4.0),
    ShelfSpec("acme-north", "GLOVE-L", "safehands", "gw-02", "C-01", "scale", 60, 12.0, 2, 45.0),
    ShelfSpec("acme-south", "BOLT-M8", "northbolt", "gw-01", "B-01", "scale", 150, 20.0, 3, 12.5),
    ShelfSpec("acme-south", "GLOVE-L", "safehands", "gw-01", "B-02", "rfid", 40, 8.0, 2),
    ShelfSpec("acme-south", "TAPE-50", "unassigned", "gw-01", "B-03", "manual", 25, 0.0, 1),
    ShelfSpec("bravo-works", "NUT-M8", "northbolt", "gw-01", "R-01", "scale", 500, 90.0, 8, 4.0),
)
DEVICES = (
    ("acme-north", "gw-01"),
    ("acme-north", "gw-02"),
    ("acme-south", "gw-01"),
    ("bravo-works", "gw-01"),
    ("bravo-works", "gw-02"),
)
COLLECTORS = ("vmi-collector-a", "vmi-collector-b")
CUSTOMERS = {"acme-north": "acme", "acme-south": "acme", "bravo-works": "bravo"}
CONFIG_HASHES = {key: hashlib.sha256("/".join(key).encode()).hexdigest()[:12] for key in DEVICES}


# ---- line protocol -----------------------------------------------------------


def _escape_key(text: str) -> str:
    return text.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


def _field_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}i"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise TypeError(f"no line protocol for {value!r}")


@dataclass(frozen=True)
class Point:
    measurement: str
    tags: Mapping[str, str]
    fields: Mapping[str, object]
    time_ms: int

    def line(self) -> str:
        """The point as one line of line protocol (tags sorted, precision ms)."""
        series = ",".join(
            [_escape_key(self.measurement)]
            + [f"{_escape_key(k)}={_escape_key(v)}" for k, v in sorted(self.tags.items())]
        )
        values = ",".join(f"{_escape_key(k)}={_field_value(v)}" for k, v in self.fields.items())
        return f"{series} {values} {self.time_ms}"


# ---- the simulation ----------------------------------------------------------


@dataclass
class _Order:
    id: int
    site: str
    sku: str
    quantity: float
    placed_ms: int
    due_ms: int


@dataclass
class _History:
    points: list[Point] = field(default_factory=list)
    seq: dict[tuple[str, str], int] = field(default_factory=dict)

    def add(
        self, measurement: str, tags: Mapping[str, str], fields: Mapping[str, object], t: int
    ) -> None:
        self.points.append(Point(measurement, dict(tags), dict(fields), t))

    def next_seq(self, site: str, device: str) -> int:
        key = (site, device)
        self.seq[key] = self.seq.get(key, 1000) + 1
        return self.seq[key]


def simulate(now_ms: int, seed: int = 7) -> list[Point]:
    """Every point of three days of history ending a minute before `now_ms`."""
    rng = random.Random(seed)
    end = (now_ms - MINUTE_MS) // MINUTE_MS * MINUTE_MS
    start = end - HISTORY_MS
    history = _History()
    offline_for_good = ("acme-north", "gw-02", end - 90 * MINUTE_MS)
    _stock(history, rng, start, end, offline_for_good)
    _device_status(history, rng, start, end, offline_for_good)
    _device_events(history, start, end)
    _collectors(history, rng, start, end)
    _kpis(history, rng, start, end)
    history.points.sort(key=lambda p: p.time_ms)
    return history.points


def _stock(
    history: _History,
    rng: random.Random,
    start: int,
    end: int,
    offline_for_good: tuple[str, str, int],
) -> None:
    levels = {spec: float(spec.start_units) for spec in SHELVES}
    keys = sorted({(s.site, s.sku) for s in SHELVES})
    by_key = {key: [s for s in SHELVES if (s.site, s.sku) == key] for key in keys}
    open_orders: dict[tuple[str, str], _Order] = {}
    warned: set[tuple[str, str]] = set()
    emptied: set[tuple[str, str]] = set()
    next_order_id = 1
    off_site, off_device, off_at = offline_for_good

    def order_event(order: _Order, status: str, t: int) -> None:
        history.add(
            "order_event",
            {"site": order.site, "sku": order.sku, "status": status},
            {
                "order_id": order.id,
                "quantity": order.quantity,
                "text": f"order #{order.id} {status}: {order.quantity:g} x {order.sku}"
                f" for {order.site}",
            },
            t,
        )

    # A manual order for the SKU without an agreement, cancelled the same day.
    tape = _Order(next_order_id, "acme-south", "TAPE-50", 10.0, start + 5 * HOUR_MS, 0)
    next_order_id += 1
    order_event(tape, "proposed", tape.placed_ms)
    order_event(tape, "cancelled", tape.placed_ms + 3 * HOUR_MS)

    for t in range(start, end + 1, STEP_MS):
        # Deliveries land first: the refill goes to the first bin of the SKU.
        for key, order in list(open_orders.items()):
            if order.due_ms <= t:
                spec = by_key[key][0]
                levels[spec] += order.quantity
                history.add(
                    "stock_event",
                    _shelf_tags(spec, "refill"),
                    {
                        "quantity": order.quantity,
                        "detail": f"refill of {order.quantity:g}",
                        "seq": history.next_seq(spec.site, spec.device),
                    },
                    t - 30_000,
                )
                order_event(order, "received", t)
                del open_orders[key]
        for spec in SHELVES:
            if spec.device == off_device and spec.site == off_site and t >= off_at:
                continue  # the gateway is gone: no readings, no events
            picked = _picks(rng, spec, levels[spec])
            if picked:
                levels[spec] -= picked
                history.add(
                    "stock_event",
                    _shelf_tags(spec, "pick"),
                    {
                        "quantity": float(picked),
                        "detail": "",
                        "seq": history.next_seq(spec.site, spec.device),
                    },
                    t - 90_000,
                )
            fields: dict[str, object] = {"quantity": levels[spec]}
            if spec.source == "scale":
                fields["raw_weight_g"] = 250.0 + levels[spec] * spec.item_weight_g
                fields["stable"] = rng.random() > 0.05
            fields["seq"] = history.next_seq(spec.site, spec.device)
            history.add(
                "stock_level",
                {
                    "site": spec.site,
                    "device": spec.device,
                    "location": spec.location,
                    "sku": spec.sku,
                    "source": spec.source,
                },
                fields,
                t,
            )
        if (t - start) % PROJECTION_EVERY_MS:
            continue
        for key in keys:
            specs = by_key[key]
            site, sku = key
            on_hand = sum(levels[s] for s in specs)
            rate = sum(s.demand_per_day for s in specs)
            order = open_orders.get(key)
            open_qty = order.quantity if order else 0.0
            position = on_hand + open_qty
            reorder_point = round(rate * (LEAD_DAYS + SAFETY_DAYS), 1)
            order_up_to = round(rate * TARGET_DAYS, 1)
            proj: dict[str, object] = {
                "on_hand": on_hand,
                "inventory_position": position,
                "rate_per_day": rate,
                "sigma_per_day": round(rate * 0.3, 2),
            }
            if rate > 0:
                cover = on_hand / rate
                spread = 1.28 * 0.3 / math.sqrt(max(cover, 0.25))
                proj["days_of_cover"] = round(cover, 3)
                proj["stockout_days_p10"] = round(max(cover * (1 - spread), 0.0), 3)
                proj["stockout_days_p90"] = round(cover * (1 + spread), 3)
            proj["reorder_point"] = reorder_point
            proj["order_up_to"] = order_up_to
            proj["open_order_qty"] = open_qty
            history.add(
                "projection", {"site": site, "sku": sku, "supplier": specs[0].supplier}, proj, t
            )
            if rate > 0 and order is None and position <= reorder_point:
                quantity = float(math.ceil(order_up_to - position))
                order = _Order(next_order_id, site, sku, quantity, t, t + int(LEAD_DAYS * DAY_MS))
                next_order_id += 1
                open_orders[key] = order
                order_event(order, "proposed", t + 1000)
                order_event(order, "confirmed", t + HOUR_MS)
                if t + 12 * HOUR_MS < end:
                    order_event(order, "shipped", t + 12 * HOUR_MS)
                history.add(
                    "alert",
                    {"site": site, "sku": sku, "kind": "reorder"},
                    {
                        "message": f"reorder {quantity:g} x {sku} for {site}: "
                        f"{on_hand / rate:.2f} days of cover <= {LEAD_DAYS + SAFETY_DAYS:g}",
                        "order_id": order.id,
                    },
                    t + 1000,
                )
            if rate > 0 and on_hand / rate < 1.0 and key not in warned:
                # Less than a day of stock left: warned once per shelf.
                warned.add(key)
                history.add(
                    "alert",
                    {"site": site, "sku": sku, "kind": "stockout_imminent"},
                    {"message": f"{sku} at {site} runs out in {on_hand / rate:.1f} days"},
                    t + 2000,
                )
            if on_hand < 1 and key not in emptied:
                emptied.add(key)
                history.add(
                    "alert",
                    {"site": site, "sku": sku, "kind": "stockout"},
                    {"message": f"{sku} at {site} is out of stock"},
                    t + 2000,
                )


def _picks(rng: random.Random, spec: ShelfSpec, level: float) -> int:
    """Units picked from one bin in one step (never more than it holds)."""
    if spec.demand_per_day <= 0 or level < 1:
        return 0
    mean_pick = (1 + spec.max_pick) / 2
    chance = min(1.0, spec.demand_per_day * STEP_MS / DAY_MS / mean_pick)
    if rng.random() >= chance:
        return 0
    return min(rng.randint(1, spec.max_pick), int(level))


def _shelf_tags(spec: ShelfSpec, kind: str) -> dict[str, str]:
    return {
        "site": spec.site,
        "device": spec.device,
        "kind": kind,
        "location": spec.location,
        "sku": spec.sku,
    }


def _device_status(
    history: _History,
    rng: random.Random,
    start: int,
    end: int,
    offline_for_good: tuple[str, str, int],
) -> None:
    drivers = {
        (s, d): sum(1 for x in SHELVES if (x.site, x.device) == (s, d)) or 1 for s, d in DEVICES
    }
    off_site, off_device, off_at = offline_for_good
    blip = ("acme-south", "gw-01", start + DAY_MS, start + DAY_MS + 30 * MINUTE_MS)
    outage = ("bravo-works", "gw-01", end - 20 * HOUR_MS, end - 17 * HOUR_MS)
    dropped = dict.fromkeys(DEVICES, 0)
    for site, device in DEVICES:
        key = (site, device)
        for t in range(start, end + 1, STATUS_EVERY_MS):
            if key == (off_site, off_device) and t >= off_at:
                # The last will, as the collector stores it: only `online`.
                history.add(
                    "device_status", {"site": site, "device": device}, {"online": False}, off_at
                )
                break
            if key == blip[:2] and blip[2] <= t < blip[3]:
                if t == blip[2]:
                    history.add(
                        "device_status", {"site": site, "device": device}, {"online": False}, t
                    )
                continue
            pending = 0
            if key == outage[:2]:
                if outage[2] <= t < outage[3]:
                    continue  # no network: nothing arrives, the outbox fills
                since = t - outage[3]
                if 0 <= since < 2 * HOUR_MS:
                    # The backlog drains after the outage; the overflow was dropped.
                    pending = int(1800 * (1 - since / (2 * HOUR_MS)))
                    dropped[key] = 12
            elif rng.random() < 0.1:
                pending = rng.randint(1, 5)
            faulted = 0
            if key == ("acme-south", "gw-01") and t >= end - 6 * HOUR_MS:
                faulted = 1  # a scale stopped answering and stays down
            if key == ("acme-north", "gw-02") and start + 30 * HOUR_MS <= t < start + 32 * HOUR_MS:
                faulted = 1
            history.add(
                "device_status",
                {"site": site, "device": device},
                {
                    "online": True,
                    "agent_version": AGENT_VERSION,
                    "config_hash": CONFIG_HASHES[key],
                    "drivers_total": drivers[key],
                    "drivers_faulted": faulted,
                    "outbox_pending": pending,
                    "outbox_pending_bytes": pending * 380,
                    "outbox_dropped": dropped[key],
                },
                t,
            )


def _device_events(history: _History, start: int, end: int) -> None:
    """Shelf events other than picks and refills, and device faults."""
    bolts = SHELVES[0]  # acme-north, BOLT-M8, A-01, gw-01
    shelf_events = (
        ("tare", 0.0, "tared empty bin", start + 2 * HOUR_MS),
        ("calibration", 24.0, "calibrated with 24 units", start + 3 * HOUR_MS),
        ("drift", 3.5, "creep of 3.5 g compensated", start + 20 * HOUR_MS),
        ("count_uncertain", 41.6, "41.6 units is not a whole count", start + 40 * HOUR_MS),
        ("mismatch", 2.0, "scale and RFID disagree by 2 units", end - 8 * HOUR_MS),
    )
    for kind, quantity, detail, t in shelf_events:
        history.add(
            "stock_event",
            _shelf_tags(bolts, kind),
            {
                "quantity": quantity,
                "detail": detail,
                "seq": history.next_seq(bolts.site, bolts.device),
            },
            t,
        )
    device_events = (
        (
            "acme-north",
            "gw-01",
            "driver",
            "mtsics",
            "scale on /dev/ttyUSB0 answered",
            start + HOUR_MS,
        ),
        (
            "acme-north",
            "gw-01",
            "fault",
            "mtsics",
            "no answer from /dev/ttyUSB1",
            end - 5 * HOUR_MS,
        ),
        ("acme-north", "gw-02", "fault", "em4100", "reader timed out", start + 30 * HOUR_MS),
        ("acme-south", "gw-01", "fault", "mtsics", "scale overload", end - 6 * HOUR_MS),
    )
    sensor_alerts = (
        ("acme-north", "gw-02", "sensor_silent", "gw-02 silent since its last will", end - HOUR_MS),
        (
            "acme-south",
            "gw-01",
            "sensor_anomaly",
            "B-01 weight jumps without a pick",
            end - 7 * HOUR_MS,
        ),
        (
            "acme-north",
            "gw-01",
            "sensor_anomaly",
            "A-01 reads 3 g heavier each night",
            end - DAY_MS,
        ),
    )
    for site, device, kind, message, t in sensor_alerts:
        history.add(
            "alert", {"site": site, "device": device, "kind": kind}, {"message": message}, t
        )
    for site, device, kind, driver, detail, t in device_events:
        history.add(
            "stock_event",
            {"site": site, "device": device, "kind": kind},
            {"detail": detail, "driver": driver, "seq": history.next_seq(site, device)},
            t,
        )


def _collectors(history: _History, rng: random.Random, start: int, end: int) -> None:
    restart_b = start + 36 * HOUR_MS
    store_outage = (end - 10 * HOUR_MS, end - 9 * HOUR_MS)
    for collector in COLLECTORS:
        totals = dict.fromkeys(
            (
                "messages",
                "readings_written",
                "events_written",
                "write_retries",
                "store_failures",
                "sequence_gaps",
                "sequence_replays",
            ),
            0,
        )
        rejects = dict.fromkeys(REJECT_REASONS, 0)
        for t in range(start, end + 1, HEALTH_EVERY_MS):
            if collector == "vmi-collector-b" and t == restart_b - restart_b % HEALTH_EVERY_MS:
                totals = dict.fromkeys(totals, 0)
                rejects = dict.fromkeys(REJECT_REASONS, 0)
            outage = store_outage[0] <= t < store_outage[1]
            messages = rng.randint(20, 40)
            readings = 0 if outage else messages * 3
            totals["messages"] += messages
            totals["readings_written"] += readings
            totals["events_written"] += 0 if outage else rng.randint(0, 6)
            totals["write_retries"] += rng.randint(1, 3) if outage else 0
            totals["store_failures"] = totals["write_retries"]
            totals["sequence_gaps"] += 1 if rng.random() < 0.01 else 0
            totals["sequence_replays"] += rng.randint(1, 4) if t == store_outage[1] else 0
            if rng.random() < 0.03:
                rejects[rng.choice(REJECT_REASONS)] += 1
            health: dict[str, object] = {
                "messages": totals["messages"],
                "readings_written": totals["readings_written"],
                "events_written": totals["events_written"],
                "rejected": sum(rejects.values()),
                "write_retries": totals["write_retries"],
                "store_failures": totals["store_failures"],
                "in_flight": messages if outage else rng.randint(0, 3),
                "lag_s": round(rng.uniform(20, 60) if outage else rng.uniform(0.05, 0.6), 3),
                "write_latency_ms": round(rng.uniform(6, 25), 2),
                "ingest_rate": round(readings / (HEALTH_EVERY_MS / 1000), 3),
                "sequence_gaps": totals["sequence_gaps"],
                "sequence_replays": totals["sequence_replays"],
            }
            if outage:
                health["store_error"] = "unreachable: InfluxDB at http://influxdb:8086 unreachable"
            history.add("collector_health", {"collector": collector}, health, t)
            for reason, count in rejects.items():
                if count:
                    history.add(
                        "collector_rejects",
                        {"collector": collector, "reason": reason},
                        {"count": count},
                        t,
                    )


def _kpis(history: _History, rng: random.Random, start: int, end: int) -> None:
    """Every shelf's KPIs over the trailing window, hourly, as `cloud/kpis` writes them."""
    keys = sorted({(s.site, s.sku) for s in SHELVES})
    for t in range(start + KPI_EVERY_MS, end + 1, KPI_EVERY_MS):
        for site, sku in keys:
            specs = [s for s in SHELVES if (s.site, s.sku) == (site, sku)]
            demand = sum(s.demand_per_day for s in specs)
            stock = sum(s.start_units for s in specs) * rng.uniform(0.45, 0.6)
            consumed = round(demand * KPI_WINDOW_DAYS * rng.uniform(0.85, 1.0), 1)
            events = 1 if demand > 40 else 0
            hours = round(events * rng.uniform(2, 9), 2)
            lost = round(hours / 24 * demand, 2)
            deliveries = round(demand * KPI_WINDOW_DAYS / (demand * 5)) if demand else 0
            fields: dict[str, object] = {
                "window_days": KPI_WINDOW_DAYS,
                "consumed": consumed,
                "avg_on_hand": round(stock, 2),
                "turns_per_year": round(consumed * 365 / KPI_WINDOW_DAYS / stock, 3),
                "stockout_events": events,
                "stockout_hours": hours,
                "lost_units": lost,
                "orders_placed": deliveries,
                "deliveries": deliveries,
            }
            if demand:
                mae = round(demand * rng.uniform(0.15, 0.35), 3)
                fields |= {
                    "days_of_supply": round(stock / (consumed / KPI_WINDOW_DAYS), 3),
                    "fill_rate": round(consumed / (consumed + lost), 4),
                    "avg_order_qty": round(demand * 5, 1),
                    "avg_lead_time_days": round(LEAD_DAYS + rng.uniform(-0.2, 0.8), 3),
                    "forecast_bias": round(demand * rng.uniform(-0.1, 0.1), 3),
                    "forecast_mae": mae,
                    "forecast_mase": round(mae / (demand * 0.3), 3),
                }
                if site != "bravo-works":  # its deliveries had no due day: not rated
                    fields["on_time_rate"] = round(rng.choice((0.5, 0.75, 0.8, 1.0)), 2)
            tags = {
                "site": site,
                "sku": sku,
                "supplier": specs[0].supplier,
                "customer": CUSTOMERS[site],
            }
            history.add("kpi", tags, fields, t)


def lines(points: list[Point]) -> Iterator[str]:
    """Line protocol, one line per point."""
    for point in points:
        yield point.line()
