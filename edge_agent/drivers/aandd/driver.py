"""A&D balance driver: the protocol adapted to a serial port with pyserial.

Stream mode: the balance sends about ten frames a second whether asked or not.
A read flushes the input, throws away the first line (the flush may have cut
a frame in half, and a tail such as `3.45  g` must never pass for a weight),
and returns the next complete frame, so every weight is fresh, never one that
sat in a buffer. Request mode: `Q` is sent after a flush and the reply read.

Control commands (`T`, `R`/`Z`) are confirmed by the balance's two `<AK>`
replies when its "AK, error code" function is on; otherwise by watching the
display come back to a stable zero, which is what both commands do.
"""

from __future__ import annotations

import time
from typing import Literal

from pydantic import Field

from edge_agent.drivers.aandd.protocol import (
    MAX_FRAME_BYTES,
    TERMINATOR,
    Acknowledge,
    ErrorReply,
    Frame,
    NonWeightFrame,
    OutOfRangeFrame,
    WeightFrame,
    encode_command,
    parse_frame,
)
from edge_agent.drivers.base import FrameStats, WeightSample
from edge_agent.drivers.serial_port import NoLine, SerialDriver, SerialLink
from edge_agent.drivers.serial_settings import SerialSettings
from edge_agent.drivers.serial_text import TextLines, poll_until, wait_for_stable
from edge_agent.errors import CommandRejected, DeviceFault, FrameError, WeightOutOfRange

#: Pause between `Q` polls while waiting for a stable or zero weight, so a
#: waiting driver does not flood a balance at 2400 baud.
_POLL_GAP_S = 0.05
#: Control commands answer `<AK>` on receipt and again when done.
_ACKS_PER_CONTROL = 2


class AandDConfig(SerialSettings):
    """Settings of one A&D balance (the driver's part of a `[[scales]]` entry).

    The serial defaults are A&D's factory settings (2400 baud, 7 data bits,
    even parity, 1 stop bit).
    """

    type: Literal["aandd"]
    baudrate: int = 2400
    bytesize: int = 7
    parity: str = "E"
    stopbits: float = 1
    mode: Literal["stream", "request"] = Field(
        default="stream",
        description="stream: the balance sends continuously; request: send Q, read the reply",
    )
    acknowledge: bool = Field(
        default=False,
        description="the balance's 'AK, error code' function is on: confirm T/R/Z by <AK>",
    )
    zero_command: Literal["R", "Z"] = Field(
        default="R", description="R (RE-ZERO) on every A&D balance; Z on newer ones"
    )
    timeout_s: float = Field(default=1.0, gt=0, allow_inf_nan=False)


class BalanceFault(DeviceFault):
    """The balance answers but shows no weight: counting pieces (`QT`, `PC`)
    or percent. A person must put it back into weighing mode; retrying the
    connection will not help."""

    def __init__(self, port: str, code: str, reason: str) -> None:
        super().__init__(port, code, reason, device="balance")


