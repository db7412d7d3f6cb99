"""`vmi cloud run --workers N`: N service processes on one shared subscription.

One Python process decodes on one core at a time (the GIL), and paho spends
tens of microseconds on every message. Ingest scales out as the architecture
says it should, through an MQTT shared subscription: each worker is a whole
collector process (`CloudService`) with its own MQTT session, and the broker
splits readings and events among them. Everything they share (orders,
levels, active alerts) is in the stores already. Each worker replenishes the
(site, SKU)s whose readings it committed.

Worker `i` runs the configured collector with:

* client id `<client_id>-<i>`: a fixed session per worker, so what a worker
  had not acknowledged when it died waits for it at the broker;
* `share_group` as configured, else derived from the client id;
* device status (not shared), the fleet-wide silent-sensor check, the KPI
  and suggestions jobs, the ERP/CRM connectors and `/metrics` only on
  worker 0 (the connectors see every worker's orders in SQL); every worker writes
  its own `collector_health`.

The parent only supervises: SIGINT/SIGTERM stops the workers cleanly
(SIGTERM to each); if a worker dies, the others are stopped and the command
exits with an error, so a service manager restarts the whole set.
"""

from __future__ import annotations

import logging
import multiprocessing
import re
import signal
import threading
from collections.abc import Callable
from multiprocessing.process import BaseProcess

from cloud.config import CloudConfig, MetricsConfig

log = logging.getLogger(__name__)

_STOP_TIMEOUT_S = 40.0
_WATCH_INTERVAL_S = 0.5


def worker_config(config: CloudConfig, index: int) -> CloudConfig:
    """The config of worker `index` (see the module docstring)."""
    mqtt = config.mqtt
    group = mqtt.share_group or re.sub(r"[^A-Za-z0-9_-]", "_", mqtt.client_id)
    worker_mqtt = mqtt.model_copy(
        update={
            "client_id": f"{mqtt.client_id}-{index}",
            "share_group": group,
            "subscribe_status": mqtt.subscribe_status and index == 0,
        }
    )
    replenishment = config.replenishment.model_copy(
        update={"watch_silent_sensors": config.replenishment.watch_silent_sensors and index == 0}
    )
    metrics = config.metrics if index == 0 else MetricsConfig()
    kpis = config.kpis.model_copy(update={"enabled": config.kpis.enabled and index == 0})
    suggestions = config.suggestions.model_copy(
        update={"enabled": config.suggestions.enabled and index == 0}
    )
    connectors = (
        config.connectors if index == 0 else config.connectors.model_copy(update={"systems": ()})
    )
    return config.model_copy(
        update={
            "connectors": connectors,
            "mqtt": worker_mqtt,
            "metrics": metrics,
            "replenishment": replenishment,
            "kpis": kpis,
            "suggestions": suggestions,
        }
    )


WorkerBody = Callable[[CloudConfig, str, threading.Event], None]
"""What a worker runs: (its config, the log level, set on SIGTERM). A module-level
function, since it is pickled into the spawned process (`cloud.service.run_service_process`)."""


def _run_worker(body: WorkerBody, config: CloudConfig, log_level: str) -> None:
    """A worker process: `body` until SIGTERM (Ctrl-C reaches the parent)."""
    stop = threading.Event()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    signal.signal(signal.SIGTERM, lambda _s, _f: stop.set())
    body(config, log_level, stop)


def run_workers(
    config: CloudConfig, count: int, stop: threading.Event, log_level: str, body: WorkerBody
) -> int:
    """Run `body` in `count` worker processes until `stop` is set or one of them dies.

    Returns 0 after a clean stop, 1 if a worker died on its own.
    """
    context = multiprocessing.get_context("spawn")  # no fork of a threaded process
    workers: list[BaseProcess] = []
    for index in range(count):
        process = context.Process(
            target=_run_worker,
            args=(body, worker_config(config, index), log_level),
            name=f"collector-{index}",
        )
        process.start()
        workers.append(process)
    log.info("started %d collector workers: %s", count, [w.pid for w in workers])
    failed = False
    while not stop.wait(_WATCH_INTERVAL_S):
        dead = [w for w in workers if not w.is_alive()]
        if dead:
            for w in dead:
                log.error("collector worker %s exited with code %s", w.name, w.exitcode)
            failed = True
            break
    for w in workers:
        if w.is_alive():
            w.terminate()  # SIGTERM: a clean stop
    for w in workers:
        w.join(_STOP_TIMEOUT_S)
        if w.is_alive():
            log.error("collector worker %s did not stop; killing it", w.name)
            w.kill()
            w.join(5)
    return 1 if failed else 0
