"""`vmi edge run --config FILE`."""

from __future__ import annotations

import argparse

from edge_agent.agent import EdgeAgent
from edge_agent.config import load_edge_config
from vmi.runtime import run_until_signalled


def main(args: argparse.Namespace) -> int:
    config = load_edge_config(args.config)
    agent = EdgeAgent(config)
    scales = len(config.scales)
    print(f"edge agent {config.site}/{config.device}: {scales} scale(s) -> {config.mqtt.url}")
    run_until_signalled(agent.run)
    return 0
