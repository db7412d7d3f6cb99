"""The connector sync's counters per link, as Prometheus families (`vmi_connector_*`)."""

from __future__ import annotations

from dataclasses import fields

from cloud.connectors.sync import ConnectorSync, LinkStats
from cloud.prometheus import Exposition

HELP: dict[str, str] = {
    "planned": "Steps (create, confirm, ship, cancel) stored for sending.",
    "attempts": "Attempts to carry out a step.",
    "done": "Steps done.",
    "retries": "Attempts that failed and were scheduled again.",
    "failed": "Steps the system refused (not retried until `vmi connector retry`).",
    "given_up": "Steps given up after the last allowed attempt.",
    "unsupported": "Steps the system has no such step for.",
    "skipped": "Steps skipped because the record they need was never made.",
    "checked": "Remote records read back.",
    "moved": "Our orders moved to match a remote record.",
    "conflicts": "Orders final here and differently final there.",
    "errors": "Rounds that failed on the database or on opening the connector.",
}


def connector_metrics(sync: ConnectorSync) -> str:
    """Every link's counters, one sample per link; empty without links."""
    names = sync.link_names()
    if not names:
        return ""
    stats = {name: sync.stats(name) for name in names}
    out = Exposition("vmi_connector_")
    for field in fields(LinkStats):
        if field.name == "connected":
            continue
        values = {name: float(getattr(s, field.name)) for name, s in stats.items()}
        out.by_label(f"{field.name}_total", "counter", HELP[field.name], "link", values)
    connected = {name: float(s.connected) for name, s in stats.items()}
    out.by_label("connected", "gauge", "1 once the link's connector is open.", "link", connected)
    return out.text()
