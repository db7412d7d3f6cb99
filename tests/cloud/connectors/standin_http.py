"""What both ERP stand-ins share: a real HTTP/1.1 server on 127.0.0.1 (stdlib
`http.server` in a thread), answers computed by the stand-in, and the faults
tests ask for: 429 with Retry-After for the next N requests, and "lose the
answer" (carry the call out, then drop the connection without answering)."""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self


@dataclass
class Answer:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Seen:
    """A request as the stand-in received it (headers in lower case)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Lose(Exception):
    """Raised by a stand-in after it carried a call out: drop the connection, answer nothing."""


class StandInServer:
    """Base of the stand-ins: subclasses implement `answer(method, path, headers, body)`."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.requests: list[Seen] = []
        # Every exchange, in order: the request as received and the Answer sent (faults
        # included). A dropped connection (`Lose`) is skipped: it sent no answer, and the
        # request is still in `requests`.
        self.traffic: list[tuple[Seen, Answer]] = []
        self._limited = 0
        self._status = 429
        self._retry_after: str | None = None
        self._lose: dict[str, int] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- faults tests ask for ---------------------------------------------------

    def rate_limit(self, times: int = 1, retry_after: str | None = "7") -> None:
        """Answer the next `times` requests with 429 (and this Retry-After, if any)."""
        self.fail_next(times, 429, retry_after)

    def fail_next(self, times: int, status: int, retry_after: str | None = None) -> None:
        """Answer the next `times` requests with `status` (a proxy's page), doing nothing."""
        with self.lock:
            self._limited = times
            self._status = status
            self._retry_after = retry_after

    def lose_next(self, action: str, times: int = 1) -> None:
        """Carry out the next `times` calls of `action`, then drop the connection."""
        with self.lock:
            self._lose[action] = self._lose.get(action, 0) + times

    def take_lose(self, action: str) -> bool:
        """True once for each `lose_next(action)`: the caller raises `Lose` after acting."""
        with self.lock:
            if self._lose.get(action, 0) > 0:
                self._lose[action] -= 1
                return True
            return False

    # -- serving ----------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        raise NotImplementedError

    def _dispatch(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        seen = Seen(method, path, headers, body)
        answer: Answer | None = None
        with self.lock:
            self.requests.append(seen)
            if self._limited > 0:
                self._limited -= 1
                extra = {} if self._retry_after is None else {"Retry-After": self._retry_after}
                answer = Answer(
                    self._status,
                    b"<html><body><h1>%d</h1></body></html>" % self._status,
                    {"Content-Type": "text/html", **extra},
                )
        if answer is None:
            answer = self.answer(method, path, headers, body)  # `Lose` leaves no traffic
        with self.lock:
            self.traffic.append((seen, answer))
        return answer

    def __enter__(self) -> Self:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in two writes: without this, Nagle's algorithm
                # and the client's delayed ACK hold every answer back by 40 ms.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or "0")
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    answer = stand_in._dispatch(self.command, self.path, headers, body)
                except Lose:
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            do_GET = do_POST = do_PUT = do_DELETE = _any  # noqa: N815

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._server is not None
        assert self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
