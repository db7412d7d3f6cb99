"""ST,GS indicator driver: the protocol adapted to a serial port with pyserial.

Stream mode: the indicator sends its weight string continuously. A read
flushes the input, throws away the first line (the flush may have cut a frame
in half) and returns the next complete frame from this indicator, so every
weight is fresh. Request mode: `READ` is sent after a flush and the reply read.

On an RS-485 bus every command carries the configured two-character address
in front (`01READ`), and frames and replies from other addresses are skipped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from edge_agent.drivers.base import FrameStats, WeightSample
from edge_agent.drivers.serial_port import NoLine, SerialDriver, SerialLink
from edge_agent.drivers.serial_settings import SerialSettings
from edge_agent.drivers.serial_text import TextLines, wait_for_stable
from edge_agent.drivers.stgs.protocol import (
    ADDRESS_PATTERN,
    MAX_FRAME_BYTES,
    TERMINATOR,
    CommandReply,
    Frame,
    RawFrame,
    Status,
    StatusFrame,
    WeightFrame,
    encode_command,
    parse_frame,
)
from edge_agent.errors import CommandRejected, DeviceFault, FrameError, WeightOutOfRange

#: Pause between `READ` polls while waiting for a stable weight.
_POLL_GAP_S = 0.05

WeighingFrame = WeightFrame | StatusFrame | RawFrame


class StGsConfig(SerialSettings):
    """Settings of one ST,GS indicator (the driver's part of a `[[scales]]` entry)."""

    type: Literal["stgs"]
    address: str | None = Field(
        default=None,
        pattern=ADDRESS_PATTERN,
        description="RS-485 address (two characters, e.g. '01'); unset on a point-to-point line",
    )
    mode: Literal["stream", "request"] = Field(
        default="stream",
        description="stream: the indicator sends continuously; request: send READ, read the reply",
    )
    timeout_s: float = Field(default=1.0, gt=0, allow_inf_nan=False)


class IndicatorFault(DeviceFault):
    """The indicator answers but shows no weight: not level (`TL`) or a raw
    display mode (`VL` microvolts, `RZ` converter points). A person must fix
    it; retrying the connection will not help."""

    def __init__(self, port: str, code: str, reason: str) -> None:
        super().__init__(port, code, reason, device="indicator")


@dataclass(slots=True)
class IndicatorStats(FrameStats):
    """Counters of one indicator's traffic since it was created: `ok` weight
    strings, `bad` garbage lines, `stale` replies (OK/ERR) skipped while
    reading weights and vice versa, `timeouts` waits with nothing from us."""

    foreign: int = 0  # frames and replies from other RS-485 addresses, skipped


class StGsIndicator(SerialDriver):
    """An ST,GS weight indicator on a serial port (RS-232 or RS-485).

    Implements `edge_agent.drivers.base.WeightDriver`. Not thread-safe: one
    poller owns an indicator.
    """

    def __init__(self, config: StGsConfig) -> None:
        self.config = config
        self.name = config.port if config.address is None else f"{config.port}#{config.address}"
        self.stats = IndicatorStats()
        self._link = SerialLink(
            config, timeout_s=config.timeout_s, name=self.name, stats=self.stats
        )
        self._lines = TextLines(
            self._link, parse_frame, max_bytes=MAX_FRAME_BYTES, end=TERMINATOR, stats=self.stats
        )

    # -- WeightDriver ----------------------------------------------------------

    def read_weight(self) -> WeightSample:
        """Return a fresh gross or net weight, stable (`ST`) or not (`US`), in grams.

        Raises `WeightOutOfRange` on `OL`/`UL`, `IndicatorFault` on `TL`, `VL`
        or `RZ`, `CommandRejected` on `ERRnn` (request mode), `FrameError` on
        a garbage line (counted; the next call works) and `DeviceUnavailable`
        when the port fails or nothing from this indicator arrives in time.
        """
        return self._weight(time.monotonic() + self.config.timeout_s)

    def tare(self) -> float:
        """Tare (`TARE`); return the stable weight shown just before, in grams
        (the gross weight unless a tare was already active).

        Raises `CommandRejected` when no stable weight comes, the indicator
        refuses (`ERRnn`) or does not answer `OK` within `timeout_s`;
        `WeightOutOfRange` and `IndicatorFault` as `read_weight()` does.
        """
        before = wait_for_stable(
            self._weight,
            timeout_s=self.config.timeout_s,
            pause_s=_POLL_GAP_S if self.config.mode == "request" else 0.0,
            name=self.name,
            command="TARE",
        )
        self._command("TARE")
        return before.grams

    def zero(self) -> None:
        """Zero (`ZERO`). Raises `CommandRejected` on `ERRnn` or no `OK`."""
        self._command("ZERO")

    # -- reading ---------------------------------------------------------------

    def _weighing_frame(self, deadline: float) -> WeighingFrame:
        if self.config.mode == "stream":
            self._lines.skip_partial(deadline, self._silence())
        else:
            self._send("READ")
        while True:
            frame = self._ours(self._read_line(deadline))
            if frame is None:
                continue
            if isinstance(frame, CommandReply):
                if self.config.mode == "request" and not frame.ok:
                    raise CommandRejected(self.name, "READ", frame.code, frame.reason)
                self.stats.stale += 1  # a late answer to some earlier command
                continue
            self.stats.ok += 1
            return frame

    def _weight(self, deadline: float) -> WeightSample:
        return self._sample(self._weighing_frame(deadline))

    def _sample(self, frame: WeighingFrame) -> WeightSample:
        if isinstance(frame, WeightFrame):
            return WeightSample(grams=frame.grams, stable=frame.stable)
        if isinstance(frame, RawFrame):
            raise IndicatorFault(self.name, frame.kind.value, frame.reason)
        if frame.status is Status.OVERLOAD:
            raise WeightOutOfRange(self.name, "overload")
        if frame.status is Status.UNDERLOAD:
            raise WeightOutOfRange(self.name, "underload")
        raise IndicatorFault(self.name, frame.status.value, frame.reason)

    # -- commands --------------------------------------------------------------

    def _command(self, cmd: str) -> None:
        """Send a command and wait for this indicator's `OK` or `ERRnn`."""
        deadline = time.monotonic() + self.config.timeout_s
        self._send(cmd)
        heard = False
        while True:
            try:
                line = self._read_line(deadline)
            except NoLine:
                if not heard:
                    raise
                detail = (
                    "the indicator is sending but did not answer; "
                    "commands may need the on-demand (request) mode"
                )
                raise CommandRejected(self.name, cmd, "no reply", detail) from None
            try:
                frame = self._ours(line)
            except FrameError:
                continue  # counted; the reply may still come
            if frame is None:
                continue
            heard = True
            if isinstance(frame, CommandReply):
                if frame.ok:
                    return
                raise CommandRejected(self.name, cmd, frame.code, frame.reason)
            self.stats.stale += 1  # stream frames keep coming meanwhile

    # -- plumbing ----------------------------------------------------------------

    def _ours(self, line: bytes) -> Frame | None:
        """Parse a line; None (counted) when it comes from another address."""
        frame = self._lines.parse(line)
        if self.config.address is not None and frame.address != self.config.address:
            self.stats.foreign += 1
            return None
        return frame

    def _send(self, cmd: str) -> None:
        self._lines.send(encode_command(cmd, self.config.address), what=repr(cmd))

    def _read_line(self, deadline: float) -> bytes:
        return self._lines.read_line(deadline, self._silence())

    def _silence(self) -> str:
        source = "" if self.config.address is None else f" from address {self.config.address}"
        text = f"nothing{source} within {self.config.timeout_s} s"
        if self.stats.foreign:
            text += f" ({self.stats.foreign} frames from other addresses skipped so far)"
        return text
