"""`vmi cloud run --config FILE [--workers N]`."""

from __future__ import annotations

import argparse
import logging
import threading

from cloud.config import load_cloud_config
from cloud.ingest.workers import run_workers
from cloud.service import CloudService, run_service_process
from vmi.runtime import run_until_signalled


def main(args: argparse.Namespace) -> int:
    config = load_cloud_config(args.config)
    workers: int = getattr(args, "workers", 1)
    print(
        f"collector {config.mqtt.client_id}: {config.mqtt.url} -> {config.store.url}"
        + (f" ({workers} worker processes)" if workers > 1 else "")
    )
    if workers <= 1:
        run_until_signalled(CloudService(config).run)
        return 0
    code = 0

    def supervise(stop: threading.Event) -> None:
        nonlocal code
        level = logging.getLevelName(logging.getLogger().level).lower()
        code = run_workers(config, workers, stop, level, run_service_process)

    run_until_signalled(supervise)
    return code
