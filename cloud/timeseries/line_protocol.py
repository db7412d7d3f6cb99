"""InfluxDB line protocol and InfluxQL quoting: pure functions, no I/O.

Escaping follows the line protocol spec: measurement escapes comma and space;
tag keys, tag values and field keys escape comma, equals and space; string
field values are double-quoted with `"` and `\\` escaped. Backslashes elsewhere
are written as they are: InfluxDB reads a backslash that does not precede one
of those characters literally, so `a\\b` and even `a\\,b` round-trip exactly
(checked against InfluxDB 1.6).

Two things cannot be written at all and are refused with `ValueError` rather
than stored as some other value: newlines (they end the line) and a key or
value that ends in a backslash (it would escape the separator after it;
InfluxDB answers "invalid tag format").
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

from cloud.timeseries.base import LEVEL_MEASUREMENT, FieldValue, LevelPoint, Point
from vmi.wire import Reading, Source

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
# InfluxDB keeps nanoseconds in an int64 and reserves both extremes, so its
# times span roughly 1677-09-21 to 2262-04-11; in whole milliseconds:
MIN_TIME_MS = -9_223_372_036_854
MAX_TIME_MS = 9_223_372_036_854


def _check_text(kind: str, text: str) -> None:
    """Refuse what no escaping can carry: a newline or a trailing backslash."""
    if "\n" in text:
        raise ValueError(f"{kind} must not contain a newline: {text!r}")
    if text.endswith("\\"):
        raise ValueError(f"{kind} must not end with a backslash: {text!r}")


def _escape(text: str, specials: str) -> str:
    return "".join("\\" + ch if ch in specials else ch for ch in text)


def escape_measurement(name: str) -> str:
    """Escape a measurement name (comma and space)."""
    if not name:
        raise ValueError("measurement name must not be empty")
    _check_text("measurement", name)
    return _escape(name, ", ")


def escape_key(key: str) -> str:
    """Escape a tag key, tag value or field key (comma, equals and space)."""
    if not key:
        raise ValueError("tag keys, tag values and field keys must not be empty")
    _check_text("tag or field key/value", key)
    return _escape(key, ",= ")


def format_field_value(value: FieldValue) -> str:
    """Format one field value: float, integer (`i` suffix), boolean or string."""
    # bool first: it is a subclass of int.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise ValueError(f"integer field out of int64 range: {value}")
        return f"{value}i"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"line protocol has no NaN or infinity: {value}")
        return repr(value)
    if "\n" in value:
        raise ValueError(f"string field must not contain a newline: {value!r}")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _since_epoch(when: datetime) -> timedelta:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"datetime must be timezone-aware: {when!r}")
    return when - _EPOCH


def to_epoch_ms(when: datetime) -> int:
    """Milliseconds since the Unix epoch, truncated (floored) to the millisecond."""
    # Integer arithmetic: `timestamp() * 1000` would round through a float.
    return _since_epoch(when) // _ONE_MS


def bound_epoch_ms(when: datetime) -> int:
    """A query bound in milliseconds: `when` rounded *up* to the millisecond.

    Stored times are whole milliseconds, so for any stored `t`,
    `t >= when` exactly when `t_ms >= bound_epoch_ms(when)`, and the same for
    `<`: rounding the bound down would let `[since, until)` take in a point
    from just before `since`.
    """
    whole, rest = divmod(_since_epoch(when), _ONE_MS)
    return whole + (1 if rest else 0)


def from_epoch_ms(ms: int) -> datetime:
    """The timezone-aware UTC datetime of `ms` milliseconds since the epoch."""
    return _EPOCH + timedelta(milliseconds=ms)


def line(
    measurement: str,
    tags: Mapping[str, str],
    fields: Mapping[str, FieldValue | None],
    time_ms: int,
) -> str:
    """One line of line protocol.

    Tags are sorted by key (the order InfluxDB stores, so it need not sort);
    empty tag values are left out, as line protocol has none. Fields whose
    value is None are left out; at least one field must remain.
    """
    parts = [escape_measurement(measurement)]
    for key in sorted(tags):
        value = tags[key]
        if value == "":
            continue
        parts.append(f"{escape_key(key)}={escape_key(value)}")
    field_text = ",".join(
        f"{escape_key(key)}={format_field_value(value)}"
        for key, value in fields.items()
        if value is not None
    )
    if not field_text:
        raise ValueError("a point needs at least one field")
    return f"{','.join(parts)} {field_text} {time_ms}"


@functools.lru_cache(maxsize=65_536)
def _level_series(site: str, device: str, location: str, sku: str, source: str) -> str:
    # A series' tag set repeats in every reading: escape and check it once.
    tags = {"site": site, "device": device, "location": location, "sku": sku, "source": source}
    return line(LEVEL_MEASUREMENT, tags, {"x": 0}, 0).rsplit(" ", 2)[0]


def _finite(name: str, value: float) -> str:
    if not math.isfinite(value):
        raise ValueError(f"line protocol has no NaN or infinity: {name}={value}")
    return repr(value)


def _time_ms(when: datetime) -> int:
    time_ms = to_epoch_ms(when)
    if not MIN_TIME_MS <= time_ms <= MAX_TIME_MS:
        raise ValueError(f"time outside what InfluxDB can store (1677 to 2262): {when}")
    return time_ms


def level_line(point: LevelPoint) -> str:
    """The line of one stock level, timestamp in milliseconds (write with precision=ms).

    The series key is cached and the four known fields are formatted
    directly; the result is what `line` would give.
    """
    time_ms = _time_ms(point.time)
    series = _level_series(point.site, point.device, point.location, point.sku, point.source)
    fields = "quantity=" + _finite("quantity", float(point.quantity))
    if point.raw_weight_g is not None:
        fields += ",raw_weight_g=" + _finite("raw_weight_g", float(point.raw_weight_g))
    fields += ",stable=true" if point.stable else ",stable=false"
    if point.seq is not None:
        fields += f",seq={format_field_value(int(point.seq))}"
    return f"{series} {fields} {time_ms}"


# Series keys by (site, device, location, sku, source), for `level_lines`;
# cleared when full, so it stays bounded whatever arrives.
_series_keys: dict[tuple[str, str, str, str, str], str] = {}
_SERIES_KEYS_MAX = 100_000


def level_lines(site: str, device: str, seq: int | None, readings: Iterable[Reading]) -> list[str]:
    """The lines of one readings message: `level_line` of each of its levels.

    The hot path of ingest: no `LevelPoint` is built, the series key comes
    from a dict and the `seq` field is formatted once. Raises `ValueError`
    for what line protocol cannot carry, as `level_line` does.
    """
    tail = "" if seq is None else f",seq={format_field_value(int(seq))}"
    series_keys = _series_keys
    lines: list[str] = []
    append = lines.append
    for r in readings:
        source = "scale" if r.source is Source.SCALE else r.source.value  # skips a property
        key = (site, device, r.location, r.sku, source)
        series = series_keys.get(key)
        if series is None:
            series = _level_series(site, device, r.location, r.sku, source)
            if len(series_keys) >= _SERIES_KEYS_MAX:
                series_keys.clear()
            series_keys[key] = series
        time_ms = (r.time - _EPOCH) // _ONE_MS
        if not MIN_TIME_MS <= time_ms <= MAX_TIME_MS:
            raise ValueError(f"time outside what InfluxDB can store (1677 to 2262): {r.time}")
        # `Reading` makes both floats; x - x is 0.0 exactly when x is finite
        # (a quicker test than math.isfinite on the hot path).
        quantity = r.quantity
        if quantity - quantity != 0.0:
            raise ValueError(f"line protocol has no NaN or infinity: quantity={quantity}")
        weight = r.raw_weight_g
        if weight is None:
            fields = f"quantity={quantity!r}"
        else:
            if weight - weight != 0.0:
                raise ValueError(f"line protocol has no NaN or infinity: raw_weight_g={weight}")
            fields = f"quantity={quantity!r},raw_weight_g={weight!r}"
        flag = ",stable=true" if r.stable else ",stable=false"
        append(f"{series} {fields}{flag}{tail} {time_ms}")
    return lines


def point_line(point: Point) -> str:
    """The line of any `Point`, timestamp in milliseconds."""
    return line(point.measurement, dict(point.tags), dict(point.fields), _time_ms(point.time))


def _influxql_escape(text: str, quote: str) -> str:
    # The InfluxQL scanner knows exactly these escapes inside quotes:
    # \\ \' \" and \n; a raw newline would be a "bad string" error.
    return text.replace("\\", "\\\\").replace(quote, "\\" + quote).replace("\n", "\\n")


def quote_string(value: str) -> str:
    """An InfluxQL string literal: single-quoted, `\\` and `'` escaped.

    Everything a user can name (site, SKU) goes into queries only through
    this, so no tag value can end the literal and inject InfluxQL.
    """
    return "'" + _influxql_escape(value, "'") + "'"


def quote_ident(name: str) -> str:
    """An InfluxQL identifier (database, measurement, tag or field name), double-quoted."""
    return '"' + _influxql_escape(name, '"') + '"'
