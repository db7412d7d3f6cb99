"""Chafon (UHFReader18) protocol: CRC vectors, recorded frames, inventory data,
the stream splitter's resynchronisation, and bounded fuzz loops."""

from __future__ import annotations

import contextlib
import random
from pathlib import Path

import pytest

from edge_agent.drivers.chafon import protocol
from edge_agent.drivers.chafon.protocol import (
    INVENTORY_DATA_STATUSES,
    FrameSplitter,
    ReaderInfo,
    Response,
    SplitterStats,
    Status,
    crc16_mcrf4xx,
    encode_command,
    encode_inventory,
    encode_response,
    parse_inventory,
    parse_reader_info,
    parse_response,
    status_reason,
)
from edge_agent.errors import FrameError
from tests.edge_agent.drivers.frames import Recorded, load_frames

pytestmark = pytest.mark.timeout(30)

FRAMES = Path(protocol.__file__).parent / "frames" / "frames.txt"
EPC = bytes.fromhex("3074257BF7194E4000001A85")
NO_TAG = bytes.fromhex("050001FBF23D")


RECORDED = load_frames(FRAMES, decode=bytes.fromhex)


def test_crc_check_value() -> None:
    # The catalogue check value of CRC-16/MCRF4XX.
    assert crc16_mcrf4xx(b"123456789") == 0x6F91
    assert crc16_mcrf4xx(b"") == 0xFFFF


def test_recorded_frames_cover_every_kind() -> None:
    assert {r.kind for r in RECORDED} == {
        "done",
        "more",
        "partial",
        "notag",
        "info",
        "ok",
        "rejected",
        "crc",
        "command",
        "badcrc",
        "garbage",
    }


@pytest.mark.parametrize("rec", RECORDED, ids=lambda r: f"{r.kind}-{r.frame.hex()}"[:50])
def test_recorded_frame(rec: Recorded) -> None:
    if rec.kind in ("badcrc", "garbage"):
        with pytest.raises(FrameError):
            parse_response(rec.frame)
        return
    if rec.kind == "command":
        head, _, data = rec.expect.partition("+")
        cmd, adr = (int(v, 16) for v in head.split("@"))
        assert encode_command(adr, cmd, bytes.fromhex(data)) == rec.frame
        return
    reply = parse_response(rec.frame)
    if rec.kind in ("done", "more", "partial"):
        wanted = {"done": {1}, "more": {3}, "partial": {2, 4}}[rec.kind]
        assert reply.status in wanted
        assert reply.command == 0x01
        assert [e.hex().upper() for e in parse_inventory(reply.data)] == rec.expect.split(",")
        assert encode_response(reply.address, 1, reply.status, reply.data) == rec.frame
    elif rec.kind == "notag":
        assert reply.status == Status.NO_TAG
        assert reply.data == b""
    elif rec.kind == "info":
        info = parse_reader_info(reply.data)
        version, kind, power, scan = (
            int(v) for v in rec.expect.replace(".", ",", 1).split(",")[1:]
        )
        assert info.version == (int(rec.expect.split(".")[0]), version)
        assert (info.reader_type, info.power_dbm, info.scan_time_ds) == (kind, power, scan)
    elif rec.kind == "ok":
        assert reply.status == Status.OK
    elif rec.kind == "rejected":
        assert reply.status == int(rec.expect, 16)
    else:  # crc: a captured frame of another dialect; the framing holds
        assert reply.command == 0x01


def test_encode_command_layout() -> None:
    frame = encode_command(0xFF, 0x25, b"\x0a")
    assert frame[:4] == bytes([0x05, 0xFF, 0x25, 0x0A])  # Len counts Adr..CRC
    assert frame[0] == len(frame) - 1
    assert int.from_bytes(frame[-2:], "little") == crc16_mcrf4xx(frame[:-2])


@pytest.mark.parametrize(
    ("args", "message"),
    [((256, 1), "fit in one byte"), ((0, -1), "fit in one byte"), ((0, 1, bytes(252)), "252")],
)
def test_encode_command_refuses_what_does_not_fit(args: tuple[int, ...], message: str) -> None:
    adr, cmd, *rest = args
    with pytest.raises(ValueError, match=message):
        encode_command(adr, cmd, *rest)  # type: ignore[arg-type]


def test_largest_frames_fit_len() -> None:
    assert encode_command(0, 1, bytes(251))[0] == 255
    assert encode_response(0, 1, 1, bytes(250))[0] == 255
    with pytest.raises(ValueError, match="exceeds"):
        encode_response(0, 1, 1, bytes(251))


def test_parse_response_fields() -> None:
    frame = encode_response(0x00, 0x21, 0x00, bytes([3, 1, 8, 3, 0x31, 0, 30, 10]))
    assert parse_response(frame) == Response(0, 0x21, 0, bytes([3, 1, 8, 3, 0x31, 0, 30, 10]))
    assert parse_reader_info(parse_response(frame).data) == ReaderInfo(
        version=(3, 1),
        reader_type=8,
        protocols=3,
        max_frequency=0x31,
        min_frequency=0,
        power_dbm=30,
        scan_time_ds=10,
    )


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (b"", "shorter than 6"),
        (NO_TAG[:5], "shorter than 6"),
        (NO_TAG + b"\x00", "Len 5 does not match its 6 bytes"),
        (NO_TAG[:-1] + b"\x3c", "CRC 0x3CF2 != computed 0x3DF2"),
    ],
)
def test_parse_response_says_what_is_wrong(frame: bytes, message: str) -> None:
    with pytest.raises(FrameError, match=message):
        parse_response(frame)


