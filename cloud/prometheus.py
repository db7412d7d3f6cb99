"""`/metrics` (Prometheus text format) and `/health` for one cloud process.

A small stdlib HTTP server in a background thread, so a container health
check and a Prometheus scraper need nothing else. Each part renders its own
families (`cloud.ingest.metrics`, `cloud.replenishment.metrics`) with an
`Exposition`; `CloudService` joins them. Counters are per process: sum them
across processes.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TypeVar

log = logging.getLogger(__name__)

_Label = TypeVar("_Label", bound=str)

Samples = Iterable[tuple[str, float]]
"""(labels, value) pairs; labels as rendered, e.g. `{kind="readings"}`, or ""."""


def label(name: str, value: str) -> str:
    """One label set `{name="value"}`, the value escaped."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'{{{name}="{escaped}"}}'


class Exposition:
    """Metric families of one prefix (e.g. `vmi_collector_`), rendered as text."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self.lines: list[str] = []

    def family(self, name: str, kind: str, help_: str, samples: Samples) -> None:
        """A family with any number of samples."""
        full = self._prefix + name
        self.lines.append(f"# HELP {full} {help_}")
        self.lines.append(f"# TYPE {full} {kind}")
        self.lines.extend(f"{full}{labels} {value:g}" for labels, value in samples)

    def by_label(
        self, name: str, kind: str, help_: str, label_name: str, values: Mapping[_Label, float]
    ) -> None:
        """A family with one sample per label value, in label order."""
        self.family(
            name, kind, help_, ((label(label_name, k), v) for k, v in sorted(values.items()))
        )

    def counter(self, name: str, help_: str, value: float) -> None:
        self.family(name, "counter", help_, [("", value)])

    def gauge(self, name: str, help_: str, value: float) -> None:
        self.family(name, "gauge", help_, [("", value)])

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


class MetricsServer:
    """Serves `render()` on `/metrics` and `healthy()` on `/health` at `host:port`."""

    def __init__(
        self, render: Callable[[], str], healthy: Callable[[], bool], host: str, port: int
    ) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/metrics":
                    self._send(200, "text/plain; version=0.0.4", render())
                elif self.path == "/health":
                    ok = healthy()
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
