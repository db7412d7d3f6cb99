"""`IngestClient`: paho's MQTT client, tuned for receiving many small messages.

Two things make paho slow at ingest rates, and both are fixed here without
changing what is sent or when a message counts as acknowledged:

* paho reads each packet with three or four `recv` calls (type byte, length
  bytes, body), one system call each. `_BufferedSocket` reads up to 64 KiB
  at a time and serves those calls from memory; its `pending()` tells paho's
  loop that buffered packets are waiting (as it asks TLS sockets).
* `ack()` queues one 4-byte PUBACK per message, each with a wake-up of the
  network thread and a `send` of its own. `ack_all` queues the PUBACKs of a
  whole batch as one write.

Both use paho internals (`_create_socket`, `_packet_queue`, stable across
paho 2.x); if they are missing, the client behaves exactly as paho's own.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as mqtt

if TYPE_CHECKING:
    from paho.mqtt.client import SocketLike

_READ_SIZE = 65_536
_PUBACK = 0x40
_PUBACK_PACKET = struct.Struct("!BBH")  # type, remaining length 2, message id


class _BufferedSocket:
    """A socket whose small reads come from one big read."""

    def __init__(self, sock: SocketLike) -> None:
        self._sock = sock
        self._buffer = b""
        self._pos = 0
        self._inner_pending = getattr(sock, "pending", None)

    def recv(self, buffer_size: int) -> bytes:
        pos = self._pos
        if pos >= len(self._buffer):
            data = self._sock.recv(max(buffer_size, _READ_SIZE))
            if len(data) <= buffer_size:
                return data
            self._buffer, pos = data, 0
        end = pos + buffer_size
        self._pos = end
        return self._buffer[pos:end]

    def pending(self) -> int:
        """Bytes read from the socket and not handed out yet (and TLS's own)."""
        inner = self._inner_pending() if self._inner_pending is not None else 0
        return len(self._buffer) - self._pos + inner

    def send(self, buffer: bytes | bytearray) -> int:
        return self._sock.send(buffer)

    def close(self) -> None:
        self._sock.close()

    def fileno(self) -> int:
        return self._sock.fileno()

    def setblocking(self, flag: bool) -> None:
        self._sock.setblocking(flag)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class IngestClient(mqtt.Client):
    """A paho client with buffered reads and batched acknowledgements."""

    def _create_socket(self) -> SocketLike:
        return _BufferedSocket(super()._create_socket())

    def ack_all(self, messages: Sequence[mqtt.MQTTMessage]) -> None:
        """`ack()` every message (manual ack), with one write for all QoS 1 PUBACKs.

        The PUBACKs are exactly those `ack()` would send, in the same order.
        """
        queue_packet = getattr(self, "_packet_queue", None)
        if queue_packet is None or not getattr(self, "_manual_ack", False):
            for msg in messages:
                self.ack(msg.mid, msg.qos)
            return
        acks = [_PUBACK_PACKET.pack(_PUBACK, 2, m.mid) for m in messages if m.qos == 1]
        if acks:
            queue_packet(_PUBACK, b"".join(acks), 0, 0)
        for msg in messages:
            if msg.qos == 2:
                self.ack(msg.mid, msg.qos)