class AandDScale(SerialDriver):
    """An A&D balance on a serial port.

    Implements `edge_agent.drivers.base.WeightDriver`. Not thread-safe: one
    poller owns a balance.
    """

    def __init__(self, config: AandDConfig) -> None:
        self.config = config
        self.name = config.port
        self.stats = FrameStats()
        self._link = SerialLink(config, timeout_s=config.timeout_s, stats=self.stats)
        self._lines = TextLines(
            self._link, parse_frame, max_bytes=MAX_FRAME_BYTES, end=TERMINATOR, stats=self.stats
        )

    # -- WeightDriver ----------------------------------------------------------

    def read_weight(self) -> WeightSample:
        """Return a fresh weight, stable (`ST`) or not (`US`), in grams.

        Raises `WeightOutOfRange` on `OL`, `BalanceFault` on a count or
        percentage, `CommandRejected` on `EC,Exx` (request mode), `FrameError`
        on a garbage line (counted; the next call works) and
        `DeviceUnavailable` when the port fails or no frame arrives in time.
        """
        return self._weight(time.monotonic() + self.config.timeout_s)

    def tare(self) -> float:
        """Tare (`T`) and return the tare in grams: the stable weight shown
        just before (the gross weight unless a tare was already active).

        Raises `CommandRejected` when no stable weight comes, the balance
        refuses (`EC,E11`: unstable) or does not confirm within `timeout_s`;
        `WeightOutOfRange` and `BalanceFault` as `read_weight()` does.
        """
        before = wait_for_stable(
            self._weight,
            timeout_s=self.config.timeout_s,
            pause_s=self._poll_gap_s,
            name=self.name,
            command="T",
        )
        self._control("T")
        return before.grams

    def zero(self) -> None:
        """Re-zero (`R`, or `Z` as configured); clears a tare on A&D balances.

        Raises `CommandRejected` when the balance refuses or does not confirm.
        """
        self._control(self.config.zero_command)

    # -- reading ---------------------------------------------------------------

    def _data_frame(self, deadline: float) -> WeightFrame | NonWeightFrame | OutOfRangeFrame:
        if self.config.mode == "stream":
            self._lines.skip_partial(deadline, self._silence)
        else:
            self._send("Q")
        while True:
            frame = self._lines.read(deadline, self._silence)
            if isinstance(frame, ErrorReply):
                if self.config.mode == "request":
                    raise CommandRejected(self.name, "Q", frame.code, frame.reason)
                self.stats.stale += 1  # a late answer to some earlier command
            elif isinstance(frame, Acknowledge):
                self.stats.stale += 1
            else:
                self.stats.ok += 1
                return frame

    def _weight(self, deadline: float) -> WeightSample:
        return self._sample(self._data_frame(deadline))

    def _sample(self, frame: WeightFrame | NonWeightFrame | OutOfRangeFrame) -> WeightSample:
        if isinstance(frame, WeightFrame):
            return WeightSample(grams=frame.grams, stable=frame.stable)
        if isinstance(frame, OutOfRangeFrame):
            raise WeightOutOfRange(self.name, frame.direction)
        raise BalanceFault(self.name, f"{frame.header.value} {frame.unit}", frame.reason)

    # -- control commands --------------------------------------------------------

    def _control(self, cmd: str) -> None:
        deadline = time.monotonic() + self.config.timeout_s
        self._send(cmd)
        if self.config.acknowledge:
            self._await_acks(cmd, deadline)
        else:
            self._await_zero_display(cmd, deadline)

    def _await_acks(self, cmd: str, deadline: float) -> None:
        acks = 0
        heard = False
        while acks < _ACKS_PER_CONTROL:
            try:
                line = self._lines.read_line(deadline, self._silence)
            except NoLine:
                if acks:
                    detail = f"acknowledged but not completed within {self.config.timeout_s} s"
                    raise CommandRejected(self.name, cmd, "AK", detail) from None
                if heard:
                    detail = "no <AK> although the balance is sending; is 'AK, error code' on?"
                    raise CommandRejected(self.name, cmd, "no AK", detail) from None
                raise
            heard = True
            try:
                frame = self._lines.parse(line)
            except FrameError:
                continue  # counted; the acknowledgement may still come
            if isinstance(frame, Acknowledge):
                acks += 1
            elif isinstance(frame, ErrorReply):
                raise CommandRejected(self.name, cmd, frame.code, frame.reason)
            else:
                self.stats.stale += 1  # stream frames keep coming meanwhile

    def _await_zero_display(self, cmd: str, deadline: float) -> None:
        # Without <AK> the balance says nothing; T and R/Z both bring the
        # display to zero once the weight is stable, so wait for that.
        zero = poll_until(self._data_frame, _stable_zero, deadline, pause_s=self._poll_gap_s)
        if zero is not None:
            return
        detail = (
            f"no stable zero shown within {self.config.timeout_s} s "
            "(unstable, outside the zero range, or the command was ignored)"
        )
        raise CommandRejected(self.name, cmd, "not zero", detail)

    # -- plumbing ---------------------------------------------------------------------

    @property
    def _poll_gap_s(self) -> float:
        """The pause between `Q` polls while waiting; none in stream mode."""
        return _POLL_GAP_S if self.config.mode == "request" else 0.0

    @property
    def _silence(self) -> str:
        return f"no frame within {self.config.timeout_s} s"

    def _send(self, cmd: str) -> None:
        self._lines.send(encode_command(cmd), what=repr(cmd))


def _stable_zero(frame: Frame) -> bool:
    return isinstance(frame, WeightFrame) and frame.stable and frame.value == 0
