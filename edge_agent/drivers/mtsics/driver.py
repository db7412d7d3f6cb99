"""MT-SICS scale driver: the protocol adapted to a serial port with pyserial.

One command, one reply line. Before each command the input buffer is flushed,
so a late reply to an earlier, timed-out command or the tail of a noise burst
can never be taken for the answer to this one; that is how the driver recovers
from garbage without any resynchronisation state.
"""

from __future__ import annotations

import time
from typing import Literal

from pydantic import Field

from edge_agent.drivers.base import FrameStats, WeightSample
from edge_agent.drivers.mtsics.protocol import (
    MAX_FRAME_BYTES,
    TERMINATOR,
    DataResponse,
    ErrorReply,
    Response,
    Status,
    StatusResponse,
    WeightResponse,
    encode_command,
    parse_response,
    reply_echoes,
)
from edge_agent.drivers.serial_port import SerialDriver, SerialLink
from edge_agent.drivers.serial_settings import SerialSettings
from edge_agent.drivers.serial_text import TextLines
from edge_agent.errors import CommandRejected, WeightOutOfRange


class MtSicsConfig(SerialSettings):
    """Settings of one MT-SICS scale (the driver's part of a `[[scales]]` entry)."""

    type: Literal["mtsics"]
    command: Literal["SI", "S"] = Field(
        default="SI",
        description="SI answers at once (stable or dynamic); S waits for a stable weight",
    )
    timeout_s: float = Field(default=2.0, gt=0, allow_inf_nan=False)


class MtSicsScale(SerialDriver):
    """A Mettler Toledo MT-SICS balance or terminal on a serial port.

    Implements `edge_agent.drivers.base.WeightDriver`. Not thread-safe: one
    poller owns a scale.
    """

    def __init__(self, config: MtSicsConfig) -> None:
        self.config = config
        self.name = config.port
        self.stats = FrameStats()
        self._link = SerialLink(config, timeout_s=config.timeout_s, stats=self.stats)
        self._lines = TextLines(
            self._link, parse_response, max_bytes=MAX_FRAME_BYTES, end=TERMINATOR, stats=self.stats
        )

    def read_weight(self) -> WeightSample | None:
        """Send the configured command (`SI` or `S`) and return the weight.

        Returns a stable or dynamic `WeightSample`, or None when the scale is
        busy (`S I`, e.g. `S` found no stable weight in time). Raises
        `WeightOutOfRange` on `+`/`-`, `CommandRejected` on an error reply,
        `FrameError` on a garbage line (counted; the next call works) and
        `DeviceUnavailable` when the port fails or nothing answers in time.
        """
        cmd = self.config.command
        reply = self.query(cmd)
        if isinstance(reply, WeightResponse):
            return WeightSample(grams=reply.grams, stable=reply.stable)
        if isinstance(reply, StatusResponse):
            if reply.status is Status.BUSY:
                return None
            if reply.status is Status.OVERLOAD:
                raise WeightOutOfRange(self.name, "overload")
            if reply.status is Status.UNDERLOAD:
                raise WeightOutOfRange(self.name, "underload")
        raise self._rejected(cmd, reply)

    def tare(self) -> float:
        """Tare (`T`, waits for a stable weight); return the tare in grams.

        Later weights are net. Raises `CommandRejected` when the scale refuses
        (e.g. `T I`: no stable weight in time; `T +`: beyond the tare range).
        """
        reply = self.query("T")
        if isinstance(reply, WeightResponse) and reply.stable:
            return reply.grams
        raise self._rejected("T", reply)

    def zero(self) -> None:
        """Zero the scale (`Z`, waits for a stable weight; expects `Z A`).

        Raises `CommandRejected` when the scale refuses (`Z I`, `Z +`, `Z -`).
        """
        reply = self.query("Z")
        if isinstance(reply, StatusResponse) and reply.status is Status.DONE:
            return
        raise self._rejected("Z", reply)

    def query(self, cmd: str) -> Response:
        """Send any command and return its first reply line, parsed.

        Error replies (`ES`, ...) are returned, not raised. Further lines of a
        multi-line (`B`) reply are discarded by the next command's flush.
        Raises `FrameError` on garbage and `DeviceUnavailable` on I/O failure
        or timeout; `ValueError` if `cmd` is not a valid command.
        """
        self._lines.send(encode_command(cmd), what=repr(cmd))
        expected = reply_echoes(cmd)
        deadline = time.monotonic() + self.config.timeout_s
        silence = f"no reply to {cmd!r} within {self.config.timeout_s} s"
        # Bounded: every pass either returns, raises, or consumes a whole line
        # before the deadline.
        while True:
            reply = self._lines.read(deadline, silence)
            if isinstance(reply, ErrorReply) or reply.command in expected:
                self.stats.ok += 1
                return reply
            self.stats.stale += 1

    def _rejected(self, cmd: str, reply: Response) -> CommandRejected:
        if isinstance(reply, ErrorReply):
            return CommandRejected(self.name, cmd, reply.code.value, reply.reason)
        if isinstance(reply, StatusResponse):
            return CommandRejected(self.name, cmd, reply.status.value, reply.reason)
        if isinstance(reply, DataResponse):
            detail = f"unexpected data {reply.values!r}"
            return CommandRejected(self.name, cmd, reply.status.value, detail)
        state = "stable" if reply.stable else "dynamic"
        return CommandRejected(self.name, cmd, state, f"unexpected {state} weight reply")
