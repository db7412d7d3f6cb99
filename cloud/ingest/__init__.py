"""Ingest: MQTT messages in, durably stored, then acknowledged.

* `collector`: the pipeline (receive, decode, write, acknowledge), and what it committed;
* `mqtt_client`: paho's client with a fast PUBLISH path and batched PUBACKs;
* `decode`: one message to what it stores (`Inbound`), or a dead-letter reason;
* `points`: the time-series points of levels, events and device status;
* `device_registry`: which site the catalog puts each device at, cached;
* `sequence`: per-device sequence tracking (gaps, replays);
* `health` and `metrics`: the collector's own figures, stored and on `/metrics`;
* `workers`: `--workers N`, N collector processes on one shared subscription.

Ingest never imports replenishment: `CloudService` wires what the collector
committed to the replenisher.
"""
