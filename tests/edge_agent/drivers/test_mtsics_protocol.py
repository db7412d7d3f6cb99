"""MT-SICS protocol: recorded frames, every reply kind, garbage and a bounded fuzz."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_agent.drivers.mtsics import protocol
from edge_agent.drivers.mtsics.protocol import (
    UNIT_GRAMS,
    DataResponse,
    ErrorCode,
    ErrorReply,
    Status,
    StatusResponse,
    WeightResponse,
    encode_command,
    parse_response,
    reply_echoes,
)
from edge_agent.errors import FrameError
from tests.edge_agent.drivers.frames import Recorded, load_frames

FRAMES = Path(protocol.__file__).parent / "frames" / "replies.txt"


RECORDED = load_frames(FRAMES)


def test_recorded_frames_cover_every_status_and_error() -> None:
    kinds = {r.kind for r in RECORDED}
    assert kinds == {"weight", "dynamic", "status", "data", "error", "garbage"}
    statuses = {parse_response(r.frame).status for r in RECORDED if r.kind == "status"}  # type: ignore[union-attr]
    data_statuses = {parse_response(r.frame).status for r in RECORDED if r.kind == "data"}  # type: ignore[union-attr]
    assert statuses | data_statuses == set(Status)
    assert {r.expect for r in RECORDED if r.kind == "error"} == {c.value for c in ErrorCode}
    assert {r.frame.split()[-1].decode() for r in RECORDED if r.kind == "weight"} >= set(UNIT_GRAMS)


@pytest.mark.parametrize("rec", RECORDED, ids=lambda r: repr(r.frame)[:40])
def test_recorded_frame(rec: Recorded) -> None:
    if rec.kind == "garbage":
        with pytest.raises(FrameError):
            parse_response(rec.frame)
        return
    reply = parse_response(rec.frame)
    if rec.kind in ("weight", "dynamic"):
        assert isinstance(reply, WeightResponse)
        assert reply.stable is (rec.kind == "weight")
        assert reply.grams == pytest.approx(float(rec.expect))
    elif rec.kind == "status":
        assert isinstance(reply, StatusResponse)
        assert reply.status == rec.expect
    elif rec.kind == "data":
        assert isinstance(reply, DataResponse)
        assert reply.values[0].startswith(rec.expect)
    else:
        assert reply == ErrorReply(ErrorCode(rec.expect))


def test_weight_reply_fields() -> None:
    assert parse_response(b"S S     100.00 g\r\n") == WeightResponse("S", True, 100.0, "g")
    assert parse_response(b"S D      99.12 g\r\n") == WeightResponse("S", False, 99.12, "g")
    reply = parse_response(b"SI S 12.5 kg\r\n")
    assert reply == WeightResponse("SI", True, 12.5, "kg")
    assert isinstance(reply, WeightResponse)
    assert reply.grams == 12500.0


def test_status_and_data_replies() -> None:
    assert parse_response(b"S I\r\n") == StatusResponse("S", Status.BUSY)
    assert parse_response(b"S +\r\n") == StatusResponse("S", Status.OVERLOAD)
    assert parse_response(b"S -\r\n") == StatusResponse("S", Status.UNDERLOAD)
    assert parse_response(b"Z A\r\n") == StatusResponse("Z", Status.DONE)
    assert parse_response(b"ZI D\r\n") == StatusResponse("ZI", Status.DYNAMIC)
    assert parse_response(b'I4 A "0123456789"\r\n') == DataResponse(
        "I4", Status.DONE, ("0123456789",)
    )
    assert parse_response(b'I2 A "XS204 Excellence"') == DataResponse(
        "I2", Status.DONE, ("XS204 Excellence",)
    )


def test_error_replies_carry_a_reason() -> None:
    for code in ErrorCode:
        reply = parse_response(code.value.encode() + b"\r\n")
        assert isinstance(reply, ErrorReply)
        assert reply.code is code
        assert "error" in reply.reason


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (b"", "empty"),
        (b"\xff\xfe\r\n", "non-ASCII byte 0xff"),
        (b"S S 1\x07 g\r\n", "control byte 0x07"),
        (b"S Q 1.00 g\r\n", "unknown status 'Q'"),
        (b"S S\r\n", "missing weight"),
        (b"S S 100.00\r\n", "missing unit"),
        (b"S S abc g\r\n", "not a number"),
        (b"S S 100.00 stone\r\n", "unknown unit 'stone'"),
        (b"S\r\n", "missing status"),
        (b"ES x\r\n", "unexpected fields"),
    ],
)
def test_garbage_message_says_why(frame: bytes, message: str) -> None:
    with pytest.raises(FrameError, match=message):
        parse_response(frame)


def test_unit_table_is_data() -> None:
    assert UNIT_GRAMS["kg"] == 1000.0
    assert UNIT_GRAMS["lb"] == pytest.approx(453.59237)
    with pytest.raises(TypeError):
        UNIT_GRAMS["t"] = 1e6  # type: ignore[index]


def test_encode_command() -> None:
    assert encode_command("SI") == b"SI\r\n"
    assert encode_command("@") == b"@\r\n"
    assert encode_command('D "HELLO"') == b'D "HELLO"\r\n'
    for bad in ("", " SI", "si", "S\r\n", "SÏ", "S\x00"):
        with pytest.raises(ValueError, match="command"):
            encode_command(bad)


def test_reply_echoes() -> None:
    assert reply_echoes("SI") == {"S", "SI"}
    assert reply_echoes("S") == {"S"}
    assert reply_echoes("@") == {"I4"}
    assert reply_echoes("T") == {"T"}
