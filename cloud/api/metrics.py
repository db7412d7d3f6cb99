"""The API's own metrics, served at `/metrics` in the Prometheus text format.

Requests are counted by method, route *template* (`/sites/{code}`, never the
path itself, so no tenant's codes end up in labels) and status; time spent
is summed per method and route. Counters are per process.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(**labels: str) -> str:
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items()) + "}"


class ApiMetrics:
    """Counters of one API process; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, str], int] = defaultdict(int)
        self._seconds: dict[tuple[str, str], float] = defaultdict(float)
        self._counts: dict[tuple[str, str], int] = defaultdict(int)
        self.in_flight = 0
        self.streams_open = 0
        self.stream_events = 0
        self.auth_failures = 0
        self.portal_logins_failed = 0
        self.portal_logins_limited = 0
        self.portal_csrf_refused = 0

    def request_done(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self._requests[(method, route, str(status))] += 1
            self._seconds[(method, route)] += seconds
            self._counts[(method, route)] += 1

    def add(self, name: str, delta: int) -> None:
        """Change one of the plain counters and gauges (`in_flight`, `streams_open`, ...)."""
        with self._lock:
            setattr(self, name, getattr(self, name) + delta)

    def render(self) -> str:
        """Every metric in the Prometheus text exposition format."""
        with self._lock:
            requests = sorted(self._requests.items())
            seconds = sorted(self._seconds.items())
            counts = dict(self._counts)
            gauges = (self.in_flight, self.streams_open, self.stream_events, self.auth_failures)
            portal = (
                self.portal_logins_failed,
                self.portal_logins_limited,
                self.portal_csrf_refused,
            )
        lines: list[str] = []

        def metric(name: str, kind: str, help_: str, samples: Iterable[tuple[str, float]]) -> None:
            lines.append(f"# HELP vmi_api_{name} {help_}")
            lines.append(f"# TYPE vmi_api_{name} {kind}")
            lines.extend(f"vmi_api_{name}{labels} {value:g}" for labels, value in samples)

        metric(
            "requests_total",
            "counter",
            "HTTP requests answered, by method, route template and status.",
            ((_labels(method=m, route=r, status=s), n) for (m, r, s), n in requests),
        )
        lines.append("# HELP vmi_api_request_duration_seconds Time spent answering requests.")
        lines.append("# TYPE vmi_api_request_duration_seconds summary")
        for (m, r), total in seconds:
            labels = _labels(method=m, route=r)
            lines.append(f"vmi_api_request_duration_seconds_sum{labels} {total:g}")
            lines.append(f"vmi_api_request_duration_seconds_count{labels} {counts[(m, r)]}")
        in_flight, streams, events, auth_failures = gauges
        metric("requests_in_flight", "gauge", "Requests being answered.", [("", in_flight)])
        metric("streams_open", "gauge", "Live streams (SSE) open.", [("", streams)])
        metric("stream_events_total", "counter", "Events sent on live streams.", [("", events)])
        metric(
            "auth_failures_total",
            "counter",
            "Requests refused for a missing, unknown, revoked or expired API key.",
            [("", auth_failures)],
        )
        failed, limited, csrf = portal
        metric("portal_logins_failed_total", "counter", "Portal sign-ins refused.", [("", failed)])
        metric(
            "portal_logins_limited_total",
            "counter",
            "Portal sign-ins not checked: too many failures for the login or address.",
            [("", limited)],
        )
        metric(
            "portal_csrf_refused_total",
            "counter",
            "Portal forms refused for a missing or wrong CSRF token.",
            [("", csrf)],
        )
        return "\n".join(lines) + "\n"


class MetricsMiddleware:
    """Counts every HTTP request into `ApiMetrics` (pure ASGI: streams are not buffered)."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def counting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        self.metrics.add("in_flight", 1)
        try:
            await self.app(scope, receive, counting_send)
        finally:
            self.metrics.add("in_flight", -1)
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.request_done(
                scope["method"], template, status, time.perf_counter() - started
            )
