"""Assemble the cloud service (stores, order book, collector) from its config."""

from __future__ import annotations

import logging
import threading

from cloud.alert_state import AlertState
from cloud.catalog import Catalog
from cloud.chart_writer import ChartWriter
from cloud.collector import Collector
from cloud.config import CloudConfig
from cloud.health import HealthReporter
from cloud.metrics import MetricsServer
from cloud.notify import CatalogTenants, WebhookNotifier
from cloud.orders import Order, OrderBook
from cloud.points import alert_point, order_point
from cloud.timeseries import open_store
from vmi.clock import Clock, SystemClock

log = logging.getLogger(__name__)


class CloudService:
    """Everything `vmi cloud run` runs; the demo runs the same."""

    def __init__(self, config: CloudConfig, *, clock: Clock | None = None) -> None:
        self.config = config
        self.store = open_store(config.store.url)
        self.charts = ChartWriter(self.store)  # order and alert points, off the decision path
        self.orders = OrderBook(config.orders.url, on_change=self._order_changed)
        self.alert_state = AlertState(config.orders.url)
        self.catalog = Catalog(config.catalog.url) if config.catalog.url else None
        self.collector = Collector(
            config,
            store=self.store,
            orders=self.orders,
            alert_state=self.alert_state,
            catalog=self.catalog,
            clock=clock,
        )
        # Webhook subscriptions live in the orders database; with none, the
        # notifier sends nothing.
        self.notifier = WebhookNotifier(
            config.orders.url,
            tenants_of=CatalogTenants(self.catalog) if self.catalog else None,
        )
        self.collector.alert_listeners += [
            self.notifier.notify,
            lambda alert: self.charts.put([alert_point(alert)]),
        ]
        listen = config.metrics.host_port
        self.metrics = MetricsServer(self.collector, *listen) if listen else None
        self.health = HealthReporter(
            config.mqtt.client_id,
            self.collector.stats,
            lambda: self.collector.in_flight,
            store=self.store,
            clock=clock or SystemClock(),
            interval_s=config.health_interval_s,
        )
        self._health_stop = threading.Event()
        self._health_thread = threading.Thread(
            target=self.health.run, args=(self._health_stop,), name="health", daemon=True
        )

    def _order_changed(self, order: Order) -> None:
        # Charts only: the order itself is in SQL, so a store outage loses no order.
        self.charts.put([order_point(order)])

    def start(self) -> None:
        self.charts.start()
        self.notifier.start()
        self.collector.start()
        if self.metrics is not None:
            self.metrics.start()
        if self.config.health_interval_s > 0:
            self._health_thread.start()

    def stop(self) -> None:
        if self.metrics is not None:
            self.metrics.stop()
        self.collector.stop()
        if self._health_thread.is_alive():
            self._health_stop.set()
            self._health_thread.join(timeout=10)
            self.health.report()  # the final figures
        self.notifier.stop(timeout_s=15)
        self.charts.stop()
        self.orders.close()
        self.alert_state.close()
        if self.catalog is not None:
            self.catalog.close()
        self.store.close()

    def run(self, stop: threading.Event) -> None:
        """Run until `stop` is set."""
        self.start()
        try:
            stop.wait()
        finally:
            self.stop()
