"""SparkFun OpenScale (firmware 1.x) serial output.

Pure protocol: bytes in, typed values out, no I/O. The driver adapts it to a
serial port; the emulator in `firmware_sim` prints the same lines.

After power-up (and after every reset, which opening the USB port may cause)
the board prints a banner ending in `Readings:`, then one line per report:

    [millis,]weight,lbs|kg,[rawADC,][localC,][remoteC,]   CR LF

Every field ends in a comma, the last one too. Which optional fields appear
depends on the board's menu settings; the timestamp is recognised by where
the unit is (second field without it, third with it), so the driver needs no
setting for it. There are no stability or overload flags. A float the
firmware cannot print comes out as Arduino's `nan`, `inf` or `ovf`; with an
uncalibrated board (calibration factor 0) that is every reading.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, TypeAlias

from edge_agent.drivers.serial_text import decode_line
from edge_agent.drivers.units import unit_table
from edge_agent.errors import FrameError

TERMINATOR: Final = b"\r\n"

#: Longest line accepted. The longest report (timestamp, weight, unit, raw
#: value and two temperatures) is under 70 bytes, banner lines under 45.
MAX_LINE_BYTES: Final = 128

#: Grams per unit; the firmware knows only these two.
UNIT_GRAMS: Final[Mapping[str, float]] = unit_table("kg", lbs="lb")

#: Lines the firmware prints at start-up, before `Readings:` (firmware 1.0-1.2).
#: The first is blank: the banner starts with CR LF.
BANNER_LINES: Final[tuple[re.Pattern[str], ...]] = tuple(
    re.compile(pattern)
    for pattern in (
        r"",
        r"Serial Load Cell Converter version \S+",
        r"By SparkFun Electronics",
        r"No remote sensor found",
        r"Remote temperature sensor detected",
        r"Minimum time between reports: \d+",
        r"Press \S to bring up settings",
        r"Readings:",
    )
)

#: What Arduino's `Print::print(float)` writes for a value it cannot show.
NOT_A_NUMBER: Final = frozenset({"nan", "inf", "ovf"})

#: A timestamp is `millis()` stored in a signed long: it turns negative after
#: 24.8 days of uptime, so a minus sign is valid.
_INTEGER: Final = re.compile(r"-?\d+")
_NUMBER: Final = re.compile(r"-?\d+(?:\.\d+)?")
_MAX_EXTRAS: Final = 3  # raw ADC, local and remote temperature


@dataclass(frozen=True, slots=True)
class Reading:
    """One report line, e.g. `5123,0.45,kg,24.56,0,`.

    `millis` is None when the board's timestamp is off. `extras` are the
    optional numeric fields after the unit (raw ADC value, local and remote
    temperature) in the order printed; which is which depends on the
    board's settings, so they are not named.
    """

    value: float
    unit: str
    millis: int | None = None
    extras: tuple[float, ...] = ()

    @property
    def grams(self) -> float:
        """The weight converted to grams."""
        return self.value * UNIT_GRAMS[self.unit]


@dataclass(frozen=True, slots=True)
class NoNumber:
    """A report whose weight is `nan`, `inf` or `ovf` (not calibrated or out of range)."""

    text: str
    unit: str
    millis: int | None = None


@dataclass(frozen=True, slots=True)
class BannerLine:
    """A start-up line (product name, version, `Readings:`); not a reading."""

    text: str


Line: TypeAlias = Reading | NoNumber | BannerLine


def parse_line(line: bytes) -> Line:
    """Parse one line, with or without its CR LF terminator.

    Raises `FrameError` for anything that is neither a report nor a known
    banner line (menu output included: someone opened the board's menu).
    """
    text = decode_line(line, MAX_LINE_BYTES, what="line", blank=True)
    if any(pattern.fullmatch(text) for pattern in BANNER_LINES):
        return BannerLine(text)
    if not text.endswith(","):
        raise FrameError(f"report does not end in a comma (truncated?): {text!r}")
    fields = text[:-1].split(",")
    if len(fields) >= 2 and fields[1] in UNIT_GRAMS:
        millis_field, weight, unit, extras = None, fields[0], fields[1], fields[2:]
    elif len(fields) >= 3 and fields[2] in UNIT_GRAMS:
        millis_field, weight, unit, extras = fields[0], fields[1], fields[2], fields[3:]
    else:
        raise FrameError(f"no unit (kg or lbs) in the 2nd or 3rd field of {text!r}")
    millis = None
    if millis_field is not None:
        if not _INTEGER.fullmatch(millis_field):
            raise FrameError(f"timestamp {millis_field!r} is not an integer in {text!r}")
        millis = int(millis_field)
    if len(extras) > _MAX_EXTRAS:
        raise FrameError(f"{len(extras)} fields after the unit, at most {_MAX_EXTRAS}: {text!r}")
    for extra in extras:
        if not _NUMBER.fullmatch(extra):
            raise FrameError(f"field {extra!r} after the unit is not a number in {text!r}")
    if weight in NOT_A_NUMBER:
        return NoNumber(weight, unit, millis)
    if not _NUMBER.fullmatch(weight):
        raise FrameError(f"weight {weight!r} is not a number in {text!r}")
    # + 0.0 turns the "-0.00" Arduino prints for tiny negatives into 0.0.
    return Reading(float(weight) + 0.0, unit, millis, tuple(float(e) for e in extras))
