"""A real webhook receiver for tests: stdlib `http.server` in a thread on 127.0.0.1.

It records every request (path, headers, raw body) and answers from a script
of (status, headers) pairs, then with `default` once the script is used up.
It can be made on a fixed port without listening yet, to play a receiver
that is down and comes up later, and hold its answers until a gate opens.

Webhooks go to public addresses only; `LOOPBACK` is the address policy of
notifiers that send to these receivers (127.0.0.0/8 allowlisted, for
subscriptions an admin made, which is what `WebhookSubscriptions.create`
makes by default).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self, TypeVar

from cloud.notify import AddressPolicy
from tests.servers import free_port

LOOPBACK = AddressPolicy.from_allowlist(["127.0.0.0/8"])

T = TypeVar("T")
Answer = tuple[int, dict[str, str]]


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes


class WebhookReceiver:
    """An HTTP server answering POSTs from a script; loopback only."""

    def __init__(
        self,
        answers: Iterable[int | Answer] = (),
        *,
        default: int = 200,
        port: int | None = None,
        gate: threading.Event | None = None,
    ) -> None:
        """`gate`: if given, each answer waits (up to 10 s) until it is set."""
        self.port = port or free_port()
        self.gate = gate
        self.default = default
        self._answers: deque[Answer] = deque((a, {}) if isinstance(a, int) else a for a in answers)
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/vmi/hooks"

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, extra = receiver._record(Received(self.path, headers, body))
                if receiver.gate is not None:
                    receiver.gate.wait(timeout=10)
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                reply = b"ok" if status < 300 else b"nope: status %d" % status
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _record(self, request: Received) -> Answer:
        with self._lock:
            self._received.append(request)
            return self._answers.popleft() if self._answers else (self.default, {})

    def wait_for(self, count: int, timeout_s: float = 10.0) -> list[Received]:
        """The requests once there are at least `count`; AssertionError after the timeout."""
        wait_until(lambda: len(self.received) >= count, timeout_s, f"{count} requests")
        return self.received

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def wait_until(check: Callable[[], T], timeout_s: float = 10.0, what: str = "condition") -> T:
    """Poll `check` until it returns something true; bounded."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.02)
