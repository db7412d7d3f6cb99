"""A&D protocol: recorded frames, every frame kind, garbage and a bounded fuzz."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_agent.drivers.aandd import protocol
from edge_agent.drivers.aandd.protocol import (
    ERROR_REASONS,
    NON_WEIGHT_UNITS,
    UNIT_GRAMS,
    Acknowledge,
    ErrorReply,
    Header,
    NonWeightFrame,
    OutOfRangeFrame,
    WeightFrame,
    encode_command,
    parse_frame,
)
from edge_agent.errors import FrameError
from tests.edge_agent.drivers.frames import Recorded, load_frames

pytestmark = pytest.mark.timeout(30)

FRAMES = Path(protocol.__file__).parent / "frames" / "replies.txt"


RECORDED = load_frames(FRAMES)


def test_recorded_frames_cover_every_header_and_unit() -> None:
    kinds = {r.kind for r in RECORDED}
    assert kinds == {"stable", "unstable", "nonweight", "range", "ack", "error", "garbage"}
    headers = {r.frame.lstrip(b"\x06")[:2].decode() for r in RECORDED if r.kind != "garbage"}
    assert headers >= {h.value for h in Header}
    parsed = [parse_frame(r.frame) for r in RECORDED if r.kind != "garbage"]
    units = {f.unit for f in parsed if isinstance(f, WeightFrame | NonWeightFrame)}
    assert units >= set(UNIT_GRAMS) | set(NON_WEIGHT_UNITS)
    assert {r.expect for r in RECORDED if r.kind == "range"} == {"overload", "underload"}


@pytest.mark.parametrize("rec", RECORDED, ids=lambda r: repr(r.frame)[:40])
def test_recorded_frame(rec: Recorded) -> None:
    if rec.kind == "garbage":
        with pytest.raises(FrameError):
            parse_frame(rec.frame)
        return
    frame = parse_frame(rec.frame)
    if rec.kind in ("stable", "unstable"):
        assert isinstance(frame, WeightFrame)
        assert frame.stable is (rec.kind == "stable")
        assert frame.grams == pytest.approx(float(rec.expect))
    elif rec.kind == "nonweight":
        assert isinstance(frame, NonWeightFrame)
        assert frame.unit == rec.expect
    elif rec.kind == "range":
        assert isinstance(frame, OutOfRangeFrame)
        assert frame.direction == rec.expect
    elif rec.kind == "ack":
        assert frame == Acknowledge()
    else:
        assert frame == ErrorReply(rec.expect)


def test_frame_fields() -> None:
    assert parse_frame(b"ST,+00123.45  g\r\n") == WeightFrame(True, 123.45, "g")
    assert parse_frame(b"US,-00012.34  g") == WeightFrame(False, -12.34, "g")
    kilo = parse_frame(b"ST,+01.23450 kg\r\n")
    assert kilo == WeightFrame(True, 1.2345, "kg")
    assert isinstance(kilo, WeightFrame)
    assert kilo.grams == pytest.approx(1234.5)
    count = parse_frame(b"QT,+00000050 PC\r\n")
    assert count == NonWeightFrame(Header.COUNT, 50.0, "PC")
    assert isinstance(count, NonWeightFrame)
    assert count.reason == "counting mode (pieces)"
    assert parse_frame(b"OL,+999999.9  g\r\n") == OutOfRangeFrame("overload", "g")
    assert parse_frame(b"OL,-999999.9  g\r\n") == OutOfRangeFrame("underload", "g")


def test_error_replies_carry_a_reason() -> None:
    for code, reason in ERROR_REASONS.items():
        reply = parse_frame(f"EC,{code}\r\n".encode())
        assert isinstance(reply, ErrorReply)
        assert reply.reason == reason
    assert ErrorReply("E99").reason == "unknown error code"


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (b"", "empty"),
        (b"\xff\xfe\r\n", "non-ASCII byte 0xff"),
        (b"ST,+001\x0723.45  g\r\n", "control byte 0x07"),
        (b"XX,+00123.45  g\r\n", "unknown header 'XX'"),
        (b"ST,+00123.45  t\r\n", "unknown unit 't'"),
        (b"ST,+001.2.3  g\r\n", "not a number"),
        (b"QT,+00123.45  g\r\n", "count header QT with weight unit"),
        (b"OL,999999.9  g\r\n", "has no sign"),
        (b"3.45  g\r\n", "not an A&D data frame"),
        (b"ST," + b"0" * 70 + b"  g\r\n", "exceeds 64"),
    ],
)
def test_garbage_message_says_why(frame: bytes, message: str) -> None:
    with pytest.raises(FrameError, match=message):
        parse_frame(frame)


def test_unit_tables_are_data() -> None:
    assert UNIT_GRAMS["kg"] == 1000.0
    assert UNIT_GRAMS["ozt"] == pytest.approx(31.1034768)
    assert not set(UNIT_GRAMS) & set(NON_WEIGHT_UNITS)
    with pytest.raises(TypeError):
        UNIT_GRAMS["t"] = 11.66  # type: ignore[index]


def test_encode_command() -> None:
    assert encode_command("Q") == b"Q\r\n"
    assert encode_command("T") == b"T\r\n"
    assert encode_command("?ID") == b"?ID\r\n"
    for bad in ("", " Q", "q", "Q\r\n", "QÏ", "Q\x00", "Q R"):
        with pytest.raises(ValueError, match="command"):
            encode_command(bad)
