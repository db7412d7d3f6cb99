"""The paho internals `IngestClient` (cloud/ingest/mqtt_client.py) builds on.

Its fast path overrides `_create_socket` and `loop_read`, reads `_sock`,
`_protocol`, `_in_packet["command"]`, `_msgtime_mutex` and
`_last_bytes_received`, and `ack_all` calls `_packet_queue(command, packet,
mid, qos)` when `_manual_ack` is set. While reading is paused (backpressure)
it resets `_ping_t` and `_last_bytes_received`, which paho's keepalive watch
reads. Where one is missing the client quietly
falls back to paho's own (slower) behaviour, so a paho release that renames
one would pass every other test and lose the speed, or worse change meaning
under it. pyproject.toml pins paho's minor version for that reason; these
tests fail loudly, naming what changed, before a bump goes in.
"""

from __future__ import annotations

import inspect
import re
import socket
import time
import tomllib
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import paho.mqtt
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from cloud.ingest.mqtt_client import Delivery, IngestClient, _BufferedSocket
from tests.cloud.ingest.mqtt_packets import Chunks, publish_packet

ROOT = Path(__file__).resolve().parents[3]
PAHO = f"paho-mqtt {paho.mqtt.__version__}"
ADVICE = (
    "cloud/ingest/mqtt_client.py (IngestClient) relies on it: re-check IngestClient "
    "against this paho before bumping the paho-mqtt pin in pyproject.toml"
)


def broken(what: str) -> str:
    return f"{PAHO}: {what}. {ADVICE}."


def fresh(**kwargs: Any) -> mqtt.Client:
    return mqtt.Client(CallbackAPIVersion.VERSION2, **kwargs)


def params(func: Callable[..., object]) -> list[inspect.Parameter]:
    return list(inspect.signature(func).parameters.values())[1:]  # without self


def shape(func: Callable[..., object]) -> list[tuple[str, object, object]]:
    """Names, kinds and defaults of the parameters (annotations aside)."""
    return [(p.name, p.kind, p.default) for p in params(func)]


# ---- the pin ----------------------------------------------------------------


def paho_pin() -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pins = [d for d in project["project"]["dependencies"] if re.match(r"paho-mqtt\b", d)]
    assert len(pins) == 1, pins
    pin: str = pins[0]
    return pin


def test_installed_paho_is_the_pinned_minor() -> None:
    pin = paho_pin()
    low = re.search(r">=\s*(\d+)\.(\d+)", pin)
    high = re.search(r"<\s*(\d+)\.(\d+)", pin)
    one_minor = f"{pin!r} must pin one minor, like 'paho-mqtt>=2.2.0,<2.3'. {ADVICE}."
    assert low, one_minor
    assert high, one_minor
    minor = (int(low[1]), int(low[2]))
    assert (int(high[1]), int(high[2])) == (minor[0], minor[1] + 1), (
        f"{pin!r} allows more than paho {minor[0]}.{minor[1]}.x. {ADVICE}."
    )
    installed = tuple(int(n) for n in paho.mqtt.__version__.split(".")[:2])
    assert installed == minor, broken(f"installed, but {pin!r} is pinned")
    assert version("paho-mqtt") == paho.mqtt.__version__


# ---- what IngestClient overrides --------------------------------------------


@pytest.mark.parametrize("name", ["_create_socket", "loop_read"])
def test_ingest_client_overrides_paho_methods(name: str) -> None:
    ours = IngestClient.__dict__.get(name)
    assert callable(ours), f"IngestClient no longer defines {name}"
    theirs = getattr(mqtt.Client, name, None)
    assert callable(theirs), broken(f"Client.{name} is gone: IngestClient overrides nothing")
    assert shape(ours) == shape(theirs), broken(
        f"Client.{name}{inspect.signature(theirs)} no longer matches "
        f"IngestClient.{name}{inspect.signature(ours)}"
    )


def test_create_socket_takes_nothing_and_paho_connects_through_it() -> None:
    assert params(mqtt.Client._create_socket) == [], broken(
        f"Client._create_socket{inspect.signature(mqtt.Client._create_socket)} takes arguments"
    )
    # A listening socket is enough: paho's connect() opens the TCP connection
    # (the kernel accepts it) and sends CONNECT.
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = IngestClient(CallbackAPIVersion.VERSION2)
        try:
            client.connect("127.0.0.1", server.getsockname()[1])
            assert isinstance(client._sock, _BufferedSocket), broken(
                "connect() did not store the socket of _create_socket() in Client._sock "
                f"(found {type(client._sock).__name__})"
            )
        finally:
            sock = client.socket()
            client.disconnect()
            if sock is not None:
                sock.close()


