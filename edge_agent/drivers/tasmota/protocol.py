"""Tasmota's MQTT messages from HX711 and RDM6300 nodes, and its topic scheme.

Pure protocol: bytes in, typed values out, no I/O. The drivers adapt it to an
MQTT client; the emulated nodes in `firmware_sim.tasmota_node` publish the same
messages.

A node publishes telemetry as one JSON object on `tele/<topic>/SENSOR`, one key
per sensor driver (plus `Time`):

    {"Time":"2026-01-05T10:00:00","HX711":{"Weight":1.234,"WeightRaw":1250,"AbsRaw":110004}}
    {"Time":"2026-01-05T10:00:01","RDM6300":{"UID":"008EC793"}}

`Weight` is in kilograms with `WeightRes` decimals (0..3); `Count` appears when
an item weight is configured and more than one item is on the scale. Other
sensors on the same node add their own keys, which are ignored here. The
retained last will on `tele/<topic>/LWT` is `Online` or `Offline`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from edge_agent.errors import FrameError

#: Tasmota's default FullTopic: `<prefix>/<device topic>/<command or message>`.
DEFAULT_FULL_TOPIC: Final = "%prefix%/%topic%/"

#: Longest payload accepted. A SENSOR message of even a busy node is a few
#: hundred bytes; anything far larger is not Tasmota's, and refusing it keeps the
#: parser cheap.
MAX_PAYLOAD_BYTES: Final = 16_384

#: Nesting deeper than this is not Tasmota's and could exhaust the JSON parser.
_MAX_DEPTH: Final = 16

_UID: Final = re.compile(r"[0-9A-Fa-f]{8}\Z")
_PLACEHOLDER: Final = re.compile(r"%[a-z]*%")
_KNOWN_PLACEHOLDERS: Final = frozenset({"%prefix%", "%topic%"})
_TOPIC_FORBIDDEN: Final = frozenset("+#\x00")


class Prefix(StrEnum):
    """Tasmota's three topic prefixes (`Prefix1..3`, these are the defaults)."""

    CMND = "cmnd"  # commands to the node
    STAT = "stat"  # command results and state
    TELE = "tele"  # telemetry: SENSOR, STATE, LWT


@dataclass(frozen=True, slots=True)
class Hx711Reading:
    """The `HX711` part of one SENSOR message."""

    grams: float  # `Weight` converted from kg
    count: int | None = None  # items on the scale, when the node knows an item weight
    raw: int | None = None  # `WeightRaw`: calibrated weight before tare (grams)
    abs_raw: int | None = None  # `AbsRaw`: averaged ADC value before calibration


@dataclass(frozen=True, slots=True)
class CommandResult:
    """What a node answered to a command on `stat/<topic>/RESULT`."""

    command: str  # as Tasmota spells it: "Sensor34", or "Command" for errors
    value: object  # a string such as "Reset", or an object of settings

    @property
    def is_unknown_command(self) -> bool:
        """True for `{"Command":"Unknown"}`."""
        return self.command == "Command" and self.value == "Unknown"


def validate_device_topic(topic: str) -> str:
    """Check a Tasmota device topic (the `Topic` setting, e.g. `tasmota_ABC123`).

    Raises `ValueError` when it is empty, has surrounding whitespace, slashes at
    either end, or MQTT wildcards.
    """
    if not topic or topic != topic.strip():
        raise ValueError(f"device topic {topic!r} is empty or has surrounding whitespace")
    if topic.startswith("/") or topic.endswith("/"):
        raise ValueError(f"device topic {topic!r} must not start or end with '/'")
    bad = sorted(set(topic) & _TOPIC_FORBIDDEN)
    if bad:
        raise ValueError(f"device topic {topic!r} must not contain {bad}")
    return topic


def validate_full_topic(pattern: str) -> str:
    """Check a FullTopic pattern; only `%prefix%` and `%topic%` are supported.

    Both must appear (else the node's messages cannot be told apart). The
    per-device `%hostname%` and `%id%` are refused: write the literal value.
    Raises `ValueError`.
    """
    for needed in ("%prefix%", "%topic%"):
        if needed not in pattern:
            raise ValueError(f"full topic {pattern!r} must contain {needed}")
    unknown = sorted(set(_PLACEHOLDER.findall(pattern)) - _KNOWN_PLACEHOLDERS)
    if unknown:
        raise ValueError(
            f"full topic {pattern!r} uses {', '.join(unknown)}; only %prefix% and %topic% "
            "are supported (write the literal value instead)"
        )
    bad = sorted(set(pattern) & _TOPIC_FORBIDDEN)
    if bad:
        raise ValueError(f"full topic {pattern!r} must not contain {bad}")
    return pattern


def full_topic(
    prefix: Prefix, topic: str, suffix: str, *, pattern: str = DEFAULT_FULL_TOPIC
) -> str:
    """The MQTT topic of one message, built the way Tasmota builds it.

    `full_topic(Prefix.TELE, "tasmota_ABC123", "SENSOR")` is
    `tele/tasmota_ABC123/SENSOR`. The pattern always ends in `/` before the
    suffix, and doubled slashes are collapsed, as Tasmota does.
    """
    base = pattern.replace("%prefix%", prefix.value).replace("%topic%", topic)
    if not base.endswith("/"):
        base += "/"
    text = base + suffix
    while "//" in text:
        text = text.replace("//", "/")
    return text


