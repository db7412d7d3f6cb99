"""Sartorius SBI (Sartorius Balance Interface): output frames and commands.

Pure protocol: bytes in, typed values out, no I/O. The driver adapts it to a
serial port; the emulator in `firmware_sim` speaks the same dialect.

An output frame is 16 bytes: sign (`+`, `-` or a space), a space, the value in
8 characters (leading zeros as spaces), a space, the unit in 3 characters, CR
LF. With "ID codes" on, a 6-character ID (`N     `, `Stat  `, `G     `, ...)
precedes it: 22 bytes. A blank unit means the reading is not stable. Special
frames replace the value: `H` overload, `L` underload, `C` calibration, a
blank display (taring), and `Err ###` errors.

Models differ in padding (some put a digit in the second column, some mark
non-verified digits with brackets, some use a decimal comma) and in how they
spell special codes (`H`, `HH`, `High`), so frames are matched with tolerant
patterns rather than cut at fixed columns.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final, TypeAlias

from edge_agent.drivers.serial_text import decode_line
from edge_agent.drivers.units import unit_table
from edge_agent.errors import FrameError

TERMINATOR: Final = b"\r\n"
ESC: Final = b"\x1b"

#: Longest line accepted; a real frame is 16 or 22 bytes, so anything much
#: longer is noise or a printout, not a frame.
MAX_FRAME_BYTES: Final = 64

#: Grams per unit, for every mass unit the driver accepts from a balance.
#: Count and percent modes (`pcs`, `%`) are not masses and are refused.
UNIT_GRAMS: Final[Mapping[str, float]] = unit_table(
    "g", "kg", "mg", "ct", "lb", "oz", "ozt", "dwt", "GN", "t"
)


class Command(StrEnum):
    """Format-1 SBI commands: ESC and one letter."""

    PRINT = "P"  # send one frame, as if the PRINT key was pressed
    TARE_ZERO = "T"  # the TARE key: zeroes near zero, tares otherwise
    TARE = "U"
    ZERO = "V"


class Special(StrEnum):
    """A special frame that carries no weight."""

    OVERLOAD = "H"
    UNDERLOAD = "L"
    CALIBRATION = "C"
    BLANK = "blank"  # display blank, e.g. while the balance tares


SPECIAL_REASONS: Final[Mapping[Special, str]] = MappingProxyType(
    {
        Special.OVERLOAD: "overload (above capacity)",
        Special.UNDERLOAD: "underload (below zero range, pan missing?)",
        Special.CALIBRATION: "calibration/adjustment in progress",
        Special.BLANK: "display blank (taring or settling)",
    }
)

#: How models spell special codes (`HH`/`LL` appear in checkweighing, the
#: words on Entris-class balances); compared with spaces removed.
_SPECIAL_CODES: Final[Mapping[str, Special]] = MappingProxyType(
    {
        "H": Special.OVERLOAD,
        "HH": Special.OVERLOAD,
        "High": Special.OVERLOAD,
        "L": Special.UNDERLOAD,
        "LL": Special.UNDERLOAD,
        "Low": Special.UNDERLOAD,
        "C": Special.CALIBRATION,
        "Cal.Ext.": Special.CALIBRATION,
        "Cal.Int.": Special.CALIBRATION,
    }
)

# The optional ID of a 22-character frame: up to 6 printable characters
# starting with a letter (`N`, `N1`, `Stat`, `G#`, `x-Net`, `S/N`), so it can
# never be mistaken for the sign or a digit of a 16-character frame.
# In special and error frames the ID is followed by spaces; in a weight frame
# a 6-character ID may touch the sign.
_ID: Final = r"(?P<ident>[A-Za-z][!-~]{0,5}?)"
_ERROR: Final = re.compile(
    rf"(?:{_ID} +)? *(?:[Ee][Rr][Rr] *(?P<num>\d{{1,4}})|(?P<word>[A-Z]{{3}}\.ERR?)) *"
)
_SPECIAL: Final = re.compile(rf"(?:{_ID} +)? *(?P<code>[A-Za-z][A-Za-z. ]{{0,9}}?) *")
_WEIGHT: Final = re.compile(
    rf"(?:{_ID} *)?"
    + r"(?P<sign>[+-])? *(?P<value>[0-9.,]+(?:\[[0-9]+\])?)"
    + r" *(?P<unit>[A-Za-z%/]{1,3})? *"
)
_NUMBER: Final = re.compile(r"\d+(?:\.\d*)?|\.\d+")
#: A blank 16-character frame: 14 spaces; blank 22-character: `Stat` + spaces.
_BLANK_WIDTH: Final = 14


@dataclass(frozen=True, slots=True)
class WeightFrame:
    """A weight, e.g. `+   123.56 g  ` or `N     -     12.5 kg `.

    `unit` is None when the unit field was blank: the reading is not stable.
    `ident` is the ID of a 22-character frame, stripped (`N`, `G`, `NET`), or
    empty for a 16-character frame.
    """

    value: float
    unit: str | None
    ident: str = ""

    @property
    def stable(self) -> bool:
        """True when the balance sent a unit, i.e. the reading is stable."""
        return self.unit is not None

    def grams(self, assumed_unit: str = "g") -> float:
        """The value in grams. An unstable frame carries no unit, so it is
        taken to be in `assumed_unit` (the balance's display unit)."""
        unit = assumed_unit if self.unit is None else self.unit
        return self.value * UNIT_GRAMS[unit]


@dataclass(frozen=True, slots=True)
class SpecialFrame:
    """Overload, underload, calibration or a blank display."""

    special: Special
    ident: str = ""

    @property
    def reason(self) -> str:
        """What the code means."""
        return SPECIAL_REASONS[self.special]


@dataclass(frozen=True, slots=True)
class ErrorFrame:
    """`Err ###` (code `###`) or a worded error such as `APP.ERR`."""

    code: str
    ident: str = ""


Frame: TypeAlias = WeightFrame | SpecialFrame | ErrorFrame


def encode_command(command: Command) -> bytes:
    """ESC, the command letter, CR LF (the manuals call CR LF optional; it is
    sent so a balance that waits for a line end acts at once)."""
    return ESC + command.value.encode("ascii") + TERMINATOR


def parse_frame(line: bytes) -> Frame:
    """Parse one output line, with or without its CR LF terminator.

    Raises `FrameError` for anything that is not a well-formed SBI frame,
    including a weight in a unit that is not in `UNIT_GRAMS`.
    """
    text = decode_line(line, MAX_FRAME_BYTES, blank=True)
    if not text.strip(" "):
        if len(text) == _BLANK_WIDTH:
            return SpecialFrame(Special.BLANK)
        raise FrameError(f"empty frame {text!r}")
    if (m := _ERROR.fullmatch(text)) is not None:
        return ErrorFrame(m["num"] or m["word"], m["ident"] or "")
    if (m := _WEIGHT.fullmatch(text)) is not None:
        return _weight(m, text)
    if text.rstrip(" ") == "Stat":
        return SpecialFrame(Special.BLANK, "Stat")
    if (m := _SPECIAL.fullmatch(text)) is not None:
        return _special(m, text)
    raise FrameError(f"not an SBI frame: {text!r}")


def _weight(m: re.Match[str], text: str) -> WeightFrame:
    # Brackets mark non-verified digits on some models; a comma is the
    # decimal separator on others.
    raw = m["value"].replace("[", "").replace("]", "").replace(",", ".")
    if not _NUMBER.fullmatch(raw):
        raise FrameError(f"value {m['value']!r} is not a number in {text!r}")
    value = float(raw)
    if not math.isfinite(value):
        raise FrameError(f"value {m['value']!r} is out of range in {text!r}")
    unit = m["unit"]
    if unit is not None and unit not in UNIT_GRAMS:
        known = ", ".join(UNIT_GRAMS)
        raise FrameError(f"unit {unit!r} is not a mass unit the driver knows ({known}): {text!r}")
    if m["sign"] == "-":
        value = -value
    return WeightFrame(value + 0.0, unit, m["ident"] or "")  # + 0.0 turns -0.0 into 0.0


def _special(m: re.Match[str], text: str) -> SpecialFrame:
    special = _SPECIAL_CODES.get(m["code"].replace(" ", ""))
    if special is None:
        raise FrameError(f"unknown special code {m['code']!r} in {text!r}")
    return SpecialFrame(special, m["ident"] or "")
