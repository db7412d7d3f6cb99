"""A TCP relay on loopback whose link can be cut like a network: bytes stop
flowing both ways but no connection is closed, so neither side learns of it
until its own timeouts (MQTT keepalive) say so."""

from __future__ import annotations

import select
import socket
import threading


class TcpRelay:
    """Forwards connections on `port` to `upstream_port` on 127.0.0.1 until `cut()`."""

    def __init__(self, upstream_port: int) -> None:
        self._upstream = ("127.0.0.1", upstream_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._flowing = threading.Event()
        self._flowing.set()
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def __enter__(self) -> TcpRelay:
        self._spawn(self._accept)
        return self

    def __exit__(self, *_exc: object) -> None:
        self._closed.set()
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                sock.close()
        for thread in self._threads:
            thread.join(5)

    def cut(self) -> None:
        """Stop every byte, both ways, on every connection, old and new; close nothing."""
        self._flowing.clear()

    def heal(self) -> None:
        self._flowing.set()

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        thread.start()
        self._threads.append(thread)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self._upstream)
            with self._lock:
                self._sockets += [client, upstream]
            self._spawn(self._pump, client, upstream)

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        peer = {a: b, b: a}
        while not self._closed.is_set():
            if not self._flowing.wait(0.1):
                continue  # cut: leave the bytes in the kernel's buffers
            try:
                readable, _, _ = select.select([a, b], [], [], 0.1)
                for sock in readable:
                    if not self._flowing.is_set():
                        break
                    data = sock.recv(65536)
                    if not data:
                        a.close()
                        b.close()
                        return
                    peer[sock].sendall(data)
            except OSError:
                return
