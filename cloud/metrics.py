"""The collector's own health: `/metrics` (Prometheus text format) and `/health`.

A small stdlib HTTP server in a background thread, so a container health
check and a Prometheus scraper need nothing else. Counters are per process:
sum them across collectors.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cloud.collector import Collector

log = logging.getLogger(__name__)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render_metrics(collector: Collector) -> str:
    """Every metric of one collector in the Prometheus text exposition format."""
    s = collector.stats
    r = collector.replenisher.stats
    lines: list[str] = []

    def metric(name: str, kind: str, help_: str, samples: Iterator[tuple[str, float]]) -> None:
        lines.append(f"# HELP vmi_collector_{name} {help_}")
        lines.append(f"# TYPE vmi_collector_{name} {kind}")
        lines.extend(f"vmi_collector_{name}{labels} {value:g}" for labels, value in samples)

    def one(value: float) -> Iterator[tuple[str, float]]:
        yield "", value

    metric(
        "messages_total",
        "counter",
        "MQTT messages received, by kind (readings, events, status).",
        ((f'{{kind="{_escape(k)}"}}', v) for k, v in sorted(s.arrived.items())),
    )
    metric("events_written_total", "counter", "Events written to the store.", one(s.events_written))
    metric(
        "statuses_written_total",
        "counter",
        "Device statuses written to the store.",
        one(s.statuses_written),
    )
    metric(
        "readings_written_total", "counter", "Levels written to the store.", one(s.readings_written)
    )
    metric("writes_total", "counter", "Successful store writes.", one(s.writes))
    metric(
        "write_seconds_total",
        "counter",
        "Time spent in successful store writes.",
        one(s.write_seconds),
    )
    metric(
        "write_retries_total",
        "counter",
        "Store writes retried (store unavailable).",
        one(s.write_retries),
    )
    metric(
        "rejected_total",
        "counter",
        "Messages rejected to the dead-letter topic, by reason.",
        ((f'{{reason="{_escape(k)}"}}', v) for k, v in sorted(s.rejected.items())),
    )
    metric(
        "lag_seconds", "gauge", "Receive time minus send time of the newest message.", one(s.lag_s)
    )
    metric(
        "in_flight",
        "gauge",
        "Messages received and not yet acknowledged.",
        one(collector.in_flight),
    )
    metric("connected", "gauge", "1 while connected to the broker.", one(collector.connected))
    metric(
        "sequence_gaps_total",
        "counter",
        "Device messages skipped over (this collector).",
        one(s.sequences.gaps),
    )
    metric(
        "sequence_replays_total",
        "counter",
        "Device messages seen again or out of order.",
        one(s.sequences.replays),
    )
    metric("orders_created_total", "counter", "Replenishment orders raised.", one(r.orders_created))
    metric(
        "orders_received_total",
        "counter",
        "Orders received by a matching refill.",
        one(r.orders_received),
    )
    metric("alerts_published_total", "counter", "Alerts published.", one(r.alerts_published))
    return "\n".join(lines) + "\n"


class MetricsServer:
    """Serves `/metrics` and `/health` for one collector on `host:port`."""

    def __init__(self, collector: Collector, host: str, port: int) -> None:
        self.collector = collector

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/metrics":
                    self._send(200, "text/plain; version=0.0.4", render_metrics(collector))
                elif self.path == "/health":
                    ok = collector.connected
                    body = json.dumps({"status": "ok" if ok else "disconnected"})
                    self._send(200 if ok else 503, "application/json", body)
                else:
                    self._send(404, "text/plain", "not found: try /metrics or /health\n")

            def _send(self, status: int, kind: str, body: str) -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                log.debug("metrics: " + format, *args)

        self._http = ThreadingHTTPServer((host, port), Handler)
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        self.port: int = self._http.server_address[1]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()
