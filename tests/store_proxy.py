"""A stand-in for an InfluxDB that misbehaves: an HTTP proxy on loopback in front
of a real one that answers a chosen status instead of forwarding while told to.

It forwards every request (method, path, query, body, the headers InfluxDB reads)
to the real server and its answer back, except:

* while `fail_with` is set, it answers that status to everything;
* `script([503, None, ...])`: the next writes (`/write`) get these statuses in
  turn, None meaning "forward this one";
* a write body larger than `max_body` bytes gets 413, as a server with a
  small `max-body-size` answers;
* with `token` set, a request without `Authorization: Token <token>` gets 401
  (InfluxDB 2.x's v1 API and 3.x); the header is not passed on.

Failures are answered with an InfluxDB-style JSON error and counted.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

_FORWARDED = ("Content-Type", "Content-Encoding", "Authorization")


def _token_of(authorization: str | None) -> str | None:
    """The token of an `Authorization: Token <token>` header."""
    if authorization is None or not authorization.startswith("Token "):
        return None
    return authorization.removeprefix("Token ")


class StoreProxy:
    """Serves on `url`; forwards to `upstream` (e.g. `http://127.0.0.1:8086`)."""

    def __init__(self, upstream: str) -> None:
        self.fail_with: int | None = None
        self.max_body: int | None = None
        self.token: str | None = None
        self.failed = 0
        self.write_sizes: list[int] = []  # bytes of every write forwarded
        self._script: list[int | None] = []
        self._lock = threading.Lock()
        self.forwarded = 0
        client = httpx.Client(base_url=upstream, timeout=30)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._handle()

            def do_POST(self) -> None:
                self._handle()

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status = proxy._status_for(self.path, len(body))
                authorization = self.headers.get("Authorization")
                if status is None and proxy.token not in (None, _token_of(authorization)):
                    status = 401
                if status is not None:
                    proxy.failed += 1
                    error = json.dumps({"error": f"stand-in failure {status}"}).encode()
                    self._answer(status, error, "application/json")
                    return
                headers = {k: v for k in _FORWARDED if (v := self.headers.get(k)) is not None}
                if proxy.token is not None:
                    headers.pop("Authorization", None)
                answer = client.request(self.command, self.path, content=body, headers=headers)
                proxy.forwarded += 1
                if self.path.startswith("/write"):
                    proxy.write_sizes.append(len(body))
                kind = answer.headers.get("Content-Type", "application/json")
                self._answer(answer.status_code, answer.content, kind)

            def _answer(self, status: int, body: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self._client = client
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}"

    def __enter__(self) -> StoreProxy:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._client.close()

    def script(self, statuses: list[int | None]) -> None:
        """Answer the next writes with these statuses in turn (None: forward it)."""
        with self._lock:
            self._script = list(statuses)

    def _status_for(self, path: str, size: int) -> int | None:
        if self.fail_with is not None:
            return self.fail_with
        if not path.startswith("/write"):
            return None
        if self.max_body is not None and size > self.max_body:
            return 413
        with self._lock:
            return self._script.pop(0) if self._script else None

    @contextmanager
    def failing(self, status: int) -> Iterator[None]:
        """Answer `status` to everything inside the block."""
        self.fail_with = status
        try:
            yield
        finally:
            self.fail_with = None
