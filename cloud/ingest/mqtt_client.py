"""`IngestClient`: paho's MQTT client, tuned for receiving many small messages.

paho spends some 50 microseconds of CPU on each message it receives, which
caps one collector process near 15,000 messages/s before any work is done.
Three things here cut that, without changing what is sent to the broker or
when a message counts as acknowledged:

* paho reads each packet with three or four `recv` calls (type byte, length
  bytes, body), one system call each. `_BufferedSocket` reads up to 64 KiB
  at a time and serves those calls from memory; its `pending()` tells paho's
  loop that buffered packets are waiting (as it asks TLS sockets).
* Complete QoS 0/1 PUBLISH packets (MQTT 3.1.1) at the head of that buffer
  are parsed here and handed to `on_delivery` as a `Delivery` (topic,
  payload, mid, qos), skipping paho's per-packet machinery (a select, a
  lock-holding `MQTTMessage`, topic decoding on every access). Anything else
  (other packets, QoS 2, a packet not yet wholly read, MQTT 5) is left to
  paho, which calls `on_message` as usual.
* `ack()` queues one 4-byte PUBACK per message, each with a wake-up of the
  network thread and a `send` of its own. `ack_all` queues the PUBACKs of a
  whole batch as one write.

And `paused` holds off reading while the collector holds as much as it may.

These use paho internals (`_create_socket`, `_packet_queue`, `_in_packet`,
`_ping_t`, `_last_bytes_received`; the pinned paho's, checked by
tests/cloud/ingest/test_paho_internals.py); where one is missing the client
falls back to paho's own behaviour.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode

if TYPE_CHECKING:
    from paho.mqtt.client import SocketLike

_READ_SIZE = 65_536
_PUBLISH = 3
_PUBACK = 0x40
_PUBACK_PACKET = struct.Struct("!BBH")  # type, remaining length 2, message id
_PAUSE_S = 0.02  # a paused loop looks again this often


class Received(Protocol):
    """What the collector reads of a received message: paho's `MQTTMessage` or a `Delivery`."""

    @property
    def topic(self) -> str: ...
    @property
    def payload(self) -> bytes | bytearray: ...
    @property
    def mid(self) -> int: ...
    @property
    def qos(self) -> int: ...


class Delivery:
    """A PUBLISH parsed by `IngestClient`'s fast path."""

    __slots__ = ("mid", "payload", "qos", "retain", "topic")

    def __init__(self, topic: str, payload: bytes, mid: int, qos: int, retain: bool) -> None:
        self.topic = topic
        self.payload = payload
        self.mid = mid
        self.qos = qos
        self.retain = retain

    def __repr__(self) -> str:
        return (
            f"Delivery({self.topic!r}, mid={self.mid}, qos={self.qos}, {len(self.payload)} bytes)"
        )


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

    def fill(self) -> bool:
        """Read what the socket has into an empty buffer; False if nothing came."""
        if self._pos < len(self._buffer):
            return True
        try:
            data = self._sock.recv(_READ_SIZE)
        except (BlockingIOError, OSError, ValueError):
            return False  # paho's own read meets the same and handles it
        if not data:
            # The connection closed: leave it for paho to find (a recv at
            # end of stream keeps returning b"").
            return False
        self._buffer, self._pos = data, 0
        return True

    def take_publishes(self, deliver: Callable[[Delivery], None]) -> int:
        """Hand every complete QoS 0/1 PUBLISH at the head of the buffer to `deliver`.

        Stops at the first packet it does not take (left for paho). Returns
        how many it delivered.
        """
        buffer, pos, end = self._buffer, self._pos, len(self._buffer)
        delivered = 0
        while pos < end:
            header = buffer[pos]
            qos = (header >> 1) & 3
            if header >> 4 != _PUBLISH or qos > 1:
                break
            length, multiplier, i = 0, 1, pos + 1
            while i < end and i < pos + 5:
                byte = buffer[i]
                i += 1
                length += (byte & 127) * multiplier
                multiplier *= 128
                if not byte & 128:
                    break
            else:
                break  # the length is not all here (or is malformed: paho says so)
            stop = i + length
            topic_end = i + 2 + ((buffer[i] << 8) | buffer[i + 1]) if i + 1 < end else end + 1
            body = topic_end + 2 if qos else topic_end
            if stop > end or body > stop:
                break  # not wholly read yet, or malformed
            try:
                topic = buffer[i + 2 : topic_end].decode()
            except UnicodeDecodeError:
                break
            mid = (buffer[topic_end] << 8) | buffer[topic_end + 1] if qos else 0
            self._pos = pos = stop  # taken before the callback sees it
            deliver(Delivery(topic, buffer[body:stop], mid, qos, bool(header & 1)))
            delivered += 1
        return delivered

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
    """A paho client with buffered reads, a fast PUBLISH path and batched acknowledgements.

    Set `on_delivery` to receive fast-path messages; set `on_message` too, for
    the messages paho delivers itself. Set `paused` to hold off reading: while
    it says True nothing more is read from the socket, TCP's flow control
    stops the broker, and the broker keeps what it has not sent (backpressure).
    """

    on_delivery: Callable[[Delivery], None] | None = None
    paused: Callable[[], bool] | None = None
    pauses = 0  # how often reading was paused
    _holding = False

    def _hold_off(self) -> None:
        """Read nothing for a moment.

        The broker's PINGRESPs wait unread in the socket meanwhile, so paho's
        keepalive watch is told the connection lives; a broker that is really
        gone shows when a PINGREQ cannot be sent, or once reading resumes.
        """
        if not self._holding:
            self._holding = True
            self.pauses += 1
        with self._msgtime_mutex:
            self._last_bytes_received = time.monotonic()
        self._ping_t = 0.0
        time.sleep(_PAUSE_S)

    def _create_socket(self) -> SocketLike:
        return _BufferedSocket(super()._create_socket())

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        paused = self.paused
        if paused is not None and paused():
            self._hold_off()
            return MQTTErrorCode.MQTT_ERR_SUCCESS
        self._holding = False
        sock = self._sock
        deliver = self.on_delivery
        if (
            deliver is not None
            and isinstance(sock, _BufferedSocket)
            and self._protocol == mqtt.MQTTv311
            and getattr(self, "_in_packet", {}).get("command", 1) == 0  # between packets
            and sock.fill()
            and sock.take_publishes(deliver)
        ):
            with self._msgtime_mutex:  # the keepalive watch: the broker is alive
                self._last_bytes_received = time.monotonic()
            if not sock.pending():
                return MQTTErrorCode.MQTT_ERR_SUCCESS
        return super().loop_read(max_packets)

    def ack_all(self, messages: Sequence[Received]) -> None:
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
