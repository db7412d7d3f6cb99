"""Assemble the cloud service (stores, order book, collector) from its config."""

from __future__ import annotations

import threading

from cloud.collector import Collector
from cloud.config import CloudConfig
from cloud.metrics import MetricsServer
from cloud.orders import OrderBook
from cloud.timeseries import open_store
from vmi.clock import Clock


class CloudService:
    """Everything `vmi cloud run` runs; the demo runs the same."""

    def __init__(self, config: CloudConfig, *, clock: Clock | None = None) -> None:
        self.store = open_store(config.store.url)
        self.orders = OrderBook(config.orders.url)
        self.collector = Collector(config, store=self.store, orders=self.orders, clock=clock)
        listen = config.metrics.host_port
        self.metrics = MetricsServer(self.collector, *listen) if listen else None

    def start(self) -> None:
        self.collector.start()
        if self.metrics is not None:
            self.metrics.start()

    def stop(self) -> None:
        if self.metrics is not None:
            self.metrics.stop()
        self.collector.stop()
        self.orders.close()
        self.store.close()

    def run(self, stop: threading.Event) -> None:
        """Run until `stop` is set."""
        self.start()
        try:
            stop.wait()
        finally:
            self.stop()
