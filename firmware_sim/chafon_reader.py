"""An emulated Chafon CF-RU5102 UHF reader (UHFReader18 protocol) on a pseudo-terminal.

Answers binary command frames `Len Adr Cmd Data CRC` with response frames
`Len Adr reCmd Status Data CRC` (CRC-16/MCRF4XX, low byte first):

- `0x01` inventory: the tags in the field, as many per frame as fit (or
  `tags_per_frame`), every frame but the last with status 0x03, the last 0x01;
  status 0xFB when the field is empty.
- `0x21` reader info, `0x25` scan time (3-255), `0x2F` power (0 to
  `max_power_dbm`); out-of-range parameters get 0xFF.
- Unknown commands and commands with a bad CRC get 0xFE.
- Commands for another address are ignored (0xFF reaches every reader).

Faults, drawn from one seeded generator: a whole response dropped (as when the
reader missed the command), and per frame noise bytes before it (the frame
still follows) or a corrupted CRC. `fail()` makes it silent. The framing and
CRC are written out here, independently of `edge_agent.drivers.chafon.protocol`,
so the tests check one against the other.
"""

from __future__ import annotations

import math
import time

from firmware_sim.pty_device import PtyDevice

_COMMAND_GAP_S = 0.2  # a partial command older than this is noise; drop it
_MAX_DATA = 250  # Len is one byte and counts Adr, reCmd, Status and the CRC too

INVENTORY = 0x01
READER_INFO = 0x21
SCAN_TIME = 0x25
POWER = 0x2F


