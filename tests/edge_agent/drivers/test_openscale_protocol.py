"""OpenScale protocol: recorded lines, reports, banner, garbage and a bounded fuzz."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_agent.drivers.openscale import protocol
from edge_agent.drivers.openscale.protocol import (
    UNIT_GRAMS,
    BannerLine,
    NoNumber,
    Reading,
    parse_line,
)
from edge_agent.errors import FrameError
from tests.edge_agent.drivers.frames import Recorded, load_frames

pytestmark = pytest.mark.timeout(30)

FRAMES = Path(protocol.__file__).parent / "frames" / "replies.txt"


RECORDED = load_frames(FRAMES)


def test_recorded_lines_cover_every_kind_and_unit() -> None:
    assert {r.kind for r in RECORDED} == {"reading", "nonumber", "banner", "garbage"}
    units = {parse_line(r.frame).unit for r in RECORDED if r.kind == "reading"}  # type: ignore[union-attr]
    assert units == set(UNIT_GRAMS)
    texts = {r.expect for r in RECORDED if r.kind == "nonumber"}
    assert texts == protocol.NOT_A_NUMBER
    banner = [parse_line(r.frame) for r in RECORDED if r.kind == "banner"]
    for pattern in protocol.BANNER_LINES:
        assert any(isinstance(b, BannerLine) and pattern.fullmatch(b.text) for b in banner)


@pytest.mark.parametrize("rec", RECORDED, ids=lambda r: repr(r.frame)[:40])
def test_recorded_line(rec: Recorded) -> None:
    if rec.kind == "garbage":
        with pytest.raises(FrameError):
            parse_line(rec.frame)
        return
    parsed = parse_line(rec.frame)
    if rec.kind == "reading":
        assert isinstance(parsed, Reading)
        assert parsed.grams == pytest.approx(float(rec.expect))
    elif rec.kind == "nonumber":
        assert isinstance(parsed, NoNumber)
        assert parsed.text == rec.expect
    else:
        assert isinstance(parsed, BannerLine)


def test_timestamp_is_detected_by_where_the_unit_is() -> None:
    assert parse_line(b"5123,0.45,lbs,24.56,0,\r\n") == Reading(0.45, "lbs", 5123, (24.56, 0.0))
    assert parse_line(b"0.45,lbs,24.56,0,\r\n") == Reading(0.45, "lbs", None, (24.56, 0.0))
    assert parse_line(b"0.35,kg,\r\n") == Reading(0.35, "kg")
    # millis() in a signed long wraps negative after 24.8 days of uptime
    wrapped = parse_line(b"-2147481000,1.00,kg,\r\n")
    assert isinstance(wrapped, Reading)
    assert wrapped.millis == -2147481000


def test_negative_zero_reads_as_zero() -> None:
    parsed = parse_line(b"812,-0.00,lbs,\r\n")
    assert isinstance(parsed, Reading)
    assert str(parsed.value) == "0.0"


def test_no_number_keeps_unit_and_timestamp() -> None:
    assert parse_line(b"1002,inf,lbs,24.56,0,\r\n") == NoNumber("inf", "lbs", 1002)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"\xff\r\n", "non-ASCII byte 0xff"),
        (b"\n\rTare point 1: 8\r\n", "control byte 0x0a"),
        (b"5123,0.45,lbs,24.56,0\r\n", "does not end in a comma"),
        (b"5123,0.45,g,\r\n", "no unit"),
        (b"51.23,0.45,lbs,\r\n", "timestamp '51.23' is not an integer"),
        (b"5123,abc,lbs,\r\n", "weight 'abc' is not a number"),
        (b"5123,0.45,lbs,warm,\r\n", "field 'warm' after the unit"),
        (b"1,0.45,lbs,1,2,3,4,\r\n", "4 fields after the unit"),
        (b"9" * 130, "exceeds 128"),
    ],
)
def test_garbage_message_says_why(line: bytes, message: str) -> None:
    with pytest.raises(FrameError, match=message):
        parse_line(line)


def test_unit_table_is_data() -> None:
    assert UNIT_GRAMS["lbs"] == pytest.approx(453.59237)
    with pytest.raises(TypeError):
        UNIT_GRAMS["g"] = 1.0  # type: ignore[index]
