"""SparkFun OpenScale driver: the report stream adapted to a serial port with pyserial.

The board always streams. Each read flushes the input, throws away the first
line (it may be the tail of a report cut by the flush: the tail `45,kg,` of
`5123,-0.45,kg,` would read as 45 kg), and returns the next complete report.
Banner lines (the board restarted, e.g. because opening the port toggled DTR)
are skipped and counted, not errors.

The board has no stability flag, so the driver derives one: a weight is
stable when the last `stable_window` weights read in a row lie within
`stable_tolerance_g` of each other. Anything in between (garbage, a banner,
a timeout, out of range) starts the window again.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from edge_agent.drivers.base import FrameStats, WeightSample
from edge_agent.drivers.openscale.protocol import (
    MAX_LINE_BYTES,
    BannerLine,
    NoNumber,
    parse_line,
)
from edge_agent.drivers.serial_port import SerialDriver, SerialLink
from edge_agent.drivers.serial_settings import SerialSettings
from edge_agent.drivers.serial_text import TextLines
from edge_agent.errors import (
    CommandRejected,
    DeviceFault,
    DriverError,
    WeightOutOfRange,
)

#: Slack for float rounding when comparing a spread with the tolerance
#: (lbs readings converted to grams are not exact).
_EPSILON_G = 1e-9
_NO_NUMBER = "not calibrated (calibration factor 0?) or the load cell is out of range"
_NOT_REMOTE = (
    "not supported remotely: the board tares only from its interactive menu, which "
    "stops the readings; set tare_g in the agent config instead"
)


class OpenScaleConfig(SerialSettings):
    """Settings of one OpenScale board (the driver's part of a `[[scales]]` entry).

    The serial defaults are the board's: 9600 baud, 8N1.
    """

    type: Literal["openscale"]
    timeout_s: float = Field(
        default=3.0,
        gt=0,
        allow_inf_nan=False,
        description="seconds to wait for a complete report; cover two report periods, "
        "and the ~2 s restart when opening the port resets the board",
    )
    stable_window: int = Field(
        default=3, ge=1, le=100, description="weights read in a row that must agree"
    )
    stable_tolerance_g: float = Field(
        default=10.0,
        ge=0,
        allow_inf_nan=False,
        description="largest spread (max - min, grams) of a stable window; at least one "
        "display step (10 g for kg with 2 decimals, 4.5 g for lbs) plus the noise",
    )
    capacity_g: float | None = Field(
        default=None,
        gt=0,
        allow_inf_nan=False,
        description="weights above this raise WeightOutOfRange (overload); None: no check",
    )
    underload_g: float | None = Field(
        default=None,
        ge=0,
        allow_inf_nan=False,
        description="weights below minus this raise WeightOutOfRange (underload); None: no check",
    )


@dataclass(slots=True)
class BoardStats(FrameStats):
    """Counters of one board's traffic since it was created (`stale` stays 0:
    the board only streams, so nothing answers something else)."""

    banner: int = 0  # start-up lines skipped


class StabilityWindow:
    """The last `size` weights read in a row; stable when they all agree."""

    def __init__(self, size: int, tolerance_g: float) -> None:
        self.size = size
        self.tolerance_g = tolerance_g
        self._grams: deque[float] = deque(maxlen=size)

    def add(self, grams: float) -> bool:
        """Add a weight; True when the window is full and its spread within tolerance."""
        self._grams.append(grams)
        if len(self._grams) < self.size:
            return False
        return max(self._grams) - min(self._grams) <= self.tolerance_g + _EPSILON_G

    def clear(self) -> None:
        """Start again: the weights are no longer read in a row."""
        self._grams.clear()

    def __len__(self) -> int:
        return len(self._grams)


class OpenScale(SerialDriver):
    """A SparkFun OpenScale board on a serial port.

    Implements `edge_agent.drivers.base.WeightDriver`. Not thread-safe: one
    poller owns a board.
    """

    def __init__(self, config: OpenScaleConfig) -> None:
        self.config = config
        self.name = config.port
        self.stats = BoardStats()
        self.window = StabilityWindow(config.stable_window, config.stable_tolerance_g)
        self._link = SerialLink(config, timeout_s=config.timeout_s, stats=self.stats)
        self._lines = TextLines(
            self._link, parse_line, max_bytes=MAX_LINE_BYTES, end=b"\n", stats=self.stats
        )

    def open(self) -> None:
        """Open the port and start a new stability window.

        Raises `DeviceUnavailable`; opening an open board does nothing.
        """
        if not self.is_open:
            super().open()
            self.window.clear()

    def close(self) -> None:
        """Close the port; safe to call twice."""
        self.window.clear()
        super().close()

    def read_weight(self) -> WeightSample:
        """Return the next complete report's weight, stable when the window agrees.

        Raises `FrameError` on a garbage line (counted; the next call works),
        `WeightOutOfRange` beyond `capacity_g`/`underload_g`, `DeviceFault`
        on `nan`/`inf`/`ovf` (board not calibrated) and `DeviceUnavailable`
        when the port fails or no report arrives within `timeout_s`.
        """
        try:
            grams = self._next_grams()
        except DriverError:
            self.window.clear()
            raise
        return WeightSample(grams=grams, stable=self.window.add(grams))

    def tare(self) -> float:
        """Not supported: raises `CommandRejected` (tare with `tare_g` in the agent config).

        The firmware tares only from its menu (`x`, then `1`), which stops the
        readings, echoes text and writes the tare point to EEPROM; a remote
        tare through it is too intrusive to risk.
        """
        raise CommandRejected(self.name, "tare", "unsupported", _NOT_REMOTE)

    def zero(self) -> None:
        """Not supported, for the same reason as `tare()`: raises `CommandRejected`."""
        raise CommandRejected(self.name, "zero", "unsupported", _NOT_REMOTE)

    def _next_grams(self) -> float:
        deadline = time.monotonic() + self.config.timeout_s
        silence = f"no complete report within {self.config.timeout_s} s"
        self._lines.skip_partial(deadline, silence)
        # Bounded: every pass returns, raises, or consumes a whole line before
        # the deadline.
        while True:
            parsed = self._lines.read(deadline, silence)
            if isinstance(parsed, BannerLine):
                self.stats.banner += 1
                self.window.clear()  # the board restarted: a new sequence
                continue
            self.stats.ok += 1
            if isinstance(parsed, NoNumber):
                raise DeviceFault(self.name, f"weight {parsed.text!r}", _NO_NUMBER, device="board")
            return self._in_range(parsed.grams)

    def _in_range(self, grams: float) -> float:
        cfg = self.config
        if cfg.capacity_g is not None and grams > cfg.capacity_g:
            raise WeightOutOfRange(self.name, "overload")
        if cfg.underload_g is not None and grams < -cfg.underload_g:
            raise WeightOutOfRange(self.name, "underload")
        return grams
