"""`vmi cloud run --config FILE`."""

from __future__ import annotations

import argparse

from cloud.config import load_cloud_config
from cloud.service import CloudService
from vmi.runtime import run_until_signalled


def main(args: argparse.Namespace) -> int:
    config = load_cloud_config(args.config)
    service = CloudService(config)
    print(f"collector {config.mqtt.client_id}: {config.mqtt.url} -> {config.store.url}")
    run_until_signalled(service.run)
    return 0
