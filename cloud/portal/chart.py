"""The shelf chart, drawn on the server as SVG geometry: the level over the last days, the
projection band to the 10/50/90 % stockout days, and the orders marked. Pure.

The template draws what `level_chart` returns (polyline points, a polygon, marker
positions), so the page needs no chart library and no JavaScript.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from cloud.orders import Order
from cloud.timeseries import LevelPoint
from cloud.timeseries.base import Point

WIDTH, HEIGHT = 720.0, 240.0
LEFT, RIGHT, TOP, BOTTOM = 44.0, 12.0, 12.0, 28.0


def _number(point: Point | None, name: str) -> float | None:
    if point is None:
        return None
    value = point.field(name)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def shelf_totals(levels: Sequence[LevelPoint]) -> list[tuple[datetime, float]]:
    """The shelf's level over time: after each reading, the sum of each location's newest."""
    held: dict[str, float] = {}
    out: list[tuple[datetime, float]] = []
    for point in sorted(levels, key=lambda p: p.time):
        held[point.location] = point.quantity
        total = sum(held.values())
        if out and out[-1][0] == point.time:
            out[-1] = (point.time, total)
        else:
            out.append((point.time, total))
    return out


def level_chart(
    levels: Sequence[LevelPoint],
    orders: Sequence[Order],
    projection: Point | None,
    since: datetime,
    now: datetime,
    alerts: Sequence[Point] = (),
) -> dict[str, object]:
    """Geometry of the chart in a WIDTH x HEIGHT box (see the template `shelf.html`)."""
    totals = shelf_totals(levels)
    on_hand = _number(projection, "on_hand")
    if on_hand is None and totals:
        on_hand = totals[-1][1]
    p10, p90 = _number(projection, "stockout_days_p10"), _number(projection, "stockout_days_p90")
    rate = _number(projection, "rate_per_day")
    p50 = on_hand / rate if on_hand is not None and rate else None
    rop = _number(projection, "reorder_point")
    ahead = max([d for d in (p10, p50, p90) if d is not None and d < 60] + [3.0])
    end = now + timedelta(days=min(ahead, 60.0))
    top = max([q for _, q in totals] + [on_hand or 0.0, rop or 0.0, 1.0]) * 1.1
    span = (end - since).total_seconds() or 1.0

    def x(at: datetime) -> float:
        share = (at - since).total_seconds() / span
        return round(LEFT + max(0.0, min(1.0, share)) * (WIDTH - LEFT - RIGHT), 1)

    def y(value: float) -> float:
        share = max(0.0, min(1.0, value / top))
        return round(HEIGHT - BOTTOM - share * (HEIGHT - TOP - BOTTOM), 1)

    line = " ".join(f"{x(t)},{y(q)}" for t, q in totals)
    band = ""
    median = ""
    if on_hand is not None and p10 is not None and p90 is not None:
        start = f"{x(now)},{y(on_hand)}"
        early, late = now + timedelta(days=p10), now + timedelta(days=p90)
        band = f"{start} {x(early)},{y(0)} {x(late)},{y(0)}"
        if p50 is not None:
            median = f"{start} {x(now + timedelta(days=p50))},{y(0)}"
    marks = [
        {"x": x(o.created_at), "id": o.id, "status": o.status}
        for o in orders
        if since <= o.created_at <= end
    ]
    arrivals = [
        {"x": x(o.expected_arrival), "id": o.id}
        for o in orders
        if o.expected_arrival is not None and since <= o.expected_arrival <= end
    ]
    alert_marks = [
        {"x": x(a.time), "kind": a.tag("kind") or "", "message": str(a.field("message") or "")}
        for a in alerts
        if since <= a.time <= end
    ]
    ticks = []
    day = since.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    step = max(1, int(span / 86400 / 8))
    while day <= end:
        ticks.append({"x": x(day), "label": f"{day:%m-%d}"})
        day += timedelta(days=step)
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "bottom": HEIGHT - BOTTOM,
        "right": WIDTH - RIGHT,
        "top_value": round(top),
        "line": line,
        "band": band,
        "median": median,
        "now_x": x(now),
        "rop_y": y(rop) if rop is not None else None,
        "orders": marks,
        "arrivals": arrivals,
        "alerts": alert_marks,
        "ticks": ticks,
        "p10": p10,
        "p50": p50,
        "p90": p90,
    }
