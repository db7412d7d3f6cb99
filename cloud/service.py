r"""The cloud service: builds every part from the config, wires them, starts their threads.

    collector (ingest) --committed keys--> replenisher --+
              \--committed events--> sensor watch ------+--> alert recorded in SQL with its
                                                         |    webhook deliveries (one transaction)
                                                         +--> collector.publish_alert (MQTT),
                                                              chart writer, notifier woken
    order book --every change--> chart writer (order points)
    KPI writer (hourly): levels, projections, orders, catalog --> `kpi` points
    suggestions job (daily): levels, orders, catalog --> replay --> suggestion book (SQL)
    connector sync: orders (SQL) --steps--> ERP/CRM systems; their states --> order book

The collector and the replenisher never import each other: they meet here.
This is the one place that starts the service's threads: the collector's
decode and write loops, the replenisher's rounds, the sensor watch, the
health reporter, the KPI writer and the suggestions job run in threads
started here, all ended by one stop event.
The chart writer, the webhook notifier, the connector sync (one worker per
configured system) and the metrics server each drain or serve from workers
of their own, started and stopped here too; paho runs
its network thread for the collector.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from cloud.catalog import Catalog
from cloud.charts import ChartWriter, alert_point, order_point
from cloud.config import CloudConfig
from cloud.connectors.metrics import connector_metrics
from cloud.connectors.sync import ConnectorSync
from cloud.ingest.collector import Collector, Committed
from cloud.ingest.health import HealthReporter
from cloud.ingest.metrics import collector_metrics
from cloud.kpis.writer import KpiWriter
from cloud.notify import AddressPolicy, CatalogTenants, WebhookNotifier
from cloud.orders import Order, OrderBook
from cloud.prometheus import MetricsServer
from cloud.replenishment.alert_state import AlertState
from cloud.replenishment.metrics import replenisher_metrics
from cloud.replenishment.replenisher import Replenisher
from cloud.replenishment.sensor_watch import SensorWatch
from cloud.suggest.book import SuggestionBook
from cloud.suggest.job import SuggestJob
from cloud.timeseries import open_store
from vmi.clock import Clock, SystemClock
from vmi.runtime import setup_logging
from vmi.wire import Alert

log = logging.getLogger(__name__)

_JOIN_S = 30.0


class CloudService:
    """Everything `vmi cloud run` runs; the demo runs the same."""

    def __init__(self, config: CloudConfig, *, clock: Clock | None = None) -> None:
        self.config = config
        clock = clock or SystemClock()
        self.store = open_store(
            config.store.url,
            create_database=config.store.create_database,
            token=config.store.token_value(),
        )
        self.charts = ChartWriter(self.store)  # order and alert points, off the decision path
        self.orders = OrderBook(config.orders.url, on_change=self._order_changed)
        self.alert_state = AlertState(config.orders.url)
        self.catalog = Catalog(config.catalog.url) if config.catalog.url else None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.collector = Collector(
            config, store=self.store, catalog=self.catalog, clock=clock, stop=self._stop
        )
        # Webhook subscriptions live in the orders database; with none, the
        # notifier sends nothing.
        self.notifier = WebhookNotifier(
            config.orders.url,
            tenants_of=CatalogTenants(self.catalog) if self.catalog else None,
            policy=AddressPolicy.from_allowlist(config.notify.allow_private),
            deadline_s=config.notify.deadline_s,
            workers=config.notify.workers,
            per_subscription=config.notify.per_subscription,
        )
        # Orders go to the configured ERP/CRM systems from the orders table, so
        # orders moved by the API process are carried too.
        self.connectors = ConnectorSync(
            config.connectors,
            orders=self.orders,
            url=config.orders.url,
            catalog=self.catalog,
            clock=clock,
        )
        self.replenisher = Replenisher(
            config.replenishment,
            store=self.store,
            orders=self.orders,
            alert_state=self.alert_state,
            catalog=self.catalog,
            clock=clock,
            publish_alert=self._publish_alert,
            record_alert=self.notifier.record,
        )
        self.sensor_watch = SensorWatch(
            config.replenishment, store=self.store, alerts=self.replenisher.alerts, clock=clock
        )
        self.collector.commit_listeners.append(self._committed)
        listen = config.metrics.host_port
        self.metrics = (
            MetricsServer(self.render_metrics, lambda: self.collector.connected, *listen)
            if listen
            else None
        )
        self.health = HealthReporter(
            config.mqtt.client_id,
            self.collector.stats,
            lambda: self.collector.in_flight,
            store=self.store,
            clock=clock,
            interval_s=config.health_interval_s,
        )
        self.kpis = KpiWriter(
            config.kpis,
            store=self.store,
            orders=self.orders,
            clock=clock,
            catalog=self.catalog,
            noise_units=config.replenishment.noise_units,
            rules=config.replenishment,
        )
        self.suggestion_book = SuggestionBook(config.orders.url)
        self.suggestions = SuggestJob(
            config.suggestions,
            config.replenishment,
            store=self.store,
            orders=self.orders,
            book=self.suggestion_book,
            clock=clock,
            catalog=self.catalog,
        )

    # ---- wiring -------------------------------------------------------------

    def _committed(self, committed: Committed) -> None:
        # In the collector's write thread: hand over and return at once.
        self.replenisher.touch(committed.keys)
        for batch in committed.events:
            self.sensor_watch.notice_events(batch)

    def _publish_alert(self, alert: Alert) -> None:
        # Its webhook deliveries were written with the alert (the outbox): wake
        # the notifier to send them.
        self.notifier.wake()
        self.collector.publish_alert(alert)
        self.charts.put([alert_point(alert)])

    def _order_changed(self, order: Order) -> None:
        # The order itself is in SQL, so a store outage loses no order; the
        # connectors read it from there and are only told to look now.
        self.charts.put([order_point(order)])
        self.connectors.wake()

    def render_metrics(self) -> str:
        """`/metrics`: the collector's, the replenisher's and the connectors' families."""
        return (
            collector_metrics(self.collector)
            + replenisher_metrics(self.replenisher.stats)
            + connector_metrics(self.connectors)
        )

    # ---- lifecycle ----------------------------------------------------------

    def start(self) -> None:
        self.charts.start()
        self.notifier.start()
        self.connectors.start()
        self.collector.connect()
        self._thread("decode", self.collector.run_decoding)
        self._thread("write", self.collector.run_writing)
        self._thread("replenisher", self.replenisher.run, self._stop)
        self._thread("sensor-watch", self.sensor_watch.run, self._stop)
        if self.config.health_interval_s > 0:
            self._thread("health", self.health.run, self._stop)
        if self.config.kpis.enabled:
            self._thread("kpis", self.kpis.run, self._stop)
        if self.config.suggestions.enabled:
            self._thread("suggestions", self.suggestions.run, self._stop)
        if self.metrics is not None:
            self.metrics.start()

    def _thread(self, name: str, run: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=run, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        """Stop everything: unacknowledged messages stay with the broker."""
        if self.metrics is not None:
            self.metrics.stop()
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=_JOIN_S)
        self.collector.disconnect()
        if self.config.health_interval_s > 0:
            self.health.report()  # the final figures
        self.notifier.stop(timeout_s=15)
        self.connectors.stop(timeout_s=15)
        self.charts.stop()
        self.orders.close()
        self.suggestion_book.close()
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


def run_service_process(config: CloudConfig, log_level: str, stop: threading.Event) -> None:
    """A worker process's body (`cloud.ingest.workers`): one service until `stop`."""
    setup_logging(log_level)
    CloudService(config).run(stop)
