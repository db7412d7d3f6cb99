"""The "ST,GS" weight string of Dini Argeo DGT/LTP indicators and many others.

Pure protocol: bytes in, typed values out, no I/O. The driver adapts it to a
serial port; `firmware_sim.stgs_indicator` speaks the same dialect.

A frame is `[aa]SS,KK,<weight>,<unit>` CR LF, e.g. `01ST,GS,   1.250,kg`:
an optional two-character RS-485 address, the status, the kind of value, the
weight (8 characters with the decimal point on Dini Argeo, other widths
elsewhere) and the unit. Vendors differ in widths, padding and spacing, so
frames are matched by a tolerant pattern, never cut at fixed offsets.

Commands are answered `[aa]OK` or `[aa]ERRnn`.
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

#: Longest line accepted; the standard string is under 25 bytes, so anything
#: much longer is a runaway stream of noise.
MAX_FRAME_BYTES: Final = 80

#: Grams per unit, looked up case-insensitively (`KG` and `kg` alike). `t` is
#: the tonne here: these are industrial indicators.
UNIT_GRAMS: Final[Mapping[str, float]] = unit_table("g", "kg", "t", "lb", "oz")


class Status(StrEnum):
    """The first field of a frame."""

    STABLE = "ST"
    UNSTABLE = "US"
    OVERLOAD = "OL"
    UNDERLOAD = "UL"
    NOT_LEVEL = "TL"  # tilt sensor: the platform is not level


class Kind(StrEnum):
    """The second field: what the value is."""

    GROSS = "GS"
    NET = "NT"
    MICROVOLTS = "VL"  # raw load-cell signal, not a weight
    CONVERTER_POINTS = "RZ"  # raw A/D converter counts, not a weight


#: Statuses that carry no usable weight, and why.
STATUS_REASONS: Final[Mapping[Status, str]] = MappingProxyType(
    {
        Status.OVERLOAD: "overload (above the weighing range)",
        Status.UNDERLOAD: "underload (below the weighing range)",
        Status.NOT_LEVEL: "not level: weighing is blocked until the platform is levelled",
    }
)

#: Raw display modes, and why their values are no weight.
RAW_REASONS: Final[Mapping[Kind, str]] = MappingProxyType(
    {
        Kind.MICROVOLTS: "shows the load-cell signal in microvolts, not a weight",
        Kind.CONVERTER_POINTS: "shows raw converter points, not a weight",
    }
)

#: Dini Argeo's command error replies.
ERROR_REASONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "ERR01": "command followed by unexpected characters",
        "ERR02": "incorrect command data",
        "ERR03": "command not allowed now (busy, or not in this operating mode)",
        "ERR04": "unknown command",
    }
)


@dataclass(frozen=True, slots=True)
class WeightFrame:
    """A gross or net weight, stable or not, e.g. `ST,GS,   1.250,kg`."""

    address: str | None
    stable: bool
    net: bool
    value: float
    unit: str  # lower case, a key of UNIT_GRAMS

    @property
    def grams(self) -> float:
        """The value converted to grams."""
        return self.value * UNIT_GRAMS[self.unit]


@dataclass(frozen=True, slots=True)
class StatusFrame:
    """`OL`, `UL` or `TL`: no usable weight, whatever the value field holds."""

    address: str | None
    status: Status
    kind: Kind

    @property
    def reason(self) -> str:
        """Why there is no weight."""
        return STATUS_REASONS[self.status]


@dataclass(frozen=True, slots=True)
class RawFrame:
    """`VL` or `RZ`: the indicator shows a raw signal, not a weight."""

    address: str | None
    stable: bool
    kind: Kind
    value: str

    @property
    def reason(self) -> str:
        """What the indicator shows instead of a weight."""
        return RAW_REASONS[self.kind]


@dataclass(frozen=True, slots=True)
class CommandReply:
    """`OK` (command received) or `ERRnn` (refused)."""

    address: str | None
    code: str

    @property
    def ok(self) -> bool:
        """True for `OK`. On Dini Argeo, OK means received, not necessarily done."""
        return self.code == "OK"

    @property
    def reason(self) -> str:
        """What the code means."""
        if self.ok:
            return "command received"
        return ERROR_REASONS.get(self.code, "unknown error code")


Frame: TypeAlias = WeightFrame | StatusFrame | RawFrame | CommandReply

#: An RS-485 address: two ASCII letters or digits (Dini Argeo uses `01` to `99`).
ADDRESS_PATTERN: Final = "^[0-9A-Za-z]{2}$"
_ADDRESS: Final = re.compile(r"[0-9A-Za-z]{2}\Z")
_COMMAND: Final = re.compile(r"[A-Z][A-Z0-9]*\Z")
_FRAME: Final = re.compile(
    r"(?P<address>[0-9A-Za-z]{2})? *(?P<status>[A-Z]{2}) *, *(?P<kind>[A-Z]{2}) *,"
    r"(?P<value>[^,]*),(?P<unit>[^,]*)\Z"
)
_REPLY: Final = re.compile(r"(?P<address>[0-9A-Za-z]{2})?(?P<code>OK|ERR\d\d)\Z")
# Some indicators pad between the sign and the digits (`-   12.5`).
_NUMBER: Final = re.compile(r"(?P<sign>[+-]?) *(?P<digits>\d+(?:\.\d*)?|\.\d+)\Z")
_UNIT: Final = re.compile(r"[A-Za-z]{1,3}\Z")


def encode_command(cmd: str, address: str | None = None) -> bytes:
    """Encode a command such as `READ`, `TARE` or `ZERO`, with the RS-485
    address in front when given, terminated by CR LF.

    Raises `ValueError` for a malformed command or address.
    """
    if not _COMMAND.match(cmd):
        raise ValueError(f"command {cmd!r} must be upper-case ASCII letters and digits")
    if address is not None and not _ADDRESS.match(address):
        raise ValueError(f"address {address!r} must be two ASCII letters or digits")
    return f"{address or ''}{cmd}".encode("ascii") + TERMINATOR


def parse_frame(line: bytes) -> Frame:
    """Parse one line, with or without its CR LF terminator.

    Raises `FrameError` for anything that is not a well-formed weight string
    or command reply.
    """
    text = decode_line(line, MAX_FRAME_BYTES).strip(" ")
    reply = _REPLY.match(text)
    if reply:
        return CommandReply(reply["address"], reply["code"])
    match = _FRAME.match(text)
    if match is None:
        raise FrameError(f"not an ST,GS weight string: {text!r}")
    address = match["address"]
    try:
        status = Status(match["status"])
    except ValueError:
        raise FrameError(f"unknown status {match['status']!r} in {text!r}") from None
    try:
        kind = Kind(match["kind"])
    except ValueError:
        raise FrameError(f"unknown kind {match['kind']!r} in {text!r}") from None
    if status in STATUS_REASONS:
        # The value field of OL/UL/TL is vendor-specific (dashes, blanks, the
        # last weight): it is not read.
        return StatusFrame(address, status, kind)
    stable = status is Status.STABLE
    raw_value = match["value"].strip(" ")
    if kind in RAW_REASONS:
        return RawFrame(address, stable, kind, raw_value)
    value = _number(raw_value, text)
    unit = match["unit"].strip(" ")
    if not _UNIT.match(unit) or unit.lower() not in UNIT_GRAMS:
        raise FrameError(f"unknown unit {unit!r} in {text!r} (known: {', '.join(UNIT_GRAMS)})")
    return WeightFrame(address, stable, kind is Kind.NET, value, unit.lower())


def _number(raw: str, text: str) -> float:
    match = _NUMBER.match(raw)
    if match is None:
        raise FrameError(f"weight {raw!r} is not a number in {text!r}")
    value = float(match["sign"] + match["digits"])
    if not math.isfinite(value):  # pragma: no cover - MAX_FRAME_BYTES keeps it finite
        raise FrameError(f"weight {raw!r} is out of range in {text!r}")
    return value + 0.0  # -0.0 reads as 0.0
