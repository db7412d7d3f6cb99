"""KPI rows as a text table or CSV: one column list for both."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence

from cloud.kpis.report import KpiRow

Cell = Callable[[KpiRow], float | int | str | None]

COLUMNS: tuple[tuple[str, Cell], ...] = (
    ("group", lambda r: r.group),
    ("keys", lambda r: r.keys),
    ("supplier", lambda r: r.supplier),
    ("customer", lambda r: r.customer),
    ("consumed", lambda r: r.kpis.consumed),
    ("avg_on_hand", lambda r: r.kpis.avg_on_hand),
    ("turns_per_year", lambda r: r.kpis.turns_per_year),
    ("days_of_supply", lambda r: r.kpis.days_of_supply),
    ("stockout_events", lambda r: r.kpis.stockout_events),
    ("stockout_hours", lambda r: r.kpis.stockout_hours),
    ("fill_rate", lambda r: r.kpis.fill_rate),
    ("orders_placed", lambda r: r.kpis.orders_placed),
    ("avg_order_qty", lambda r: r.kpis.avg_order_qty),
    ("deliveries", lambda r: r.kpis.deliveries),
    ("on_time_rate", lambda r: r.kpis.on_time_rate),
    ("avg_lead_time_days", lambda r: r.kpis.avg_lead_time_days),
    ("forecast_days", lambda r: r.kpis.forecast_days),
    ("forecast_bias", lambda r: r.kpis.forecast_bias),
    ("forecast_mae", lambda r: r.kpis.forecast_mae),
    ("forecast_mase", lambda r: r.kpis.forecast_mase),
)
"""(header, value) of each column, in order; None is an empty cell."""

_SHARES = {"fill_rate", "on_time_rate"}


def to_csv(rows: Sequence[KpiRow]) -> str:
    """Header and one line per row; numbers in full, None empty."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(name for name, _ in COLUMNS)
    for r in rows:
        w.writerow("" if (v := cell(r)) is None else v for _, cell in COLUMNS)
    return out.getvalue()


def to_text(rows: Sequence[KpiRow]) -> str:
    """An aligned table for a terminal: shares as %, other numbers rounded."""
    head = [name for name, _ in COLUMNS]
    body = [[_show(name, cell(r)) for name, cell in COLUMNS] for r in rows]
    widths = [max(len(x) for x in col) for col in zip(head, *body, strict=True)]
    lines = [
        "  ".join(
            x.rjust(w) if i else x.ljust(w)
            for i, (x, w) in enumerate(zip(line, widths, strict=True))
        )
        for line in [head, *body]
    ]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _show(name: str, value: float | int | str | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if name in _SHARES:
        return f"{value:.1%}"
    return f"{value:.2f}" if abs(value) < 100 else f"{value:.0f}"
