"""Stand-ins for the hardening tests: a DNS that answers what the test says, hostile
receivers on loopback (one that never answers, one that trickles its answer a
byte at a time) and an HTTPS receiver with a certificate for a host name."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Self

PUBLIC = "93.184.215.14"
"""A globally routable address; nothing ever connects to it in these tests."""


class Dns:
    """A resolver to inject: host -> addresses, changeable at any time; records lookups."""

    def __init__(self, answers: dict[str, Sequence[str]] | None = None) -> None:
        self.answers: dict[str, Sequence[str]] = dict(answers or {})
        self.lookups: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, host: str) -> Sequence[str]:
        with self._lock:
            self.lookups.append(host)
            found = self.answers.get(host)
        if found is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return found


class HostileReceiver:
    """A TCP server on 127.0.0.1 that reads a request and then either never answers
    (`trickle_s` None) or answers `HTTP/1.1 200 OK` and headers one byte every
    `trickle_s` seconds, for at most `max_bytes` bytes. Counts connections."""

    def __init__(self, *, trickle_s: float | None = None, max_bytes: int = 400) -> None:
        self.trickle_s = trickle_s
        self.max_bytes = max_bytes
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.accepted = 0
        self.open_now = 0
        self.most_open = 0
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def __enter__(self) -> Self:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._server.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _accept(self) -> None:
        self._server.settimeout(0.05)
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except (TimeoutError, OSError):
                continue
            with self._lock:
                self.accepted += 1
                self.open_now += 1
                self.most_open = max(self.most_open, self.open_now)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(0.05)
        answer = b"HTTP/1.1 200 OK\r\n" + b"".join(
            b"X-Slow-%d: %s\r\n" % (n, b"y" * 20) for n in range(40)
        )
        sent = 0
        try:
            while not self._stop.is_set():
                try:
                    if not conn.recv(65536):
                        break  # the client gave up and closed
                except TimeoutError:
                    pass
                if self.trickle_s is None or sent >= min(self.max_bytes, len(answer)):
                    continue
                conn.sendall(answer[sent : sent + 1])
                sent += 1
                self._stop.wait(self.trickle_s)
        except OSError:
            pass
        finally:
            conn.close()
            with self._lock:
                self.open_now -= 1


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def has_openssl() -> bool:
    return shutil.which("openssl") is not None


def self_signed(directory: Path, host: str) -> tuple[Path, Path]:
    """(certificate, key) for `host` (its own CA), made by openssl."""
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-keyout", "key.pem", "-out", "cert.pem", "-subj", f"/CN={host}",
        "-addext", f"subjectAltName=DNS:{host}", cwd=directory,
    )  # fmt: skip
    return directory / "cert.pem", directory / "key.pem"


class TlsReceiver:
    """An HTTPS server on 127.0.0.1 with `cert`; records the SNI names and Host headers."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.server_names: list[str | None] = []
        self.hosts: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.hosts.append(self.headers.get("Host", ""))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)

        def sni(_sock: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
            receiver.server_names.append(name)

        context.sni_callback = sni  # type: ignore[assignment]
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.socket = context.wrap_socket(self._http.socket, server_side=True)
        self.port: int = self._http.server_address[1]
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(timeout=5)
