"""`decode_readings` takes a fast path (pydantic-core parses and validates the
JSON in one pass) and falls back to the stepwise checks for anything it
refuses. Both ways must give the same verdict on every payload: the same
values when accepted, the same reason and detail when rejected. And the
collector's line rendering (`level_lines`) must give exactly the lines of
`level_line` on the `LevelPoint`s it replaces."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cloud.ingest.points import levels_of
from cloud.timeseries.line_protocol import level_line, level_lines
from tests.vmi.wire_samples import batch_dict
from vmi.errors import WireError
from vmi.wire import ReadingsBatch, _decode_readings_stepwise, decode_readings, encode

TOPIC = "vmi/v1/s1/d1/readings"
T = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)

Verdict = tuple[str, Any]


def verdict(decode: Any, payload: bytes, topic: str = TOPIC) -> Verdict:
    try:
        batch: ReadingsBatch = decode(topic, payload)
    except WireError as exc:
        return ("rejected", (exc.reason, exc.detail))
    # Model equality compares datetimes as instants: compare offsets too.
    offsets = [r.time.utcoffset() for r in batch.readings] + [batch.sent_at.utcoffset()]
    types = [(type(r.quantity), type(r.raw_weight_g)) for r in batch.readings]
    return ("accepted", (batch, offsets, types))


def assert_same_verdict(payload: bytes, topic: str = TOPIC) -> Verdict:
    fast = verdict(decode_readings, payload, topic)
    stepwise = verdict(_decode_readings_stepwise, payload, topic)
    assert fast == stepwise, payload
    return fast


# ---- payloads ----------------------------------------------------------------

GOOD_TIMES = [
    "2026-11-24T10:00:00Z",
    "2026-11-24T10:00:00+00:00",
    "2026-11-24T10:00:00.5Z",
    "2026-11-24T10:00:00.123456+02:00",
    "2026-11-24T10:00:00.000001-05:30",
    "2026-11-24T10:00:00.123Z",
]
BAD_OR_ODD_TIMES: list[object] = [
    "2026-11-24T10:00:00",  # naive
    "2026-11-24 10:00:00Z",
    "2026-11-24t10:00:00z",
    "2026-02-30T10:00:00Z",
    "2026-11-24T24:00:00Z",
    "2026-11-24T10:00:60Z",
    "2026-11-24T10:00:00.1234567Z",
    "2026-11-24T10:00:00+24:00",
    "2026-11-24T10:00:00+23:59",
    "0000-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "1600-01-01T00:00:00Z",
    "2026-11-24",
    "yesterday",
    "",
    1795000000,
    1795000000.5,
    -1,
    None,
    True,
    [],
    {},
]
GOOD_IDS = ["A-01", "x", "BOLT-M8", "a.b:c_d-e", "9" * 64]
BAD_OR_ODD_IDS: list[object] = [
    "",
    "-a",
    "a/b",
    "a+b",
    "#",
    "a b",
    "a\n",
    "\na",
    "é",
    "x" * 65,
    "١٢٣",
    1,
    None,
    True,
    ["a"],
]
NUMBERS: list[object] = [0, 0.0, -0.0, 1, 12, 12.5, 1e-300, 1e300, 2**53, 2**53 + 1, 2**64, -1]
ODD_NUMBERS: list[object] = [
    -0.5,
    "12",
    "12.5",
    "NaN",
    "inf",
    True,
    False,
    None,
    [],
    {},
    "",
    10**400,
]
RAW_NUMBER_TEXT = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "12.0", "1E2", "-0"]


def reading(rng: random.Random) -> dict[str, object]:
    r: dict[str, object] = {
        "time": rng.choice(GOOD_TIMES),
        "location": rng.choice(GOOD_IDS),
        "sku": rng.choice(GOOD_IDS),
        "quantity": rng.choice([0, 1, 12, 12.5, 0.25, 1e6, rng.uniform(0, 1e4)]),
    }
    if rng.random() < 0.5:
        r["unit"] = "pcs"
    if rng.random() < 0.5:
        r["source"] = rng.choice(["scale", "rfid", "manual"])
    if rng.random() < 0.5:
        r["raw_weight_g"] = rng.choice([None, 0, -3.5, 1234.5, rng.uniform(-1e3, 1e5), 7])
    if rng.random() < 0.5:
        r["stable"] = rng.choice([True, False])
    return r


def good(rng: random.Random) -> dict[str, object]:
    return batch_dict(
        seq=rng.choice([0, 1, 7, 2**31, 2**63 - 1]),
        sent_at=rng.choice(GOOD_TIMES),
        readings=[reading(rng) for _ in range(rng.choice([1, 1, 2, 5, 50]))],
    )


def mutate(rng: random.Random, d: dict[str, object]) -> dict[str, object]:
    """One change that may or may not make the message invalid."""
    d = json.loads(json.dumps(d))
    readings = d.get("readings")
    dicts = [r for r in readings if isinstance(r, dict)] if isinstance(readings, list) else []
    r: dict[str, object] = rng.choice(dicts) if dicts else {}
    what = rng.randrange(16)
    if what == 0:
        d[rng.choice(["v", "site", "device", "seq", "sent_at", "readings"])] = rng.choice(
            [*NUMBERS, *ODD_NUMBERS, *BAD_OR_ODD_IDS]
        )
    elif what == 1:
        if d:
            d.pop(rng.choice(list(d)))
    elif what == 2:
        d[rng.choice(["extra", "V", "readings "])] = 1
    elif what == 3:
        r["time"] = rng.choice(BAD_OR_ODD_TIMES)
    elif what == 4:
        d["sent_at"] = rng.choice(BAD_OR_ODD_TIMES)
    elif what == 5:
        r[rng.choice(["location", "sku"])] = rng.choice(BAD_OR_ODD_IDS)
    elif what == 6:
        d[rng.choice(["site", "device"])] = rng.choice(BAD_OR_ODD_IDS)
    elif what == 7:
        r["quantity"] = rng.choice([*NUMBERS, *ODD_NUMBERS])
    elif what == 8:
        r["raw_weight_g"] = rng.choice([*NUMBERS, *ODD_NUMBERS])
    elif what == 9:
        r["stable"] = rng.choice([0, 1, "true", "yes", None, 1.0, "false"])
    elif what == 10:
        r["unit"] = rng.choice(["kg", "PCS", "", None, 1])
    elif what == 11:
        r["source"] = rng.choice(["Scale", "guess", "", None, 1, "SCALE"])
    elif what == 12:
        if r:
            r.pop(rng.choice(list(r)))
    elif what == 13:
        r[rng.choice(["extra", "Time"])] = 1
    elif what == 14:
        d["seq"] = rng.choice([-1, 1.0, 1.5, "1", True, None, 2**63, 2**64, 10**30])
    else:
        d["v"] = rng.choice([1.0, True, "1", 2, 0, None])
    return d


def cases() -> list[bytes]:
    rng = random.Random(20261124)
    out: list[bytes] = []
    for _ in range(400):
        out.append(json.dumps(good(rng)).encode())
    for _ in range(3000):
        d = good(rng)
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            d = mutate(rng, d)
        out.append(json.dumps(d).encode())
    return out


def test_the_same_verdict_on_many_valid_and_invalid_payloads() -> None:
    outcomes = {"accepted": 0, "rejected": 0}
    reasons: set[str] = set()
    for payload in cases():
        kind, detail = assert_same_verdict(payload)
        outcomes[kind] += 1
        if kind == "rejected":
            reasons.add(detail[0])
    # The mix is wide enough to mean something.
    assert outcomes["accepted"] > 800
    assert outcomes["rejected"] > 1000
    assert {"schema", "version"} <= reasons


def test_the_same_verdict_on_byte_level_damage() -> None:
    rng = random.Random(7)
    base = [json.dumps(good(rng)).encode() for _ in range(40)]
    for payload in base:
        for _ in range(40):
            damaged = bytearray(payload)
            i = rng.randrange(len(damaged))
            op = rng.randrange(3)
            if op == 0:
                damaged[i] = rng.randrange(256)
            elif op == 1:
                del damaged[i]
            else:
                damaged.insert(i, rng.choice(b'{}[],:"\\0123456789eE.-+ nNaI\xff\xc3'))
            assert_same_verdict(bytes(damaged))


def replaced(old: str, new: str) -> bytes:
    text = json.dumps(batch_dict())
    assert old in text
    return text.replace(old, new).encode()


@pytest.mark.parametrize(
    "payload",
    [
        b"{not json",
        b"\xff\xfe\x00",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"v": 1, "site": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b"",
        b"null",
        b"[1, 2]",
        b'"text"',
        json.dumps(batch_dict(v=2)).encode(),
        json.dumps({k: v for k, v in batch_dict().items() if k != "v"}).encode(),
        json.dumps(batch_dict(seq=-1)).encode(),
        json.dumps(batch_dict(readings=[])).encode(),
        json.dumps(batch_dict(extra=1)).encode(),
        json.dumps(batch_dict(site="s/1")).encode(),
        json.dumps(batch_dict(site="+")).encode(),
        json.dumps(batch_dict(sent_at="2026-11-24T10:00:00")).encode(),
        json.dumps(batch_dict(site="other")).encode(),
        json.dumps(batch_dict(device="other")).encode(),
        json.dumps(batch_dict(readings=[{"quantity": 1}] * 5001)).encode(),
        json.dumps(batch_dict()).encode("utf-16"),
        json.dumps(batch_dict()).encode("utf-8-sig"),
        json.dumps(batch_dict()).replace('"v": 1', '"v": 1, "v": 2').encode(),
        json.dumps(batch_dict()).replace('"v": 1', '"v": 2, "v": 1').encode(),
        replaced('"quantity": 12', '"quantity": NaN'),
        replaced('"quantity": 12', '"quantity": 1e999'),
        replaced('"sku": "BOLT-M8"', '"sku": "\\ud800"'),
        json.dumps(batch_dict())
        .replace('"quantity": 12', '"quantity": 12, "quantity": -1')
        .encode(),
        json.dumps(batch_dict())
        .replace('"quantity": 12', '"quantity": -1, "quantity": 12')
        .encode(),
    ],
)
def test_the_same_verdict_on_known_bad_and_odd_payloads(payload: bytes) -> None:
    assert_same_verdict(payload)


@pytest.mark.parametrize("number", RAW_NUMBER_TEXT)
@pytest.mark.parametrize("field", ["quantity", "raw_weight_g", "seq"])
def test_the_same_verdict_on_number_spellings(number: str, field: str) -> None:
    text = json.dumps(batch_dict(seq=7))
    if field == "seq":
        text = text.replace('"seq": 7', f'"seq": {number}')
    elif field == "quantity":
        text = text.replace('"quantity": 12', f'"quantity": {number}')
    else:
        text = text.replace('"quantity": 12', f'"quantity": 12, "raw_weight_g": {number}')
    assert_same_verdict(text.encode())


def test_a_topic_mismatch_is_reported_the_same_way() -> None:
    payload = json.dumps(batch_dict()).encode()
    for topic in ["vmi/v1/s2/d1/readings", "vmi/v1/s1/d2/readings", "vmi/v2/s1/d1/readings", "x"]:
        kind, _ = assert_same_verdict(payload, topic)
        assert kind == "rejected"


def test_what_the_edge_sends_takes_the_fast_path() -> None:
    """The speed-up only counts if real messages take it: no fallback for them."""
    from vmi.wire import Reading

    batch = ReadingsBatch(
        site="s1",
        device="d1",
        seq=3,
        sent_at=T,
        readings=[
            Reading(time=T, location="A-01", sku="X", quantity=12, raw_weight_g=512.25),
            Reading(time=T + timedelta(seconds=1), location="A-02", sku="Y", quantity=0.5),
        ],
    )
    assert ReadingsBatch.model_validate_json(encode(batch)) == batch
    assert decode_readings(TOPIC, encode(batch)) == batch


def test_level_lines_are_the_lines_of_level_line() -> None:
    rng = random.Random(3)
    for _ in range(300):
        batch = decode_readings(TOPIC, json.dumps(good(rng)).encode())
        expected = [level_line(p) for p in levels_of(batch)]
        assert level_lines(batch.site, batch.device, batch.seq, batch.readings) == expected


def test_level_lines_refuse_what_level_line_refuses() -> None:
    far = batch_dict(
        readings=[{"time": "2300-01-01T00:00:00Z", "location": "A", "sku": "X", "quantity": 1}]
    )
    batch = decode_readings(TOPIC, json.dumps(far).encode())
    with pytest.raises(ValueError, match="outside what InfluxDB can store") as fast:
        level_lines(batch.site, batch.device, batch.seq, batch.readings)
    with pytest.raises(ValueError, match="outside") as slow:
        level_line(levels_of(batch)[0])
    assert str(fast.value) == str(slow.value)


def test_json_nested_too_deeply_is_bad_json_not_a_crash() -> None:
    """A RecursionError would escape the collector's decode and leave the
    batch unacknowledged, to come back forever."""
    for payload in (b"[" * 100_000 + b"]" * 100_000, b'{"v": 1, "x": ' + b"[{" * 50_000):
        with pytest.raises(WireError) as err:
            decode_readings(TOPIC, payload)
        assert err.value.reason == "bad_json"
