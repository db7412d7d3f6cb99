"""`vmi report kpis`: the KPI table of the stored data, as text or CSV."""

from __future__ import annotations

import argparse
from datetime import timedelta

from cloud.catalog import Catalog
from cloud.config import load_cloud_config
from cloud.kpis.report import GroupBy, group_rows, kpi_report, stored_keys
from cloud.kpis.table import to_csv, to_text
from cloud.orders import OrderBook
from cloud.timeseries import open_store
from vmi.clock import SystemClock


def main(args: argparse.Namespace) -> int:
    """Entry of `vmi report kpis` (options: config, site, sku, days, by, format)."""
    config = load_cloud_config(args.config)
    store = open_store(config.store.url, create_database=False, token=config.store.token_value())
    orders = OrderBook(config.orders.url)
    catalog = Catalog(config.catalog.url) if config.catalog.url else None
    try:
        end = SystemClock().now()
        start = end - timedelta(days=args.days)
        keys = stored_keys(store, args.site, args.sku)
        rows = kpi_report(
            store,
            orders,
            keys,
            start,
            end,
            catalog=catalog,
            noise_units=config.replenishment.noise_units,
            rules=config.replenishment,
        )
        rows = group_rows(rows, GroupBy(args.by))
    finally:
        store.close()
        orders.close()
        if catalog is not None:
            catalog.close()
    print(to_csv(rows) if args.format == "csv" else to_text(rows), end="")
    return 0
