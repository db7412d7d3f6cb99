"""An in-process MQTT broker (amqtt) so the demo needs no server installed.

It runs its own asyncio loop in a background thread and listens on a free
loopback port. Production and tests use a real broker (Mosquitto).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from typing import Any

from firmware_sim.errors import SimulatorError


def free_loopback_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class EmbeddedBroker:
    """amqtt on 127.0.0.1:<port>, anonymous, for one process's lifetime."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_loopback_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="mqtt-broker", daemon=True)
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._broker: Any = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def _run(self) -> None:
        from amqtt.broker import Broker

        asyncio.set_event_loop(self._loop)
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{self.port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
            },
        }
        try:
            self._broker = Broker(config, loop=self._loop)
            self._loop.run_until_complete(self._broker.start())
        except BaseException as exc:  # reported to start() in the caller's thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()

    def start(self, timeout_s: float = 10.0) -> None:
        # amqtt reports every undeliverable message at INFO or above.
        for name in ("amqtt", "transitions"):
            logging.getLogger(name).setLevel(logging.ERROR)
        self._thread.start()
        if not self._ready.wait(timeout_s) or self._error is not None:
            raise SimulatorError(f"embedded MQTT broker did not start: {self._error}")

    def stop(self, timeout_s: float = 5.0) -> None:
        if self._broker is None or not self._thread.is_alive():
            return
        done = asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop)
        try:
            done.result(timeout_s)
        except Exception as exc:  # shutting down anyway; say why it was untidy
            logging.getLogger(__name__).debug("broker shutdown: %s", exc)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout_s)
