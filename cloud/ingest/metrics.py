"""The collector's counters as Prometheus metric families (`vmi_collector_*`)."""

from __future__ import annotations

from cloud.ingest.collector import Collector
from cloud.prometheus import Exposition


def collector_metrics(collector: Collector) -> str:
    """Every metric of one collector in the Prometheus text exposition format."""
    s = collector.stats
    out = Exposition("vmi_collector_")
    out.by_label(
        "messages_total",
        "counter",
        "MQTT messages received, by kind (readings, events, status).",
        "kind",
        s.arrived,
    )
    out.counter("events_written_total", "Events written to the store.", s.events_written)
    out.counter(
        "statuses_written_total", "Device statuses written to the store.", s.statuses_written
    )
    out.counter("readings_written_total", "Levels written to the store.", s.readings_written)
    out.counter("writes_total", "Successful store writes.", s.writes)
    out.counter("write_seconds_total", "Time spent in successful store writes.", s.write_seconds)
    out.counter("write_retries_total", "Store writes retried (store unavailable).", s.write_retries)
    out.gauge("store_up", "1 while the last store write succeeded.", s.store_error is None)
    out.by_label(
        "store_failures_total",
        "counter",
        "Store writes that failed on the store, by reason (unreachable, unauthorized, "
        "forbidden, database_missing, http_503, ...): retried, never dropped.",
        "reason",
        s.store_failures,
    )
    out.counter("databases_created_total", "A missing database created again.", s.databases_created)
    out.counter(
        "commit_failures_total", "Batches whose commit failed on a bug, retried.", s.commit_failures
    )
    out.by_label(
        "rejected_total",
        "counter",
        "Messages rejected to the dead-letter topic, by reason.",
        "reason",
        s.rejected,
    )
    out.gauge("lag_seconds", "Receive time minus send time of the newest message.", s.lag_s)
    out.gauge("in_flight", "Messages received and not yet acknowledged.", collector.in_flight)
    out.gauge("held_bytes", "Payload bytes of those messages.", collector.held_bytes)
    out.gauge(
        "reading_paused",
        "1 while the collector holds all it may and reads nothing more from the broker.",
        collector.reading_paused,
    )
    out.counter("read_pauses_total", "Times reading from the broker was paused.", collector.pauses)
    out.gauge("connected", "1 while connected to the broker.", collector.connected)
    out.counter(
        "sequence_gaps_total", "Device messages skipped over (this collector).", s.sequences.gaps
    )
    out.counter(
        "sequence_replays_total", "Device messages seen again or out of order.", s.sequences.replays
    )
    return out.text()
