"""`vmi cloud run --workers N`: N collector processes on one shared subscription
split the readings, store every one, and stop cleanly together (real
Mosquitto, real InfluxDB, real processes)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from cloud.config import CloudConfig
from cloud.ingest.workers import worker_config
from cloud.timeseries import open_store
from tests.cloud.broker_client import Broker
from tests.cloud.ingest.messages import T0, batch
from tests.servers import MosquittoServer
from tests.waiting import wait_for
from vmi.wire import readings_topic

SINCE = T0 - timedelta(hours=1)
VMI = [sys.executable, "-m", "vmi.cli", "--log-level", "info"]


def test_each_worker_has_its_own_session_on_one_shared_subscription() -> None:
    config = CloudConfig.model_validate(
        {"mqtt": {"client_id": "vmi.c@1"}, "metrics": {"listen": "127.0.0.1:9108"}}
    )
    first, second = worker_config(config, 0), worker_config(config, 1)
    assert (first.mqtt.client_id, second.mqtt.client_id) == ("vmi.c@1-0", "vmi.c@1-1")
    assert first.mqtt.share_group == second.mqtt.share_group == "vmi_c_1"
    assert (first.mqtt.subscribe_status, second.mqtt.subscribe_status) == (True, False)
    assert (first.metrics.listen, second.metrics.listen) == ("127.0.0.1:9108", None)
    grouped = CloudConfig.model_validate({"mqtt": {"share_group": "ingest"}})
    assert worker_config(grouped, 3).mqtt.share_group == "ingest"


def test_the_fleet_wide_sensor_check_runs_in_one_worker() -> None:
    config = CloudConfig()
    watching = [worker_config(config, i).replenishment.watch_silent_sensors for i in range(4)]
    assert watching == [True, False, False, False]
    off = CloudConfig.model_validate({"replenishment": {"watch_silent_sensors": False}})
    assert not any(worker_config(off, i).replenishment.watch_silent_sensors for i in range(4))
    # Everything else of the replenishment config is the configured one.
    tuned = CloudConfig.model_validate({"replenishment": {"window_days": 60}})
    assert worker_config(tuned, 2).replenishment.window_days == 60


def test_the_kpi_job_runs_in_one_worker() -> None:
    config = CloudConfig.model_validate({"kpis": {"window_days": 7, "interval_s": 60}})
    jobs = [worker_config(config, i).kpis for i in range(3)]
    assert [k.enabled for k in jobs] == [True, False, False]
    assert {(k.window_days, k.interval_s) for k in jobs} == {(7, 60.0)}
    off = CloudConfig.model_validate({"kpis": {"enabled": False}})
    assert not any(worker_config(off, i).kpis.enabled for i in range(3))


def test_two_workers_store_everything_and_stop_together(
    tmp_path: Path, mosquitto: MosquittoServer, influx_db_url: str, unique_id: str, broker: Broker
) -> None:
    config = tmp_path / "cloud.toml"
    config.write_text(
        "health_interval_s = 0.3\n"
        f'[mqtt]\nurl = "{mosquitto.url}"\nclient_id = "w-{unique_id}"\n'
        f'[store]\nurl = "{influx_db_url}"\n'
        f'[orders]\nurl = "sqlite:///{tmp_path / "orders.db"}"\n'
    )
    log = tmp_path / "cloud.log"
    proc = subprocess.Popen(
        [*VMI, "cloud", "run", "--config", str(config), "--workers", "2"],
        stdout=open(log, "wb"),  # noqa: SIM115 - the child owns it
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        wait_for(lambda: log.read_text().count("subscribed to") == 2, 60, "two workers")
        site = f"{unique_id}-s"
        devices = [f"d{i}" for i in range(8)]
        for seq in range(1, 26):
            for device in devices:
                payload = batch(site, seq, float(seq)) | {"device": device}
                broker.publish(readings_topic(site, device), json.dumps(payload).encode())
        store = open_store(influx_db_url)
        total = 25 * len(devices)

        def health() -> dict[str, int]:
            written: dict[str, int] = {}
            for p in store.points("collector_health", SINCE):
                value = p.field("readings_written")
                collector = p.tag("collector")
                assert isinstance(value, int)
                assert collector is not None
                written[collector] = max(written.get(collector, 0), value)
            return written

        def all_stored() -> bool:
            return sum(health().values()) == total

        wait_for(all_stored, 60, f"{total} readings reported written")
        assert len(store.level_series(site, "X", SINCE)) == total
        written = health()
        assert set(written) == {f"w-{unique_id}-0", f"w-{unique_id}-1"}
        assert all(n > 0 for n in written.values()), f"both workers took a share: {written}"
        store.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(60)
    text = log.read_text()
    assert code == 0, text
    assert "Traceback" not in text
    assert f"$share/w-{unique_id}/" in text
    assert "exited with code" not in text, "no worker died"
