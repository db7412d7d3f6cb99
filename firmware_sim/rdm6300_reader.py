"""An emulated RDM6300 125 kHz reader streaming EM4100 frames on a pseudo-terminal.

The real module only transmits: while a tag is in its field it repeats the
tag's 14-byte frame (`0x02`, ten hex digits, two hex digits of XOR checksum,
`0x03`) several times a second. This emulator sends one frame per tag in the
field every `interval_s` (a real reader sees one tag at a time; several here
let tests cover more in less time). Anything written to it is ignored.

Faults, drawn per frame from one seeded generator: garbage bytes before the
frame, a wrong checksum, a frame cut short, a dropped frame, and ghost reads
(a well-formed frame for a tag that is not there, as cheap readers produce).
`fail()` makes it silent. Framing is written out here, independently of
`edge_agent.drivers.em4100.protocol`, so the tests check one against the other.
"""

from __future__ import annotations

import math

from firmware_sim.pty_device import PtyDevice

_STX = 0x02
_ETX = 0x03
#: Noise never contains STX, so one garbage burst is exactly garbage to a
#: decoder and cannot start a (truncated) frame of its own.
_NOISE = bytes(b for b in range(256) if b != _STX)


def em4100_frame(tag_id: str, *, checksum_error: int = 0) -> bytes:
    """The frame for a 10-hex-digit tag id; `checksum_error` is XORed into the checksum."""
    data = bytes.fromhex(tag_id)
    if len(data) != 5:
        raise ValueError(f"an EM4100 tag id is 10 hex digits, got {tag_id!r}")
    check = 0
    for byte in data:
        check ^= byte
    check ^= checksum_error
    return bytes([_STX]) + f"{data.hex().upper()}{check:02X}".encode("ascii") + bytes([_ETX])


class Rdm6300Emulator(PtyDevice):
    """An RDM6300 on a pty. Use as a context manager or start()/stop().

    Fault probabilities may be changed while running.
    """

    def __init__(
        self,
        *,
        interval_s: float = 0.1,
        garbage_probability: float = 0.0,
        drop_probability: float = 0.0,
        bad_checksum_probability: float = 0.0,
        truncate_probability: float = 0.0,
        ghost_probability: float = 0.0,
        seed: int = 0,
    ) -> None:
        """`interval_s`: time between repeats of each tag's frame.
        `garbage_probability`: noise bytes go out before a frame (which still
        follows). `drop_probability`: the frame is not sent.
        `bad_checksum_probability`, `truncate_probability`: the frame is sent
        with a wrong checksum, or only its first 2 to 12 bytes.
        `ghost_probability`: a valid frame for a random absent tag follows."""
        for what, p in (
            ("bad_checksum", bad_checksum_probability),
            ("truncate", truncate_probability),
            ("ghost", ghost_probability),
        ):
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{what}_probability must be within [0, 1], got {p}")
        if not interval_s > 0:
            raise ValueError(f"interval_s must be positive, got {interval_s}")
        super().__init__(
            name="rdm6300",
            garbage_probability=garbage_probability,
            drop_probability=drop_probability,
            seed=seed,
        )
        self.interval_s = interval_s
        self.bad_checksum_probability = bad_checksum_probability
        self.truncate_probability = truncate_probability
        self.ghost_probability = ghost_probability
        self._field: list[str] = []
        self._sent: dict[str, int] = {}
        self._ghosts: list[str] = []
        self._next_due = -math.inf

    # -- the field -----------------------------------------------------------

    def add_tag(self, tag_id: str) -> None:
        """Put a tag (10 hex digits) in the field; it streams from the next repeat on."""
        em4100_frame(tag_id)  # validates
        with self._lock:
            if tag_id.upper() not in self._field:
                self._field.append(tag_id.upper())

    def remove_tag(self, tag_id: str) -> None:
        """Take a tag out of the field (no error if it was not there)."""
        with self._lock:
            if tag_id.upper() in self._field:
                self._field.remove(tag_id.upper())

    @property
    def tags(self) -> list[str]:
        """The tags in the field, in the order they were added."""
        with self._lock:
            return list(self._field)

    @property
    def frames_sent(self) -> dict[str, int]:
        """Intact frames sent per tag (ghosts included)."""
        with self._lock:
            return dict(self._sent)

    @property
    def ghosts_sent(self) -> list[str]:
        """Every ghost tag id sent, in order."""
        with self._lock:
            return list(self._ghosts)

    # -- thread --------------------------------------------------------------

    def _handle_line(self, line: bytes) -> None:
        """The module has no receive line worth speaking of: ignore the host."""

    def _tick(self, now: float) -> float:
        if now < self._next_due:
            return self._next_due - now
        self._next_due = now + self.interval_s
        with self._lock:
            field = list(self._field)
        for tag in field:
            self._emit(tag)
        return self.interval_s

    def _emit(self, tag: str) -> None:
        # Draw every number every time so one seed gives one fault sequence.
        rng = self._rng
        drop = rng.random() < self.drop_probability
        garbage = rng.random() < self.garbage_probability
        bad_checksum = rng.random() < self.bad_checksum_probability
        truncate = rng.random() < self.truncate_probability
        ghost = rng.random() < self.ghost_probability
        noise = bytes(rng.choice(_NOISE) for _ in range(rng.randint(1, 8)))
        cut = rng.randint(2, 12)
        ghost_id = f"{rng.randrange(1 << 40):010X}"
        flip = rng.randint(1, 255)
        if self._failed:
            return
        if garbage:
            self._write(noise)
        if not drop:
            if truncate:
                self._write(em4100_frame(tag)[:cut])
            elif bad_checksum:
                self._write(em4100_frame(tag, checksum_error=flip))
            else:
                # Log before writing: a fast reader may check as soon as it has the frame.
                self._count(tag)
                self._write(em4100_frame(tag))
        with self._lock:
            ghost = ghost and ghost_id not in self._field
        if ghost:
            self._count(ghost_id)
            with self._lock:
                self._ghosts.append(ghost_id)
            self._write(em4100_frame(ghost_id))

    def _count(self, tag: str) -> None:
        with self._lock:
            self._sent[tag] = self._sent.get(tag, 0) + 1
