"""Tasmota nodes (ESP8266/ESP32) over MQTT: HX711 load cells and RDM6300 tag readers.

`protocol` is the pure parser of Tasmota's messages and topics; `link` is the
MQTT connection both drivers share; `hx711` and `rdm6300` are the drivers. See
README.md.
"""

from edge_agent.drivers.tasmota.hx711 import Hx711Stats, TasmotaHx711, TasmotaHx711Config
from edge_agent.drivers.tasmota.link import LinkStats, NodeLink, TasmotaNodeConfig
from edge_agent.drivers.tasmota.protocol import (
    DEFAULT_FULL_TOPIC,
    CommandResult,
    Hx711Reading,
    Prefix,
    full_topic,
    parse_command_result,
    parse_hx711_sensor,
    parse_json_object,
    parse_lwt,
    parse_rdm6300_sensor,
)
from edge_agent.drivers.tasmota.rdm6300 import (
    Rdm6300Stats,
    TasmotaRdm6300,
    TasmotaRdm6300Config,
)

__all__ = [
    "DEFAULT_FULL_TOPIC",
    "CommandResult",
    "Hx711Reading",
    "Hx711Stats",
    "LinkStats",
    "NodeLink",
    "Prefix",
    "Rdm6300Stats",
    "TasmotaHx711",
    "TasmotaHx711Config",
    "TasmotaNodeConfig",
    "TasmotaRdm6300",
    "TasmotaRdm6300Config",
    "full_topic",
    "parse_command_result",
    "parse_hx711_sensor",
    "parse_json_object",
    "parse_lwt",
    "parse_rdm6300_sensor",
]
