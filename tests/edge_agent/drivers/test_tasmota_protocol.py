"""Tasmota protocol: recorded payloads, topics, malformed input and a bounded fuzz."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from edge_agent.drivers.tasmota import protocol
from edge_agent.drivers.tasmota.protocol import (
    DEFAULT_FULL_TOPIC,
    CommandResult,
    Hx711Reading,
    Prefix,
    full_topic,
    parse_command_result,
    parse_hx711_sensor,
    parse_json_object,
    parse_lwt,
    parse_rdm6300_sensor,
    validate_device_topic,
    validate_full_topic,
)
from edge_agent.errors import FrameError
from tests.edge_agent.drivers.frames import Recorded, load_frames

pytestmark = pytest.mark.timeout(60)

FRAMES = Path(protocol.__file__).parent / "frames" / "messages.txt"
KINDS = {"weight", "no-weight", "bad-weight", "uid", "no-uid", "bad-uid", "lwt", "bad-lwt"}


RECORDED = load_frames(FRAMES)


def test_recorded_payloads_cover_every_kind() -> None:
    assert {r.kind for r in RECORDED} == KINDS


@pytest.mark.parametrize("rec", RECORDED, ids=lambda r: f"{r.kind}:{r.frame[:40]!r}")
def test_recorded_payload(rec: Recorded) -> None:
    if rec.kind == "weight":
        reading = parse_hx711_sensor(rec.frame)
        assert reading is not None
        assert reading.grams == float(rec.expect)
    elif rec.kind == "no-weight":
        assert parse_hx711_sensor(rec.frame) is None
    elif rec.kind == "uid":
        assert parse_rdm6300_sensor(rec.frame) == rec.expect
    elif rec.kind == "no-uid":
        assert parse_rdm6300_sensor(rec.frame) is None
    elif rec.kind == "lwt":
        assert parse_lwt(rec.frame) is (rec.expect == "online")
    else:
        parse: Callable[[bytes], object] = {
            "bad-weight": parse_hx711_sensor,
            "bad-uid": parse_rdm6300_sensor,
            "bad-lwt": parse_lwt,
        }[rec.kind]
        with pytest.raises(FrameError):
            parse(rec.frame)


def test_hx711_reading_keeps_count_and_raw_values() -> None:
    payload = (
        b'{"Time":"2026-01-05T10:00:20","HX711":'
        b'{"Weight":12.500,"Count":50,"WeightRaw":12516,"AbsRaw":1512124}}'
    )
    assert parse_hx711_sensor(payload) == Hx711Reading(
        grams=12500.0, count=50, raw=12516, abs_raw=1512124
    )
    minimal = parse_hx711_sensor(b'{"HX711":{"Weight":0.005}}')
    assert minimal == Hx711Reading(grams=5.0)


@pytest.mark.parametrize(
    ("weight", "grams"),
    [("1.234", 1234.0), ("0.001", 1.0), ("4.567", 4567.0), ("0.1", 100.0), ("19.999", 19999.0)],
)
def test_kilograms_become_exact_grams(weight: str, grams: float) -> None:
    # 4.567 * 1000 is 4566.999999999999 in binary floating point.
    payload = f'{{"HX711":{{"Weight":{weight}}}}}'.encode()
    reading = parse_hx711_sensor(payload)
    assert reading is not None
    assert reading.grams == grams


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b'{"HX711":{"Weight":NaN}}', "NaN is not a number"),
        (b'{"HX711":{"Weight":1e999}}', "not finite"),
        (b'{"HX711":{"Weight":"1.2"}}', "is not a number"),
        (b'{"HX711":{"Weight":1' + b"0" * 400 + b"}}", "out of range"),
        (b'{"HX711":{}}', "no Weight"),
        (b'{"HX711":7}', "not an object"),
        (b'{"HX711":{"Weight":1,"Count":true}}', "not an integer"),
        (b"[]", "not an object"),
        (b"\xc3\x28", "not UTF-8"),
        (b"{" * 100 + b"}" * 100, "nested deeper"),
        (b" " * (protocol.MAX_PAYLOAD_BYTES + 1), "exceeds"),
        (b'{"HX711":', "not JSON"),
    ],
)
def test_malformed_payloads_say_why(payload: bytes, reason: str) -> None:
    with pytest.raises(FrameError, match=reason):
        parse_hx711_sensor(payload)


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    payload = b'{"Note":"' + b"[{" * 100 + b'","HX711":{"Weight":0.5}}'
    assert parse_hx711_sensor(payload) == Hx711Reading(grams=500.0)


def test_uid_is_upper_cased_and_all_zero_refused() -> None:
    assert parse_rdm6300_sensor(b'{"RDM6300":{"UID":"00ab12cd"}}') == "00AB12CD"
    with pytest.raises(FrameError, match="all zeros"):
        parse_rdm6300_sensor(b'{"RDM6300":{"UID":"00000000"}}')
    with pytest.raises(FrameError, match="8 hex digits"):
        parse_rdm6300_sensor(b'{"RDM6300":{"UID":"00AB12C"}}')


def test_lwt_is_online_or_offline_only() -> None:
    assert parse_lwt(b"Online") is True
    assert parse_lwt(b" OFFLINE\r\n") is False
    with pytest.raises(FrameError, match="neither Online nor Offline"):
        parse_lwt(b"Unknown")


def test_command_results() -> None:
    assert parse_command_result(b'{"Sensor34":"Reset"}') == CommandResult("Sensor34", "Reset")
    unknown = parse_command_result(b'{"Command":"Unknown"}')
    assert unknown.is_unknown_command
    settings = parse_command_result(b'{"Sensor34":{"Ref":250,"Cal":-120,"Item":0.0}}')
    assert settings.command == "Sensor34"
    assert not settings.is_unknown_command
    assert isinstance(settings.value, dict)
    with pytest.raises(FrameError, match="empty object"):
        parse_command_result(b"{}")


def test_default_topics() -> None:
    assert full_topic(Prefix.TELE, "tasmota_ABC123", "SENSOR") == "tele/tasmota_ABC123/SENSOR"
    assert full_topic(Prefix.TELE, "tasmota_ABC123", "LWT") == "tele/tasmota_ABC123/LWT"
    assert full_topic(Prefix.CMND, "tasmota_ABC123", "Sensor34") == "cmnd/tasmota_ABC123/Sensor34"
    assert full_topic(Prefix.STAT, "tasmota_ABC123", "RESULT") == "stat/tasmota_ABC123/RESULT"
    assert DEFAULT_FULL_TOPIC == "%prefix%/%topic%/"


def test_custom_full_topics() -> None:
    pattern = "shop/floor1/%topic%/%prefix%"  # no trailing slash: Tasmota adds one
    assert full_topic(Prefix.TELE, "scale7", "SENSOR", pattern=pattern) == (
        "shop/floor1/scale7/tele/SENSOR"
    )
    assert full_topic(Prefix.CMND, "s", "Sensor34", pattern="%prefix%//%topic%//") == (
        "cmnd/s/Sensor34"
    )


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("%topic%/", "must contain %prefix%"),
        ("%prefix%/", "must contain %topic%"),
        ("%prefix%/%hostname%/%topic%/", "only %prefix% and %topic%"),
        ("%prefix%/+/%topic%/", "must not contain"),
    ],
)
def test_bad_full_topics(pattern: str, reason: str) -> None:
    assert validate_full_topic(DEFAULT_FULL_TOPIC) == DEFAULT_FULL_TOPIC
    with pytest.raises(ValueError, match=reason):
        validate_full_topic(pattern)


@pytest.mark.parametrize("topic", ["", " x", "a/", "/a", "a+b", "a#", "a\x00"])
def test_bad_device_topics(topic: str) -> None:
    assert validate_device_topic("tasmota_ABC123") == "tasmota_ABC123"
    with pytest.raises(ValueError, match="device topic"):
        validate_device_topic(topic)


def test_fuzz_raises_only_frame_error() -> None:
    """Mutated recorded payloads and random bytes: a value or FrameError, never else."""
    rng = random.Random(0)
    seeds = [r.frame for r in RECORDED if r.frame]
    parsers: list[Callable[[bytes], object]] = [
        parse_hx711_sensor,
        parse_rdm6300_sensor,
        parse_lwt,
        parse_command_result,
        parse_json_object,
    ]
    outcomes = {"value": 0, "frame_error": 0}
    for _ in range(3000):
        payload = _mutate(rng, rng.choice(seeds))
        for parse in parsers:
            try:
                parse(payload)
            except FrameError:
                outcomes["frame_error"] += 1
            else:
                outcomes["value"] += 1
    assert outcomes["value"] > 0
    assert outcomes["frame_error"] > 0


def test_fuzz_random_json_documents() -> None:
    """Valid JSON of random shapes under the HX711 and RDM6300 keys."""
    rng = random.Random(0)
    for _ in range(2000):
        doc = {"HX711": _random_json(rng, 3), "RDM6300": _random_json(rng, 3)}
        payload = json.dumps(doc).encode()
        for parse in (parse_hx711_sensor, parse_rdm6300_sensor):
            try:
                result = parse(payload)
            except FrameError:
                continue
            assert result is not None


def _mutate(rng: random.Random, payload: bytes) -> bytes:
    data = bytearray(payload)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(5)
        pos = rng.randrange(len(data) + 1)
        if op == 0 and data:
            data[min(pos, len(data) - 1)] = rng.randrange(256)
        elif op == 1:
            data.insert(pos, rng.choice(b'{}[]":,.-0123456789eE\\ntfNaI\x00\xff'))
        elif op == 2 and data:
            del data[min(pos, len(data) - 1)]
        elif op == 3:
            data = data[:pos]
        else:
            data[pos:pos] = rng.choice([b"NaN", b"1e999", b"-", b'"', b"{", b"true", b"null"])
    return bytes(data)


def _random_json(rng: random.Random, depth: int) -> object:
    choices: list[Callable[[], object]] = [
        lambda: rng.uniform(-1e6, 1e6),
        lambda: rng.randint(-(10**20), 10**20),
        lambda: "".join(rng.choice("0123456789ABCDEFxyz") for _ in range(rng.randint(0, 12))),
        lambda: rng.choice([True, False, None]),
    ]
    if depth > 0:
        keys = ["Weight", "Count", "WeightRaw", "AbsRaw", "UID", "x"]
        choices.append(
            lambda: {
                rng.choice(keys): _random_json(rng, depth - 1) for _ in range(rng.randint(0, 4))
            }
        )
        choices.append(lambda: [_random_json(rng, depth - 1) for _ in range(rng.randint(0, 3))])
    return rng.choice(choices)()
