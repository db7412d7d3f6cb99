"""A&D balances' standard data format and command replies.

Pure protocol: bytes in, typed values out, no I/O. The driver adapts it to a
serial port; `firmware_sim.aandd_scale` speaks the same dialect.

A data frame is a 2-character header, a comma, a signed value and a unit
padded with spaces to three characters, CR LF: `ST,+00123.45  g`. The FX-i,
GX, GF and EK-i send a 9-character value; other A&D models send 10
characters or, in overload, `+9999999E+19`. So the value and the unit are
found by pattern, not at fixed offsets, and a comma between them (A&D's CSV
format) is accepted as well.

Besides data, a balance with "AK, error code" enabled answers control
commands with `<AK>` (0x06) CR LF and refusals with `EC,Exx` CR LF.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final, Literal, TypeAlias

from edge_agent.drivers.serial_text import ascii_text, line_body
from edge_agent.drivers.units import unit_table
from edge_agent.errors import FrameError

TERMINATOR: Final = b"\r\n"
ACK: Final = 0x06

#: Longest line accepted. A frame is 17 bytes; anything much longer is a
#: runaway stream of noise (or a format with ID and date, not supported).
MAX_FRAME_BYTES: Final = 64

#: Grams per unit for every weight unit the driver accepts. Tael (`tl`) and
#: tola (`t`) are left out on purpose: the tael differs by region and `t`
#: reads as tonne elsewhere; a balance set to them gives a `FrameError`.
UNIT_GRAMS: Final[Mapping[str, float]] = unit_table(
    "g", "kg", "mg", "ct", "oz", "lb", "ozt", "dwt", "GN", "mo"
)

#: Units of the balance's non-weighing modes: the value is not a weight.
NON_WEIGHT_UNITS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "PC": "counting mode (pieces)",
        "%": "percent mode",
    }
)


class Header(StrEnum):
    """The two characters that open a data frame."""

    STABLE = "ST"
    UNSTABLE = "US"
    COUNT = "QT"  # stable count in counting mode
    OUT_OF_RANGE = "OL"


#: A&D's error codes (`EC,Exx`), as listed in the FX-i, GX and GC manuals.
ERROR_REASONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "E00": "communication error (noise or parity on the line)",
        "E01": "undefined command",
        "E02": "not ready: the balance cannot execute this command now",
        "E03": "timeout: the command was not completed in time",
        "E04": "excess characters in the command",
        "E06": "format error in the command",
        "E07": "parameter setting error",
        "E11": "stability error: the weight is unstable, zero or tare not done",
        "E20": "calibration weight error: too heavy",
        "E21": "calibration weight error: too light",
    }
)


@dataclass(frozen=True, slots=True)
class WeightFrame:
    """A weight, stable (`ST`) or not (`US`), e.g. `ST,+00123.45  g`."""

    stable: bool
    value: float
    unit: str

    @property
    def grams(self) -> float:
        """The value converted to grams."""
        return self.value * UNIT_GRAMS[self.unit]


@dataclass(frozen=True, slots=True)
class NonWeightFrame:
    """A count or percentage, e.g. `QT,+00000050 PC`: the balance is not weighing."""

    header: Header
    value: float
    unit: str

    @property
    def reason(self) -> str:
        """What the unit says the balance is doing instead of weighing."""
        return NON_WEIGHT_UNITS[self.unit]


@dataclass(frozen=True, slots=True)
class OutOfRangeFrame:
    """`OL`: beyond the weighing range; the sign of the value says which way."""

    direction: Literal["overload", "underload"]
    unit: str


@dataclass(frozen=True, slots=True)
class Acknowledge:
    """`<AK>` CR LF: a control command was received, or completed."""


@dataclass(frozen=True, slots=True)
class ErrorReply:
    """`EC,Exx`: the balance refused a command."""

    code: str

    @property
    def reason(self) -> str:
        """What the code means."""
        return ERROR_REASONS.get(self.code, "unknown error code")


Frame: TypeAlias = WeightFrame | NonWeightFrame | OutOfRangeFrame | Acknowledge | ErrorReply

_COMMAND: Final = re.compile(r"[A-Z?][A-Z0-9?:]*\Z")
# The value is matched by its characters, not by width: `ozt` follows the
# digits without a space, and the unit's padding varies.
_DATA: Final = re.compile(
    r"(?P<header>[A-Z]{2}),(?P<value>[+-]?[\d.]+(?:E\+?\d+)?)(?: *,)? *(?P<unit>[A-Za-z%]{1,3})\Z"
)
_ERROR: Final = re.compile(r"EC,(?P<code>E\d\d)\Z")
_NUMBER: Final = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)\Z")
_OVERFLOW: Final = re.compile(r"(?P<sign>[+-])[\d.]+(?:E\+?\d+)?\Z")


def encode_command(cmd: str) -> bytes:
    """Encode a command such as `Q`, `T`, `R` or `?ID`, terminated by CR LF.

    Raises `ValueError` for an empty, lower-case or otherwise malformed command.
    """
    if not _COMMAND.match(cmd):
        raise ValueError(f"command {cmd!r} must be upper-case ASCII letters and digits")
    return cmd.encode("ascii") + TERMINATOR


def parse_frame(line: bytes) -> Frame:
    """Parse one line, with or without its CR LF terminator.

    A leading `<AK>` before a data frame (some balances acknowledge every
    command) is skipped. Raises `FrameError` for anything that is not a
    well-formed frame, error code or acknowledgement.
    """
    body = line_body(line, MAX_FRAME_BYTES)
    if body == bytes([ACK]):
        return Acknowledge()
    text = ascii_text(body.removeprefix(bytes([ACK])))
    error = _ERROR.match(text)
    if error:
        return ErrorReply(error["code"])
    match = _DATA.match(text)
    if match is None:
        raise FrameError(f"not an A&D data frame: {text!r}")
    try:
        header = Header(match["header"])
    except ValueError:
        raise FrameError(f"unknown header {match['header']!r} in {text!r}") from None
    raw, unit = match["value"], match["unit"]
    if unit not in UNIT_GRAMS and unit not in NON_WEIGHT_UNITS:
        known = ", ".join([*UNIT_GRAMS, *NON_WEIGHT_UNITS])
        raise FrameError(f"unknown unit {unit!r} in {text!r} (known: {known})")
    if header is Header.OUT_OF_RANGE:
        over = _OVERFLOW.match(raw)
        if over is None:
            raise FrameError(f"out-of-range value {raw!r} has no sign in {text!r}")
        return OutOfRangeFrame("overload" if over["sign"] == "+" else "underload", unit)
    value = _number(raw, text)
    if unit in NON_WEIGHT_UNITS:
        return NonWeightFrame(header, value, unit)
    if header is Header.COUNT:
        raise FrameError(f"count header QT with weight unit {unit!r} in {text!r}")
    return WeightFrame(header is Header.STABLE, value, unit)


def _number(raw: str, text: str) -> float:
    if not _NUMBER.match(raw):
        raise FrameError(f"value {raw!r} is not a number in {text!r}")
    value = float(raw)
    if not math.isfinite(value):  # pragma: no cover - MAX_FRAME_BYTES keeps it finite
        raise FrameError(f"value {raw!r} is out of range in {text!r}")
    return value