def test_inventory_data_round_trip() -> None:
    epcs = [EPC, bytes.fromhex("E28068940000500A9D2298C6"), b"\x11\x10", bytes(62)]
    assert parse_inventory(encode_inventory(epcs)) == epcs
    assert parse_inventory(b"\x00") == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\x01", "ends before EPC 1 of 1"),
        (b"\x01\x0c" + EPC[:11], "EPC 1 of 1: bad length 12"),
        (b"\x01\x00", "bad length 0"),
        (b"\x02\x0c" + EPC, "ends before EPC 2 of 2"),
        (b"\x01\x0c" + EPC + b"\x99", "1 byte\\(s\\) left over after 1 EPC"),
    ],
)
def test_parse_inventory_rejects_inconsistent_data(data: bytes, message: str) -> None:
    with pytest.raises(FrameError, match=message):
        parse_inventory(data)


def test_status_reasons() -> None:
    assert status_reason(0xFE) == "illegal command or command CRC error"
    assert status_reason(0xFB) == "no tag"
    assert status_reason(0x42) == "unknown status 0x42"
    assert Status.MORE_FRAMES in INVENTORY_DATA_STATUSES
    assert Status.NO_TAG not in INVENTORY_DATA_STATUSES


# -- the stream splitter -----------------------------------------------------

GOOD = [r.frame for r in RECORDED if r.kind not in ("badcrc", "garbage", "command")]


def test_splitter_cuts_a_stream_of_frames_fed_a_byte_at_a_time() -> None:
    splitter = FrameSplitter()
    stream = b"".join(GOOD)
    frames: list[bytes] = []
    for i in range(len(stream)):
        frames += splitter.feed(stream[i : i + 1])
    assert frames == GOOD
    assert splitter.stats == SplitterStats(frames=len(GOOD))
    assert splitter.pending == 0


def test_splitter_resyncs_after_a_bad_crc() -> None:
    splitter = FrameSplitter()
    bad = bytes.fromhex("050001FBF23C")
    other = bytes.fromhex("05002500FD30")
    # One byte on from the bad frame, 0xFB claims a 252-byte frame: the split
    # waits behind it until the line goes quiet.
    assert splitter.feed(bad + NO_TAG + other) == []
    assert splitter.flush() == [NO_TAG, other]
    assert splitter.stats == SplitterStats(frames=2, bad_crc=1, garbage_bytes=len(bad))


def test_splitter_resyncs_after_a_bad_crc_without_waiting() -> None:
    splitter = FrameSplitter()
    bad = bytes.fromhex("050001000000")  # sliding on meets only short Len bytes
    assert splitter.feed(bad + NO_TAG) == [NO_TAG]
    assert splitter.stats == SplitterStats(frames=1, bad_crc=1, garbage_bytes=len(bad))


def test_splitter_skips_short_len_bytes_at_once() -> None:
    splitter = FrameSplitter()
    assert splitter.feed(b"\x00\x01\x02\x03\x04" + NO_TAG) == [NO_TAG]
    assert splitter.stats == SplitterStats(frames=1, garbage_bytes=5)


def test_splitter_waits_behind_a_long_len_until_flushed() -> None:
    splitter = FrameSplitter()
    # 0xC8 claims a 201-byte frame: the real frame after it is held back...
    assert splitter.feed(b"\xc8" + NO_TAG) == []
    assert splitter.pending == 7
    # ...until the line goes quiet and the driver flushes.
    assert splitter.flush() == [NO_TAG]
    assert splitter.stats == SplitterStats(frames=1, garbage_bytes=1)
    assert splitter.flush() == []


def test_splitter_flush_counts_an_incomplete_tail_as_garbage() -> None:
    splitter = FrameSplitter()
    assert splitter.feed(NO_TAG[:4]) == []
    assert splitter.flush() == []
    assert splitter.stats == SplitterStats(garbage_bytes=4)


def test_splitter_reset_drops_without_counting() -> None:
    splitter = FrameSplitter()
    splitter.feed(NO_TAG[:3])
    splitter.reset()
    assert splitter.pending == 0
    assert splitter.feed(NO_TAG) == [NO_TAG]
    assert splitter.stats == SplitterStats(frames=1)


def test_fuzz_parse_response_raises_only_frame_error() -> None:
    rng = random.Random(0)
    for _ in range(3000):
        size = rng.randint(0, 40)
        data = bytearray(rng.randrange(256) for _ in range(size))
        if data and rng.random() < 0.5:
            data[0] = len(data) - 1  # a plausible Len, so the CRC is what fails
        try:
            reply = parse_response(bytes(data))
        except FrameError:
            continue
        if reply.status in INVENTORY_DATA_STATUSES:
            with contextlib.suppress(FrameError):
                parse_inventory(reply.data)


def test_fuzz_splitter_never_loses_good_frames_between_noise() -> None:
    rng = random.Random(0)
    splitter = FrameSplitter()
    sent: list[bytes] = []
    got: list[bytes] = []
    for _ in range(500):
        # Noise never starting a long Len would be too kind: any byte goes.
        noise = bytes(rng.randrange(256) for _ in range(rng.randint(0, 12)))
        frame = rng.choice(GOOD)
        stream = noise + frame
        for start in range(0, len(stream), 7):
            got += splitter.feed(stream[start : start + 7])
        got += splitter.flush()  # the line goes quiet after each answer
        sent.append(frame)
        assert splitter.pending == 0
    # Noise can swallow a frame only by luck of a 16-bit CRC; every frame
    # returned is one that was sent or passes its CRC, never a corrupt one.
    for frame in got:
        assert int.from_bytes(frame[-2:], "little") == crc16_mcrf4xx(frame[:-2])
    assert len([f for f in got if f in GOOD]) >= len(sent) * 0.95
