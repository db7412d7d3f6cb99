"""The replenisher's counters, and their Prometheus families (`vmi_replenisher_*`)."""

from __future__ import annotations

from dataclasses import dataclass

from cloud.prometheus import Exposition


@dataclass
class ReplenisherStats:
    """One process's replenishment counters since it started."""

    projections: int = 0  # (site, SKU) evaluations
    rounds: int = 0  # evaluation rounds
    evaluation_seconds: float = 0.0  # total time in rounds
    round_failures: int = 0  # rounds that failed on a store and were retried
    orders_created: int = 0
    orders_received: int = 0  # by a matching refill
    alerts_published: int = 0  # stock and sensor alerts


def replenisher_metrics(stats: ReplenisherStats) -> str:
    """Every replenishment metric of one process in the Prometheus text format."""
    out = Exposition("vmi_replenisher_")
    out.counter("projections_total", "(site, SKU) evaluations.", stats.projections)
    out.counter("rounds_total", "Evaluation rounds.", stats.rounds)
    out.counter(
        "evaluation_seconds_total", "Time spent in evaluation rounds.", stats.evaluation_seconds
    )
    out.counter(
        "round_failures_total", "Rounds that failed on a store (retried).", stats.round_failures
    )
    out.counter("orders_created_total", "Replenishment orders raised.", stats.orders_created)
    out.counter(
        "orders_received_total", "Orders received by a matching refill.", stats.orders_received
    )
    out.counter("alerts_published_total", "Alerts published.", stats.alerts_published)
    return out.text()
