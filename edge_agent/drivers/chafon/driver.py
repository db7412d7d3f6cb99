"""Chafon CF-RU5102-class UHF reader driver: the binary protocol over pyserial.

One command, then its response frames. Before each command the input buffer
is flushed, so a late answer to an earlier, timed-out command cannot be taken
for this one (frames answering another command are skipped and counted). An
inventory answer may span several frames (status 0x03 until the last); the
round is only trusted when no noise or corrupt frame appeared during it, since
a lost frame would otherwise look like tags leaving the shelf.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Literal, Self

from pydantic import Field, model_validator

from edge_agent.drivers.base import FrameStats, TagRead
from edge_agent.drivers.chafon.protocol import (
    BROADCAST,
    INVENTORY_DATA_STATUSES,
    Command,
    FrameSplitter,
    ReaderInfo,
    Response,
    SplitterStats,
    Status,
    encode_command,
    parse_inventory,
    parse_reader_info,
    parse_response,
    status_reason,
)
from edge_agent.drivers.serial_port import SerialDriver, SerialLink
from edge_agent.drivers.serial_settings import SerialSettings
from edge_agent.errors import CommandRejected, DeviceUnavailable, FrameError

#: Bytes taken per read at most; frames are 256 bytes at most.
_READ_CHUNK = 1024
#: Silence after which held-back bytes cannot be the rest of a frame: at
#: 57600 baud a whole 256-byte frame takes 45 ms.
_QUIET_S = 0.1

_NAMES: dict[int, str] = {
    Command.INVENTORY: "0x01 inventory",
    Command.READER_INFO: "0x21 reader info",
    Command.SCAN_TIME: "0x25 scan time",
    Command.POWER: "0x2F power",
}


class ChafonConfig(SerialSettings):
    """Settings of one CF-RU5102-class reader (the driver's part of a `[[readers]]` entry)."""

    type: Literal["chafon"]
    baudrate: int = 57600
    address: int = Field(
        default=BROADCAST, ge=0, le=0xFF, description="reader address; 255 reaches any reader"
    )
    timeout_s: float = Field(
        default=2.0,
        gt=0,
        allow_inf_nan=False,
        description="seconds to wait for a response; must exceed the reader's scan time",
    )
    scan_time_ds: int | None = Field(
        default=None, ge=3, le=255, description="set the inventory scan time (x 100 ms) at open"
    )
    power_dbm: int | None = Field(
        default=None, ge=0, le=30, description="set the RF output power (dBm) at open"
    )

    @model_validator(mode="after")
    def _timeout_covers_scan_time(self) -> Self:
        if self.scan_time_ds is not None and self.timeout_s <= self.scan_time_ds / 10:
            raise ValueError(
                f"timeout_s {self.timeout_s} must exceed the scan time "
                f"{self.scan_time_ds / 10:g} s (scan_time_ds {self.scan_time_ds})"
            )
        return self


@dataclass(slots=True)
class ReaderStats(FrameStats):
    """Counters of one reader's responses and inventory rounds: `ok` good
    responses to the command sent, `bad` FrameErrors raised, `stale` good
    frames answering another command (skipped), `timeouts` commands with no
    response within `timeout_s`."""

    rounds: int = 0  # inventory rounds answered (with or without tags)
    partial_rounds: int = 0  # rounds the reader cut short (0x02 scan time, 0x04 buffer full)
    corrupt_rounds: int = 0  # rounds dropped for noise or a bad frame (FrameError raised)


class ChafonReader(SerialDriver):
    """A Chafon CF-RU5102 (UHFReader18 protocol) UHF reader on a serial port.

    Implements `edge_agent.drivers.base.TagDriver`. Not thread-safe: one
    poller owns a reader.
    """

    def __init__(self, config: ChafonConfig) -> None:
        self.config = config
        self.name = config.port
        self.stats = ReaderStats()
        self.splitter = FrameSplitter()
        self._frames: deque[bytes] = deque()
        self._link = SerialLink(config, timeout_s=config.timeout_s)
        self._last_rx = 0.0

    @property
    def frame_stats(self) -> SplitterStats:
        """Frame counters: good frames, bad CRCs, garbage bytes."""
        return self.splitter.stats

    def open(self) -> None:
        """Open the port and apply `scan_time_ds` / `power_dbm` when configured.

        Raises `DeviceUnavailable` when the port cannot be opened or the reader
        does not answer, `CommandRejected` when it refuses a setting (the port
        is closed again in both cases). Opening an open reader does nothing.
        """
        if self.is_open:
            return
        super().open()
        cfg = self.config
        try:
            if cfg.scan_time_ds is not None:
                self.set_scan_time(cfg.scan_time_ds)
            if cfg.power_dbm is not None:
                self.set_power(cfg.power_dbm)
        except BaseException:
            self.close()
            raise

    # -- commands ------------------------------------------------------------

    def read_tags(self) -> list[TagRead]:
        """One inventory round: every EPC the reader found, once, in order.

        [] on status 0xFB (no tag). Frames with status 0x03 are gathered until
        the last one. Raises `CommandRejected` on an error status (0xFE illegal
        command, 0xFF parameter error, ...), `FrameError` when noise or a
        corrupt or missing frame spoilt the round (counted; the next round may
        work) and `DeviceUnavailable` when nothing answers within `timeout_s`.
        """
        cmd = Command.INVENTORY
        deadline = self._send(cmd)
        noise_before = self._noise()
        epcs: dict[bytes, None] = {}  # ordered set
        frames = 0
        while True:
            reply = self._receive(cmd, deadline)
            if reply is None:
                raise self._no_reply(cmd, noise_before, partial=frames > 0)
            frames += 1
            if reply.status == Status.NO_TAG:
                break
            if reply.status not in INVENTORY_DATA_STATUSES:
                raise self._rejected(cmd, reply)
            try:
                epcs.update(dict.fromkeys(parse_inventory(reply.data)))
            except FrameError as exc:
                raise self._spoilt(cmd, f"bad inventory data: {exc}") from exc
            if reply.status == Status.MORE_FRAMES:
                continue
            if reply.status in (Status.INVENTORY_TIMEOUT, Status.BUFFER_FULL):
                self.stats.partial_rounds += 1
            break
        if self._noise() != noise_before:
            raise self._spoilt(cmd, "noise on the line during an inventory round")
        self.stats.rounds += 1
        return [TagRead(tag_id=epc.hex().upper()) for epc in epcs]

    def reader_info(self) -> ReaderInfo:
        """Ask for the reader's version, type, band, power and scan time (`0x21`)."""
        return parse_reader_info(self._expect_ok(Command.READER_INFO).data)

    def set_scan_time(self, deciseconds: int) -> None:
        """Set the longest inventory round (`0x25`), in units of 100 ms (3 to 255).

        Keep `timeout_s` above it. Raises `ValueError` when out of range.
        """
        if not 3 <= deciseconds <= 255:
            raise ValueError(f"scan time must be 3 to 255 (x 100 ms), got {deciseconds}")
        self._expect_ok(Command.SCAN_TIME, bytes([deciseconds]))

    def set_power(self, dbm: int) -> None:
        """Set the RF output power (`0x2F`), 0 to 30 dBm. Raises `ValueError` when out of range."""
        if not 0 <= dbm <= 30:
            raise ValueError(f"power must be 0 to 30 dBm, got {dbm}")
        self._expect_ok(Command.POWER, bytes([dbm]))

    def query(self, cmd: int, data: bytes = b"") -> Response:
        """Send any command; return its first response frame, status unchecked.

        For diagnostics. Raises `FrameError` / `DeviceUnavailable` when no
        valid frame answers within `timeout_s`.
        """
        deadline = self._send(cmd, data)
        noise_before = self._noise()
        reply = self._receive(cmd, deadline)
        if reply is None:
            raise self._no_reply(cmd, noise_before, partial=False)
        return reply

    # -- plumbing ------------------------------------------------------------

    def _expect_ok(self, cmd: Command, data: bytes = b"") -> Response:
        reply = self.query(cmd, data)
        if reply.status != Status.OK:
            raise self._rejected(cmd, reply)
        return reply

    def _send(self, cmd: int, data: bytes = b"") -> float:
        """Flush stale input, send one command; return its response deadline."""
        self._link.flush_input()
        self._link.write(encode_command(self.config.address, cmd, data), what=_name(cmd))
        self.splitter.reset()
        self._frames.clear()
        self._last_rx = time.monotonic()
        return self._last_rx + self.config.timeout_s

    def _receive(self, cmd: int, deadline: float) -> Response | None:
        """The next good frame answering `cmd`, or None at the deadline."""
        address = self.config.address
        # Bounded: each pass consumes a queued frame or blocks one read slice
        # at most, and the deadline ends it.
        while True:
            while self._frames:
                reply = parse_response(self._frames.popleft())  # the splitter checked it
                if reply.command != cmd or address not in (BROADCAST, reply.address):
                    self.stats.stale += 1
                    continue
                self.stats.ok += 1
                return reply
            if time.monotonic() >= deadline:
                return None
            data = self._link.read(_READ_CHUNK, deadline)
            now = time.monotonic()
            if data:
                self._last_rx = now
                self._frames.extend(self.splitter.feed(data))
            elif self.splitter.pending and now - self._last_rx >= _QUIET_S:
                self._frames.extend(self.splitter.flush())

    def _noise(self) -> tuple[int, int]:
        stats = self.splitter.stats
        return stats.bad_crc, stats.garbage_bytes

    def _no_reply(
        self, cmd: int, noise_before: tuple[int, int], *, partial: bool
    ) -> FrameError | DeviceUnavailable:
        within = f"within {self.config.timeout_s} s"
        if self.splitter.pending:
            self.splitter.flush()  # count what was held back as the garbage it is
        if self._noise() != noise_before:
            return self._spoilt(cmd, f"only noise or corrupt frames for {_name(cmd)} {within}")
        if partial:
            return self._spoilt(cmd, f"{_name(cmd)} answer ended without its last frame")
        self.stats.timeouts += 1
        return DeviceUnavailable(f"{self.name}: no reply to {_name(cmd)} {within}")

    def _spoilt(self, cmd: int, text: str) -> FrameError:
        """Count a spoilt answer (a corrupt round for an inventory) and describe it."""
        self.stats.bad += 1
        if cmd == Command.INVENTORY:
            self.stats.corrupt_rounds += 1
        return FrameError(f"{self.name}: {text}")

    def _rejected(self, cmd: int, reply: Response) -> CommandRejected:
        return CommandRejected(
            self.name, _name(cmd), f"0x{reply.status:02X}", status_reason(reply.status)
        )


def _name(cmd: int) -> str:
    return _NAMES.get(cmd, f"0x{cmd:02X}")