def crc16(data: bytes) -> int:
    """CRC-16/MCRF4XX (reflected 0x8408, init 0xFFFF, no final XOR)."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc


def response_frame(adr: int, cmd: int, status: int, data: bytes = b"") -> bytes:
    """A response frame with its CRC."""
    body = bytes([len(data) + 5, adr, cmd, status]) + data
    return body + crc16(body).to_bytes(2, "little")


class ChafonEmulator(PtyDevice):
    """A CF-RU5102 on a pty. Use as a context manager or start()/stop().

    Fault probabilities, `tags_per_frame` and `inventory_time_s` may be
    changed while running.
    """

    def __init__(
        self,
        *,
        address: int = 0x00,
        tags_per_frame: int | None = None,
        inventory_time_s: float = 0.0,
        power_dbm: int = 30,
        max_power_dbm: int = 30,
        scan_time_ds: int = 10,
        inventory_error: int | None = None,
        version: tuple[int, int] = (3, 1),
        reader_type: int = 0x08,
        garbage_probability: float = 0.0,
        drop_probability: float = 0.0,
        bad_crc_probability: float = 0.0,
        seed: int = 0,
    ) -> None:
        """`tags_per_frame`: most EPCs per inventory frame (default: as many as
        fit in 250 data bytes). `inventory_time_s`: how long an inventory takes
        before the first frame. `max_power_dbm`: higher power settings get
        0xFF (some models stop below 30). `inventory_error`: answer every
        inventory with this status (e.g. 0xFA), no data. `garbage_probability`: noise bytes go out
        before a response frame. `drop_probability`: a whole response is not sent.
        `bad_crc_probability`: a frame goes out with a wrong CRC."""
        if not 0.0 <= bad_crc_probability <= 1.0:
            raise ValueError(
                f"bad_crc_probability must be within [0, 1], got {bad_crc_probability}"
            )
        if not 0 <= address <= 0xFE:
            raise ValueError(f"a reader's own address is 0 to 254, got {address}")
        if tags_per_frame is not None and tags_per_frame < 1:
            raise ValueError("tags_per_frame must be at least 1")
        super().__init__(
            name="chafon",
            garbage_probability=garbage_probability,
            drop_probability=drop_probability,
            seed=seed,
        )
        self.address = address
        self.tags_per_frame = tags_per_frame
        self.inventory_time_s = inventory_time_s
        self.bad_crc_probability = bad_crc_probability
        self.version = version
        self.max_power_dbm = max_power_dbm
        self.inventory_error = inventory_error
        self.reader_type = reader_type
        self._power_dbm = power_dbm
        self._scan_time_ds = scan_time_ds
        self._field: list[bytes] = []
        self._commands: list[int] = []
        self._frames_sent = 0
        self._partial = bytearray()  # a command not yet complete
        self._last_rx = -math.inf

    # -- the field and settings ---------------------------------------------

    def add_tag(self, epc: bytes | str) -> None:
        """Put a tag in the field (EPC as bytes or hex, 1 to 62 bytes)."""
        raw = bytes.fromhex(epc) if isinstance(epc, str) else bytes(epc)
        if not 0 < len(raw) <= 62:
            raise ValueError(f"an EPC is 1 to 62 bytes, got {len(raw)}")
        with self._lock:
            if raw not in self._field:
                self._field.append(raw)

    def remove_tag(self, epc: bytes | str) -> None:
        """Take a tag out of the field (no error if it was not there)."""
        raw = bytes.fromhex(epc) if isinstance(epc, str) else bytes(epc)
        with self._lock:
            if raw in self._field:
                self._field.remove(raw)

    @property
    def tags(self) -> list[bytes]:
        """The EPCs in the field, in the order they were added."""
        with self._lock:
            return list(self._field)

    @property
    def power_dbm(self) -> int:
        """RF output power last set."""
        with self._lock:
            return self._power_dbm

    @property
    def scan_time_ds(self) -> int:
        """Inventory scan time last set, in units of 100 ms."""
        with self._lock:
            return self._scan_time_ds

    @property
    def commands_received(self) -> list[int]:
        """Command codes of every well-formed command received, in order."""
        with self._lock:
            return list(self._commands)

    @property
    def frames_sent(self) -> int:
        """Response frames sent intact."""
        with self._lock:
            return self._frames_sent

    # -- thread --------------------------------------------------------------

    def _handle_bytes(self, data: bytes) -> None:
        # Commands are binary and may contain 0x0A anywhere, so they are cut
        # by their Len byte, not into lines.
        now = time.monotonic()
        if now - self._last_rx > _COMMAND_GAP_S:
            self._partial.clear()  # the rest of a command never came
        self._last_rx = now
        self._partial += data
        for frame in self._split(self._partial):
            if not self._failed:
                self._handle_frame(frame)

    @staticmethod
    def _split(buf: bytearray) -> list[bytes]:
        frames: list[bytes] = []
        while buf:
            size = buf[0] + 1
            if size < 5:  # shorter than Len Adr Cmd CRC CRC: noise
                del buf[0]
                continue
            if len(buf) < size:
                break
            frames.append(bytes(buf[:size]))
            del buf[:size]
        return frames

    def _handle_frame(self, frame: bytes) -> None:
        adr, cmd, data = frame[1], frame[2], frame[3:-2]
        if adr not in (self.address, 0xFF):
            return
        if crc16(frame[:-2]) != int.from_bytes(frame[-2:], "little"):
            self._emit(cmd, 0xFE)
            return
        with self._lock:
            self._commands.append(cmd)
        if cmd == INVENTORY:
            self._inventory()
        elif cmd == READER_INFO:
            with self._lock:
                settings = bytes([self._power_dbm, self._scan_time_ds])
            info = bytes([*self.version, self.reader_type, 0b11, 0x31, 0x00]) + settings
            self._emit(cmd, 0x00, info)
        elif cmd == SCAN_TIME:
            self._setting(cmd, data, 3, 255, "_scan_time_ds")
        elif cmd == POWER:
            self._setting(cmd, data, 0, self.max_power_dbm, "_power_dbm")
        else:
            self._emit(cmd, 0xFE)

    def _setting(self, cmd: int, data: bytes, low: int, high: int, attr: str) -> None:
        if len(data) != 1 or not low <= data[0] <= high:
            self._emit(cmd, 0xFF)
            return
        with self._lock:
            setattr(self, attr, data[0])
        self._emit(cmd, 0x00)

    def _inventory(self) -> None:
        if self.inventory_time_s > 0 and self._stop.wait(self.inventory_time_s):
            return
        if self.inventory_error is not None:
            self._respond(INVENTORY, [(self.inventory_error, b"")])
            return
        with self._lock:
            field = list(self._field)
        if not field:
            self._respond(INVENTORY, [(0xFB, b"")])
            return
        chunks: list[list[bytes]] = [[]]
        size = 1  # the Num byte
        for epc in field:
            full = len(chunks[-1]) == (self.tags_per_frame or 255)
            if chunks[-1] and (full or size + 1 + len(epc) > _MAX_DATA):
                chunks.append([])
                size = 1
            chunks[-1].append(epc)
            size += 1 + len(epc)
        frames = []
        for i, chunk in enumerate(chunks):
            status = 0x01 if i == len(chunks) - 1 else 0x03
            data = bytes([len(chunk)]) + b"".join(bytes([len(e)]) + e for e in chunk)
            frames.append((status, data))
        self._respond(INVENTORY, frames)

    def _emit(self, cmd: int, status: int, data: bytes = b"") -> None:
        self._respond(cmd, [(status, data)])

    def _respond(self, cmd: int, frames: list[tuple[int, bytes]]) -> None:
        # A response is dropped whole (the reader missed the command); noise
        # and CRC errors strike single frames, as they would on a wire.
        # Every number is drawn every time so one seed gives one fault sequence.
        rng = self._rng
        drop = rng.random() < self.drop_probability
        for status, data in frames:
            frame = response_frame(self.address, cmd, status, data)
            garbage = rng.random() < self.garbage_probability
            bad_crc = rng.random() < self.bad_crc_probability
            noise = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
            flip = rng.randint(1, 255)
            if self._failed or drop:
                continue
            if garbage:
                self._write(noise)
            if bad_crc:
                self._write(frame[:-1] + bytes([frame[-1] ^ flip]))
                continue
            with self._lock:  # count before writing, as every emulator logs
                self._frames_sent += 1
            self._write(frame)
