"""The KPI job: the KPIs of every stored (site, SKU), written to the store as `kpi` points.

Every `interval_s` a `KpiWriter` computes `kpi_report` over the last
`window_days` up to its clock's now for every key `stored_keys` finds, and
writes one `kpi` point per key (`kpi_points`, see docs/data-model.md) stamped
with that now, so the KPI board reads them with InfluxQL like everything
else. A key with nothing in the window (no reading, no order placed or
received: a shelf taken out of service) gets no point, so retired shelves do
not fill the board with zeros forever. It works one site at a time (levels,
forecasts, orders and catalog entries of one site in memory at once) and
writes each site's points as soon as they are computed.

The first run is one interval after start, not at start: a restart (or a
crash loop, or `--workers N` starting N processes) costs no window-long read,
and a run that fails costs nothing more than a late snapshot. A store or
database failure is logged and ends the run; the next interval computes
everything again (each point is a snapshot of the whole window, so a missed
one is only a gap on the board). The job reads the whole fleet, so with
`--workers N` only worker 0 runs it (`[kpis] enabled`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby

from cloud.catalog import Catalog
from cloud.config import KpiConfig, ReplenishmentConfig
from cloud.errors import StoreError
from cloud.kpis.measure import Kpis
from cloud.kpis.report import KpiRow, kpi_report, stored_keys
from cloud.orders import OrderBook
from cloud.replenishment.demand import DEFAULT_NOISE_UNITS
from cloud.timeseries.base import Point, TimeSeriesStore
from cloud.timeseries.measurements import KPI
from vmi.clock import Clock

log = logging.getLogger(__name__)


def kpi_points(rows: Sequence[KpiRow], at: datetime) -> list[Point]:
    """One `kpi` point per row of `kpi_report` (one (site, SKU) each), at `at`. Pure.

    KPIs that are None are left out of the point. Rolled-up rows
    (`group_rows`) are refused with `ValueError`: the board rolls keys up
    itself, and a group point beside its keys would count them twice.
    """
    points = []
    for row in rows:
        if row.keys != 1 or row.site is None or row.sku is None:
            raise ValueError(f"kpi points are per (site, SKU), not for group {row.group!r}")
        k = row.kpis
        points.append(
            KPI.point(
                tags={
                    "site": row.site,
                    "sku": row.sku,
                    "supplier": row.supplier,
                    "customer": row.customer,
                },
                fields={
                    "window_days": k.window_days,
                    "consumed": k.consumed,
                    "avg_on_hand": k.avg_on_hand,
                    "turns_per_year": k.turns_per_year,
                    "days_of_supply": k.days_of_supply,
                    "stockout_events": k.stockout_events,
                    "stockout_hours": k.stockout_hours,
                    "lost_units": k.lost_units,
                    "fill_rate": k.fill_rate,
                    "orders_placed": k.orders_placed,
                    "avg_order_qty": k.avg_order_qty,
                    "deliveries": k.deliveries,
                    "on_time_rate": k.on_time_rate,
                    "avg_lead_time_days": k.avg_lead_time_days,
                    "forecast_bias": k.forecast_bias,
                    "forecast_mae": k.forecast_mae,
                    "forecast_mase": k.forecast_mase,
                },
                time=at,
            )
        )
    return points


def _active(k: Kpis) -> bool:
    """Whether anything happened to a key in the window: a reading, an order, a delivery."""
    return k.known_hours > 0 or k.orders_placed > 0 or k.deliveries > 0


@dataclass
class KpiWriterStats:
    """What the job has done since start."""

    runs: int = 0  # runs that wrote every point
    failures: int = 0  # runs ended by a failure (the next interval tries again)
    points_written: int = 0
    last_run_s: float = 0.0  # wall time of the newest complete run


class KpiWriter:
    """Writes the `kpi` points of every stored (site, SKU) every `interval_s`."""

    def __init__(
        self,
        config: KpiConfig,
        *,
        store: TimeSeriesStore,
        orders: OrderBook,
        clock: Clock,
        catalog: Catalog | None = None,
        noise_units: float = DEFAULT_NOISE_UNITS,
        rules: ReplenishmentConfig | None = None,
    ) -> None:
        """`rules`: the replenishment rules, for the lead time an order without an
        agreement is due after (see `kpi_report`)."""
        self._config = config
        self._rules = rules
        self._store = store
        self._orders = orders
        self._clock = clock
        self._catalog = catalog
        self._noise_units = noise_units
        self.stats = KpiWriterStats()

    def write_once(self) -> bool:
        """Compute and write the KPIs of every stored key now.

        True when every point was written. A failure of a store or database
        (or a bug) is logged and counted, never raised: False, and the points
        of the sites not reached yet are not written.
        """
        started = time.monotonic()
        end = self._clock.now()
        start = end - timedelta(days=self._config.window_days)
        written = 0
        try:
            keys = stored_keys(self._store)
            for _site, site_keys in groupby(keys, key=lambda key: key[0]):
                rows = kpi_report(
                    self._store,
                    self._orders,
                    list(site_keys),
                    start,
                    end,
                    catalog=self._catalog,
                    noise_units=self._noise_units,
                    rules=self._rules,
                )
                points = kpi_points([r for r in rows if _active(r.kpis)], end)
                self._store.write_points(points)
                written += len(points)
        except StoreError as exc:
            self._failed(written)
            log.warning(
                "KPIs: store unavailable (%s) after %d points; again in %.0f s",
                exc,
                written,
                self._config.interval_s,
            )
            return False
        except Exception:  # a bug must not end the job silently
            self._failed(written)
            log.exception("KPIs: unexpected error; again in %.0f s", self._config.interval_s)
            return False
        self.stats.runs += 1
        self.stats.points_written += written
        self.stats.last_run_s = time.monotonic() - started
        log.info(
            "KPIs: %d (site, SKU)s over %d days written in %.1f s",
            written,
            self._config.window_days,
            self.stats.last_run_s,
        )
        return True

    def _failed(self, written: int) -> None:
        self.stats.failures += 1
        self.stats.points_written += written

    def run(self, stop: threading.Event) -> None:
        """`write_once` every `interval_s`, the first one interval after start, until `stop`."""
        while not stop.wait(self._config.interval_s):
            self.write_once()
