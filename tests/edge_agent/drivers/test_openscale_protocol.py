"""OpenScale protocol: recorded lines, reports, banner, garbage and a bounded fuzz."""

from __future__ import annotations

import ast
import random
from dataclasses import dataclass
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

pytestmark = pytest.mark.timeout(30)

FRAMES = Path(protocol.__file__).parent / "frames" / "replies.txt"


@dataclass(frozen=True)
class Recorded:
    kind: str
    expect: str
    frame: bytes


def _recorded() -> list[Recorded]:
    rows = []
    for line in FRAMES.read_text(encoding="ascii").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        kind, expect, literal = line.split(None, 2)
        frame = ast.literal_eval(literal)
        assert isinstance(frame, bytes), line
        rows.append(Recorded(kind, expect, frame))
    return rows


RECORDED = _recorded()


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


def test_fuzz_raises_only_frame_error() -> None:
    rng = random.Random(0)
    valid = [r.frame for r in RECORDED if r.kind in ("reading", "nonumber")]
    alphabet = b"0123456789.,-lbskgnaifovReadings:\r\n\xff\x00"
    parsed = 0
    for _ in range(3000):
        choice = rng.random()
        if choice < 0.3:
            line = bytes(rng.randrange(256) for _ in range(rng.randrange(40)))
        elif choice < 0.6:
            line = bytes(rng.choice(alphabet) for _ in range(rng.randrange(30)))
        else:  # mutate a valid line: flip, drop or insert one byte
            data = bytearray(rng.choice(valid))
            pos = rng.randrange(len(data) + 1)
            op = rng.randrange(3)
            if op == 0 and pos < len(data):
                data[pos] = rng.randrange(256)
            elif op == 1 and pos < len(data):
                del data[pos]
            else:
                data.insert(pos, rng.randrange(256))
            line = bytes(data)
        try:
            result = parse_line(line)
        except FrameError:
            continue
        parsed += 1
        assert isinstance(result, Reading | NoNumber | BannerLine)
        if isinstance(result, Reading):
            assert result.unit in UNIT_GRAMS
    assert parsed > 0  # the mutations did leave some lines valid
