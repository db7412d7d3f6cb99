"""EM4100 reader driver: RDM6300-class frames read from a serial port with pyserial.

The reader transmits on its own, so `read_tags()` listens for `read_window_s`,
decodes what arrived and reports each tag id once. Bad frames are counted and
skipped. A tag held in the field repeats its frame several times a second; the
debounce reports it at most once per `debounce_s`, so a tag that stays is
reported again every `debounce_s` and the agent can tell it is still there.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Literal

from pydantic import Field

from edge_agent.drivers.base import TagRead
from edge_agent.drivers.em4100.protocol import DecoderStats, Em4100Decoder
from edge_agent.drivers.serial_port import SerialDriver, SerialLink
from edge_agent.drivers.serial_settings import SerialSettings

#: Bytes taken per read at most; a 9600-baud reader sends under 1 kB per second.
_READ_CHUNK = 256

log = logging.getLogger(__name__)


class Em4100Config(SerialSettings):
    """Settings of one RDM6300-class reader (the driver's part of a `[[readers]]` entry)."""

    type: Literal["em4100"]
    debounce_s: float = Field(
        default=1.0,
        ge=0,
        allow_inf_nan=False,
        description="a tag is reported at most once per this many seconds",
    )
    read_window_s: float = Field(
        default=0.2,
        gt=0,
        le=10,
        allow_inf_nan=False,
        description="how long one read_tags() call listens",
    )


class Em4100Reader(SerialDriver):
    """An RDM6300-class 125 kHz reader of EM4100 tags on a serial port.

    Implements `edge_agent.drivers.base.TagDriver`. Not thread-safe: one poller
    owns a reader. `clock` (monotonic seconds) drives the debounce only.
    """

    def __init__(
        self, config: Em4100Config, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config
        self.name = config.port
        self.decoder = Em4100Decoder()
        self.suppressed = 0  # sightings not reported because of the debounce
        self._clock = clock
        self._last_reported: dict[str, float] = {}
        # The reader only transmits: its listening window bounds one blocking read.
        self._link = SerialLink(config, timeout_s=config.read_window_s)

    @property
    def stats(self) -> DecoderStats:
        """Frame counters (good, bad checksum, truncated, malformed, garbage bytes)."""
        return self.decoder.stats

    def open(self) -> None:
        """Open the port and drop whatever the reader sent before.

        Raises `DeviceUnavailable` when the port cannot be opened. Opening an
        open reader does nothing.
        """
        if not self.is_open:
            super().open()
            self.decoder.reset()

    def read_tags(self) -> list[TagRead]:
        """Listen for `read_window_s`; return each tag seen and not debounced, once.

        Order is the order of first sighting. [] when no tag is in the field
        (the reader is silent then, so silence is not an error). Bad frames
        are counted in `stats` and never returned. Raises `DeviceUnavailable`
        when the port fails (e.g. the USB adapter was unplugged).
        """
        seen: list[str] = []
        deadline = time.monotonic() + self.config.read_window_s
        # Bounded: each pass blocks one read slice at most, and the loop ends
        # at the deadline whatever arrives.
        while time.monotonic() < deadline:
            data = self._link.read(_READ_CHUNK, deadline)
            if not data:
                continue
            tags, errors = self.decoder.feed(data)
            for error in errors:
                log.debug("%s: %s", self.name, error)
            for tag in tags:
                if tag not in seen:
                    seen.append(tag)
        return [TagRead(tag_id=tag) for tag in self._debounce(seen)]

    def _debounce(self, tags: list[str]) -> list[str]:
        now = self._clock()
        window = self.config.debounce_s
        # Forget tags not reported for a whole window: bounded memory, and
        # they would be reported anyway.
        self._last_reported = {
            tag: at for tag, at in self._last_reported.items() if now - at < window
        }
        fresh: list[str] = []
        for tag in tags:
            if tag in self._last_reported:
                self.suppressed += 1
                continue
            self._last_reported[tag] = now
            fresh.append(tag)
        return fresh
