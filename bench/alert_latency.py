"""Alert latency: from publishing the reading that crosses the reorder point to
the reorder alert arriving on MQTT, while the collector carries background load.

    uv run python bench/alert_latency.py [--trials 200] [--background 500]

On private Mosquitto and InfluxDB servers (tests/servers.py), `vmi cloud run`
runs as its own process. Each trial uses a fresh (site, SKU) whose last two
days of levels (24 units a day) are written to InfluxDB beforehand, so the
rate is known and the next reading decides. The bench then publishes one
reading below the reorder point and times the `reorder` alert on
`vmi/v1/<site>/alerts`; publisher and subscriber share this process's clock.
A background thread publishes `--background` readings per second of other
sites at the same time, which the collector stores and evaluates too.

Prints p50, p90, p99 and the maximum, and the background rate achieved.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cloud.timeseries import InfluxStore, LevelPoint  # noqa: E402
from tests.servers import InfluxServer, MosquittoServer  # noqa: E402
from vmi.mqtt_connection import tcp_no_delay  # noqa: E402
from vmi.wire import Reading, ReadingsBatch, encode, readings_topic  # noqa: E402

RATE_PER_DAY = 24.0
START_UNITS = 100.0  # after two days at 24 a day: 52 left, above the reorder point
CROSSING_UNITS = 30.0  # below any reorder point of a 2-day lead time at 24 a day


def seed_history(store: InfluxStore, sites: list[str], now: datetime) -> None:
    """Two days of hourly levels per trial site, falling at RATE_PER_DAY."""
    points = [
        LevelPoint(
            site,
            "gw",
            "A-01",
            "X",
            now - timedelta(hours=48 - h),
            START_UNITS - RATE_PER_DAY * h / 24,
        )
        for site in sites
        for h in range(48)
    ]
    store.write_levels(points)


def reading(site: str, seq: int, quantity: float, sku: str = "X") -> bytes:
    now = datetime.now(UTC)
    return encode(
        ReadingsBatch(
            site=site,
            device="gw",
            seq=seq,
            sent_at=now,
            readings=[Reading(time=now, location="A-01", sku=sku, quantity=quantity)],
        )
    )


class AlertClock:
    """Subscribes to every site's alerts and notes when each site's reorder alert arrives."""

    def __init__(self, port: int) -> None:
        self.arrived: dict[str, float] = {}
        self._cond = threading.Condition()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-alerts")
        self.client.on_socket_open = tcp_no_delay
        self.client.on_connect = lambda c, *_: c.subscribe("vmi/v1/+/alerts", 1)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        at = time.perf_counter()
        alert = json.loads(msg.payload)
        if alert.get("kind") == "reorder":
            with self._cond:
                self.arrived.setdefault(alert["site"], at)
                self._cond.notify_all()

    def wait(self, site: str, timeout_s: float) -> float | None:
        with self._cond:
            self._cond.wait_for(lambda: site in self.arrived, timeout_s)
            return self.arrived.get(site)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def background(port: int, per_s: int, stop: threading.Event, sent: list[int]) -> None:
    """Publish `per_s` readings a second of 1000 other shelves until stopped.

    50 sites x 20 SKUs, each shelf well stocked and losing a unit now and
    then, as a busy fleet's heartbeats and picks look.
    """
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-background")
    client.max_inflight_messages_set(1000)
    client.connect("127.0.0.1", port)
    client.loop_start()
    seq = 0
    started = time.perf_counter()
    while not stop.is_set():
        seq += 1
        shelf = seq % 1000
        site, sku = f"bg{shelf // 20}", f"S{shelf % 20}"
        client.publish(readings_topic(site, "gw"), reading(site, seq, 5000 - seq // 1000, sku), 1)
        delay = started + seq / per_s - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
    sent.append(seq)
    client.disconnect()
    client.loop_stop()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--trials", type=int, default=200)
    p.add_argument("--background", type=int, default=500, help="background readings/s")
    args = p.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        tuning = "max_queued_messages 0\nmax_inflight_messages 1000\nset_tcp_nodelay true\n"
        with (
            MosquittoServer(tmp / "mosquitto", extra_config=tuning) as broker,
            InfluxServer(tmp / "influx") as influx,
        ):
            db_url = f"{influx.url}/bench"
            store = InfluxStore(db_url)
            store.ensure_database()
            sites = [f"trial{i}" for i in range(args.trials)]
            seed_history(store, sites, datetime.now(UTC))
            config = tmp / "cloud.toml"
            config.write_text(
                f'[mqtt]\nurl = "{broker.url}"\nclient_id = "bench-latency"\n'
                f'[store]\nurl = "{db_url}"\n'
                f'[orders]\nurl = "sqlite:///{tmp / "orders.db"}"\n'
                "[replenishment]\nwindow_days = 3\n"
                "[replenishment.default]\nlead_time_days = 2.0\nmin_history_days = 1.0\n"
            )
            collector = subprocess.Popen(
                [sys.executable, "-m", "vmi.cli", "cloud", "run", "--config", str(config)],
                stdout=subprocess.DEVNULL,
                stderr=open(tmp / "cloud.log", "wb"),  # noqa: SIM115
            )
            alerts = AlertClock(broker.port)
            stop = threading.Event()
            sent: list[int] = []
            load = threading.Thread(
                target=background, args=(broker.port, args.background, stop, sent)
            )
            publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-trials")
            publisher.on_socket_open = tcp_no_delay  # as the edge agent's connection does
            publisher.connect("127.0.0.1", broker.port)
            publisher.loop_start()
            latencies: list[float] = []
            missed = 0
            try:
                time.sleep(3)  # collector connected and subscribed
                load.start()
                load_started = time.perf_counter()
                time.sleep(6)  # background running, every shelf evaluated once
                for i, site in enumerate(sites):
                    payload = reading(site, 1, CROSSING_UNITS)
                    t0 = time.perf_counter()
                    publisher.publish(readings_topic(site, "gw"), payload, 1)
                    arrived = alerts.wait(site, 10.0)
                    if arrived is None:
                        missed += 1
                    else:
                        latencies.append(arrived - t0)
                    time.sleep(0.05 + (i % 7) * 0.01)
                stop.set()
                load.join(10)
                load_s = time.perf_counter() - load_started
            finally:
                stop.set()
                publisher.disconnect()
                publisher.loop_stop()
                alerts.close()
                collector.terminate()
                collector.wait(30)
                store.close()
    if not latencies:
        print("no alert arrived; see the collector log")
        return
    ms = sorted(x * 1000 for x in latencies)
    q = statistics.quantiles(ms, n=100)
    print(
        f"{len(ms)} trials ({missed} without an alert within 10 s), background "
        f"{(sent[0] if sent else 0) / load_s:,.0f} readings/s"
    )
    print(
        f"reading -> reorder alert: p50 {q[49]:.1f} ms, p90 {q[89]:.1f} ms, "
        f"p99 {q[98]:.1f} ms, max {ms[-1]:.1f} ms (aim: p99 < 100 ms)"
    )


if __name__ == "__main__":
    main()
