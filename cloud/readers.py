"""The stores a report reads (levels, orders, catalog), opened from a cloud config
and closed together: what `vmi report kpis` and `vmi suggest` share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from cloud.catalog import Catalog
from cloud.config import CloudConfig
from cloud.orders import OrderBook
from cloud.timeseries import TimeSeriesStore, open_store


@dataclass(frozen=True)
class Readers:
    """Open stores; `catalog` is None when the config names none."""

    store: TimeSeriesStore
    orders: OrderBook
    catalog: Catalog | None


@contextmanager
def open_readers(config: CloudConfig) -> Iterator[Readers]:
    """The config's stores, without creating a time-series database; closed on exit."""
    store = open_store(config.store.url, create_database=False, token=config.store.token_value())
    orders = catalog = None
    try:
        orders = OrderBook(config.orders.url)
        catalog = Catalog(config.catalog.url) if config.catalog.url else None
        yield Readers(store, orders, catalog)
    finally:
        store.close()
        if orders is not None:
            orders.close()
        if catalog is not None:
            catalog.close()
