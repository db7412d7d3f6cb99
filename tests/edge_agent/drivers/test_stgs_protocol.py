"""ST,GS protocol: recorded frames from several vendors, garbage and a bounded fuzz."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_agent.drivers.stgs import protocol
from edge_agent.drivers.stgs.protocol import (
    ERROR_REASONS,
    UNIT_GRAMS,
    CommandReply,
    Kind,
    RawFrame,
    Status,
    StatusFrame,
    WeightFrame,
    encode_command,
    parse_frame,
)
from edge_agent.errors import FrameError
from tests.edge_agent.drivers.frames import Recorded, load_frames

pytestmark = pytest.mark.timeout(30)

FRAMES = Path(protocol.__file__).parent / "frames" / "replies.txt"


RECORDED = load_frames(FRAMES, extra=1)  # the extra column is the address


def address(rec: Recorded) -> str | None:
    return None if rec.extra[0] == "-" else rec.extra[0]


def test_recorded_frames_cover_every_status_kind_and_unit() -> None:
    assert {r.kind for r in RECORDED} == {
        "stable",
        "unstable",
        "status",
        "raw",
        "reply",
        "garbage",
    }
    parsed = [parse_frame(r.frame) for r in RECORDED if r.kind != "garbage"]
    statuses = {f.status for f in parsed if isinstance(f, StatusFrame)}
    assert statuses | {Status.STABLE, Status.UNSTABLE} == set(Status)
    kinds = {f.kind for f in parsed if isinstance(f, RawFrame)}
    kinds |= {Kind.NET if f.net else Kind.GROSS for f in parsed if isinstance(f, WeightFrame)}
    assert kinds == set(Kind)
    assert {f.unit for f in parsed if isinstance(f, WeightFrame)} == set(UNIT_GRAMS)
    assert any(address(r) for r in RECORDED if r.kind == "reply")


@pytest.mark.parametrize("rec", RECORDED, ids=lambda r: repr(r.frame)[:40])
def test_recorded_frame(rec: Recorded) -> None:
    if rec.kind == "garbage":
        with pytest.raises(FrameError):
            parse_frame(rec.frame)
        return
    frame = parse_frame(rec.frame)
    assert frame.address == address(rec)
    if rec.kind in ("stable", "unstable"):
        assert isinstance(frame, WeightFrame)
        assert frame.stable is (rec.kind == "stable")
        assert frame.net is rec.expect.endswith("n")
        assert frame.grams == pytest.approx(float(rec.expect.removesuffix("n")))
    elif rec.kind == "status":
        assert isinstance(frame, StatusFrame)
        assert frame.status == rec.expect
    elif rec.kind == "raw":
        assert isinstance(frame, RawFrame)
        assert frame.kind == rec.expect
    else:
        assert isinstance(frame, CommandReply)
        assert frame.code == rec.expect


def test_frame_fields() -> None:
    assert parse_frame(b"01ST,GS,   1.250,kg\r\n") == WeightFrame("01", True, False, 1.25, "kg")
    assert parse_frame(b"US,NT,  -0.005,KG") == WeightFrame(None, False, True, -0.005, "kg")
    tilt = parse_frame(b"TL,GS,   1.250,kg\r\n")
    assert tilt == StatusFrame(None, Status.NOT_LEVEL, Kind.GROSS)
    assert isinstance(tilt, StatusFrame)
    assert "not level" in tilt.reason
    raw = parse_frame(b"ST,VL,    1234,uV\r\n")
    assert raw == RawFrame(None, True, Kind.MICROVOLTS, "1234")
    assert isinstance(raw, RawFrame)
    assert "microvolts" in raw.reason


def test_replies() -> None:
    ok = parse_frame(b"01OK\r\n")
    assert ok == CommandReply("01", "OK")
    assert isinstance(ok, CommandReply)
    assert ok.ok
    assert ok.reason == "command received"
    for code, reason in ERROR_REASONS.items():
        reply = parse_frame(f"{code}\r\n".encode())
        assert isinstance(reply, CommandReply)
        assert not reply.ok
        assert reply.reason == reason
    assert CommandReply(None, "ERR99").reason == "unknown error code"


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (b"", "empty"),
        (b"\xff\xfe\r\n", "non-ASCII byte 0xff"),
        (b"ST,GS,  1\x07.250,kg\r\n", "control byte 0x07"),
        (b"XX,GS,   1.250,kg\r\n", "unknown status 'XX'"),
        (b"ST,XX,   1.250,kg\r\n", "unknown kind 'XX'"),
        (b"ST,GS,   1.2.5,kg\r\n", "not a number"),
        (b"ST,GS,   1.250,stone\r\n", "unknown unit 'stone'"),
        (b"1.250,kg\r\n", "not an ST,GS weight string"),
        (b"ST,GS," + b" " * 80 + b"1,kg\r\n", "exceeds 80"),
    ],
)
def test_garbage_message_says_why(frame: bytes, message: str) -> None:
    with pytest.raises(FrameError, match=message):
        parse_frame(frame)


def test_unit_table_is_data() -> None:
    assert UNIT_GRAMS["t"] == 1_000_000.0
    with pytest.raises(TypeError):
        UNIT_GRAMS["mg"] = 0.001  # type: ignore[index]


def test_encode_command() -> None:
    assert encode_command("READ") == b"READ\r\n"
    assert encode_command("TARE", "01") == b"01TARE\r\n"
    assert encode_command("ZERO", "AB") == b"ABZERO\r\n"
    for bad in ("", " READ", "read", "READ\r\n", "RÉAD", "RE AD"):
        with pytest.raises(ValueError, match="command"):
            encode_command(bad)
    for address in ("1", "001", "0 ", "Ü1"):
        with pytest.raises(ValueError, match="address"):
            encode_command("READ", address)
