"""`IngestClient`: the collector's paho client. Its PUBLISH fast path parses
packets straight from the buffered socket, so it is checked here on hand-made
byte streams (split packets, long lengths, packets it must leave to paho) and
against a real Mosquitto (batched PUBACKs really acknowledge: nothing is
redelivered; without them, everything is)."""

from __future__ import annotations

import threading
import time
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from cloud.ingest.mqtt_client import Delivery, IngestClient, _BufferedSocket
from tests.cloud.ingest.mqtt_packets import Chunks, publish_packet, remaining_length
from tests.servers import MosquittoServer


def drain(sock: _BufferedSocket) -> list[Delivery]:
    got: list[Delivery] = []
    sock.fill()
    sock.take_publishes(got.append)
    return got


def test_whole_publishes_are_delivered_with_topic_payload_mid_and_qos() -> None:
    stream = (
        publish_packet("vmi/v1/s/d/readings", b'{"a":1}', qos=1, mid=7)
        + publish_packet("vmi/v1/s/d/status", b"x", qos=0, retain=True)
        + publish_packet("t/é", b"", qos=1, mid=65535)
    )
    sock = _BufferedSocket(Chunks(stream))
    got = drain(sock)
    assert [(d.topic, d.payload, d.mid, d.qos, d.retain) for d in got] == [
        ("vmi/v1/s/d/readings", b'{"a":1}', 7, 1, False),
        ("vmi/v1/s/d/status", b"x", 0, 0, True),
        ("t/é", b"", 65535, 1, False),
    ]
    assert sock.pending() == 0


def test_long_remaining_lengths() -> None:
    for size in (127, 128, 16_383, 16_384, 40_000):
        payload = bytes(range(256)) * (size // 256) + b"z" * (size % 256)
        packet = publish_packet("a/b", payload, mid=3)
        sock = _BufferedSocket(Chunks(packet[:30_000], packet[30_000:]))
        got = drain(sock)
        if len(packet) <= 30_000:
            assert [d.payload for d in got] == [payload]
        else:
            assert got == [], "a packet not wholly read is left alone"
            # paho reads it through recv, in order, as from the socket itself.
            head = sock.recv(1)
            assert head == packet[:1]


def test_a_split_packet_is_left_for_paho_byte_for_byte() -> None:
    first = publish_packet("a", b"1" * 10, mid=1)
    second = publish_packet("b", b"2" * 10, mid=2)
    cut = len(first) + 5
    stream = first + second
    sock = _BufferedSocket(Chunks(stream[:cut], stream[cut:]))
    assert [d.topic for d in drain(sock)] == ["a"]
    assert sock.pending() == 5
    rest = sock.recv(1) + sock.recv(4)
    assert rest == stream[len(first) : cut]
    assert sock.recv(100) == stream[cut:]


def test_packets_it_does_not_take_stop_the_fast_path() -> None:
    pingresp = b"\xd0\x00"
    qos2 = publish_packet("q2", b"x", qos=2, mid=9)
    bad_topic = bytes([0x32]) + remaining_length(2 + 2 + 2) + b"\x00\x02\xff\xfe\x00\x01"
    for head in (pingresp, qos2, bad_topic):
        stream = head + publish_packet("after", b"y")
        sock = _BufferedSocket(Chunks(stream))
        assert drain(sock) == []
        assert sock.recv(len(stream)) == stream, "untouched for paho"
    # A malformed length (five continuation bytes) is paho's to refuse.
    sock = _BufferedSocket(Chunks(b"\x32\xff\xff\xff\xff\x7f"))
    assert drain(sock) == []


def test_end_of_stream_is_left_for_paho_to_see() -> None:
    class Closed(Chunks):
        def recv(self, size: int) -> bytes:
            return b""

    sock = _BufferedSocket(Closed())
    assert sock.fill() is False
    assert sock.recv(1) == b""


class Receiver:
    def __init__(self, port: int, client_id: str, topic: str) -> None:
        self.got: list[Any] = []
        self.lock = threading.Lock()
        self.subscribed = threading.Event()
        self.client = IngestClient(
            CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False, manual_ack=True
        )
        self.client.on_delivery = self._add
        self.client.on_message = lambda _c, _u, m: self._add(m)
        self.client.on_connect = lambda c, *_: c.subscribe(topic, 1)
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self.subscribed.wait(10)

    def _add(self, msg: Any) -> None:
        with self.lock:
            self.got.append(msg)

    def wait(self, n: int) -> list[Any]:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.got) >= n:
                    return list(self.got)
            time.sleep(0.05)
        raise AssertionError(f"{len(self.got)} of {n} messages")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_batched_acks_acknowledge_and_missing_acks_mean_redelivery(
    mosquitto: MosquittoServer, unique_id: str
) -> None:
    topic = f"{unique_id}/t"
    pub = mqtt.Client(CallbackAPIVersion.VERSION2)
    pub.connect("127.0.0.1", mosquitto.port)
    pub.loop_start()
    try:
        # Without acknowledgements, a new connection of the session gets them again.
        first = Receiver(mosquitto.port, f"{unique_id}-a", topic)
        for i in range(15):
            pub.publish(topic, f"m{i}".encode(), qos=1).wait_for_publish(10)
        got = first.wait(15)
        assert sorted(m.payload for m in got) == sorted(f"m{i}".encode() for i in range(15))
        first.close()
        again = Receiver(mosquitto.port, f"{unique_id}-a", topic)
        redelivered = again.wait(15)
        assert {m.payload for m in redelivered} == {f"m{i}".encode() for i in range(15)}
        # Acknowledged in one batch: gone for good.
        again.client.ack_all(redelivered)
        time.sleep(0.5)
        again.close()
        third = Receiver(mosquitto.port, f"{unique_id}-a", topic)
        time.sleep(1.0)
        assert third.got == []
        third.close()
    finally:
        pub.disconnect()
        pub.loop_stop()
