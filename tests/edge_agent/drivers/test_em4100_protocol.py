"""EM4100 frames: recorded frames, the incremental decoder's counters and
resynchronisation, and a bounded fuzz."""

from __future__ import annotations

import contextlib
import random
from pathlib import Path

import pytest

from edge_agent.drivers.em4100 import protocol
from edge_agent.drivers.em4100.protocol import (
    FRAME_BYTES,
    DecoderStats,
    Em4100Decoder,
    checksum,
    decode_frame,
    encode_frame,
)
from edge_agent.errors import FrameError
from tests.edge_agent.drivers.frames import Recorded, load_frames

pytestmark = pytest.mark.timeout(30)

FRAMES = Path(protocol.__file__).parent / "frames" / "frames.txt"
GOOD_TAG = "62E3086CED"
GOOD = b"\x0262E3086CED08\x03"  # 62^E3^08^6C^ED = 08


RECORDED = load_frames(FRAMES)


def test_recorded_frames_cover_every_kind() -> None:
    assert {r.kind for r in RECORDED} == {
        "tag",
        "bad_checksum",
        "truncated",
        "malformed",
        "garbage",
    }


@pytest.mark.parametrize("rec", RECORDED, ids=lambda r: f"{r.kind}-{r.frame!r}"[:50])
def test_recorded_frame_with_decode_frame(rec: Recorded) -> None:
    if rec.kind == "tag":
        assert decode_frame(rec.frame) == rec.expect
        assert encode_frame(rec.expect) == rec.frame.upper()  # STX/ETX are not letters
    else:
        with pytest.raises(FrameError):
            decode_frame(rec.frame)


@pytest.mark.parametrize("rec", RECORDED, ids=lambda r: f"{r.kind}-{r.frame!r}"[:50])
def test_recorded_frame_in_a_stream(rec: Recorded) -> None:
    decoder = Em4100Decoder()
    tags, errors = decoder.feed(rec.frame + GOOD)
    stats = decoder.stats
    if rec.kind == "tag":
        assert tags == [rec.expect, GOOD_TAG]
        assert errors == []
        assert stats == DecoderStats(frames=2)
        return
    assert tags == [GOOD_TAG]  # never a tag from a bad line, and back in step
    assert errors
    assert all(isinstance(e, FrameError) for e in errors)
    assert stats.frames == 1
    if rec.kind == "garbage":
        assert stats == DecoderStats(frames=1, garbage_bytes=len(rec.frame))
    else:
        assert getattr(stats, rec.kind) == 1
        assert stats.bad_frames == 1


def test_checksum_is_the_xor_of_the_data_bytes() -> None:
    assert checksum(bytes.fromhex("0F007F5DBA")) == 0x0F ^ 0x00 ^ 0x7F ^ 0x5D ^ 0xBA == 0x97
    assert checksum(b"") == 0
    assert encode_frame("62e3086ced") == GOOD
    assert len(GOOD) == FRAME_BYTES


@pytest.mark.parametrize("tag", ["", "0F007F5DB", "0F007F5DBA0", "0F007F5DBG", "0F 07F5DBA"])
def test_encode_frame_needs_ten_hex_digits(tag: str) -> None:
    with pytest.raises(ValueError, match="10 hex digits"):
        encode_frame(tag)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (GOOD[:-1], "13 bytes, expected 14"),
        (GOOD + b"\x03", "15 bytes"),
        (b"\x01" + GOOD[1:], "does not start with STX"),
        (GOOD[:-1] + b"\x02", "end with ETX"),
        (GOOD[:5] + b"x" + GOOD[6:], "non-hex byte 0x78"),
        (GOOD[:-3] + b"09\x03", "checksum mismatch .* sent 0x09, computed 0x08"),
    ],
)
def test_decode_frame_says_what_is_wrong(frame: bytes, message: str) -> None:
    with pytest.raises(FrameError, match=message):
        decode_frame(frame)


def test_feeding_one_byte_at_a_time() -> None:
    decoder = Em4100Decoder()
    stream = GOOD + encode_frame("0F007F5DBA") + GOOD
    tags: list[str] = []
    for i in range(len(stream)):
        got, errors = decoder.feed(stream[i : i + 1])
        assert errors == []
        tags += got
        assert decoder.pending == (i + 1) % FRAME_BYTES
    assert tags == [GOOD_TAG, "0F007F5DBA", GOOD_TAG]


def test_partial_frame_waits_for_the_next_feed_and_reset_drops_it() -> None:
    decoder = Em4100Decoder()
    assert decoder.feed(GOOD[:6]) == ([], [])
    assert decoder.pending == 6
    assert decoder.feed(GOOD[6:]) == ([GOOD_TAG], [])
    decoder.feed(GOOD[:9])
    decoder.reset()
    assert decoder.pending == 0
    assert decoder.feed(GOOD) == ([GOOD_TAG], [])
    assert decoder.stats == DecoderStats(frames=2)


def test_resynchronises_on_stx_after_garbage_and_a_cut_frame() -> None:
    decoder = Em4100Decoder()
    stream = b"\xff\x00noise" + GOOD[:7] + GOOD + b"\r\n" + GOOD
    tags, errors = decoder.feed(stream)
    assert tags == [GOOD_TAG, GOOD_TAG]
    assert decoder.stats == DecoderStats(frames=2, truncated=1, garbage_bytes=9)
    assert len(errors) == 3  # the garbage run before, the cut frame, the CR LF


def test_a_stream_of_repeats_yields_every_repeat() -> None:
    decoder = Em4100Decoder()
    tags, _ = decoder.feed(GOOD * 5)
    assert tags == [GOOD_TAG] * 5  # repeats are the driver's to debounce


def test_fuzz_random_bytes_never_crash_and_only_raise_frame_error() -> None:
    rng = random.Random(0)
    alphabet = b"\x02\x03" + b"0123456789ABCDEFabcdef" + bytes(range(256))
    decoder = Em4100Decoder()
    for _ in range(2000):
        chunk = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        tags, errors = decoder.feed(chunk)
        assert all(isinstance(e, FrameError) for e in errors)
        for tag in tags:  # whatever decodes really passed the XOR
            assert len(tag) == 10
            assert decode_frame(encode_frame(tag)) == tag
        assert decoder.pending < FRAME_BYTES
        with contextlib.suppress(FrameError):
            decode_frame(chunk)
    stats = decoder.stats
    assert stats.garbage_bytes > 0
    assert stats.truncated + stats.malformed > 0


def test_fuzz_corrupted_good_frames_never_yield_a_wrong_tag() -> None:
    rng = random.Random(0)
    decoder = Em4100Decoder()
    wrong = 0
    for _ in range(3000):
        frame = bytearray(GOOD)
        frame[rng.randrange(FRAME_BYTES)] = rng.randrange(256)
        tags, _ = decoder.feed(bytes(frame) + GOOD)
        # A changed hex digit can still pass the XOR only if the checksum
        # digits changed to match, which one changed byte cannot do.
        wrong += sum(1 for t in tags if t != GOOD_TAG)
    assert wrong == 0
