"""Chafon CF-RU5102-class UHF readers (the "UHFReader18" binary protocol).

Pure protocol: bytes in, typed values out, no I/O. The driver adapts it to a
serial port; the emulator in `firmware_sim` speaks the same protocol.

    command:  Len Adr Cmd Data... CRC-LSB CRC-MSB
    response: Len Adr reCmd Status Data... CRC-LSB CRC-MSB

`Len` counts the bytes after itself. The CRC is CRC-16/MCRF4XX over `Len`
through the last data byte (reflected polynomial 0x8408, init 0xFFFF, no final
XOR), sent low byte first. Frames carry no start marker, so a byte stream is
split by `Len` and the CRC is what tells a frame from noise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from types import MappingProxyType
from typing import Final

from edge_agent.errors import FrameError

BROADCAST: Final = 0xFF
MIN_RESPONSE_BYTES: Final = 6  # Len Adr reCmd Status CRC CRC
MAX_FRAME_BYTES: Final = 256  # Len is one byte
#: Data bytes one command frame can carry (Len <= 255 counts Adr, Cmd and CRC too).
MAX_COMMAND_DATA: Final = 255 - 4


class Command(IntEnum):
    """Command codes the driver uses."""

    INVENTORY = 0x01
    READER_INFO = 0x21
    SCAN_TIME = 0x25
    POWER = 0x2F


class Status(IntEnum):
    """The status byte of a response (UHFReader18 manual, "command execution result")."""

    OK = 0x00
    INVENTORY_DONE = 0x01  # inventory finished within the scan time
    INVENTORY_TIMEOUT = 0x02  # scan time ran out; the data holds the tags read so far
    MORE_FRAMES = 0x03  # more frames of this response follow
    BUFFER_FULL = 0x04  # too many tags for the reader's buffer; partial data
    COMMAND_FAILED = 0xF9
    POOR_COMMUNICATION = 0xFA  # tags answer, but not cleanly
    NO_TAG = 0xFB
    TAG_ERROR = 0xFC
    LENGTH_ERROR = 0xFD
    ILLEGAL_COMMAND = 0xFE  # unknown command, or the command's CRC was wrong
    PARAMETER_ERROR = 0xFF


STATUS_REASONS: Final[Mapping[int, str]] = MappingProxyType(
    {
        Status.OK: "ok",
        Status.INVENTORY_DONE: "inventory done",
        Status.INVENTORY_TIMEOUT: "inventory cut short by the scan time",
        Status.MORE_FRAMES: "more frames follow",
        Status.BUFFER_FULL: "inventory cut short: too many tags for the reader's buffer",
        Status.COMMAND_FAILED: "the command failed",
        Status.POOR_COMMUNICATION: "tags are there but communication with them is poor",
        Status.NO_TAG: "no tag",
        Status.TAG_ERROR: "a tag returned an error",
        Status.LENGTH_ERROR: "command length error",
        Status.ILLEGAL_COMMAND: "illegal command or command CRC error",
        Status.PARAMETER_ERROR: "parameter error",
    }
)

#: Statuses whose inventory data is `Num` then `Num` x (length, EPC).
INVENTORY_DATA_STATUSES: Final = frozenset(
    {
        Status.OK,
        Status.INVENTORY_DONE,
        Status.INVENTORY_TIMEOUT,
        Status.MORE_FRAMES,
        Status.BUFFER_FULL,
    }
)


def status_reason(status: int) -> str:
    """What a status byte means, for messages; unknown codes say so."""
    return STATUS_REASONS.get(status, f"unknown status 0x{status:02X}")


@dataclass(frozen=True, slots=True)
class Response:
    """One response frame, CRC checked."""

    address: int
    command: int  # reCmd: the command this answers
    status: int
    data: bytes


@dataclass(frozen=True, slots=True)
class ReaderInfo:
    """The answer to `0x21` (get reader information)."""

    version: tuple[int, int]  # firmware major, minor
    reader_type: int
    protocols: int  # bit 1: ISO 18000-6C (EPC Gen2), bit 0: ISO 18000-6B
    max_frequency: int  # raw byte: bits 7-6 band, bits 5-0 highest channel
    min_frequency: int  # raw byte: bits 7-6 band, bits 5-0 lowest channel
    power_dbm: int
    scan_time_ds: int  # inventory scan time in units of 100 ms

    @property
    def supports_gen2(self) -> bool:
        """True when the reader speaks ISO 18000-6C (EPC Class 1 Gen 2)."""
        return bool(self.protocols & 0b10)


def crc16_mcrf4xx(data: bytes) -> int:
    """CRC-16/MCRF4XX: reflected polynomial 0x8408, init 0xFFFF, no final XOR."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc


def _with_crc(body: bytes) -> bytes:
    return body + crc16_mcrf4xx(body).to_bytes(2, "little")


def encode_command(adr: int, cmd: int, data: bytes = b"") -> bytes:
    """A command frame: `Len Adr Cmd Data CRC`. Raises `ValueError` when a field
    does not fit (address or command outside 0-255, data over 251 bytes)."""
    if not 0 <= adr <= 0xFF or not 0 <= cmd <= 0xFF:
        raise ValueError(f"address 0x{adr:X} and command 0x{cmd:X} must each fit in one byte")
    if len(data) > MAX_COMMAND_DATA:
        raise ValueError(f"command data of {len(data)} bytes exceeds {MAX_COMMAND_DATA}")
    return _with_crc(bytes([len(data) + 4, adr, cmd]) + data)


