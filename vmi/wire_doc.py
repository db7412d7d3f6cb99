"""Render docs/wire-protocol.md from the wire contract (`vmi wire-doc`)."""

from __future__ import annotations

import argparse
import json

from vmi.wire import TOPIC_ROOT, WIRE_MODELS, WIRE_VERSION, AlertKind, DeadLetterReason

_TOPICS = [
    (
        "readings",
        f"{TOPIC_ROOT}/<site>/<device>/readings",
        "edge -> cloud",
        "1",
        "no",
        "a batch of absolute stock levels with a per-device sequence number",
    ),
    (
        "events",
        f"{TOPIC_ROOT}/<site>/<device>/events",
        "edge -> cloud",
        "1",
        "no",
        "picks, refills, drift, uncertain counts, tare, faults, weight/RFID mismatches",
    ),
    (
        "status",
        f"{TOPIC_ROOT}/<site>/<device>/status",
        "edge -> cloud",
        "1",
        "yes",
        "`online` birth on connect; last will and clean shutdown `offline`",
    ),
    (
        "cmd",
        f"{TOPIC_ROOT}/<site>/<device>/cmd",
        "cloud -> edge",
        "1",
        "no",
        "tare an empty shelf; calibrate a shelf holding a known number of units",
    ),
    (
        "alerts",
        f"{TOPIC_ROOT}/<site>/alerts",
        "cloud -> all",
        "1",
        "no",
        "replenishment and sensor alerts, one payload per kind: "
        + ", ".join(k.value for k in AlertKind),
    ),
    (
        "deadletter",
        f"{TOPIC_ROOT}/_deadletter/<reason>",
        "cloud",
        "0",
        "no",
        "rejected payloads with the reason: " + ", ".join(r.value for r in DeadLetterReason),
    ),
]


def render() -> str:
    """The whole document as Markdown."""
    out = [
        f"# MQTT wire protocol, contract v{WIRE_VERSION}",
        "",
        "Generated from `vmi/wire.py` by `vmi wire-doc`; do not edit by hand.",
        "",
        "Readings carry absolute levels, never deltas: replays, duplicates and",
        "reordering are harmless. Every payload is one JSON object; times are",
        "RFC 3339 with a time zone. Identifiers (site, device, location, SKU) match",
        "`^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`. A payload whose `v` is not",
        f"{WIRE_VERSION}, or whose site/device differ from its topic, is rejected",
        "to the dead-letter topic.",
        "",
        "| message | topic | direction | QoS | retained | what |",
        "|---|---|---|---|---|---|",
    ]
    out += [f"| {n} | `{t}` | {d} | {q} | {r} | {w} |" for n, t, d, q, r, w in _TOPICS]
    for name, model in WIRE_MODELS.items():
        schema = json.dumps(model.model_json_schema(), indent=2, sort_keys=True)
        out += ["", f"## {name}: `{model.__name__}`", "", "```json", schema, "```"]
    return "\n".join(out) + "\n"


def main(_args: argparse.Namespace) -> int:
    print(render(), end="")
    return 0
