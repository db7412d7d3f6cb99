"""Line protocol and InfluxQL quoting: pure functions, hostile inputs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from cloud.timeseries.base import LevelPoint
from cloud.timeseries.line_protocol import (
    bound_epoch_ms,
    escape_key,
    escape_measurement,
    format_field_value,
    from_epoch_ms,
    level_line,
    line,
    quote_ident,
    quote_string,
    to_epoch_ms,
)

T = datetime(2024, 5, 1, 12, 0, 0, 123_999, tzinfo=UTC)
T_MS = 1_714_564_800_123


def _point(**changes: object) -> LevelPoint:
    base: dict[str, object] = {
        "site": "s1",
        "device": "d1",
        "location": "A-03",
        "sku": "SKU-1",
        "time": T,
        "quantity": 12.0,
    }
    base.update(changes)
    return LevelPoint(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("plain", "plain"),
        ("a b", r"a\ b"),
        ("a,b", r"a\,b"),
        ("a=b", r"a\=b"),
        ("==,, ", r"\=\=\,\,\ "),
        ('it\'s "quoted"', 'it\'s\\ "quoted"'),
        (r"back\slash", r"back\slash"),
        (r"a\,b", r"a\\,b"),
        ("ünï 😀", r"ünï\ 😀"),
        ("tab\tcr\r", "tab\tcr\r"),
    ],
)
def test_escape_key(raw: str, escaped: str) -> None:
    assert escape_key(raw) == escaped


def test_measurement_escapes_comma_and_space_only() -> None:
    assert escape_measurement("a b,c=d") == r"a\ b\,c=d"


@pytest.mark.parametrize("bad", ["a\nb", "\n", "ends\\", "", "x\\\\"])
def test_unwritable_keys_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match=r"newline|backslash|empty"):
        escape_key(bad)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1.0"),
        (-0.5, "-0.5"),
        (1e20, "1e+20"),
        (3, "3i"),
        (-(2**63), "-9223372036854775808i"),
        (True, "true"),
        (False, "false"),
        ("plain", '"plain"'),
        ('say "hi", a=b', '"say \\"hi\\", a=b"'),
        ("back\\slash\\", '"back\\\\slash\\\\"'),
    ],
)
def test_field_values(value: float | int | bool | str, text: str) -> None:
    assert format_field_value(value) == text


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), 2**63, "two\nlines"])
def test_unwritable_field_values_are_refused(bad: float | int | str) -> None:
    with pytest.raises(ValueError, match=r"NaN|int64|newline"):
        format_field_value(bad)


def test_level_line_sorts_tags_and_types_fields() -> None:
    point = _point(raw_weight_g=1234.5, stable=False, seq=7, source="scale")
    assert level_line(point) == (
        "stock_level,device=d1,location=A-03,site=s1,sku=SKU-1,source=scale "
        f"quantity=12.0,raw_weight_g=1234.5,stable=false,seq=7i {T_MS}"
    )


def test_level_line_omits_none_fields_and_empty_tags() -> None:
    point = _point(location="", quantity=3, raw_weight_g=None, seq=None)
    assert level_line(point) == (
        f"stock_level,device=d1,site=s1,sku=SKU-1,source=scale quantity=3.0,stable=true {T_MS}"
    )


def test_level_line_escapes_hostile_tags() -> None:
    point = _point(site="Acme, Inc.", location="a=b c", sku="it's\\x")
    assert level_line(point).startswith(
        r"stock_level,device=d1,location=a\=b\ c,site=Acme\,\ Inc.,sku=it's\x,source=scale "
    )


@pytest.mark.parametrize("field", ["site", "device", "location", "sku", "source"])
def test_level_line_refuses_newlines_in_tags(field: str) -> None:
    with pytest.raises(ValueError, match="newline"):
        level_line(_point(**{field: "two\nlines"}))


def test_line_needs_a_field() -> None:
    with pytest.raises(ValueError, match="at least one field"):
        line("m", {"t": "v"}, {"f": None}, 0)


def test_epoch_ms_truncates_and_converts_zones() -> None:
    assert to_epoch_ms(T) == T_MS
    plus_two = T.astimezone(timezone(timedelta(hours=2)))
    assert to_epoch_ms(plus_two) == T_MS
    assert from_epoch_ms(T_MS) == T.replace(microsecond=123_000)
    assert from_epoch_ms(T_MS).tzinfo is UTC
    # Far-future values stay exact (a float timestamp would round).
    far = datetime(2262, 4, 11, 23, 47, 16, 854_999, tzinfo=UTC)
    assert from_epoch_ms(to_epoch_ms(far)) == far.replace(microsecond=854_000)


def test_query_bounds_round_up() -> None:
    whole = datetime(2024, 5, 1, tzinfo=UTC)
    assert bound_epoch_ms(whole) == to_epoch_ms(whole)
    assert bound_epoch_ms(T) == T_MS + 1
    before_epoch = datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)
    assert (to_epoch_ms(before_epoch), bound_epoch_ms(before_epoch)) == (-1, 0)
    assert bound_epoch_ms(datetime.max.replace(tzinfo=UTC)) == 253_402_300_800_000


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        to_epoch_ms(datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        bound_epoch_ms(datetime(2024, 1, 1))


@pytest.mark.parametrize("year", [1677, 2263])
def test_times_influxdb_cannot_store_are_refused(year: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        level_line(_point(time=datetime(year, 1, 1, tzinfo=UTC)))


@pytest.mark.parametrize(
    ("raw", "quoted"),
    [
        ("plain", "'plain'"),
        ("it's", r"'it\'s'"),
        ("' OR 1=1 --", r"'\' OR 1=1 --'"),
        ("back\\", r"'back\\'"),
        ("\\'; DROP DATABASE x; '", r"'\\\'; DROP DATABASE x; \''"),
        ('dq "x"', "'dq \"x\"'"),
        ("two\nlines", r"'two\nlines'"),
        ("ünï", "'ünï'"),
    ],
)
def test_quote_string(raw: str, quoted: str) -> None:
    assert quote_string(raw) == quoted


def test_quote_ident() -> None:
    assert quote_ident('we"ird\\db') == r'"we\"ird\\db"'


@pytest.mark.parametrize(
    "point",
    [
        LevelPoint("s 1", "d,1", "A=1", 'q"x', datetime(2026, 1, 1, tzinfo=UTC), 3.0),
        LevelPoint(
            "s", "d", "A", "X", datetime(2026, 1, 1, tzinfo=UTC), 0.0, "rfid", 1.5, False, 7
        ),
        LevelPoint("ü", "d", "A", "X\\y", datetime(2026, 1, 1, 0, 0, 0, 999, tzinfo=UTC), 1e-9),
    ],
)
def test_level_line_fast_path_equals_the_generic_line(point: LevelPoint) -> None:
    generic = line(
        "stock_level",
        {
            "site": point.site,
            "device": point.device,
            "location": point.location,
            "sku": point.sku,
            "source": point.source,
        },
        {
            "quantity": float(point.quantity),
            "raw_weight_g": point.raw_weight_g,
            "stable": point.stable,
            "seq": point.seq,
        },
        to_epoch_ms(point.time),
    )
    assert level_line(point) == generic


def test_level_line_refuses_non_finite_values() -> None:
    t = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="NaN or infinity"):
        level_line(LevelPoint("s", "d", "A", "X", t, float("nan")))
    with pytest.raises(ValueError, match="NaN or infinity"):
        level_line(LevelPoint("s", "d", "A", "X", t, 1.0, raw_weight_g=float("inf")))
