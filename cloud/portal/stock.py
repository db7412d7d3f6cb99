"""The rows of the Stock page: one per visible (site, SKU), from the newest levels, the
newest projection and the open order. Pure once the reads are done."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from cloud.orders import Order
from cloud.timeseries import LevelPoint
from cloud.timeseries.base import Point


@dataclass(frozen=True)
class StockRow:
    """One shelf as the Stock page shows it."""

    site: str
    sku: str
    on_hand: float | None
    days_of_cover: float | None
    reorder_point: float | None
    open_order: Order | None
    updated: datetime | None

    @property
    def state(self) -> str:
        """`stockout`, `reorder` (on hand at or below the reorder point), `ok`, or
        `unknown` (no level yet)."""
        if self.on_hand is None:
            return "unknown"
        if self.on_hand <= 0:
            return "stockout"
        if self.reorder_point is not None and self.on_hand <= self.reorder_point:
            return "reorder"
        return "ok"

    def matches(self, text: str) -> bool:
        """The filter box: a part of the site or SKU code, any case."""
        needle = text.strip().lower()
        return not needle or needle in self.site.lower() or needle in self.sku.lower()


def _number(point: Point, name: str) -> float | None:
    value = point.field(name)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def stock_rows(
    levels: Iterable[LevelPoint],
    projections: Mapping[tuple[str, str], Point],
    open_orders: Mapping[tuple[str, str], Order],
) -> list[StockRow]:
    """Every shelf with a level or a projection, by site and SKU.

    On hand is the newest level summed over the shelf's locations and devices
    (one source each: a scale and a reader on the same shelf count once, the
    scale's); days of cover and the reorder point come from the projection.
    """
    newest: dict[tuple[str, str], dict[tuple[str, str], LevelPoint]] = {}
    for point in levels:
        spots = newest.setdefault((point.site, point.sku), {})
        spot = (point.device, point.location)
        held = spots.get(spot)
        if held is None or point.time > held.time:
            spots[spot] = point
    rows = []
    for key in sorted(set(newest) | set(projections)):
        spots = newest.get(key, {})
        by_location: dict[str, LevelPoint] = {}
        for point in spots.values():  # one reading per location: the newest
            held = by_location.get(point.location)
            if held is None or point.time > held.time:
                by_location[point.location] = point
        projection = projections.get(key)
        on_hand = sum(p.quantity for p in by_location.values()) if by_location else None
        if on_hand is None and projection is not None:
            on_hand = _number(projection, "on_hand")
        times = [p.time for p in by_location.values()]
        rows.append(
            StockRow(
                site=key[0],
                sku=key[1],
                on_hand=on_hand,
                days_of_cover=_number(projection, "days_of_cover") if projection else None,
                reorder_point=_number(projection, "reorder_point") if projection else None,
                open_order=open_orders.get(key),
                updated=max(times) if times else (projection.time if projection else None),
            )
        )
    return rows