def test_loop_read_takes_max_packets() -> None:
    parameter = inspect.signature(mqtt.Client.loop_read).parameters.get("max_packets")
    message = broken(
        f"Client.loop_read{inspect.signature(mqtt.Client.loop_read)} has no max_packets=1"
    )
    assert parameter is not None, message
    assert parameter.default == 1, message


# ---- the attributes the fast path reads and writes --------------------------


def test_a_fresh_client_has_the_attributes_ingest_client_uses() -> None:
    client = fresh()
    for name in (
        "_sock",
        "_protocol",
        "_in_packet",
        "_msgtime_mutex",
        "_last_bytes_received",
        "_manual_ack",
        "_ping_t",
    ):
        assert hasattr(client, name), broken(f"Client().{name} is gone")
    assert client._sock is None, broken(f"Client()._sock is {client._sock!r} before connect")


def test_in_packet_is_a_dict_whose_command_is_0_between_packets() -> None:
    client = fresh()
    in_packet = client._in_packet
    assert isinstance(in_packet, dict), broken(
        f"Client()._in_packet is a {type(in_packet).__name__}, not a dict"
    )
    assert in_packet.get("command") == 0, broken(
        f"Client()._in_packet has no 'command' 0 on a fresh client: {in_packet!r}"
    )
    # paho reads a packet through _sock.recv: mid-packet the command is set,
    # after it the dict is back to command 0 (which is what the fast path's
    # "between packets" test means).
    got: list[str] = []
    client.on_message = lambda _c, _u, msg: got.append(msg.topic)
    packet = publish_packet("a/b", b"x", qos=0)
    chunks = Chunks(packet[:1], split=True)
    client._sock = chunks
    assert client.loop_read() == MQTTErrorCode.MQTT_ERR_SUCCESS
    assert client._in_packet.get("command") == packet[0], broken(
        f"_in_packet['command'] is {client._in_packet.get('command')!r} mid-packet, "
        f"not the type byte {packet[0]}"
    )
    chunks.chunks.append(packet[1:])
    assert client.loop_read() == MQTTErrorCode.MQTT_ERR_SUCCESS
    assert got == ["a/b"], broken("paho did not read a PUBLISH through Client._sock.recv")
    assert client._in_packet.get("command") == 0, broken(
        f"_in_packet['command'] is {client._in_packet.get('command')!r} after a whole packet"
    )


def test_protocol_holds_the_protocol_version() -> None:
    assert mqtt.MQTTv311 == 4, broken(f"MQTTv311 is {mqtt.MQTTv311!r}")
    assert fresh()._protocol == mqtt.MQTTv311, broken("Client()._protocol is not MQTTv311")
    assert fresh(protocol=mqtt.MQTTv5)._protocol == mqtt.MQTTv5, broken(
        "Client(protocol=MQTTv5)._protocol is not MQTTv5"
    )


def test_msgtime_mutex_guards_last_bytes_received_on_the_monotonic_clock() -> None:
    client = fresh()
    mutex = client._msgtime_mutex
    for method in ("__enter__", "__exit__", "acquire", "release"):
        assert hasattr(mutex, method), broken(
            f"Client()._msgtime_mutex is a {type(mutex).__name__}, not a lock"
        )
    assert isinstance(client._last_bytes_received, float), broken(
        f"Client()._last_bytes_received is a {type(client._last_bytes_received).__name__}"
    )
    # IngestClient stores time.monotonic(); paho's keepalive compares it with its clock.
    assert getattr(mqtt, "time_func", None) is time.monotonic, broken(
        "paho's keepalive clock (paho.mqtt.client.time_func) is not time.monotonic, "
        "which IngestClient writes into _last_bytes_received"
    )
    keepalive = inspect.getsource(mqtt.Client._check_keepalive)
    for name in ("_last_bytes_received", "_msgtime_mutex"):
        assert name in keepalive, broken(
            f"Client._check_keepalive no longer uses {name}: "
            "the fast path's keepalive update may mean nothing"
        )


