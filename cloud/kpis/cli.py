"""`vmi report kpis`: the KPI table of the stored data, as text or CSV."""

from __future__ import annotations

import argparse
from datetime import timedelta

from cloud.config import load_cloud_config
from cloud.kpis.report import GroupBy, group_rows, kpi_report, stored_keys
from cloud.kpis.table import to_csv, to_text
from cloud.readers import open_readers
from vmi.clock import SystemClock


def main(args: argparse.Namespace) -> int:
    """Entry of `vmi report kpis` (options: config, site, sku, days, by, format)."""
    config = load_cloud_config(args.config)
    with open_readers(config) as r:
        end = SystemClock().now()
        start = end - timedelta(days=args.days)
        rows = kpi_report(
            r.store,
            r.orders,
            stored_keys(r.store, args.site, args.sku),
            start,
            end,
            catalog=r.catalog,
            noise_units=config.replenishment.noise_units,
            rules=config.replenishment,
        )
    rows = group_rows(rows, GroupBy(args.by))
    print(to_csv(rows) if args.format == "csv" else to_text(rows), end="")
    return 0
