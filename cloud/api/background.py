"""Serving the API (with the portal) from a thread of another program: the demo serves
it beside the simulated site, and the browser tests beside their world.

    server = BackgroundServer(app, port=8000)   # 0: any free port
    server.start()                              # returns once the app answers
    ...
    server.stop()
"""

from __future__ import annotations

import http.client
import socket
import threading
import time

import uvicorn
from starlette.types import ASGIApp

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0


class BackgroundServer:
    """An ASGI app served by uvicorn in a daemon thread."""

    def __init__(self, app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0) -> None:
        """Binds the socket now (`OSError` if the port is taken), so nothing else can take
        it between choosing and serving."""
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._socket.bind((host, port))
        except OSError:
            self._socket.close()
            raise
        self.host = host
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        config = uvicorn.Config(
            app,
            lifespan="on",
            log_config=None,  # the host program's logging stays as it is
            log_level="warning",
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=2,  # open streams (SSE) are cut after 2 s
        )
        self._server = uvicorn.Server(config)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"api-{self.port}", daemon=True)

    def _run(self) -> None:
        try:
            self._server.run(sockets=[self._socket])  # no signal handlers off the main thread
        except BaseException as exc:  # uvicorn raises SystemExit when the startup fails
            self._error = exc

    def start(self) -> None:
        """Serve; return once the app answers an HTTP request (`RuntimeError` if it fails)."""
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._server.started and self._thread.is_alive():
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)
        if not self._server.started:
            self.stop()
            raise RuntimeError(f"the API at {self.url} did not start: {self._error!r}")
        connection = http.client.HTTPConnection(self.host, self.port, timeout=START_TIMEOUT_S)
        try:
            connection.request("GET", "/health")
            connection.getresponse().read()
        finally:
            connection.close()

    def stop(self) -> bool:
        """Stop gracefully (lifespan shutdown included), forcing it if that hangs; True if
        the thread ended."""
        self._server.should_exit = True
        self._thread.join(STOP_TIMEOUT_S)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(STOP_TIMEOUT_S)
        self._socket.close()
        return not self._thread.is_alive()
