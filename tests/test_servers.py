"""The test servers answer, and restart() keeps their data."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.servers import (
    InfluxServer,
    MosquittoServer,
    PostgresServer,
    ServerError,
    ServerProcess,
    find_binary,
)

WAIT_S = 10.0


def _publish_retained(server: MosquittoServer, topic: str, payload: bytes) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{topic}")
    client.connect(server.host, server.port)
    client.loop_start()
    try:
        info = client.publish(topic, payload, qos=1, retain=True)
        info.wait_for_publish(timeout=WAIT_S)
        assert info.is_published()
    finally:
        # Disconnect first: the network loop then ends at once instead of
        # sitting out its select() timeout.
        client.disconnect()
        client.loop_stop()


def _read_retained(server: MosquittoServer, topic: str) -> bytes | None:
    """The retained payload on `topic`, or None if none arrives in time."""
    received: list[bytes] = []
    done = threading.Event()

    def on_connect(client: mqtt.Client, *_: object) -> None:
        client.subscribe(topic, qos=1)

    def on_message(_client: mqtt.Client, _userdata: object, msg: mqtt.MQTTMessage) -> None:
        received.append(bytes(msg.payload))
        done.set()

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"sub-{topic}")
    client.on_connect = on_connect
    client.on_message = on_message
    client.connect(server.host, server.port)
    client.loop_start()
    try:
        done.wait(WAIT_S)
    finally:
        # Disconnect first: the network loop then ends at once instead of
        # sitting out its select() timeout.
        client.disconnect()
        client.loop_stop()
    return received[0] if received else None


def _influx(server: InfluxServer, query: str, db: str = "") -> dict[str, object]:
    response = httpx.post(
        f"{server.url}/query", params={"q": query, "db": db, "epoch": "ms"}, timeout=WAIT_S
    )
    response.raise_for_status()
    result: dict[str, object] = response.json()["results"][0]
    return result


def _influx_write_and_read(server: InfluxServer, db: str) -> None:
    _influx(server, f'CREATE DATABASE "{db}"')
    response = httpx.post(
        f"{server.url}/write",
        params={"db": db, "precision": "ms"},
        content=b"probe,site=s1 value=42 1000",
        timeout=WAIT_S,
    )
    assert response.status_code == 204, response.text


def _influx_values(server: InfluxServer, db: str) -> object:
    return _influx(server, "SELECT value FROM probe", db)["series"]


def test_mosquitto_answers(mosquitto: MosquittoServer, unique_id: str) -> None:
    assert mosquitto.url == f"mqtt://127.0.0.1:{mosquitto.port}"
    _publish_retained(mosquitto, f"{unique_id}/hello", b"world")
    assert _read_retained(mosquitto, f"{unique_id}/hello") == b"world"


def test_influxdb_answers(influxdb: InfluxServer, unique_id: str) -> None:
    assert httpx.get(f"{influxdb.url}/ping", timeout=WAIT_S).status_code == 204
    assert influxdb.database_url(unique_id) == f"http://127.0.0.1:{influxdb.http_port}/{unique_id}"
    _influx_write_and_read(influxdb, unique_id)
    assert _influx_values(influxdb, unique_id) == [
        {"name": "probe", "columns": ["time", "value"], "values": [[1000, 42]]}
    ]


def test_mosquitto_restart_keeps_port_and_retained(tmp_path: Path, unique_id: str) -> None:
    with MosquittoServer(tmp_path) as server:
        port, pid = server.port, server.pid
        _publish_retained(server, f"{unique_id}/kept", b"still here")
        server.restart()
        assert (server.port, server.running) == (port, True)
        assert server.pid != pid
        assert _read_retained(server, f"{unique_id}/kept") == b"still here"
    assert not server.running


def test_influxdb_restart_keeps_port_and_data(tmp_path: Path, unique_id: str) -> None:
    with InfluxServer(tmp_path) as server:
        port = server.http_port
        _influx_write_and_read(server, unique_id)
        server.restart()
        assert server.http_port == port
        assert _influx_values(server, unique_id) == [
            {"name": "probe", "columns": ["time", "value"], "values": [[1000, 42]]}
        ]
    assert not server.running


def _pg(url: str, sql: str) -> list[tuple[object, ...]]:
    """Run one statement; its rows, if it returns any."""
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        cursor = conn.execute(sql.encode())
        return cursor.fetchall() if cursor.description else []


def test_postgres_answers_on_its_own_port(postgres: PostgresServer, postgres_url: str) -> None:
    assert postgres_url.startswith(f"postgresql+psycopg://postgres@127.0.0.1:{postgres.port}/")
    assert postgres.port != 5432, "never the system server"
    _pg(postgres_url, "CREATE TABLE probe (value int)")
    _pg(postgres_url, "INSERT INTO probe VALUES (42)")
    assert _pg(postgres_url, "SELECT value FROM probe") == [(42,)]
    # Its socket lives in its own cluster directory, not /var/run/postgresql.
    assert (postgres.cluster_dir / f".s.PGSQL.{postgres.port}").exists()


def test_postgres_restart_keeps_port_and_data(tmp_path: Path) -> None:
    with PostgresServer(tmp_path) as server:
        port, pid = server.port, server.pid
        url = server.create_database("kept")
        _pg(url, "CREATE TABLE probe AS SELECT 7 AS value")
        server.restart()
        assert (server.port, server.running) == (port, True)
        assert server.pid != pid
        assert _pg(url, "SELECT value FROM probe") == [(7,)]
    assert not server.running


def test_stopped_server_refuses_connections(tmp_path: Path) -> None:
    server = MosquittoServer(tmp_path)
    server.start()
    server.stop()
    with pytest.raises(ConnectionRefusedError):
        mqtt.Client(CallbackAPIVersion.VERSION2).connect(server.host, server.port)
    server.stop()  # a second stop is harmless


class _Broken(ServerProcess):
    name = "broken"

    def _pick_ports(self) -> None:
        pass

    def _write_config(self) -> None:
        pass

    def _command(self) -> list[str]:
        return ["sh", "-c", "echo 'cannot start: no such config' >&2; exit 3"]

    def _is_ready(self) -> bool:
        return False


def test_a_server_that_dies_reports_its_log(tmp_path: Path) -> None:
    with pytest.raises(ServerError, match=r"(?s)exited with code 3.*no such config"):
        _Broken(tmp_path).start()


def test_a_missing_binary_says_how_to_install_it() -> None:
    with pytest.raises(ServerError, match=r"no-such-server-binary is not installed.*make test"):
        find_binary("no-such-server-binary", "/nonexistent/no-such-server-binary")