def parse_json_object(payload: bytes) -> Mapping[str, object]:
    """Decode a SENSOR or RESULT payload into its top-level JSON object.

    Raises `FrameError` for oversized payloads, invalid UTF-8 or JSON, `NaN`
    or `Infinity`, excessive nesting, or anything other than an object.
    """
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise FrameError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FrameError(f"payload is not UTF-8: {exc.reason} at offset {exc.start}") from None
    if _depth(text) > _MAX_DEPTH:
        raise FrameError(f"JSON nested deeper than {_MAX_DEPTH} levels")
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except FrameError:
        raise
    except ValueError as exc:  # JSONDecodeError, and ints beyond Python's digit limit
        raise FrameError(f"payload is not JSON: {exc}: {_preview(payload)}") from None
    if not isinstance(value, dict):
        raise FrameError(f"payload is JSON {type(value).__name__}, not an object")
    return value


def parse_hx711_sensor(payload: bytes) -> Hx711Reading | None:
    """The HX711 weight of a `tele/<topic>/SENSOR` message, in grams.

    Returns None when the message has no `HX711` key: the node is alive but
    reported other sensors only (or Tasmota found no HX711 at boot). Raises
    `FrameError` when the payload or the `HX711` object is malformed: missing
    `Weight`, a non-numeric or non-finite value, a non-integer count.
    """
    obj = parse_json_object(payload)
    if "HX711" not in obj:
        return None
    hx = obj["HX711"]
    if not isinstance(hx, dict):
        raise FrameError(f"HX711 is {type(hx).__name__}, not an object: {_preview(payload)}")
    if "Weight" not in hx:
        raise FrameError(f"HX711 has no Weight: {_preview(payload)}")
    kg = _number(hx["Weight"], "HX711.Weight")
    # Rounding to milligrams removes float noise from the kg -> g product; Tasmota
    # sends at most three decimals of a kilogram.
    return Hx711Reading(
        grams=round(kg * 1000.0, 3),
        count=_optional_int(hx, "Count", minimum=0),
        raw=_optional_int(hx, "WeightRaw"),
        abs_raw=_optional_int(hx, "AbsRaw"),
    )


def parse_rdm6300_sensor(payload: bytes) -> str | None:
    """The tag UID of an RDM6300 SENSOR message, upper-case hex (8 digits).

    Tasmota sends the 32-bit tag id of an EM4100 tag (`%08X`), without the
    version byte. Returns None when the message has no `RDM6300` key. Raises
    `FrameError` for malformed payloads, a UID that is not 8 hex digits, or the
    all-zero UID (a false read that Tasmota itself never publishes).
    """
    obj = parse_json_object(payload)
    if "RDM6300" not in obj:
        return None
    rdm = obj["RDM6300"]
    if not isinstance(rdm, dict):
        raise FrameError(f"RDM6300 is {type(rdm).__name__}, not an object: {_preview(payload)}")
    uid = rdm.get("UID")
    if not isinstance(uid, str) or not _UID.match(uid):
        raise FrameError(f"RDM6300.UID {uid!r} is not 8 hex digits")
    if int(uid, 16) == 0:
        raise FrameError("RDM6300.UID is all zeros (a false read)")
    return uid.upper()


def parse_command_result(payload: bytes) -> CommandResult:
    """The first member of a `stat/<topic>/RESULT` message.

    Tasmota answers a command with one object named after it, e.g.
    `{"Sensor34":"Reset"}`, or `{"Command":"Unknown"}` for a command it does
    not know. Raises `FrameError` for malformed or empty payloads.
    """
    obj = parse_json_object(payload)
    if not obj:
        raise FrameError("command result is an empty object")
    command, value = next(iter(obj.items()))
    return CommandResult(command, value)


def parse_lwt(payload: bytes) -> bool:
    """`Online` -> True, `Offline` -> False (case and surrounding space ignored).

    Raises `FrameError` for anything else.
    """
    text = payload.strip().lower()
    if text == b"online":
        return True
    if text == b"offline":
        return False
    raise FrameError(f"LWT payload {_preview(payload)} is neither Online nor Offline")


def _reject_constant(name: str) -> object:
    raise FrameError(f"JSON constant {name} is not a number")


def _depth(text: str) -> int:
    """Deepest bracket nesting, ignoring brackets inside strings (a cheap pre-check
    so a hostile payload cannot drive json.loads into RecursionError)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _number(value: object, field: str) -> float:
    # bool is an int subclass in Python; JSON true is not a weight.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FrameError(f"{field} {value!r} is not a number")
    try:
        result = float(value)
    except OverflowError:  # an integer too large for a float
        raise FrameError(f"{field} is out of range") from None
    if not math.isfinite(result):
        raise FrameError(f"{field} {value!r} is not finite")
    return result


def _optional_int(obj: Mapping[str, object], key: str, *, minimum: int | None = None) -> int | None:
    if key not in obj:
        return None
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise FrameError(f"HX711.{key} {value!r} is not an integer")
    if minimum is not None and value < minimum:
        raise FrameError(f"HX711.{key} {value} is below {minimum}")
    return value


def _preview(payload: bytes, limit: int = 80) -> str:
    text = repr(payload[:limit])
    return text + ("..." if len(payload) > limit else "")
