"""Tasmota HX711 load-cell node driver: weights from `tele/<topic>/SENSOR` over MQTT.

The node pushes; the agent polls. `read_weight()` returns the newest SENSOR
weight that has not been returned before, waiting up to `timeout_s` for one,
and None when nothing new arrived while the node is alive: Tasmota publishes
every TelePeriod (10 s at the least) and on a settled change, so most polls
find nothing new, and that is not a fault.

Tasmota sends no stability flag. A weight is stable when the last
`stable_window` weights received agree within `stable_tolerance_g`; the node
already averages ten 100 ms samples per weight, so a short window suffices.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Literal, Self

from pydantic import Field, model_validator

from edge_agent.drivers.base import DeviceSession, WeightSample
from edge_agent.drivers.tasmota.link import NodeLink, TasmotaNodeConfig
from edge_agent.drivers.tasmota.protocol import parse_hx711_sensor
from edge_agent.errors import CommandRejected, DeviceUnavailable, FrameError

#: Tasmota's reply to `Sensor34 1` when it will take the next weight as zero.
_RESET_REPLY = "Reset"


class TasmotaHx711Config(TasmotaNodeConfig):
    """Settings of one Tasmota HX711 node (the driver's part of a `[[scales]]` entry)."""

    type: Literal["tasmota_hx711"]
    stable_window: int = Field(
        default=3, ge=1, le=100, description="weights that must agree before one is stable"
    )
    stable_tolerance_g: float = Field(
        default=2.0, ge=0, allow_inf_nan=False, description="how far those weights may spread"
    )
    stale_after_s: float = Field(
        default=30.0,
        gt=0,
        allow_inf_nan=False,
        description="no HX711 weight for this long means the node is unavailable",
    )

    @model_validator(mode="after")
    def _stale_outlasts_timeout(self) -> Self:
        # A read waits timeout_s for news; declaring the node stale sooner than
        # one wait would make every quiet poll a failure.
        if self.stale_after_s <= self.timeout_s:
            raise ValueError(
                f"stale_after_s ({self.stale_after_s}) must be longer than "
                f"timeout_s ({self.timeout_s})"
            )
        return self


@dataclass(slots=True)
class Hx711Stats:
    """Counters of one node's SENSOR messages since the driver was created."""

    ok: int = 0  # messages with an HX711 weight
    bad: int = 0  # malformed messages (FrameError raised)
    other: int = 0  # well-formed messages without an HX711 key, skipped
    stale: int = 0  # times the node was declared stale


class TasmotaHx711(DeviceSession):
    """A load cell on an ESP8266/ESP32 running Tasmota, read over MQTT.

    Implements `edge_agent.drivers.base.WeightDriver`. Not thread-safe: one
    poller owns a scale (paho's own thread only fills the link's queue).
    """

    def __init__(self, config: TasmotaHx711Config) -> None:
        self.config = config
        self.name = config.topic
        self.stats = Hx711Stats()
        self._link = NodeLink(config, name=config.topic)
        self._window: deque[float] = deque(maxlen=config.stable_window)
        self._unconsumed: WeightSample | None = None
        self._last_weight_at = 0.0

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
        `timeout_s` or the node's retained LWT says `Offline`. The node then has
        `stale_after_s` to send its first weight. Opening an open node does nothing.
        """
        if self._link.is_open:
            return
        self._link.open()
        self._forget_weights()
        self._last_weight_at = time.monotonic()

    def close(self) -> None:
        """Disconnect; safe to call twice."""
        self._link.close()

    def read_weight(self) -> WeightSample | None:
        """The newest weight not returned before, waiting up to `timeout_s` for one.

        Returns None when no new weight arrived in time but the node is alive.
        Raises `FrameError` for a malformed SENSOR message (counted in
        `stats.bad`; the next call goes on with the following message) and
        `DeviceUnavailable` when the node's LWT says `Offline`, when no HX711
        weight arrived for `stale_after_s`, or when the broker has been lost
        for longer than `timeout_s`.
        """
        link = self._link
        deadline = time.monotonic() + self.config.timeout_s
        while True:
            since = link.events()
            link.check()
            self._take_pending()
            sample, self._unconsumed = self._unconsumed, None
            if sample is not None:
                return sample
            now = time.monotonic()
            stale_at = self._last_weight_at + self.config.stale_after_s
            if now >= stale_at:
                self.stats.stale += 1
                broker = "" if link.connected else "; the broker connection is down"
                raise DeviceUnavailable(
                    f"{self.name}: no HX711 weight for {self.config.stale_after_s} s{broker}"
                )
            if now >= deadline:
                return None
            link.wait(since, min(deadline, stale_at) - now)

    def tare(self) -> float:
        """Send `Sensor34 1`: the node takes its current load as zero. Returns 0.0.

        Tasmota does not report how much it tared off, so 0.0 stands for "the
        scale now reads net of its current load". Weights received before the
        tare are forgotten (they are gross). Raises `DeviceUnavailable` when
        the node is offline or the broker is down and `CommandRejected` when
        the node does not confirm (a node with a fixed tare, `Sensor34 10`,
        ignores the reset without a reply).
        """
        reply = self._link.command("Sensor34", "1")
        if reply != _RESET_REPLY:
            raise CommandRejected(
                self.name, "Sensor34 1", "unexpected", f"the node answered {reply!r}"
            )
        self._link.discard_telemetry()
        self._forget_weights()
        return 0.0

    def zero(self) -> None:
        """Zero the scale: Tasmota's tare (`Sensor34 1`) is its zero. See `tare()`."""
        self.tare()

    def _take_pending(self) -> None:
        """Feed every queued SENSOR message into the window; keep the newest weight."""
        while (item := self._link.pop_telemetry()) is not None:
            try:
                reading = parse_hx711_sensor(item.payload)
            except FrameError as exc:
                self.stats.bad += 1
                raise FrameError(f"{self.name}: bad SENSOR message: {exc}") from exc
            if reading is None:
                self.stats.other += 1
                continue
            self.stats.ok += 1
            self._last_weight_at = item.arrived
            self._window.append(reading.grams)
            self._unconsumed = WeightSample(grams=reading.grams, stable=self._agrees())

    def _agrees(self) -> bool:
        window = self._window
        if len(window) < self.config.stable_window:
            return False
        return max(window) - min(window) <= self.config.stable_tolerance_g

    def _forget_weights(self) -> None:
        self._window.clear()
        self._unconsumed = None
