"""MT-SICS (Mettler Toledo Standard Interface Command Set), levels 0 and 1.

Pure protocol: bytes in, typed values out, no I/O. The driver adapts it to a
serial port; the emulator in `firmware_sim` speaks the same dialect.

A reply line is `<echo> <status> [values...] [unit]` CR LF, fields separated by
one or more spaces. The weight field is right-aligned, so lines are split on
whitespace and never cut at fixed offsets. Error replies (`ES`, `ET`, `EL`)
carry no command echo.
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

#: Longest line accepted; a real reply is well under 100 bytes, so anything
#: longer is a runaway stream of noise rather than a frame.
MAX_FRAME_BYTES: Final = 256

#: Grams per unit, for every unit the driver accepts from a balance.
UNIT_GRAMS: Final[Mapping[str, float]] = unit_table("g", "kg", "mg", "lb", "oz", "ct")


class Status(StrEnum):
    """The status field that follows the command echo."""

    STABLE = "S"
    DYNAMIC = "D"
    DONE = "A"
    MORE = "B"  # more lines of this reply follow
    BUSY = "I"  # understood, cannot execute now (busy, stability timeout)
    LOGICAL_ERROR = "L"  # bad parameter
    OVERLOAD = "+"
    UNDERLOAD = "-"


class ErrorCode(StrEnum):
    """Replies that carry no command echo."""

    SYNTAX = "ES"
    TRANSMISSION = "ET"
    LOGICAL = "EL"


#: Human-readable reasons, used in error messages and logs.
ERROR_REASONS: Final[Mapping[ErrorCode, str]] = MappingProxyType(
    {
        ErrorCode.SYNTAX: "syntax error: the device does not know this command",
        ErrorCode.TRANSMISSION: "transmission error: the device received a corrupt command",
        ErrorCode.LOGICAL: "logical error: the device cannot execute this command",
    }
)

STATUS_REASONS: Final[Mapping[Status, str]] = MappingProxyType(
    {
        Status.BUSY: "cannot execute now (busy or no stable weight in time)",
        Status.LOGICAL_ERROR: "logical error (bad parameter)",
        Status.OVERLOAD: "overload (upper limit exceeded)",
        Status.UNDERLOAD: "underload (lower limit exceeded)",
    }
)

#: Echoes whose `S`/`D` replies carry `<weight> <unit>`. `SI` is answered with
#: the echo `S` by real balances; the `SI` echo is accepted as well.
WEIGHT_ECHOES: Final = frozenset({"S", "SI", "SU", "SIU", "T", "TI"})

#: Echoes a reply to a command may carry, where that differs from the command.
_REPLY_ECHOES: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {
        "SI": frozenset({"S", "SI"}),
        "SIR": frozenset({"S", "SIR"}),
        "SR": frozenset({"S", "SR"}),
        "SIU": frozenset({"SU", "SIU"}),
        "@": frozenset({"I4"}),
    }
)

_ERROR_CODES: Final = frozenset(code.value for code in ErrorCode)
_COMMAND: Final = re.compile(r"(?:@|[A-Z][A-Z0-9]*)\Z")
_ECHO: Final = re.compile(r"[A-Z][A-Z0-9]*\Z")
_TOKEN: Final = re.compile(r' *("[^"]*"|[^ "]+)')
_NUMBER: Final = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)\Z")


@dataclass(frozen=True, slots=True)
class WeightResponse:
    """A weight, e.g. `S S     100.00 g` or `T S      50.00 g`."""

    command: str
    stable: bool
    value: float
    unit: str

    @property
    def grams(self) -> float:
        """The value converted to grams."""
        return self.value * UNIT_GRAMS[self.unit]


@dataclass(frozen=True, slots=True)
class StatusResponse:
    """A reply with a status and no values, e.g. `Z A`, `S I`, `S +`, `ZI D`."""

    command: str
    status: Status

    @property
    def reason(self) -> str:
        """Why the command did not succeed, or `ok` for `S`/`D`/`A`/`B`."""
        return STATUS_REASONS.get(self.status, "ok")


@dataclass(frozen=True, slots=True)
class DataResponse:
    """A reply with values that are not a weight, e.g. `I4 A "0123456789"`.

    Quoted values are returned without their quotes.
    """

    command: str
    status: Status
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ErrorReply:
    """`ES`, `ET` or `EL`: the device rejected the command."""

    code: ErrorCode

    @property
    def reason(self) -> str:
        """What the code means."""
        return ERROR_REASONS[self.code]


Response: TypeAlias = WeightResponse | StatusResponse | DataResponse | ErrorReply


def encode_command(cmd: str) -> bytes:
    """Encode a command (with optional parameters) as ASCII terminated by CR LF.

    Raises `ValueError` for an empty command, a lower-case or malformed command
    word, or characters that cannot be sent (non-ASCII, control characters).
    """
    if not cmd or cmd != cmd.strip():
        raise ValueError(f"command {cmd!r} is empty or has surrounding whitespace")
    if not cmd.isascii() or not cmd.isprintable():
        raise ValueError(f"command {cmd!r} must be printable ASCII without CR/LF")
    word = cmd.split(" ", 1)[0]
    if not _COMMAND.match(word):
        raise ValueError(f"command word {word!r} must be upper-case letters and digits, or '@'")
    return cmd.encode("ascii") + TERMINATOR


def reply_echoes(cmd: str) -> frozenset[str]:
    """The command echoes a reply to `cmd` may carry (e.g. `SI` -> `S` or `SI`)."""
    word = cmd.split(" ", 1)[0]
    return _REPLY_ECHOES.get(word, frozenset({word}))


def parse_response(line: bytes) -> Response:
    """Parse one reply line, with or without its CR LF terminator.

    Raises `FrameError` for anything that is not a well-formed MT-SICS reply.
    """
    text = decode_line(line, MAX_FRAME_BYTES)
    tokens = _tokenize(text)
    head = tokens[0]
    if head in _ERROR_CODES:
        if len(tokens) > 1:
            raise FrameError(f"error reply {head} has unexpected fields: {text!r}")
        return ErrorReply(ErrorCode(head))
    if not _ECHO.match(head):
        raise FrameError(f"bad command echo {head!r} in {text!r}")
    if len(tokens) < 2:
        raise FrameError(f"missing status after command echo in {text!r}")
    try:
        status = Status(tokens[1])
    except ValueError:
        raise FrameError(f"unknown status {tokens[1]!r} in {text!r}") from None
    values = tokens[2:]

    if status in (Status.BUSY, Status.LOGICAL_ERROR, Status.OVERLOAD, Status.UNDERLOAD):
        if values:
            raise FrameError(f"status {status} takes no values: {text!r}")
        return StatusResponse(head, status)
    if head in WEIGHT_ECHOES:
        if status in (Status.DONE, Status.MORE):
            raise FrameError(f"status {status} is not valid for a weight reply: {text!r}")
        return _weight(head, status, values, text)
    if not values:
        return StatusResponse(head, status)
    return DataResponse(head, status, tuple(v.strip('"') for v in values))


def _tokenize(text: str) -> list[str]:
    """Split on runs of spaces; a double-quoted string is one token."""
    tokens: list[str] = []
    pos = 0
    end = len(text.rstrip(" "))
    while pos < end:
        match = _TOKEN.match(text, pos)
        if match is None:
            raise FrameError(f"unterminated quoted string in {text!r}")
        tokens.append(match.group(1))
        pos = match.end()
    return tokens


def _weight(command: str, status: Status, values: list[str], text: str) -> WeightResponse:
    if not values:
        raise FrameError(f"missing weight in {text!r}")
    if len(values) == 1:
        raise FrameError(f"missing unit after weight in {text!r}")
    if len(values) > 2:
        raise FrameError(f"unexpected fields after the unit in {text!r}")
    raw, unit = values
    if not _NUMBER.match(raw):
        raise FrameError(f"weight {raw!r} is not a number in {text!r}")
    value = float(raw)
    if not math.isfinite(value):
        raise FrameError(f"weight {raw!r} is out of range in {text!r}")
    if unit not in UNIT_GRAMS:
        raise FrameError(f"unknown unit {unit!r} in {text!r} (known: {', '.join(UNIT_GRAMS)})")
    return WeightResponse(command, status is Status.STABLE, value, unit)
