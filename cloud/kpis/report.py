"""KPIs of many (site, SKU)s read from the stores, and their roll-ups.

`kpi_report` reads, for the keys asked for, the level series of the window,
the orders and the `projection` points (the forecasts the replenisher made,
from a day before the window on so the first day has one), plus the
catalog's agreements and sites for each key's supplier, customer and agreed
lead time; then `cloud.kpis.measure` does the arithmetic. `group_rows`
rolls the rows up by site, customer or supplier.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from cloud.catalog import AgreementSpec, Catalog
from cloud.catalog.schema import SiteSpec
from cloud.config import ReplenishmentConfig
from cloud.kpis.measure import Forecast, Kpis, OrderFacts, key_kpis, rollup
from cloud.orders import Order, OrderBook, OrderStatus
from cloud.replenishment.demand import DEFAULT_NOISE_UNITS
from cloud.replenishment.effects import UNASSIGNED
from cloud.timeseries import TimeSeriesStore
from cloud.timeseries.measurements import PROJECTION

Key = tuple[str, str]


class GroupBy(StrEnum):
    """What a KPI report's rows are: one per key, or rolled up."""

    KEY = "key"
    SITE = "site"
    CUSTOMER = "customer"
    SUPPLIER = "supplier"


@dataclass(frozen=True, slots=True)
class KpiRow:
    """One line of a KPI report: a (site, SKU), or a group (`keys` > 1)."""

    group: str  # "site/sku", or the site, customer or supplier code
    site: str | None
    sku: str | None
    supplier: str | None
    customer: str | None
    keys: int
    kpis: Kpis


def kpi_report(
    store: TimeSeriesStore,
    orders: OrderBook,
    keys: Iterable[Key],
    start: datetime,
    end: datetime,
    *,
    catalog: Catalog | None = None,
    noise_units: float = DEFAULT_NOISE_UNITS,
    rules: ReplenishmentConfig | None = None,
) -> list[KpiRow]:
    """One row per key (sorted), over `[start, end)`.

    An order is due after the agreement's lead time, or where no agreement
    covers the pair, after the configured rule's (`rules`; None: not rated
    unless the supplier gave an expected arrival).
    """
    wanted = sorted(set(keys))
    if not wanted:
        return []
    series = store.level_series_many(wanted, start, end)
    forecasts: dict[Key, list[Forecast]] = {}
    for site in sorted({s for s, _ in wanted}):
        for p in store.points(PROJECTION.name, start - timedelta(days=1), end, tags={"site": site}):
            rate = p.field("rate_per_day")
            sku = p.tag("sku") or ""
            if isinstance(rate, int | float) and not isinstance(rate, bool):
                forecasts.setdefault((site, sku), []).append(Forecast(p.time, float(rate)))
    by_key: dict[Key, list[OrderFacts]] = {}
    for site in sorted({s for s, _ in wanted}):
        for o in orders.orders(site):
            by_key.setdefault((o.site, o.sku), []).append(_facts(o))
    suppliers, customers, lead = _catalog_facts(catalog, wanted)
    rows = []
    for key in wanted:
        site, sku = key
        k = key_kpis(
            series.get(key, []),
            start,
            end,
            orders=by_key.get(key, []),
            forecasts=forecasts.get(key, []),
            agreed_lead_time_days=lead.get(
                key, rules.rule_for(sku).lead_time_days if rules is not None else None
            ),
            noise_units=noise_units,
        )
        rows.append(
            KpiRow(
                group=f"{site}/{sku}",
                site=site,
                sku=sku,
                supplier=suppliers.get(key, UNASSIGNED),
                customer=customers.get(site, UNASSIGNED),
                keys=1,
                kpis=k,
            )
        )
    return rows


def group_rows(rows: Sequence[KpiRow], by: GroupBy) -> list[KpiRow]:
    """`rows` (one per key) rolled up by `by`, sorted by group; KEY returns them as given."""
    if by is GroupBy.KEY:
        return list(rows)
    groups: dict[str, list[KpiRow]] = {}
    for r in rows:
        name = {GroupBy.SITE: r.site, GroupBy.CUSTOMER: r.customer, GroupBy.SUPPLIER: r.supplier}[
            by
        ]
        groups.setdefault(name or UNASSIGNED, []).append(r)
    out = []
    for name in sorted(groups):
        members = groups[name]
        out.append(
            KpiRow(
                group=name,
                site=name if by is GroupBy.SITE else _one(r.site for r in members),
                sku=None,
                supplier=name if by is GroupBy.SUPPLIER else _one(r.supplier for r in members),
                customer=name if by is GroupBy.CUSTOMER else _one(r.customer for r in members),
                keys=len(members),
                kpis=rollup([r.kpis for r in members]),
            )
        )
    return out


def _one(values: Iterable[str | None]) -> str | None:
    """The value all members share, else None."""
    found = set(values)
    return found.pop() if len(found) == 1 else None


def _facts(o: Order) -> OrderFacts:
    return OrderFacts(
        quantity=float(o.quantity),
        created_at=o.created_at,
        cancelled=o.status == OrderStatus.CANCELLED.value,
        received_at=o.received_at,
        expected_arrival=o.expected_arrival,
    )


def _catalog_facts(
    catalog: Catalog | None, keys: Sequence[Key]
) -> tuple[dict[Key, str], dict[str, str], dict[Key, float]]:
    """Supplier and agreed lead time per key, customer per site, from the catalog."""
    suppliers: dict[Key, str] = {}
    customers: dict[str, str] = {}
    lead: dict[Key, float] = {}
    if catalog is None:
        return suppliers, customers, lead
    wanted = set(keys)
    for site in sorted({s for s, _ in keys}):
        for a in catalog.entries(AgreementSpec, site=site):
            if (a.site, a.sku) in wanted:
                suppliers[(a.site, a.sku)] = a.supplier
                lead[(a.site, a.sku)] = a.lead_time_days
        for s in catalog.entries(SiteSpec, site=site):
            customers[s.code] = s.customer
    return suppliers, customers, lead


def stored_keys(
    store: TimeSeriesStore, site: str | None = None, sku: str | None = None
) -> list[Key]:
    """Every (site, SKU) with a stored level (of `site` / `sku` if given), sorted."""
    keys = {(p.site, p.sku) for p in store.latest_levels(site)}
    return sorted(k for k in keys if sku in (None, k[1]))