def encode_response(adr: int, cmd: int, status: int, data: bytes = b"") -> bytes:
    """A response frame `Len Adr reCmd Status Data CRC` (for tests and recordings)."""
    if not all(0 <= v <= 0xFF for v in (adr, cmd, status)):
        raise ValueError("address, command and status must each fit in one byte")
    if len(data) > MAX_COMMAND_DATA - 1:
        raise ValueError(f"response data of {len(data)} bytes exceeds {MAX_COMMAND_DATA - 1}")
    return _with_crc(bytes([len(data) + 5, adr, cmd, status]) + data)


def parse_response(frame: bytes) -> Response:
    """Parse one complete response frame. Raises `FrameError` when it is too
    short, its `Len` does not match its size, or the CRC is wrong."""
    if len(frame) < MIN_RESPONSE_BYTES:
        raise FrameError(f"response of {len(frame)} bytes is shorter than {MIN_RESPONSE_BYTES}")
    if frame[0] != len(frame) - 1:
        raise FrameError(f"response Len {frame[0]} does not match its {len(frame) - 1} bytes")
    sent = int.from_bytes(frame[-2:], "little")
    computed = crc16_mcrf4xx(frame[:-2])
    if sent != computed:
        raise FrameError(f"response CRC 0x{sent:04X} != computed 0x{computed:04X}: {frame.hex()}")
    return Response(address=frame[1], command=frame[2], status=frame[3], data=bytes(frame[4:-2]))


def parse_inventory(data: bytes) -> list[bytes]:
    """The EPCs in an inventory response's data: `Num`, then `Num` x (length, EPC).

    The length is in bytes. Raises `FrameError` when the data is empty, ends
    inside an EPC, or has bytes left over.
    """
    if not data:
        raise FrameError("inventory data is empty (no tag count)")
    count, pos = data[0], 1
    epcs: list[bytes] = []
    for index in range(count):
        if pos >= len(data):
            raise FrameError(f"inventory data ends before EPC {index + 1} of {count}")
        size = data[pos]
        epc = data[pos + 1 : pos + 1 + size]
        if size == 0 or len(epc) != size:
            raise FrameError(f"inventory EPC {index + 1} of {count}: bad length {size}")
        epcs.append(bytes(epc))
        pos += 1 + size
    if pos != len(data):
        raise FrameError(f"{len(data) - pos} byte(s) left over after {count} EPC(s)")
    return epcs


def encode_inventory(epcs: list[bytes]) -> bytes:
    """Inventory response data for `epcs` (the inverse of `parse_inventory`)."""
    if len(epcs) > 0xFF or any(not 0 < len(epc) <= 0xFF for epc in epcs):
        raise ValueError("at most 255 EPCs of 1 to 255 bytes each")
    return bytes([len(epcs)]) + b"".join(bytes([len(epc)]) + epc for epc in epcs)


def parse_reader_info(data: bytes) -> ReaderInfo:
    """The data of a `0x21` response: version (2), type, protocols, max and min
    frequency, power, scan time. Raises `FrameError` for any other length."""
    if len(data) != 8:
        raise FrameError(f"reader information of {len(data)} bytes, expected 8")
    return ReaderInfo(
        version=(data[0], data[1]),
        reader_type=data[2],
        protocols=data[3],
        max_frequency=data[4],
        min_frequency=data[5],
        power_dbm=data[6],
        scan_time_ds=data[7],
    )


@dataclass(slots=True)
class SplitterStats:
    """Counters of one frame splitter since it was created."""

    frames: int = 0  # frames with a good CRC
    bad_crc: int = 0  # candidate frames whose CRC failed
    garbage_bytes: int = 0  # bytes skipped while resynchronising


class FrameSplitter:
    """Splits a stream of responses into CRC-checked frames by their `Len` byte.

    When the candidate at the head of the buffer fails its CRC (or its `Len` is
    impossible) the splitter drops one byte and tries again, so it finds the
    next good frame after noise. Noise whose first byte claims a long frame
    stalls the split until that many bytes arrive; `flush()`, called when the
    line has gone quiet, rescans what is left without waiting.
    """

    def __init__(self) -> None:
        self.stats = SplitterStats()
        self._buf = bytearray()

    @property
    def pending(self) -> int:
        """Bytes held back, waiting for the rest of a frame."""
        return len(self._buf)

    def reset(self) -> None:
        """Drop held-back bytes (before a new command); not counted."""
        self._buf.clear()

    def feed(self, data: bytes) -> list[bytes]:
        """Add bytes; return the complete frames they finish, in order."""
        self._buf += data
        return self._split(final=False)

    def flush(self) -> list[bytes]:
        """Rescan the held-back bytes as if no more will come: return any good
        frames inside them and count the rest as garbage."""
        return self._split(final=True)

    def _split(self, *, final: bool) -> list[bytes]:
        frames: list[bytes] = []
        buf = self._buf
        # Bounded: every pass removes at least one byte or stops.
        while buf:
            size = buf[0] + 1
            if size < MIN_RESPONSE_BYTES:  # Len below the shortest response
                self._skip(1)
                continue
            if len(buf) < size:
                if not final:
                    break
                self._skip(1)  # the line went quiet: this Len was noise
                continue
            frame = bytes(buf[:size])
            if crc16_mcrf4xx(frame[:-2]) != int.from_bytes(frame[-2:], "little"):
                self.stats.bad_crc += 1
                self._skip(1)
                continue
            del buf[:size]
            self.stats.frames += 1
            frames.append(frame)
        return frames

    def _skip(self, count: int) -> None:
        del self._buf[:count]
        self.stats.garbage_bytes += count
