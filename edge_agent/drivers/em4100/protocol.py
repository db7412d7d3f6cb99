"""EM4100 tag frames as sent by RDM6300-class 125 kHz readers.

Pure protocol: bytes in, tag ids out, no I/O. The reader only transmits; while
a tag is in the field it repeats one 14-byte frame:

    0x02 | 10 ASCII hex digits | 2 ASCII hex digits | 0x03
    STX  | version/customer byte + 32-bit tag id | XOR of the 5 data bytes | ETX

Neither STX nor ETX can occur inside a frame (the body is ASCII hex), so the
decoder resynchronises on the next STX after anything unexpected. Ghost reads
(noise that happens to pass the XOR) cannot be told apart from real reads here;
the agent requires repeated sightings before it counts a tag as present.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Final

from edge_agent.errors import FrameError

STX: Final = 0x02
ETX: Final = 0x03
FRAME_BYTES: Final = 14
TAG_HEX_DIGITS: Final = 10  # version/customer byte + 32-bit id

_HEX_BYTES: Final = frozenset(string.hexdigits.encode("ascii"))


def checksum(data: bytes) -> int:
    """XOR of the data bytes (the five bytes a frame's ten hex digits encode)."""
    result = 0
    for byte in data:
        result ^= byte
    return result


def encode_frame(tag_id: str) -> bytes:
    """The 14-byte frame a reader sends for `tag_id` (10 hex digits, either case).

    Raises `ValueError` for anything but 10 hex digits.
    """
    if len(tag_id) != TAG_HEX_DIGITS or not set(tag_id.encode("utf-8")) <= _HEX_BYTES:
        raise ValueError(f"an EM4100 tag id is {TAG_HEX_DIGITS} hex digits, got {tag_id!r}")
    text = tag_id.upper()
    check = checksum(bytes.fromhex(text))
    return bytes([STX]) + f"{text}{check:02X}".encode("ascii") + bytes([ETX])


def decode_frame(frame: bytes) -> str:
    """The tag id (10 upper-case hex digits) of one complete frame.

    Raises `FrameError` for a wrong length, missing STX/ETX, a non-hex digit
    or a checksum mismatch. Lower-case hex digits are accepted.
    """
    if len(frame) != FRAME_BYTES:
        raise FrameError(f"EM4100 frame of {len(frame)} bytes, expected {FRAME_BYTES}: {frame!r}")
    if frame[0] != STX or frame[-1] != ETX:
        raise FrameError(f"EM4100 frame does not start with STX and end with ETX: {frame!r}")
    body = frame[1:-1]
    bad = next((b for b in body if b not in _HEX_BYTES), None)
    if bad is not None:
        raise FrameError(f"non-hex byte 0x{bad:02x} in EM4100 frame {frame!r}")
    raw = bytes.fromhex(body.decode("ascii"))
    data, sent = raw[:5], raw[5]
    expected = checksum(data)
    if sent != expected:
        raise FrameError(
            f"EM4100 checksum mismatch in {frame!r}: sent 0x{sent:02X}, computed 0x{expected:02X}"
        )
    return data.hex().upper()


@dataclass(slots=True)
class DecoderStats:
    """Counters of one decoder since it was created."""

    frames: int = 0  # frames that decoded
    bad_checksum: int = 0  # complete frames whose XOR did not match
    truncated: int = 0  # frames cut short by a new STX or an early ETX
    malformed: int = 0  # frames with a non-hex byte or no ETX at the end
    garbage_bytes: int = 0  # bytes outside any frame

    @property
    def bad_frames(self) -> int:
        """Every frame that did not decode."""
        return self.bad_checksum + self.truncated + self.malformed


class Em4100Decoder:
    """Incremental decoder: feed it bytes as they arrive, in chunks of any size.

    A partial frame at the end of a chunk is kept for the next `feed`. Memory
    is bounded: at most one frame is buffered.
    """

    def __init__(self) -> None:
        self.stats = DecoderStats()
        self._frame = bytearray()  # the frame being collected, starting with STX

    def reset(self) -> None:
        """Drop a partially received frame (e.g. after reopening the port); not counted."""
        self._frame.clear()

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame waiting for more input."""
        return len(self._frame)

    def feed(self, data: bytes) -> tuple[list[str], list[FrameError]]:
        """Decode what `data` completes: tag ids in order (repeats included)
        and one `FrameError` per bad frame or run of garbage bytes."""
        tags: list[str] = []
        errors: list[FrameError] = []
        garbage = 0
        for byte in data:
            if not self._frame:
                if byte == STX:
                    self._garbage(garbage, errors)
                    garbage = 0
                    self._frame.append(byte)
                else:
                    garbage += 1
                continue
            if byte == STX:
                # A new frame starts before this one ended: bytes were lost on
                # the line. Drop the old frame and collect the new one.
                self.stats.truncated += 1
                errors.append(FrameError(f"EM4100 frame cut short: {bytes(self._frame)!r}"))
                self._frame = bytearray([STX])
                continue
            self._frame.append(byte)
            frame = bytes(self._frame)
            if len(frame) < FRAME_BYTES and byte in _HEX_BYTES:
                continue
            self._frame.clear()
            if len(frame) < FRAME_BYTES and byte == ETX:
                self.stats.truncated += 1
                errors.append(FrameError(f"EM4100 frame ended early: {frame!r}"))
            elif byte != ETX:
                # A non-hex byte inside, or no ETX where it belongs; what
                # follows up to the next STX counts as garbage.
                self.stats.malformed += 1
                errors.append(FrameError(f"malformed EM4100 frame (byte 0x{byte:02x}): {frame!r}"))
            else:
                try:
                    tags.append(decode_frame(frame))
                except FrameError as exc:  # complete and well-formed: only the XOR can fail
                    self.stats.bad_checksum += 1
                    errors.append(exc)
                else:
                    self.stats.frames += 1
        self._garbage(garbage, errors)
        return tags, errors

    def _garbage(self, count: int, errors: list[FrameError]) -> None:
        if count:
            self.stats.garbage_bytes += count
            errors.append(FrameError(f"{count} garbage byte(s) outside EM4100 frames"))