def test_the_keepalive_watch_reads_ping_t_and_last_bytes_received() -> None:
    # A paused IngestClient resets both so that paho does not take the unread
    # PINGRESP for a dead broker; paho must still decide by exactly these.
    client = fresh()
    assert client._ping_t == 0, broken(f"Client()._ping_t is {client._ping_t!r}, not 0")
    watch = inspect.getsource(mqtt.Client._check_keepalive)
    misc = inspect.getsource(mqtt.Client.loop_misc)
    for name in ("_ping_t", "_last_bytes_received"):
        assert name in watch, broken(f"Client._check_keepalive no longer reads {name}")
    assert "_ping_t" in misc, broken("Client.loop_misc no longer waits on _ping_t")


def test_a_paused_client_keeps_the_keepalive_watch_content() -> None:
    client = IngestClient(CallbackAPIVersion.VERSION2, manual_ack=True)
    client.paused = lambda: True
    client._ping_t = 1.0  # a PINGREQ went out long ago, its answer unread
    client._last_bytes_received = 1.0
    assert client.loop_read() == MQTTErrorCode.MQTT_ERR_SUCCESS
    assert client._ping_t == 0
    assert client._last_bytes_received > time.monotonic() - 5
    assert client.pauses == 1
    client.loop_read()
    assert client.pauses == 1, "one pause, however many turns it lasts"
    client.paused = lambda: False
    client._sock = Chunks(split=True)  # nothing to read: paho's own read says so
    client.loop_read()
    client.paused = lambda: True
    client.loop_read()
    assert client.pauses == 2


def test_manual_ack_is_the_constructor_flag() -> None:
    assert fresh()._manual_ack is False, broken("Client()._manual_ack is not False")
    assert fresh(manual_ack=True)._manual_ack is True, broken(
        "Client(manual_ack=True)._manual_ack is not True"
    )


def test_packet_queue_takes_command_packet_mid_qos() -> None:
    queue = getattr(mqtt.Client, "_packet_queue", None)
    assert callable(queue), broken("Client._packet_queue is gone: ack_all falls back to ack()")
    signature = inspect.signature(queue)
    names = [p.name for p in params(queue)]
    assert names[:4] == ["command", "packet", "mid", "qos"], broken(
        f"Client._packet_queue{signature} is not (command, packet, mid, qos, ...)"
    )
    assert all(p.default is not inspect.Parameter.empty for p in params(queue)[4:]), broken(
        f"Client._packet_queue{signature} needs more than (command, packet, mid, qos)"
    )
    # How ack_all calls it, on an instance (a bound method).
    signature_bound = inspect.signature(fresh()._packet_queue)
    signature_bound.bind(0x40, b"\x40\x02\x00\x01", 0, 0)


def test_ack_takes_mid_and_qos() -> None:
    names = [p.name for p in params(mqtt.Client.ack)]
    assert names[:2] == ["mid", "qos"], broken(
        f"Client.ack{inspect.signature(mqtt.Client.ack)} is not (mid, qos)"
    )


def test_paho_skips_select_while_the_socket_has_pending_bytes() -> None:
    # _BufferedSocket.pending() tells paho's loop that buffered packets wait.
    loop = inspect.getsource(mqtt.Client._loop)
    assert ".pending()" in loop, broken(
        "Client._loop no longer asks the socket for pending() bytes: "
        "packets buffered by _BufferedSocket could wait a whole select timeout"
    )


# ---- IngestClient on this paho, end to end without a broker -----------------


def test_the_fast_path_takes_publishes_on_this_paho() -> None:
    client = IngestClient(CallbackAPIVersion.VERSION2)
    delivered: list[Delivery] = []
    client.on_delivery = delivered.append
    client._last_bytes_received = 0.0
    client._sock = _BufferedSocket(
        Chunks(
            publish_packet("a/b", b"1", qos=1, mid=5) + publish_packet("c", b"2", qos=0),
            split=True,
        )
    )
    assert client.loop_read() == MQTTErrorCode.MQTT_ERR_SUCCESS
    assert [(d.topic, d.payload, d.mid, d.qos) for d in delivered] == [
        ("a/b", b"1", 5, 1),
        ("c", b"2", 0, 0),
    ], broken("IngestClient.loop_read did not take the PUBLISH packets itself")
    assert client._last_bytes_received > 0, broken("the fast path did not feed the keepalive")
