"""Sartorius SBI protocol: recorded frames, every frame kind, garbage and a bounded fuzz."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_agent.drivers.sartorius import protocol
from edge_agent.drivers.sartorius.protocol import (
    UNIT_GRAMS,
    Command,
    ErrorFrame,
    Special,
    SpecialFrame,
    WeightFrame,
    encode_command,
    parse_frame,
)
from edge_agent.errors import FrameError
from tests.edge_agent.drivers.frames import Recorded, load_frames

pytestmark = pytest.mark.timeout(30)

FRAMES = Path(protocol.__file__).parent / "frames" / "replies.txt"


RECORDED = load_frames(FRAMES)
_SPECIAL_NAMES = {"H": Special.OVERLOAD, "L": Special.UNDERLOAD, "C": Special.CALIBRATION}


def test_recorded_frames_cover_every_kind_unit_and_special() -> None:
    assert {r.kind for r in RECORDED} == {"weight", "unstable", "special", "error", "garbage"}
    units = {parse_frame(r.frame).unit for r in RECORDED if r.kind == "weight"}  # type: ignore[union-attr]
    assert units == set(UNIT_GRAMS)
    specials = {parse_frame(r.frame).special for r in RECORDED if r.kind == "special"}  # type: ignore[union-attr]
    assert specials == set(Special)
    terminated = [r.frame for r in RECORDED if r.kind != "garbage" and r.frame.endswith(b"\r\n")]
    assert {len(frame) for frame in terminated} == {16, 22}


@pytest.mark.parametrize("rec", RECORDED, ids=lambda r: repr(r.frame)[:40])
def test_recorded_frame(rec: Recorded) -> None:
    if rec.kind == "garbage":
        with pytest.raises(FrameError):
            parse_frame(rec.frame)
        return
    frame = parse_frame(rec.frame)
    if rec.kind in ("weight", "unstable"):
        assert isinstance(frame, WeightFrame)
        assert frame.stable is (rec.kind == "weight")
        assert frame.grams() == pytest.approx(float(rec.expect))
    elif rec.kind == "special":
        assert isinstance(frame, SpecialFrame)
        assert frame.special is _SPECIAL_NAMES.get(rec.expect, Special.BLANK)
    else:
        assert isinstance(frame, ErrorFrame)
        assert frame.code == rec.expect


def test_weight_frame_fields() -> None:
    assert parse_frame(b"+   123.56 g  \r\n") == WeightFrame(123.56, "g")
    assert parse_frame(b"N     -      2.5 kg \r\n") == WeightFrame(-2.5, "kg", "N")
    unstable = parse_frame(b"-     3.21    \r\n")
    assert unstable == WeightFrame(-3.21, None)
    assert isinstance(unstable, WeightFrame)
    assert not unstable.stable
    assert unstable.grams() == pytest.approx(-3.21)
    assert unstable.grams("kg") == pytest.approx(-3210.0)  # no unit: the caller says which


def test_id_is_parsed_generically() -> None:
    for ident in ("N", "G", "T", "NET", "N1", "Qnt1", "G#", "S/N"):
        frame = parse_frame(f"{ident:<6}+    10.00 g  \r\n".encode())
        assert frame == WeightFrame(10.0, "g", ident)


def test_negative_zero_reads_as_zero() -> None:
    frame = parse_frame(b"-     0.00 g  \r\n")
    assert isinstance(frame, WeightFrame)
    assert str(frame.value) == "0.0"


def test_special_and_error_frames() -> None:
    assert parse_frame(b"      H       \r\n") == SpecialFrame(Special.OVERLOAD)
    assert parse_frame(b"Stat        L       \r\n") == SpecialFrame(Special.UNDERLOAD, "Stat")
    calibrating = parse_frame(b"      C       \r\n")
    assert isinstance(calibrating, SpecialFrame)
    assert "calibration" in calibrating.reason
    assert parse_frame(b"              \r\n") == SpecialFrame(Special.BLANK)
    assert parse_frame(b"   Err 123    \r\n") == ErrorFrame("123")
    assert parse_frame(b"Stat     Err 054    \r\n") == ErrorFrame("054", "Stat")


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (b"", "empty"),
        (b"   \r\n", "empty frame"),
        (b"\xff\xfe\r\n", "non-ASCII byte 0xff"),
        (b"+  1\x07.00 g  \r\n", "control byte 0x07"),
        (b"+    1.00 pcs\r\n", "unit 'pcs' is not a mass unit"),
        (b"+   1.0.0 g  \r\n", "not a number"),
        (b"      Z       \r\n", "unknown special code 'Z'"),
        (b"+   123.56 g  junk\r\n", "not an SBI frame"),
        (b"+" * 70, "exceeds 64"),
    ],
)
def test_garbage_message_says_why(frame: bytes, message: str) -> None:
    with pytest.raises(FrameError, match=message):
        parse_frame(frame)


def test_unit_table_is_data() -> None:
    assert UNIT_GRAMS["kg"] == 1000.0
    with pytest.raises(TypeError):
        UNIT_GRAMS["pcs"] = 1.0  # type: ignore[index]


def test_encode_command() -> None:
    assert encode_command(Command.PRINT) == b"\x1bP\r\n"
    assert encode_command(Command.TARE_ZERO) == b"\x1bT\r\n"
    assert encode_command(Command.TARE) == b"\x1bU\r\n"
    assert encode_command(Command.ZERO) == b"\x1bV\r\n"
