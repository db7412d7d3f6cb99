"""`vmi demo` as a user runs it: embedded broker, SQLite, Ctrl-C to stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from cloud.timeseries import open_store
from tests.servers import InfluxServer, MosquittoServer

pytestmark = pytest.mark.e2e


def test_demo_raises_an_order_gets_a_delivery_and_stops_cleanly_on_ctrl_c() -> None:
    # Twice the default speed keeps the test short: a simulated day every 10 s.
    proc = subprocess.Popen(
        [sys.executable, "-m", "vmi.cli", "demo", "--speed", "8640", "--duration", "120"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        text=True,
    )
    lines: list[str] = []
    assert proc.stdout is not None
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout or []), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not any("DELIVERY" in ln for ln in lines):
            if proc.poll() is not None:
                break
            time.sleep(0.2)
        output = "".join(lines)
        assert "ALERT" in output, output
        assert "DELIVERY" in output, output
        proc.send_signal(signal.SIGINT)
        rc = proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    reader.join(5)
    output = "".join(lines)
    assert rc == 0, output
    assert "Traceback" not in output
    assert "stopped after" in output
    assert "0 messages rejected" in output
    assert "reorder" in output


def test_demo_pointed_at_real_services_uses_them(
    mosquitto: MosquittoServer, influxdb: InfluxServer, unique_id: str
) -> None:
    db_url = influxdb.database_url(unique_id)
    heard: list[str] = []
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.on_connect = lambda c, *_: c.subscribe("vmi/v1/#", 1)
    client.on_message = lambda _c, _u, msg: heard.append(msg.topic)
    client.connect("127.0.0.1", mosquitto.port)
    client.loop_start()
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "vmi.cli",
                "demo",
                "--speed",
                "17280",
                "--duration",
                "12",
                "--mqtt",
                mosquitto.url,
                "--influx",
                db_url,
            ],
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
    finally:
        client.disconnect()
        client.loop_stop()
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"broker {mosquitto.url}" in done.stdout
    site = next(t.split("/")[2] for t in heard if t.endswith("/readings"))
    assert any(t == f"vmi/v1/{site}/alerts" for t in heard), heard
    store = open_store(db_url)
    levels = store.latest_levels(site)
    store.close()
    assert {p.sku for p in levels} == {"GLOVE-L", "BOLT-M8", "NUT-M8"}
