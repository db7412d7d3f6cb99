"""Tasmota RDM6300 node driver: 125 kHz EM4100 tag reads from `tele/<topic>/SENSOR`.

Tasmota publishes `{"RDM6300":{"UID":"008EC793"}}` once per read and, while a
tag stays in the field, again after its 2 s block time. `read_tags()` returns
what arrived since the last call without waiting, each tag once, debounced like
the serial `em4100` driver: a tag is reported at most once per `debounce_s`, so
a tag that stays is reported again and the agent can tell it is still there.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from edge_agent.drivers.base import DeviceSession, TagRead
from edge_agent.drivers.tasmota.link import NodeLink, TasmotaNodeConfig
from edge_agent.drivers.tasmota.protocol import parse_rdm6300_sensor
from edge_agent.errors import FrameError


class TasmotaRdm6300Config(TasmotaNodeConfig):
    """Settings of one Tasmota RDM6300 node (the driver's part of a `[[readers]]` entry)."""

    type: Literal["tasmota_rdm6300"]
    debounce_s: float = Field(
        default=1.0,
        ge=0,
        allow_inf_nan=False,
        description="a tag is reported at most once per this many seconds",
    )


@dataclass(slots=True)
class Rdm6300Stats:
    """Counters of one node's SENSOR messages since the driver was created."""

    ok: int = 0  # messages with a valid UID
    bad: int = 0  # malformed messages, skipped
    other: int = 0  # well-formed messages without an RDM6300 key, skipped
    debounced: int = 0  # repeats within debounce_s (or within one call), not reported


class TasmotaRdm6300(DeviceSession):
    """An RDM6300 125 kHz reader on an ESP8266/ESP32 running Tasmota, read over MQTT.

    Implements `edge_agent.drivers.base.TagDriver`. Tag ids are the 8 hex
    digits Tasmota sends (the EM4100 32-bit id without its version byte).
    Not thread-safe: one poller owns a reader.
    """

    def __init__(self, config: TasmotaRdm6300Config) -> None:
        self.config = config
        self.name = config.topic
        self.stats = Rdm6300Stats()
        self._link = NodeLink(config, name=config.topic)
        self._last_reported: dict[str, float] = {}  # uid -> arrival time of its last report

    @property
    def link(self) -> NodeLink:
        """The MQTT connection (for its `stats`, `connected` and `online`)."""
        return self._link

    @property
    def is_open(self) -> bool:
        """True between a successful `open()` and `close()`."""
        return self._link.is_open

    def open(self) -> None:
        """Connect to the broker and subscribe to the node's SENSOR and LWT.

        Raises `DeviceUnavailable` when the broker is unreachable within
        `timeout_s` or the node's retained LWT says `Offline`.
        """
        self._link.open()

    def close(self) -> None:
        """Disconnect; safe to call twice."""
        self._link.close()

    def read_tags(self) -> list[TagRead]:
        """Tags received since the last call, debounced, each once; [] when none.

        Does not wait. Malformed messages are counted in `stats.bad` and
        skipped. Raises `DeviceUnavailable` when the node's LWT says `Offline`
        or the broker has been lost for longer than `timeout_s`.
        """
        link = self._link
        link.check()
        found: dict[str, None] = {}  # insertion-ordered set: first receipt first
        window = self.config.debounce_s
        while (item := link.pop_telemetry()) is not None:
            try:
                uid = parse_rdm6300_sensor(item.payload)
            except FrameError:
                self.stats.bad += 1
                continue
            if uid is None:
                self.stats.other += 1
                continue
            self.stats.ok += 1
            # Arrival times, not the time of this call, so a slow poller does
            # not change what counts as a repeat.
            reported = self._last_reported.get(uid)
            if uid in found or (reported is not None and item.arrived - reported < window):
                self.stats.debounced += 1
                continue
            self._last_reported[uid] = item.arrived
            found[uid] = None
        self._forget_before(time.monotonic() - window)
        return [TagRead(tag_id=uid) for uid in found]

    def _forget_before(self, cutoff: float) -> None:
        # Tags not reported for a whole window would be reported anyway: dropping
        # them keeps the memory as small as the set of recently seen tags.
        for uid in [u for u, at in self._last_reported.items() if at < cutoff]:
            del self._last_reported[uid]
