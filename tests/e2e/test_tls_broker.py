"""Edge and collector reach a broker that demands TLS and client certificates
(a real Mosquitto with a CA, server and client certificates made by openssl),
and a client without a certificate does not get in."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cloud.config import CloudConfig
from cloud.service import CloudService
from edge_agent.outbox.memory import MemoryOutbox
from edge_agent.publisher import MqttPublisher
from tests.servers import MosquittoServer, free_port
from vmi.clock import SystemClock
from vmi.mqtt_connection import MqttConnection
from vmi.wire import Reading, ReadingsBatch

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_pki(d: Path) -> None:
    """A CA, a server certificate for 127.0.0.1 and a client certificate."""
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=vmi-test-ca", cwd=d,
    )  # fmt: skip
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    for name, ext in (("server", ["-extfile", "san.ext"]), ("client", [])):
        _openssl(
            "req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key",
            "-out", f"{name}.csr", "-subj", f"/CN=vmi-test-{name}", cwd=d,
        )  # fmt: skip
        _openssl(
            "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-out", f"{name}.pem", *ext, cwd=d,
        )  # fmt: skip


@pytest.fixture(scope="module")
def tls_broker(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[MosquittoServer, int, Path]]:
    pki = tmp_path_factory.mktemp("pki")
    make_pki(pki)
    tls_port = free_port()
    extra = (
        f"listener {tls_port} 127.0.0.1\n"
        f"cafile {pki / 'ca.pem'}\n"
        f"certfile {pki / 'server.pem'}\n"
        f"keyfile {pki / 'server.key'}\n"
        "require_certificate true\n"
    )
    with MosquittoServer(tmp_path_factory.mktemp("mosq-tls"), extra_config=extra) as server:
        yield server, tls_port, pki


def test_edge_and_collector_over_mutual_tls(
    tls_broker: tuple[MosquittoServer, int, Path],
    tmp_path: Path,
    influx_db_url: str,
    unique_id: str,
) -> None:
    _, port, pki = tls_broker
    tls = {
        "ca_file": str(pki / "ca.pem"),
        "cert_file": str(pki / "client.pem"),
        "key_file": str(pki / "client.key"),
    }
    url = f"mqtts://127.0.0.1:{port}"
    service = CloudService(
        CloudConfig.model_validate(
            {
                "mqtt": {"url": url, "client_id": f"c-{unique_id}", "tls": tls},
                "store": {"url": influx_db_url},
                "orders": {"url": f"sqlite:///{tmp_path / 'orders.db'}"},
            }
        )
    )
    service.start()
    publisher = MqttPublisher(
        connection=MqttConnection.model_validate({"url": url, "tls": tls}),
        client_id=f"e-{unique_id}",
        site=unique_id,
        device="gw",
        clock=SystemClock(),
        outbox=MemoryOutbox(),
        agent_version="test",
        drivers={},
    )
    try:
        assert service.collector.wait_connected(15), "collector did not get in over TLS"
        publisher.start()
        assert publisher.wait_connected(15), "edge did not get in over TLS"
        now = datetime.now(UTC).replace(microsecond=0)
        publisher.publish(
            ReadingsBatch(
                site=unique_id,
                device="gw",
                seq=1,
                sent_at=now,
                readings=[Reading(time=now, location="A-01", sku="X", quantity=7)],
            )
        )
        deadline = time.monotonic() + 15
        stored: list[object] = []
        while time.monotonic() < deadline and not stored:
            stored = list(service.store.level_series(unique_id, "X", now - timedelta(hours=1)))
            time.sleep(0.1)
        assert [p.quantity for p in stored] == [7.0]  # type: ignore[attr-defined]
    finally:
        publisher.close()
        service.stop()


def test_client_without_certificate_is_refused(
    tls_broker: tuple[MosquittoServer, int, Path],
    tmp_path: Path,
    influx_db_url: str,
    unique_id: str,
) -> None:
    _, port, pki = tls_broker
    service = CloudService(
        CloudConfig.model_validate(
            {
                "mqtt": {
                    "url": f"mqtts://127.0.0.1:{port}",
                    "client_id": f"c-{unique_id}",
                    "tls": {"ca_file": str(pki / "ca.pem")},
                    "reconnect_max_s": 1,
                },
                "store": {"url": influx_db_url},
                "orders": {"url": f"sqlite:///{tmp_path / 'orders.db'}"},
            }
        )
    )
    service.start()
    try:
        assert not service.collector.wait_connected(3)
    finally:
        service.stop()


def test_edge_socket_sends_small_packets_at_once(
    mosquitto: MosquittoServer, unique_id: str
) -> None:
    import socket

    publisher = MqttPublisher(
        connection=MqttConnection(url=mosquitto.url),
        client_id=f"e-{unique_id}",
        site=unique_id,
        device="gw",
        clock=SystemClock(),
        outbox=MemoryOutbox(),
        agent_version="test",
        drivers={},
    )
    publisher.start()
    try:
        assert publisher.wait_connected(15)
        sock = publisher._client.socket()
        assert sock is not None
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        publisher.close()
