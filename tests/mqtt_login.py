"""A test MQTT client that logs in with a user and password, for broker ACL tests."""

from __future__ import annotations

import queue
import threading
import uuid

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from tests.servers import MosquittoServer


class LoginClient:
    """A paho client that records what it receives, whether it was let in and
    whether the broker later dropped it."""

    quiet_s = 1.0  # how long `received()` waits for a first message by default

    def __init__(self, broker: MosquittoServer, user: str | None, password: str | None) -> None:
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.connected: queue.Queue[bool] = queue.Queue()
        self.subscribed: queue.Queue[tuple[int, list[int]]] = queue.Queue()
        self.dropped = threading.Event()  # the broker closed the connection
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="t" + uuid.uuid4().hex)
        if user is not None:
            self._client.username_pw_set(user, password)
        self._client.on_connect = lambda _c, _u, _f, rc, _p: self.connected.put(not rc.is_failure)
        self._client.on_disconnect = lambda _c, _u, _f, _rc, _p: self.dropped.set()
        self._client.on_subscribe = lambda _c, _u, mid, codes, _p: self.subscribed.put(
            (mid, [c.value for c in codes])
        )
        self._client.on_message = lambda _c, _u, msg: self.messages.put(
            (msg.topic, bytes(msg.payload))
        )
        self._client.connect(broker.host, broker.port)
        self._client.loop_start()

    def accepted(self) -> bool:
        return self.connected.get(timeout=10)

    def subscribe(self, topic: str) -> list[int]:
        """Subscribe and return the broker's SUBACK codes."""
        _, mid = self._client.subscribe(topic, qos=1)
        while True:
            got, codes = self.subscribed.get(timeout=10)
            if got == mid:
                return codes

    def publish(self, topic: str, payload: bytes) -> None:
        self._client.publish(topic, payload, qos=1).wait_for_publish(timeout=10)

    def received(self, timeout: float | None = None) -> list[tuple[str, bytes]]:
        """What arrived: waits `timeout` (default `quiet_s`) for the first, 0.2 s for more."""
        wait = self.quiet_s if timeout is None else timeout
        found = []
        try:
            while True:
                found.append(self.messages.get(timeout=wait))
                wait = 0.2
        except queue.Empty:
            return found

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
